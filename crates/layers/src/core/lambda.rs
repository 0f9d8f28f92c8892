//! `Lambda`: a layer from a Rust closure, as Keras's `Lambda(function, output_shape)`.

use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, shape_error};
use crate::serialization::base_config;
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, TensorError, Variable};
use serde_json::{Value, json};
use std::sync::Arc;

type Function = Arc<dyn Fn(&[Tensor]) -> std::result::Result<Tensor, TensorError> + Send + Sync>;
type OutputShape = Arc<dyn Fn(&[Shape]) -> Result<Shape> + Send + Sync>;

/// A layer running a closure over its inputs (Keras's `Lambda`). Without [`Lambda::with_output_shape`] the
/// output shape is found as Keras finds it, by running the function once on zeros of the input shapes (with a
/// batch of 1).
///
/// A closure cannot be written to a file, so a model holding a Lambda saves only when the Lambda carries a
/// registered name ([`Lambda::with_registered_name`]) under which [`crate::register_layer`] rebuilds it;
/// otherwise saving is [`LayersError::NotSerializable`], saying why. (Keras cannot serialise a Python
/// closure safely either: it writes bytecode and refuses to load it without `safe_mode=False`.)
///
/// # Shapes
/// whatever the function returns, batch axis first.
///
/// ```
/// use rkeras_layers::{Input, LayerCall, Lambda, Network};
/// let x = Input::new(&[3]);
/// let doubled = Lambda::unary(|x| x.mul_scalar(2.0)).call(&x)?;
/// assert_eq!(doubled.shape(), &[3]);
/// let net = Network::new(&[x], &[doubled])?;
/// let err = net.check_serializable().unwrap_err().to_string();
/// assert!(err.contains("closure"), "{err}");
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Clone)]
pub struct Lambda {
    core: LayerCore,
    function: Function,
    output_shape: Option<OutputShape>,
    registered_name: Option<String>,
    arguments: Value,
}

impl std::fmt::Debug for Lambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda")
            .field("name", &self.core.name())
            .field("registered_name", &self.registered_name)
            .finish()
    }
}

impl Lambda {
    /// A Lambda over all its inputs.
    pub fn new(
        function: impl Fn(&[Tensor]) -> std::result::Result<Tensor, TensorError> + Send + Sync + 'static,
    ) -> Self {
        Lambda {
            core: LayerCore::new("lambda"),
            function: Arc::new(function),
            output_shape: None,
            registered_name: None,
            arguments: json!({}),
        }
    }

    /// A Lambda over one input.
    pub fn unary(
        function: impl Fn(&Tensor) -> std::result::Result<Tensor, TensorError> + Send + Sync + 'static,
    ) -> Self {
        Self::new(move |xs: &[Tensor]| match xs {
            [x] => function(x),
            _ => Err(TensorError::invalid_argument(
                "Lambda",
                format!("expected 1 input, received {}", xs.len()),
            )),
        })
    }

    /// The output shape (without the batch axis) as a function of the input shapes (Keras's `output_shape`).
    pub fn with_output_shape(
        mut self,
        output_shape: impl Fn(&[Shape]) -> Result<Shape> + Send + Sync + 'static,
    ) -> Self {
        self.output_shape = Some(Arc::new(output_shape));
        self
    }

    /// The name a [`crate::register_layer`] registration rebuilds this Lambda under; it makes the model
    /// savable (the file records it as Keras's `registered_name`).
    pub fn with_registered_name(mut self, name: &str) -> Self {
        self.registered_name = Some(name.to_string());
        self
    }

    /// Keyword arguments recorded in the config (Keras's `arguments`), for the registered factory to read.
    pub fn with_arguments(mut self, arguments: Value) -> Self {
        self.arguments = arguments;
        self
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }
}

impl Layer for Lambda {
    fn class_name(&self) -> &'static str {
        "Lambda"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        if let Some(shape) = &self.output_shape {
            return shape(input_shapes);
        }
        let zeros = input_shapes
            .iter()
            .map(|s| {
                let mut shape = vec![1];
                shape.extend_from_slice(s);
                Tensor::new(ndarray::ArrayD::zeros(ndarray::IxDyn(&shape)))
            })
            .collect::<Vec<_>>();
        let out = rkeras_tensor::no_grad(|| (self.function)(&zeros)).map_err(|e| {
            shape_error(
                self,
                format!("the function fails on zeros of the input shapes: {e}"),
                input_shapes,
            )
        })?;
        match out.shape().split_first() {
            Some((1, rest)) => Ok(rest.to_vec()),
            _ => Err(shape_error(
                self,
                format!(
                    "the function must keep the batch axis first; on a batch of 1 it returned shape {:?}",
                    out.shape()
                ),
                input_shapes,
            )),
        }
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        (self.function)(inputs).in_layer(self.name())
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        config.insert("function".into(), json!(self.registered_name));
        config.insert("arguments".into(), self.arguments.clone());
        Value::Object(config)
    }

    fn registered_name(&self) -> Option<String> {
        self.registered_name.clone()
    }

    fn check_serializable(&self) -> Result<()> {
        match &self.registered_name {
            Some(name) if crate::custom_registry::find("Lambda", Some(name)).is_some() => Ok(()),
            Some(name) => Err(LayersError::NotSerializable {
                layer: self.name().to_string(),
                class: "Lambda",
                reason: format!(
                    "its registered name `{name}` has no registration; call \
                     `register_layer(\"{name}\", from_config)` before saving and loading"
                ),
            }),
            None => Err(LayersError::NotSerializable {
                layer: self.name().to_string(),
                class: "Lambda",
                reason: "its function is a Rust closure, which cannot be written to a file (Keras cannot \
                         serialise a Python closure safely either). Give it a name with \
                         `Lambda::with_registered_name` and rebuild it with `register_layer`, write a layer \
                         implementing `Layer`, or save only the weights with `save_weights`"
                    .into(),
            }),
        }
    }
}
