//! `EinsumDense`: a dense layer whose product is an einsum equation.

use super::einsum_equation::EinsumEquation;
use crate::activations::ActivationFn;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config, initializer_to_config};
use crate::weight_rules::{WeightRules, weight_rule_builders};
use rand::rngs::StdRng;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `EinsumDense`: `activation(einsum(equation, x, kernel) + bias)`.
///
/// The equation is `input,kernel->output` with one letter per axis, the input's first being the batch axis
/// (or a leading `...` on the input and output). It is computed as one matrix product, so every equation of
/// that form works; one that sums an axis away on one operand alone, repeats a letter or places an ellipsis
/// elsewhere is an error naming it. Weights, in Keras's order: `kernel` (glorot_uniform) and, with
/// `bias_axes`, `bias` (zeros) over the output's axes from the first bias axis on (1 on those not in
/// `bias_axes`).
///
/// # Shapes
/// input as the equation's input; output `output_shape` (a `None` axis takes the input's size).
///
/// ```
/// use rkeras_layers::{EinsumDense, Input, Layer, LayerCall};
/// let layer = EinsumDense::new("abc,cde->abde", &[None, Some(2), Some(4)])?.with_bias_axes("de");
/// let y = layer.call(&Input::new(&[5, 3]))?;
/// assert_eq!(y.shape(), &[5, 2, 4]);
/// let shapes: Vec<Vec<usize>> = layer.weights().iter().map(|w| w.shape()).collect();
/// assert_eq!(shapes, vec![vec![3, 2, 4], vec![2, 4]]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct EinsumDense {
    core: LayerCore,
    equation: EinsumEquation,
    output_shape: Vec<Option<usize>>,
    bias_axes: Option<String>,
    activation: ActivationFn,
    kernel_initializer: Initializer,
    bias_initializer: Initializer,
    trainable: bool,
    rules: WeightRules,
}

impl EinsumDense {
    /// A layer for `equation` with Keras's `output_shape` (the axes after the batch axis; `None` where the
    /// input's size is kept), no bias, linear activation.
    pub fn new(equation: &str, output_shape: &[Option<usize>]) -> Result<Self> {
        Ok(EinsumDense {
            core: LayerCore::new("einsum_dense"),
            equation: EinsumEquation::parse(equation)?,
            output_shape: output_shape.to_vec(),
            bias_axes: None,
            activation: ActivationFn::Linear,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
            trainable: true,
            rules: WeightRules::new(&[("kernel", "kernel"), ("bias", "bias")]),
        })
    }

    /// The output letters that carry a bias (`"de"`). Defaults to none.
    pub fn with_bias_axes(mut self, bias_axes: &str) -> Self {
        self.bias_axes = Some(bias_axes.to_string());
        self
    }

