//! `Activation`: applies a named activation function elementwise (softmax over the last axis).

use crate::activations::ActivationFn;
use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::json;

/// Applies an activation function (Keras's `Activation`): `linear`, `relu`, `sigmoid`, `hard_sigmoid`,
/// `tanh`, `softmax` (over the last axis), `elu` or `softplus`.
///
/// # Shapes
/// output shape = input shape.
///
/// ```
/// use rkeras_layers::{Activation, Input, LayerCall};
/// let y = Activation::new("softmax")?.call(&Input::new(&[68, 4]))?;
/// assert_eq!(y.shape(), &[68, 4]);
/// assert!(Activation::new("softmx").unwrap_err().to_string().contains("softmax"));
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Activation {
    core: LayerCore,
    activation: ActivationFn,
}

impl Activation {
    /// An activation layer by Keras name; an unknown name is an error listing the valid ones.
    pub fn new(name: &str) -> Result<Self> {
        Ok(Self::from_fn(ActivationFn::from_name(name)?))
    }

    /// An activation layer for `activation`.
    pub fn from_fn(activation: ActivationFn) -> Self {
        Activation {
            core: LayerCore::new("activation"),
            activation,
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The function applied.
    pub fn activation(&self) -> ActivationFn {
        self.activation
    }

    /// Rebuilds the layer from Keras's config (`activation`, `name`).
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let reader = ConfigReader::new("Activation", config)?;
        let mut layer = Activation::new(reader.str_or("activation", "linear")?)?;
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }
}

impl Layer for Activation {
    fn class_name(&self) -> &'static str {
        "Activation"
    }

    fn supports_masking(&self) -> bool {
        true
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
        self.activation
            .apply(call_inputs::single(self, inputs)?)
            .in_layer(self.name())
    }

    fn forward_logits(
        &self,
        inputs: &[Tensor],
        _ctx: &mut CallContext<'_>,
    ) -> Result<Option<Tensor>> {
        if self.activation == ActivationFn::Softmax {
            Ok(Some(call_inputs::single(self, inputs)?.clone()))
        } else {
            Ok(None)
        }
    }

    fn config(&self) -> serde_json::Value {
        let mut config = base_config(self.name(), true);
        config.insert("activation".into(), json!(self.activation.name()));
        serde_json::Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn ctx_run(layer: &Activation, x: &Tensor, logits: bool) -> Result<Option<Tensor>> {
        let mut rng = StdRng::seed_from_u64(0);
        let mut ctx = CallContext {
            training: false,
            rng: &mut rng,
        };
        if logits {
            layer.forward_logits(std::slice::from_ref(x), &mut ctx)
        } else {
            layer.forward(std::slice::from_ref(x), &mut ctx).map(Some)
        }
    }

    #[test]
    fn applies_each_function() {
        let x = Tensor::from_vec(&[1, 3], vec![-1.0, 0.0, 2.0]).unwrap();
        let cases: [(&str, [f32; 3]); 6] = [
            ("linear", [-1.0, 0.0, 2.0]),
            ("relu", [0.0, 0.0, 2.0]),
            // relu6(x + 3) / 6 = 2/6, 3/6, 5/6.
            ("hard_sigmoid", [2.0 / 6.0, 0.5, 5.0 / 6.0]),
            ("hard_sigmoid_keras2", [0.3, 0.5, 0.9]),
            ("elu", [(-1.0f32).exp() - 1.0, 0.0, 2.0]),
            ("tanh", [(-1.0f32).tanh(), 0.0, 2.0f32.tanh()]),
        ];
        for (name, expected) in cases {
            let y = ctx_run(&Activation::new(name).unwrap(), &x, false)
                .unwrap()
                .unwrap()
                .to_vec();
            for (a, b) in y.iter().zip(expected) {
                assert!((a - b).abs() < 1e-6, "{name}: {y:?} vs {expected:?}");
            }
        }
    }

    #[test]
    fn softmax_rows_sum_to_one_and_expose_logits() {
        let layer = Activation::new("softmax").unwrap();
        let x = Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 0.0, 0.0, 0.0]).unwrap();
        let y = ctx_run(&layer, &x, false).unwrap().unwrap().to_vec();
        let e = [1.0f32.exp(), 2.0f32.exp(), 3.0f32.exp()];
        let total: f32 = e.iter().sum();
        assert!((y[2] - e[2] / total).abs() < 1e-6);
        assert!((y[3] - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(
            ctx_run(&layer, &x, true).unwrap().unwrap().to_vec(),
            x.to_vec()
        );
        assert!(
            ctx_run(&Activation::new("relu").unwrap(), &x, true)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn config_round_trips() {
        let layer = Activation::new("hard_sigmoid").unwrap().with_name("gate");
        let config = layer.config();
        assert_eq!(config["activation"], json!("hard_sigmoid"));
        assert_eq!(Activation::from_config(&config).unwrap().config(), config);
        assert!(Activation::from_config(&json!({"activation": "swishh"})).is_err());
    }
}
