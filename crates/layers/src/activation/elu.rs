//! `ELU`: Keras's exponential linear unit layer.

use super::core_from;
use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs};
use crate::serialization::{ConfigReader, base_config, f32_to_json};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::Value;

/// Keras's `ELU(alpha=1.0)`: `x` for `x > 0`, `alpha · (eˣ − 1)` otherwise.
///
/// # Shapes
/// output shape = input shape.
///
/// ```
/// use rkeras_layers::{ELU, Input, LayerCall};
/// assert_eq!(ELU::new(0.5).call(&Input::new(&[4]))?.shape(), &[4]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ELU {
    core: LayerCore,
    alpha: f32,
    trainable: bool,
}

impl ELU {
    /// An ELU with this `alpha` (Keras's default is 1).
    pub fn new(alpha: f32) -> Self {
        ELU {
            core: LayerCore::new("elu"),
            alpha,
            trainable: true,
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("ELU", config)?;
        let mut layer = Self::new(reader.f32_or("alpha", 1.0)?);
        layer.core = core_from(&reader, "elu")?;
        layer.trainable = reader.trainable()?;
        Ok(layer)
    }
}

impl Layer for ELU {
    fn class_name(&self) -> &'static str {
        "ELU"
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
            .elu(self.alpha)
            .in_layer(self.name())
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert("alpha".into(), f32_to_json(self.alpha));
        Value::Object(config)
    }
}
