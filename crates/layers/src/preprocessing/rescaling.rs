//! `Rescaling`: `y = x · scale + offset`.

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `Rescaling` with scalar `scale` and `offset` (per-channel lists are a config error):
/// `y = x · scale + offset`, e.g. `Rescaling(1/255)` for image bytes.
///
/// # Shapes
/// output shape = input shape.
///
/// ```
/// use rand::SeedableRng;
/// use rkeras_layers::{CallContext, Input, Layer, LayerCall, Rescaling};
/// use rkeras_tensor::Tensor;
/// let layer = Rescaling::new(2.0, -1.0);
/// layer.call(&Input::new(&[2]))?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let x = Tensor::new(ndarray::arr2(&[[0.0f32, 1.5]]).into_dyn());
/// let y = layer.forward(&[x], &mut CallContext { training: false, rng: &mut rng })?;
/// assert_eq!(y.to_vec(), [-1.0, 2.0]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Rescaling {
    core: LayerCore,
    // Kept in f64 so that a config round-trips exactly (Keras writes Python floats).
    scale: f64,
    offset: f64,
}

impl Rescaling {
    /// `y = x · scale + offset`.
    pub fn new(scale: f64, offset: f64) -> Self {
        Rescaling {
            core: LayerCore::new("rescaling"),
            scale,
            offset,
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`scale`, `offset`, `name`).
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("Rescaling", config)?;
        let number = |key: &str, default: f64| -> Result<f64> {
            match reader.get(key) {
                None => Ok(default),
                Some(v) => v.as_f64().ok_or_else(|| {
                    LayersError::Config(format!(
                        "Rescaling config: `{key}` must be a number (rkeras has no per-channel rescaling), received {v}"
                    ))
                }),
            }
        };
        let mut layer = Rescaling::new(number("scale", 1.0)?, number("offset", 0.0)?);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }
}

impl Layer for Rescaling {
    fn class_name(&self) -> &'static str {
        "Rescaling"
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
        let x = call_inputs::single(self, inputs)?;
        x.mul_scalar(self.scale as f32)
            .and_then(|y| y.add_scalar(self.offset as f32))
            .in_layer(self.name())
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        config.insert("scale".into(), json!(self.scale));
        config.insert("offset".into(), json!(self.offset));
        Value::Object(config)
    }
}
