//! `Masking`: marks the timesteps whose features all equal `mask_value` as padding.

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::json;

/// Keras's `Masking`: a timestep whose features all equal `mask_value` is masked (mask 0) for the layers
/// downstream (recurrent layers skip it), and its output features are zeroed; other steps pass unchanged.
///
/// # Shapes
/// input `[time, features]` (or more axes), output the same; mask `[batch, time]`.
///
/// ```
/// use rkeras_layers::{Input, Layer, LayerCall, Masking};
/// let y = Masking::new(0.0).call(&Input::new(&[5, 3]))?;
/// assert_eq!(y.shape(), &[5, 3]);
/// assert_eq!(y.layer().class_name(), "Masking");
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Masking {
    core: LayerCore,
    mask_value: f32,
}

impl Masking {
    /// Masks the timesteps whose features all equal `mask_value` (Keras's default is 0).
    pub fn new(mask_value: f32) -> Self {
        Masking {
            core: LayerCore::new("masking"),
            mask_value,
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The padding value.
    pub fn mask_value(&self) -> f32 {
        self.mask_value
    }

    /// Rebuilds the layer from Keras's config (`mask_value`, `name`).
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let reader = ConfigReader::new("Masking", config)?;
        let mut layer = Masking::new(reader.f32_or("mask_value", 0.0)?);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }

    /// `[batch, time, 1]` of 1 where some feature differs from `mask_value`, else 0.
    fn keep(&self, x: &Tensor) -> Result<Tensor> {
        let features = x.shape().last().copied().unwrap_or(1).max(1);
        let values = x.data();
        let flat: Vec<f32> = values
            .as_standard_layout()
            .as_slice()
            .map(|s| s.to_vec())
            .unwrap_or_default()
            .chunks(features)
            .map(|row| f32::from(row.iter().any(|&v| v != self.mask_value)))
            .collect();
        let mut shape = x.shape().to_vec();
        if let Some(last) = shape.last_mut() {
            *last = 1;
        }
        let keep = ndarray::ArrayD::from_shape_vec(shape, flat)
            .map_err(|e| LayersError::Graph(format!("layer `{}` (Masking): {e}", self.name())))?;
        Ok(Tensor::new(keep))
    }
}

impl Layer for Masking {
    fn class_name(&self) -> &'static str {
        "Masking"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        if input_shapes[0].len() < 2 {
            return Err(shape_error(
                self,
                "expected [time, features] or more axes",
                input_shapes,
            ));
        }
        Ok(input_shapes[0].clone())
    }

    fn build(&self, _input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        x.mul(&self.keep(x)?).in_layer(self.name())
    }

    fn supports_masking(&self) -> bool {
        true
    }

    fn mask_reads_values(&self) -> bool {
        true
    }

    fn compute_mask(&self, inputs: &[Tensor], _masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
        let x = call_inputs::single(self, inputs)?;
        let keep = self.keep(x)?;
        let mut shape = keep.shape().to_vec();
        shape.pop();
        Ok(Some(keep.reshape(&shape).in_layer(self.name())?))
    }

    fn config(&self) -> serde_json::Value {
        let mut config = base_config(self.name(), true);
        config.insert("mask_value".into(), json!(self.mask_value));
        serde_json::Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_steps_whose_features_all_equal_the_value() {
        let layer = Masking::new(-1.0);
        let x = Tensor::from_vec(&[1, 3, 2], vec![-1.0, -1.0, -1.0, 2.0, 0.0, 0.0]).unwrap();
        let mask = layer
            .compute_mask(std::slice::from_ref(&x), &[None])
            .unwrap()
            .unwrap();
        assert_eq!(mask.shape(), &[1, 3]);
        assert_eq!(mask.to_vec(), vec![0.0, 1.0, 1.0]);
        let mut rng = rand::SeedableRng::seed_from_u64(0);
        let y = layer
            .forward(
                &[x],
                &mut CallContext {
                    training: false,
                    rng: &mut rng,
                },
            )
            .unwrap();
        assert_eq!(y.to_vec(), vec![0.0, 0.0, -1.0, 2.0, 0.0, 0.0]);
        let back = Masking::from_config(&layer.config()).unwrap();
        assert_eq!(back.mask_value(), -1.0);
    }
}
