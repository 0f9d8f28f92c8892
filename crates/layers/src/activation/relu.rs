//! `ReLU`: Keras's rectified linear unit layer with `max_value`, `negative_slope` and `threshold`.

use super::{core_from, invalid};
use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs};
use crate::serialization::{ConfigReader, base_config, f32_to_json};
use rand::rngs::StdRng;
use rkeras_tensor::ops::ReluOptions;
use rkeras_tensor::{Tensor, Variable};
use serde_json::Value;

/// Keras's `ReLU(max_value=None, negative_slope=0.0, threshold=0.0)`: `x` above `threshold` (capped at
/// `max_value`), `negative_slope · (x − threshold)` below it.
///
/// # Shapes
/// output shape = input shape.
///
/// ```
/// use rkeras_layers::{Input, LayerCall, ReLU};
/// let layer = ReLU::with_args(Some(6.0), 0.1, 0.0)?;
/// assert_eq!(layer.call(&Input::new(&[5]))?.shape(), &[5]);
/// let err = ReLU::with_args(Some(-1.0), 0.0, 0.0).unwrap_err().to_string();
/// assert!(err.contains("max_value of a ReLU layer cannot be a negative value. Received: max_value=-1"));
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReLU {
    core: LayerCore,
    options: ReluOptions,
    trainable: bool,
}

impl Default for ReLU {
    fn default() -> Self {
        Self::new()
    }
}

impl ReLU {
    /// `max(x, 0)`.
    pub fn new() -> Self {
        ReLU {
            core: LayerCore::new("re_lu"),
            options: ReluOptions::default(),
            trainable: true,
        }
    }

    /// Keras's arguments, checked as Keras checks them (none negative), echoing a bad value.
    pub fn with_args(max_value: Option<f32>, negative_slope: f32, threshold: f32) -> Result<Self> {
        let class = "ReLU";
        if let Some(max) = max_value.filter(|m| m.is_nan() || *m < 0.0) {
            return Err(invalid(
                class,
                "max_value",
                format!(
                    "max_value of a ReLU layer cannot be a negative value. Received: max_value={max}"
                ),
            ));
        }
        if negative_slope < 0.0 || !negative_slope.is_finite() {
            return Err(invalid(
                class,
                "negative_slope",
                format!(
                    "negative_slope of a ReLU layer cannot be a negative value. Received: negative_slope={negative_slope}"
                ),
            ));
        }
        if threshold < 0.0 || !threshold.is_finite() {
            return Err(invalid(
                class,
                "threshold",
                format!(
                    "threshold of a ReLU layer cannot be a negative value. Received: threshold={threshold}"
                ),
            ));
        }
        Ok(ReLU {
            options: ReluOptions {
                negative_slope,
                max_value,
                threshold,
            },
            ..Self::new()
        })
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The arguments.
    pub fn options(&self) -> ReluOptions {
        self.options
    }

    /// Rebuilds the layer from Keras's config.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("ReLU", config)?;
        let max_value = match reader.get("max_value") {
            None | Some(Value::Null) => None,
            Some(_) => Some(reader.f32_or("max_value", 0.0)?),
        };
        let mut layer = Self::with_args(
            max_value,
            reader.f32_or("negative_slope", 0.0)?,
            reader.f32_or("threshold", 0.0)?,
        )?;
        layer.core = core_from(&reader, "re_lu")?;
        layer.trainable = reader.trainable()?;
        Ok(layer)
    }
}

impl Layer for ReLU {
    fn class_name(&self) -> &'static str {
        "ReLU"
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
            .relu_with(self.options)
            .in_layer(self.name())
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert(
            "max_value".into(),
            self.options.max_value.map_or(Value::Null, f32_to_json),
        );
        config.insert(
            "negative_slope".into(),
            f32_to_json(self.options.negative_slope),
        );
        config.insert("threshold".into(), f32_to_json(self.options.threshold));
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_round_trips_and_rejects_negative_arguments() {
        let layer = ReLU::with_args(None, 0.5, 1.0).unwrap().with_name("r");
        let config = layer.config();
        assert_eq!(config["max_value"], Value::Null);
        assert_eq!(config["negative_slope"], json!(0.5));
        assert_eq!(ReLU::from_config(&config).unwrap().config(), config);
        let err = ReLU::from_config(&json!({"threshold": -0.5}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("Received: threshold=-0.5"), "{err}");
        let err = ReLU::with_args(None, -0.1, 0.0).unwrap_err().to_string();
        assert!(err.contains("Received: negative_slope=-0.1"), "{err}");
    }
}
