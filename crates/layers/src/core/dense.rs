//! `Dense`: `activation(x · kernel + bias)` over the last axis.

use crate::activations::ActivationFn;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config, initializer_to_config};
use crate::weight_rules::{WeightRules, weight_rule_builders};
use rand::rngs::StdRng;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::json;

/// A densely connected layer (Keras's `Dense`). Kernel `[input_dim, units]` (glorot_uniform), bias `[units]`
/// (zeros).
///
/// # Shapes
/// input `[..., input_dim]`, output `[..., units]`.
///
/// ```
/// use rkeras_layers::{Dense, Input, LayerCall, Layer};
/// let y = Dense::new(3).with_activation("relu")?.call(&Input::new(&[5]))?;
/// assert_eq!(y.shape(), &[3]);
/// assert_eq!(y.layer().weights().iter().map(|w| w.shape()).collect::<Vec<_>>(), vec![vec![5, 3], vec![3]]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dense {
    core: LayerCore,
    units: usize,
    activation: ActivationFn,
    use_bias: bool,
    kernel_initializer: Initializer,
    bias_initializer: Initializer,
    rules: WeightRules,
    trainable: bool,
}

impl Dense {
    /// A dense layer of `units` outputs, linear activation, with bias. Defaults to Keras's initializers.
    pub fn new(units: usize) -> Self {
        Dense {
            core: LayerCore::new("dense"),
            units,
            activation: ActivationFn::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
            rules: WeightRules::new(&[("kernel", "kernel"), ("bias", "bias")]),
            trainable: true,
        }
    }

    /// Sets the activation by Keras name (`"relu"`, `"softmax"`, …).
    pub fn with_activation(mut self, name: &str) -> Result<Self> {
        self.activation = ActivationFn::from_name(name)?;
        Ok(self)
    }

    /// Whether to add a bias. Defaults to true.
    pub fn with_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Sets the kernel initializer. Defaults to glorot_uniform.
    pub fn with_kernel_initializer(mut self, init: Initializer) -> Self {
        self.kernel_initializer = init;
        self
    }

    /// Sets the bias initializer. Defaults to zeros.
    pub fn with_bias_initializer(mut self, init: Initializer) -> Self {
        self.bias_initializer = init;
        self
    }

    weight_rule_builders!(
        "kernel" => with_kernel_regularizer, with_kernel_constraint;
        "bias" => with_bias_regularizer, with_bias_constraint;
    );

    /// Whether the optimizer updates the weights (Keras's `trainable`); set it before the first call.
    /// Defaults to true.
    pub fn with_trainable(mut self, trainable: bool) -> Self {
        self.trainable = trainable;
        self
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`units`, `activation`, `use_bias`, the initializers, `name`).
    /// `kernel_regularizer`, `bias_regularizer`, `kernel_constraint` and `bias_constraint` and
    /// `activity_regularizer` in Keras's form.
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let reader = ConfigReader::new("Dense", config)?;
        reader.reject_unsupported(&["quantization_config"])?;
        let mut layer = Dense::new(reader.usize("units")?)
            .with_activation(reader.str_or("activation", "linear")?)?
            .with_bias(reader.bool_or("use_bias", true)?)
            .with_kernel_initializer(
                reader.initializer_or("kernel_initializer", Initializer::GlorotUniform)?,
            )
            .with_bias_initializer(reader.initializer_or("bias_initializer", Initializer::Zeros)?)
            .with_trainable(reader.trainable()?);
        layer.rules.read(&reader)?;
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }

    fn rules_mut(&mut self) -> &mut WeightRules {
        &mut self.rules
    }

    /// The number of outputs.
    pub fn units(&self) -> usize {
        self.units
    }

    /// `x · kernel`, without the bias.
    /// The input times the kernel; `flattened`: the input flattened to `[batch, features]` first.
    fn product(&self, inputs: &[Tensor], flattened: bool) -> Result<Tensor> {
        let name = self.name();
        let x = inputs
            .first()
            .ok_or_else(|| LayersError::Graph(format!("layer `{name}` received no input")))?;
        let kernel = self.core.weight(0)?;
        if flattened {
            x.flatten_matmul(&kernel).in_layer(name)
        } else {
            x.matmul(&kernel).in_layer(name)
        }
    }

    fn pre_activation(&self, inputs: &[Tensor], flattened: bool) -> Result<Tensor> {
        let name = self.name();
        let z = self.product(inputs, flattened)?;
        if self.use_bias {
            z.add(&self.core.weight(1)?).in_layer(name)
        } else {
            Ok(z)
        }
    }

    /// The layer's output (`flattened`: on its input flattened to `[batch, features]`).
    fn activated(&self, inputs: &[Tensor], flattened: bool) -> Result<Tensor> {
        if self.use_bias && self.activation == ActivationFn::Relu {
            // The bias and ReLU in one pass each way (the same bits as `add` then `relu`).
            let z = self.product(inputs, flattened)?;
            return z.bias_relu(&self.core.weight(1)?).in_layer(self.name());
        }
        self.activation
            .apply(&self.pre_activation(inputs, flattened)?)
            .in_layer(self.name())
    }
}

