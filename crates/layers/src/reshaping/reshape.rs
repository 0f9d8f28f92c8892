//! `Reshape`: gives each sample a new shape with the same number of elements.

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::json;

/// Reshapes each sample to `target_shape` (Keras's `Reshape`), row-major. The batch axis is not part of
/// `target_shape`; at most one entry may be `-1`, which is inferred from the others.
///
/// # Shapes
/// input `[d1, …, dn]`, output `target_shape` (same number of elements).
///
/// ```
/// use rkeras_layers::{Input, LayerCall, Reshape};
/// assert_eq!(Reshape::new(&[4, -1]).call(&Input::new(&[12]))?.shape(), &[4, 3]);
/// assert!(Reshape::new(&[5, -1]).call(&Input::new(&[12])).is_err());
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Reshape {
    core: LayerCore,
    target_shape: Vec<isize>,
}

impl Reshape {
    /// A reshape to `target_shape` (without the batch axis; one entry may be -1). Checked when the layer is
    /// first called.
    pub fn new(target_shape: &[isize]) -> Self {
        Reshape {
            core: LayerCore::new("reshape"),
            target_shape: target_shape.to_vec(),
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The target shape, as given.
    pub fn target_shape(&self) -> &[isize] {
        &self.target_shape
    }

    /// Rebuilds the layer from Keras's config (`target_shape`, `name`).
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let reader = ConfigReader::new("Reshape", config)?;
        let mut layer = Reshape::new(&reader.isize_list("target_shape")?);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        layer.validate()?;
        Ok(layer)
    }

    /// Checks the target shape: non-negative sizes and at most one -1.
    pub(crate) fn validate(&self) -> Result<()> {
        let unknown = self.target_shape.iter().filter(|&&d| d == -1).count();
        if unknown > 1 || self.target_shape.iter().any(|&d| d < -1) {
            return Err(LayersError::InvalidArgument {
                class: "Reshape",
                argument: "target_shape",
                reason: format!(
                    "expected non-negative sizes with at most one -1 (inferred); received {:?}",
                    self.target_shape
                ),
            });
        }
        Ok(())
    }
}

impl Layer for Reshape {
    fn class_name(&self) -> &'static str {
        "Reshape"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        self.validate()?;
        let elements: usize = input_shapes[0].iter().product();
        // Checked: a product that overflows (`[1 << 33, 1 << 33]`) matches no input.
        let known: Option<usize> = self
            .target_shape
            .iter()
            .filter(|&&d| d >= 0)
            .try_fold(1usize, |total, &d| total.checked_mul(d as usize));
        let mismatch = || {
            shape_error(
                self,
                format!(
                    "cannot reshape {elements} elements per sample to {:?}",
                    self.target_shape
                ),
                input_shapes,
            )
        };
        let has_unknown = self.target_shape.contains(&-1);
        let Some(known) = known else {
            return Err(mismatch());
        };
        let inferred = if has_unknown {
            if known == 0 || elements % known != 0 {
                return Err(mismatch());
            }
            elements / known
        } else if known != elements {
            return Err(mismatch());
        } else {
            0
        };
        Ok(self
            .target_shape
            .iter()
            .map(|&d| if d == -1 { inferred } else { d as usize })
            .collect())
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        let sample = x.shape().get(1..).unwrap_or(&[]).to_vec();
        let mut shape = vec![x.shape().first().copied().unwrap_or(1)];
        shape.extend(self.output_shape(&[sample])?);
        x.reshape(&shape).in_layer(self.name())
    }

    fn config(&self) -> serde_json::Value {
        let mut config = base_config(self.name(), true);
        config.insert("target_shape".into(), json!(self.target_shape));
        serde_json::Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, LayerCall};
    use rand::SeedableRng;

    #[test]
    fn keeps_row_major_order() {
        let layer = Reshape::new(&[3, 2]);
        assert_eq!(layer.call(&Input::new(&[2, 3])).unwrap().shape(), &[3, 2]);
        let values: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let x = Tensor::from_vec(&[2, 2, 3], values.clone()).unwrap();
        let mut rng = StdRng::seed_from_u64(0);
        let y = layer
            .forward(
                &[x],
                &mut CallContext {
                    training: false,
                    rng: &mut rng,
                },
            )
            .unwrap();
        assert_eq!(y.shape(), &[2, 3, 2]);
        assert_eq!(y.to_vec(), values);
    }

    #[test]
    fn infers_one_unknown_size() {
        assert_eq!(
            Reshape::new(&[-1])
                .call(&Input::new(&[4, 5]))
                .unwrap()
                .shape(),
            &[20]
        );
        assert_eq!(
            Reshape::new(&[2, -1, 5])
                .call(&Input::new(&[4, 5]))
                .unwrap()
                .shape(),
            &[2, 2, 5]
        );
    }

    #[test]
    fn bad_targets_are_reported() {
        let err = Reshape::new(&[-1, -1])
            .call(&Input::new(&[4]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("target_shape") && err.contains("[-1, -1]"),
            "{err}"
        );
        assert!(Reshape::new(&[-2, 2]).call(&Input::new(&[4])).is_err());
        let err = Reshape::new(&[3, 3])
            .with_name("r")
            .call(&Input::new(&[4, 2]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`r`") && err.contains("(None, 4, 2)") && err.contains("[3, 3]"),
            "{err}"
        );
        assert!(Reshape::new(&[0, -1]).call(&Input::new(&[4])).is_err());
    }

    #[test]
    fn config_round_trips() {
        let layer = Reshape::new(&[4, -1]).with_name("reshape_here");
        let config = layer.config();
        assert_eq!(config["target_shape"], json!([4, -1]));
        assert_eq!(Reshape::from_config(&config).unwrap().config(), config);
    }

    #[test]
    fn a_target_whose_size_overflows_matches_nothing() {
        // 2^62 · 4 wraps to 0 in 64 bits, the size of an empty input.
        for target in [[1isize << 62, 4], [4, 1 << 62]] {
            let err = Reshape::new(&target)
                .call(&crate::Input::new(&[0]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("cannot reshape"), "{err}");
        }
    }
}
