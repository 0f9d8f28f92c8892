//! `PReLU`: Keras's parametric ReLU, whose negative slope `alpha` is a learned weight.

use super::{core_from, invalid};
use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::initializers::{initializer_from_config, initializer_to_config};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use crate::weight_rules::{WeightRules, weight_rule_builders};
use rand::rngs::StdRng;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `PReLU(alpha_initializer="zeros", shared_axes=None)`: `relu(x) − alpha · relu(−x)` with a
/// learned `alpha` of the sample's shape, of size 1 along each of `shared_axes` (counted from the batch
/// axis, as in Keras: `shared_axes=[1, 2]` shares one slope per channel of an image), with Keras's
/// `alpha_regularizer` and `alpha_constraint`.
///
/// # Shapes
/// output shape = input shape; weight `alpha`: the input's sample shape with 1 along `shared_axes`.
///
/// ```
/// use rkeras_layers::{Input, Layer, LayerCall, PReLU};
/// let layer = PReLU::new().with_shared_axes(&[1, 2])?;
/// layer.call(&Input::new(&[8, 8, 3]))?;
/// assert_eq!(layer.weights()[0].shape(), vec![1, 1, 3]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PReLU {
    core: LayerCore,
    alpha_initializer: Initializer,
    shared_axes: Option<Vec<usize>>,
    trainable: bool,
    rules: WeightRules,
}

impl Default for PReLU {
    fn default() -> Self {
        Self::new()
    }
}

impl PReLU {
    /// A PReLU with `alpha` initialized to zeros and no shared axes.
    pub fn new() -> Self {
        PReLU {
            core: LayerCore::new("p_re_lu"),
            alpha_initializer: Initializer::Zeros,
            shared_axes: None,
            trainable: true,
            rules: WeightRules::new(&[("alpha", "alpha")]),
        }
    }

    /// `alpha`'s initializer (Keras's `alpha_initializer`). Defaults to zeros.
    pub fn with_alpha_initializer(mut self, init: Initializer) -> Self {
        self.alpha_initializer = init;
        self
    }

    /// The axes (1 for the first sample axis) along which one `alpha` is shared; 0, the batch axis, is an
    /// error.
    pub fn with_shared_axes(mut self, axes: &[usize]) -> Result<Self> {
        if let Some(bad) = axes.iter().find(|&&a| a == 0) {
            return Err(invalid(
                "PReLU",
                "shared_axes",
                format!(
                    "the batch axis cannot be shared. Received: shared_axes={axes:?} (axis {bad})"
                ),
            ));
        }
        self.shared_axes = Some(axes.to_vec());
        Ok(self)
    }

    /// Whether the optimizer updates `alpha`; set it before the first call. Defaults to true.
    pub fn with_trainable(mut self, trainable: bool) -> Self {
        self.trainable = trainable;
        self
    }

    fn rules_mut(&mut self) -> &mut WeightRules {
        &mut self.rules
    }

    weight_rule_builders!(
        "alpha" => with_alpha_regularizer, with_alpha_constraint;
    );

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config, with `alpha_regularizer` and `alpha_constraint`.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("PReLU", config)?;
        let mut layer = Self::new().with_trainable(reader.trainable()?);
        layer.rules.read(&reader)?;
        if let Some(init) = reader.get("alpha_initializer") {
            layer.alpha_initializer = initializer_from_config(init)?;
        }
        match reader.get("shared_axes") {
            None | Some(Value::Null) => {}
            Some(Value::Array(_)) => {
                let axes = reader.isize_list("shared_axes")?;
                let axes: Vec<usize> = axes
                    .iter()
                    .map(|&a| usize::try_from(a).unwrap_or(0))
                    .collect();
                layer = layer.with_shared_axes(&axes)?;
            }
            Some(_) => {
                let axis = usize::try_from(reader.isize("shared_axes")?).unwrap_or(0);
                layer = layer.with_shared_axes(&[axis])?;
            }
        }
        layer.core = core_from(&reader, "p_re_lu")?;
        Ok(layer)
    }

    /// `alpha`'s shape for a sample shape.
    fn alpha_shape(&self, input_shapes: &[Shape]) -> Result<Vec<usize>> {
        let mut shape = input_shapes[0].clone();
        for &axis in self.shared_axes.iter().flatten() {
            match shape.get_mut(axis.wrapping_sub(1)) {
                Some(size) => *size = 1,
                None => {
                    return Err(shape_error(
                        self,
                        format!(
                            "shared axis {axis} is outside the sample axes 1..={}",
                            input_shapes[0].len()
                        ),
                        input_shapes,
                    ));
                }
            }
        }
        Ok(shape)
    }
}

impl Layer for PReLU {
    fn class_name(&self) -> &'static str {
        "PReLU"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn weight_rules(&self) -> Option<&WeightRules> {
        Some(&self.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        self.alpha_shape(input_shapes)?;
        Ok(input_shapes[0].clone())
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        expect_inputs(self, input_shapes, 1)?;
        let shape = self.alpha_shape(input_shapes)?;
        let alpha = self
            .alpha_initializer
            .sample(&shape, rng)
            .in_layer(self.name())?;
        let alpha = Variable::new("alpha", alpha);
        alpha.set_trainable(self.trainable);
        Ok(vec![alpha])
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        let alpha = self.core.weight(0)?;
        // Keras: relu(x) + (−alpha · relu(−x)).
        let run = || {
            let negative = x.neg()?.relu()?;
            x.relu()?.sub(&alpha.mul(&negative)?)
        };
        run().in_layer(self.name())
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert(
            "alpha_initializer".into(),
            initializer_to_config(&self.alpha_initializer),
        );
        self.rules.write(&mut config);
        config.insert("shared_axes".into(), json!(self.shared_axes));
        Value::Object(config)
    }
}
