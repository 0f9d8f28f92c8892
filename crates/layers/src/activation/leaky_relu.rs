//! `LeakyReLU`: Keras's leaky rectified linear unit layer (`negative_slope`, Keras 2's `alpha`).

use super::{core_from, invalid};
use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs};
use crate::serialization::{ConfigReader, base_config, f32_to_json};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::Value;

/// Keras's `LeakyReLU(negative_slope=0.3)`: `x` for `x ≥ 0`, `negative_slope · x` otherwise.
///
/// # Shapes
/// output shape = input shape.
///
/// ```
/// use rkeras_layers::{Input, LayerCall, LeakyReLU};
/// assert_eq!(LeakyReLU::new(0.3)?.call(&Input::new(&[2, 3]))?.shape(), &[2, 3]);
/// assert!(LeakyReLU::new(-1.0).unwrap_err().to_string().contains("Received: negative_slope=-1"));
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LeakyReLU {
    core: LayerCore,
    negative_slope: f32,
    trainable: bool,
}

impl LeakyReLU {
    /// A leaky ReLU with this slope (Keras's default is 0.3); a negative or non-finite slope is Keras's error.
    pub fn new(negative_slope: f32) -> Result<Self> {
        if negative_slope < 0.0 || !negative_slope.is_finite() {
            return Err(invalid(
                "LeakyReLU",
                "negative_slope",
                format!(
                    "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. \
                     Expected a float. Received: negative_slope={negative_slope}"
                ),
            ));
        }
        Ok(LeakyReLU {
            core: LayerCore::new("leaky_re_lu"),
            negative_slope,
            trainable: true,
        })
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The slope below zero.
    pub fn negative_slope(&self) -> f32 {
        self.negative_slope
    }

    /// Rebuilds the layer from Keras 3's config (`negative_slope`) or Keras 2's (`alpha`).
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("LeakyReLU", config)?;
        let slope = match reader.get("negative_slope") {
            Some(_) => reader.f32_or("negative_slope", 0.3)?,
            None => reader.f32_or("alpha", 0.3)?,
        };
        let mut layer = Self::new(slope)?;
        layer.core = core_from(&reader, "leaky_re_lu")?;
        layer.trainable = reader.trainable()?;
        Ok(layer)
    }
}

impl Layer for LeakyReLU {
    fn class_name(&self) -> &'static str {
        "LeakyReLU"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        Ok(input_shapes[0].clone())
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        expect_inputs(self, input_shapes, 1)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        call_inputs::single(self, inputs)?
            .leaky_relu(self.negative_slope)
            .in_layer(self.name())
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert("negative_slope".into(), f32_to_json(self.negative_slope));
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_keras_2_alpha_and_round_trips() {
        let layer = LeakyReLU::from_config(&json!({"name": "lr", "alpha": 0.1})).unwrap();
        assert_eq!((layer.name(), layer.negative_slope()), ("lr", 0.1));
        assert_eq!(
            LeakyReLU::from_config(&layer.config()).unwrap().config(),
            layer.config()
        );
    }
}
