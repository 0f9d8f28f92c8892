//! `Softmax`: Keras's softmax layer over one axis.

use super::core_from;
use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `Softmax(axis=-1)`. The axis counts the batch axis, as in Keras (`axis=1` is the first axis of a
/// sample); Keras's `mask` argument is not taken (rkeras has no masks yet).
///
/// # Shapes
/// output shape = input shape.
///
/// ```
/// use rkeras_layers::{Input, LayerCall, Softmax};
/// assert_eq!(Softmax::new(1).call(&Input::new(&[3, 4]))?.shape(), &[3, 4]);
/// assert!(Softmax::new(3).call(&Input::new(&[3, 4])).unwrap_err().to_string().contains("axis 3"));
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Softmax {
    core: LayerCore,
    axis: isize,
    trainable: bool,
}

impl Default for Softmax {
    fn default() -> Self {
        Self::new(-1)
    }
}

impl Softmax {
    /// A softmax over `axis` (Keras's default is -1, the last).
    pub fn new(axis: isize) -> Self {
        Softmax {
            core: LayerCore::new("softmax"),
            axis,
            trainable: true,
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`axis` an integer or a one-element list).
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("Softmax", config)?;
        let axis = match reader.get("axis") {
            None => -1,
            Some(Value::Array(_)) => match reader.isize_list("axis")?.as_slice() {
                [axis] => *axis,
                _ => {
                    return Err(LayersError::Config(format!(
                        "Softmax config: `axis` over several axes is not supported by rkeras, received {}",
                        config["axis"]
                    )));
                }
            },
            Some(_) => reader.isize("axis")?,
        };
        let mut layer = Self::new(axis);
        layer.core = core_from(&reader, "softmax")?;
        layer.trainable = reader.trainable()?;
        Ok(layer)
    }
}

impl Layer for Softmax {
    fn class_name(&self) -> &'static str {
        "Softmax"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        let rank = input_shapes[0].len() as isize + 1;
        if self.axis >= rank || self.axis < -rank || self.axis == 0 || self.axis == -rank {
            return Err(shape_error(
                self,
                format!(
                    "axis {} is outside the sample axes of a rank-{rank} input (the batch axis 0 excluded)",
                    self.axis
                ),
                input_shapes,
            ));
        }
        Ok(input_shapes[0].clone())
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        call_inputs::single(self, inputs)?
            .softmax(self.axis)
            .in_layer(self.name())
    }

    fn forward_logits(
        &self,
        inputs: &[Tensor],
        _ctx: &mut CallContext<'_>,
    ) -> Result<Option<Tensor>> {
        let x = call_inputs::single(self, inputs)?;
        let last = self.axis == -1 || self.axis == x.ndim() as isize - 1;
        Ok(last.then(|| x.clone()))
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert("axis".into(), json!(self.axis));
        Value::Object(config)
    }
}