impl Layer for Dense {
    fn class_name(&self) -> &'static str {
        "Dense"
    }

    fn supports_masking(&self) -> bool {
        true
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        let shape = &input_shapes[0];
        let Some(&last) = shape.last() else {
            return Err(shape_error(
                self,
                "expected at least one non-batch axis",
                input_shapes,
            ));
        };
        if let Some(kernel) = self.core.weights().first() {
            let rows = kernel.shape()[0];
            if rows != last {
                return Err(shape_error(
                    self,
                    format!("the kernel expects a last axis of {rows}"),
                    input_shapes,
                ));
            }
        }
        let mut out = shape.clone();
        *out.last_mut().unwrap_or(&mut 0) = self.units;
        Ok(out)
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        if self.units == 0 {
            return Err(LayersError::InvalidArgument {
                class: "Dense",
                argument: "units",
                reason: "expected a positive integer, received 0".into(),
            });
        }
        expect_inputs(self, input_shapes, 1)?;
        let last = input_shapes[0].last().copied().ok_or_else(|| {
            shape_error(self, "expected at least one non-batch axis", input_shapes)
        })?;
        crate::size::check_weight(self, "units", "kernel", &[last, self.units])?;
        let kernel = self
            .kernel_initializer
            .sample(&[last, self.units], rng)
            .in_layer(self.name())?;
        let mut weights = vec![Variable::new("kernel", kernel)];
        if self.use_bias {
            let bias = self
                .bias_initializer
                .sample(&[self.units], rng)
                .in_layer(self.name())?;
            weights.push(Variable::new("bias", bias));
        }
        weights.iter().for_each(|w| w.set_trainable(self.trainable));
        Ok(weights)
    }

    fn weight_rules(&self) -> Option<&WeightRules> {
        Some(&self.rules)
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        self.activated(inputs, false)
    }

    fn forward_flattened(&self, inputs: &[Tensor]) -> Result<Option<Tensor>> {
        self.activated(inputs, true).map(Some)
    }

    fn forward_logits(
        &self,
        inputs: &[Tensor],
        _ctx: &mut CallContext<'_>,
    ) -> Result<Option<Tensor>> {
        if self.activation == ActivationFn::Softmax {
            Ok(Some(self.pre_activation(inputs, false)?))
        } else {
            Ok(None)
        }
    }

    fn config(&self) -> serde_json::Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert("units".into(), json!(self.units));
        config.insert("activation".into(), json!(self.activation.name()));
        config.insert("use_bias".into(), json!(self.use_bias));
        config.insert(
            "kernel_initializer".into(),
            initializer_to_config(&self.kernel_initializer),
        );
        config.insert(
            "bias_initializer".into(),
            initializer_to_config(&self.bias_initializer),
        );
        self.rules.write(&mut config);
        serde_json::Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Constraint, Input, LayerCall, Regularizer};
    use rand::SeedableRng;

    fn run(layer: &Dense, x: Tensor) -> Result<Tensor> {
        let mut rng = StdRng::seed_from_u64(0);
        layer.forward(
            &[x],
            &mut CallContext {
                training: false,
                rng: &mut rng,
            },
        )
    }

    #[test]
    fn forward_is_x_kernel_plus_bias() {
        let layer = Dense::new(2).with_activation("relu").unwrap();
        layer.call(&Input::new(&[3])).unwrap();
        let w = layer.weights();
        w[0].set_value(ndarray::arr2(&[[1.0f32, -1.0], [2.0, 0.0], [0.5, 3.0]]).into_dyn())
            .unwrap();
        w[1].set_value(ndarray::arr1(&[0.5f32, -10.0]).into_dyn())
            .unwrap();
        let x = Tensor::from_vec(&[1, 3], vec![1.0, 2.0, 4.0]).unwrap();
        // [1 + 4 + 2 + 0.5, -1 + 0 + 12 - 10] = [7.5, 1], relu keeps both.
        assert_eq!(run(&layer, x).unwrap().to_vec(), vec![7.5, 1.0]);
    }

    #[test]
    fn bad_units_and_shapes_are_reported() {
        let err = Dense::new(0)
            .call(&Input::new(&[3]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("units") && err.contains("received 0"), "{err}");
        let layer = Dense::new(2);
        layer.call(&Input::new(&[3])).unwrap();
        let err = layer.call(&Input::new(&[4])).unwrap_err().to_string();
        assert!(
            err.contains(layer.name()) && err.contains("(None, 4)") && err.contains("3"),
            "{err}"
        );
    }

    #[test]
    fn frozen_weights_are_not_trainable() {
        let layer = Dense::new(2).with_trainable(false);
        layer.call(&Input::new(&[3])).unwrap();
        assert!(layer.weights().iter().all(|w| !w.trainable()));
        assert_eq!(layer.config()["trainable"], json!(false));
    }

    #[test]
    fn config_round_trips() {
        let layer = Dense::new(7)
            .with_activation("softmax")
            .unwrap()
            .with_bias(false)
            .with_name("out");
        let config = layer.config();
        assert_eq!(config["units"], json!(7));
        assert_eq!(
            config["kernel_initializer"]["class_name"],
            json!("GlorotUniform")
        );
        let rebuilt = Dense::from_config(&config).unwrap();
        assert_eq!(rebuilt.name(), "out");
        assert_eq!(rebuilt.config(), config);
        let regularized = json!({"units": 2,
            "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.25}},
            "bias_constraint": "non_neg"});
        let rebuilt = Dense::from_config(&regularized).unwrap();
        rebuilt.call(&Input::new(&[3])).unwrap();
        assert_eq!(
            rebuilt.weight_regularizers(),
            vec![(0, Regularizer::L2 { l2: 0.25 })]
        );
        assert_eq!(rebuilt.weight_constraints(), vec![(1, Constraint::NonNeg)]);
        assert_eq!(
            rebuilt.config()["kernel_regularizer"]["config"]["l2"],
            json!(0.25)
        );
        assert_eq!(rebuilt.activity_regularizer(), None);
        assert!(rebuilt.config().get("activity_regularizer").is_none());
        let activity = json!({"units": 2, "activity_regularizer": "l1"});
        let with_activity = Dense::from_config(&activity).unwrap();
        assert_eq!(
            with_activity.activity_regularizer(),
            Some(Regularizer::L1 { l1: 0.01 })
        );
        assert_eq!(
            with_activity.config()["activity_regularizer"]["class_name"],
            json!("L1")
        );
    }
}
