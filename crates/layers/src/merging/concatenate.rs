//! `Concatenate`: joins its inputs along one axis.

use super::concatenate_mask::concatenated_mask;
use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::json;

/// Joins its inputs along `axis` (Keras's `Concatenate`). As in Keras, `axis` counts the batch axis as 0:
/// `-1` (the default) is the last axis, `1` the first axis after the batch axis. The batch axis itself cannot
/// be joined. All inputs must have the same rank and agree on every other axis.
///
/// # Shapes
/// inputs `[…, dᵢ, …]`, output `[…, Σ dᵢ, …]`.
///
/// ```
/// use rkeras_layers::{Concatenate, Input, LayerCall};
/// let (a, b) = (Input::new(&[4, 68]), Input::new(&[4, 64]));
/// assert_eq!(Concatenate::new().call_many(&[a.clone(), b.clone()])?.shape(), &[4, 132]);
/// assert_eq!(Concatenate::new().with_axis(1).call_many(&[a.clone(), a])?.shape(), &[8, 68]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Concatenate {
    core: LayerCore,
    axis: isize,
}

impl Default for Concatenate {
    fn default() -> Self {
        Self::new()
    }
}

impl Concatenate {
    /// Concatenation along the last axis.
    pub fn new() -> Self {
        Concatenate {
            core: LayerCore::new("concatenate"),
            axis: -1,
        }
    }

    /// Sets the axis, counting the batch axis as 0 (negative counts from the end). Defaults to -1.
    pub fn with_axis(mut self, axis: isize) -> Self {
        self.axis = axis;
        self
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The axis, as given (batch axis = 0).
    pub fn axis(&self) -> isize {
        self.axis
    }

    /// Rebuilds the layer from Keras's config (`axis`, `name`).
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let reader = ConfigReader::new("Concatenate", config)?;
        let mut layer = Concatenate::new();
        if reader.get("axis").is_some() {
            layer = layer.with_axis(reader.isize("axis")?);
        }
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }

    /// The axis of a batch of rank `rank` (batch axis included) that `self.axis` designates, from 1.
    fn resolve_axis(&self, rank: usize) -> Result<usize> {
        let rank = rank as isize;
        let resolved = if self.axis < 0 {
            self.axis + rank
        } else {
            self.axis
        };
        if resolved == 0 {
            return Err(LayersError::InvalidArgument {
                class: "Concatenate",
                argument: "axis",
                reason: format!(
                    "layer `{}`: cannot concatenate along the batch axis (axis {})",
                    self.name(),
                    self.axis
                ),
            });
        }
        if resolved < 0 || resolved >= rank {
            return Err(LayersError::InvalidArgument {
                class: "Concatenate",
                argument: "axis",
                reason: format!(
                    "layer `{}`: axis {} is out of range for inputs of rank {rank} (batch axis included)",
                    self.name(),
                    self.axis
                ),
            });
        }
        Ok(resolved as usize)
    }
}

impl Layer for Concatenate {
    fn class_name(&self) -> &'static str {
        "Concatenate"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        let Some(first) = input_shapes.first() else {
            return Err(shape_error(self, "expected at least 1 input", input_shapes));
        };
        let axis = self.resolve_axis(first.len() + 1)? - 1;
        let mut out = first.clone();
        for shape in &input_shapes[1..] {
            let same_elsewhere = shape.len() == first.len()
                && shape
                    .iter()
                    .zip(first)
                    .enumerate()
                    .all(|(i, (a, b))| i == axis || a == b);
            if !same_elsewhere {
                return Err(shape_error(
                    self,
                    format!(
                        "inputs must match except along the concatenation axis {} (batch axis = 0)",
                        axis + 1
                    ),
                    input_shapes,
                ));
            }
            out[axis] += shape[axis];
        }
        Ok(out)
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let inputs = call_inputs::at_least(self, inputs, 1)?;
        let axis = self.resolve_axis(inputs[0].ndim())?;
        Tensor::concat(inputs, axis as isize).in_layer(self.name())
    }

    fn supports_masking(&self) -> bool {
        true
    }

    /// Keras's `Concatenate.compute_mask` (see `concatenated_mask`): masks of the inputs' steps joined
    /// along the axis, an input without a mask counting as kept everywhere.
    fn compute_mask(&self, inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
        if masks.iter().all(Option::is_none) {
            return Ok(None);
        }
        let rank = inputs.first().map_or(0, Tensor::ndim);
        let axis = self.resolve_axis(rank)?;
        concatenated_mask(self.name(), axis, inputs, masks)
    }

    fn config(&self) -> serde_json::Value {
        let mut config = base_config(self.name(), true);
        config.insert("axis".into(), json!(self.axis));
        serde_json::Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merging::test_support::run;
    use crate::{Input, LayerCall};

    #[test]
    fn joins_along_the_last_axis_by_default() {
        let a = Tensor::from_vec(&[1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let b = Tensor::from_vec(&[1, 2, 1], vec![9.0, 8.0]).unwrap();
        let out = run(&Concatenate::new(), &[a, b]).unwrap();
        assert_eq!(out.shape(), &[1, 2, 3]);
        assert_eq!(out.to_vec(), vec![1.0, 2.0, 9.0, 3.0, 4.0, 8.0]);
    }

    #[test]
    fn axis_one_is_the_first_non_batch_axis() {
        let layer = Concatenate::new().with_axis(1);
        assert_eq!(
            layer
                .call_many(&[Input::new(&[2, 3]), Input::new(&[1, 3])])
                .unwrap()
                .shape(),
            &[3, 3]
        );
        let a = Tensor::from_vec(&[1, 1, 2], vec![1.0, 2.0]).unwrap();
        let b = Tensor::from_vec(&[1, 1, 2], vec![3.0, 4.0]).unwrap();
        let out = run(&layer, &[a, b]).unwrap();
        assert_eq!(
            (out.shape().to_vec(), out.to_vec()),
            (vec![1, 2, 2], vec![1.0, 2.0, 3.0, 4.0])
        );
        // -2 on rank-3 batches is axis 1 too.
        let same = Concatenate::new().with_axis(-2);
        assert_eq!(
            same.call_many(&[Input::new(&[2, 3]), Input::new(&[1, 3])])
                .unwrap()
                .shape(),
            &[3, 3]
        );
    }

    #[test]
    fn bad_axes_and_shapes_are_reported() {
        let err = Concatenate::new()
            .with_axis(0)
            .call_many(&[Input::new(&[2]), Input::new(&[2])])
            .unwrap_err();
        assert!(err.to_string().contains("batch axis"), "{err}");
        let err = Concatenate::new()
            .with_axis(3)
            .call_many(&[Input::new(&[2]), Input::new(&[2])])
            .unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        let layer = Concatenate::new().with_name("join");
        let err = layer
            .call_many(&[Input::new(&[4, 68]), Input::new(&[5, 64])])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("join") && err.contains("(None, 4, 68)") && err.contains("(None, 5, 64)"),
            "{err}"
        );
        assert!(
            layer
                .call_many(&[Input::new(&[4, 68]), Input::new(&[4])])
                .is_err()
        );
    }

    #[test]
    fn config_round_trips() {
        let layer = Concatenate::new().with_axis(1).with_name("join");
        let config = layer.config();
        assert_eq!(config["axis"], json!(1));
        assert_eq!(Concatenate::from_config(&config).unwrap().config(), config);
        assert_eq!(
            Concatenate::from_config(&json!({"name": "c"}))
                .unwrap()
                .axis(),
            -1
        );
    }
}