    /// Sets the activation by Keras name. Defaults to linear.
    pub fn with_activation(mut self, name: &str) -> Result<Self> {
        self.activation = ActivationFn::from_name(name)?;
        Ok(self)
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

    /// Whether the optimizer updates the weights; set it before the first call. Defaults to true.
    pub fn with_trainable(mut self, trainable: bool) -> Self {
        self.trainable = trainable;
        self
    }

    fn rules_mut(&mut self) -> &mut WeightRules {
        &mut self.rules
    }

    weight_rule_builders!(
        "kernel" => with_kernel_regularizer, with_kernel_constraint;
        "bias" => with_bias_regularizer, with_bias_constraint;
    );

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`equation`, `output_shape`, `bias_axes`, `activation`, the
    /// initializers, the kernel/bias regularizers and constraints, the activity regularizer, `trainable`,
    /// `name`); quantization and LoRA must be off.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("EinsumDense", config)?;
        reader.reject_unsupported(&["quantization_config"])?;
        if reader.get("lora_rank").is_some_and(|v| !v.is_null()) {
            return Err(LayersError::Config(
                "EinsumDense: `lora_rank` is not supported".into(),
            ));
        }
        let equation = reader
            .get("equation")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                LayersError::Config(format!("EinsumDense: missing `equation` in {config}"))
            })?;
        let bad_shape = || {
            LayersError::Config(format!(
                "EinsumDense: `output_shape` must be an integer or a list of integers and nulls in {config}"
            ))
        };
        let dim = |v: &Value| -> Result<Option<usize>> {
            match v {
                Value::Null => Ok(None),
                v => v.as_u64().map(|d| Some(d as usize)).ok_or_else(bad_shape),
            }
        };
        let output_shape = match reader.get("output_shape") {
            Some(Value::Array(dims)) => dims.iter().map(dim).collect::<Result<Vec<_>>>()?,
            Some(v) => vec![dim(v)?],
            None => return Err(bad_shape()),
        };
        let mut layer = EinsumDense::new(equation, &output_shape)?
            .with_activation(reader.str_or("activation", "linear")?)?
            .with_kernel_initializer(
                reader.initializer_or("kernel_initializer", Initializer::GlorotUniform)?,
            )
            .with_bias_initializer(reader.initializer_or("bias_initializer", Initializer::Zeros)?)
            .with_trainable(reader.trainable()?);
        layer.rules.read(&reader)?;
        if let Some(axes) = reader.get("bias_axes").and_then(Value::as_str) {
            layer = layer.with_bias_axes(axes);
        }
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }

    /// The input's shape with a batch axis of 1.
    fn full(input: &Shape) -> Vec<usize> {
        [&[1][..], input].concat()
    }
}

impl Layer for EinsumDense {
    fn class_name(&self) -> &'static str {
        "EinsumDense"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn weight_rules(&self) -> Option<&WeightRules> {
        Some(&self.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        let full = Self::full(&input_shapes[0]);
        let out = self
            .equation
            .output_shape(&full, &self.output_shape)
            .map_err(|e| shape_error(self, e.to_string(), input_shapes))?;
        if let Some(kernel) = self.core.weights().first() {
            let want = self.equation.kernel_shape(&full, &self.output_shape)?;
            if kernel.shape() != want {
                return Err(shape_error(
                    self,
                    format!(
                        "the kernel has shape {:?}, this input needs {want:?}",
                        kernel.shape()
                    ),
                    input_shapes,
                ));
            }
        }
        Ok(out[1..].to_vec())
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        let full = Self::full(&input_shapes[0]);
        let kernel_shape = self.equation.kernel_shape(&full, &self.output_shape)?;
        crate::size::check_weight(self, "output_shape", "kernel", &kernel_shape)?;
        let kernel = self
            .kernel_initializer
            .sample(&kernel_shape, rng)
            .in_layer(self.name())?;
        let mut weights = vec![Variable::new("kernel", kernel)];
        if let Some(axes) = &self.bias_axes {
            let out = self.equation.output_shape(&full, &self.output_shape)?;
            let shape = self.equation.bias_shape(axes, &out)?;
            let bias = self
                .bias_initializer
                .sample(&shape, rng)
                .in_layer(self.name())?;
            weights.push(Variable::new("bias", bias));
        }
        weights.iter().for_each(|w| w.set_trainable(self.trainable));
        Ok(weights)
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = crate::call_inputs::single(self, inputs)?;
        let mut y = self.equation.apply(x, &self.core.weight(0)?)?;
        if self.bias_axes.is_some() {
            y = y.add(&self.core.weight(1)?).in_layer(self.name())?;
        }
        self.activation.apply(&y).in_layer(self.name())
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert("output_shape".into(), json!(self.output_shape));
        config.insert("equation".into(), json!(self.equation.text()));
        config.insert("activation".into(), json!(self.activation.name()));
        config.insert("bias_axes".into(), json!(self.bias_axes));
        config.insert(
            "kernel_initializer".into(),
            initializer_to_config(&self.kernel_initializer),
        );
        config.insert(
            "bias_initializer".into(),
            initializer_to_config(&self.bias_initializer),
        );
        self.rules.write(&mut config);
        self.rules.write_activity(&mut config);
        Value::Object(config)
    }
}
