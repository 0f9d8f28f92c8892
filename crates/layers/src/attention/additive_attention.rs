//! `AdditiveAttention`: Bahdanau-style attention.

use super::attention::pairwise_sum;
use super::base::{AttentionOptions, Split};
use crate::error::{InLayer, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `AdditiveAttention` (Bahdanau-style): scores `Σ scale ⊙ tanh(query + key)` over the features,
/// then `softmax(scores) · value`.
///
/// Weights, in Keras's order and with its names: `scale`, a `[dim]` vector (glorot_uniform) with `use_scale`
/// (on by default). The call options are those of [`crate::Attention`] ([`AttentionOptions`]).
///
/// # Shapes
/// inputs `[Tq, dim]` (query), `[Tv, value_dim]` (value), optionally `[Tv, dim]` (key, the value by
/// default), then with masks `[Tq]` and `[Tv]`; output `[Tq, value_dim]`, and the attention scores
/// `[Tq, Tv]` with `return_attention_scores`.
///
/// ```
/// use rkeras_layers::{AdditiveAttention, Input, Layer, LayerCall};
/// let (query, value) = (Input::new(&[3, 4]), Input::new(&[5, 2]));
/// let key = Input::new(&[5, 4]);
/// let y = AdditiveAttention::new().call_many(&[query, value, key])?;
/// assert_eq!(y.shape(), &[3, 2]);
/// assert_eq!(y.layer().weights()[0].shape(), &[4]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AdditiveAttention {
    core: LayerCore,
    use_scale: bool,
    options: AttentionOptions,
    trainable: bool,
}

impl Default for AdditiveAttention {
    fn default() -> Self {
        Self::new()
    }
}

impl AdditiveAttention {
    /// Keras's defaults: `use_scale=True`, no dropout.
    pub fn new() -> Self {
        AdditiveAttention {
            core: LayerCore::new("additive_attention"),
            use_scale: true,
            options: AttentionOptions::default(),
            trainable: true,
        }
    }

    /// Whether to learn the `scale` vector. Defaults to true.
    pub fn with_scale(mut self, use_scale: bool) -> Self {
        self.use_scale = use_scale;
        self
    }

    crate::attention::base::attention_option_setters!();

    /// Whether the optimizer updates the weights; set it before the first call. Defaults to true.
    pub fn with_trainable(mut self, trainable: bool) -> Self {
        self.trainable = trainable;
        self
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`use_scale`, `dropout`, `seed`, `trainable`, `name`).
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("AdditiveAttention", config)?;
        let mut layer = AdditiveAttention::new()
            .with_scale(reader.bool_or("use_scale", true)?)
            .with_options(AttentionOptions::from_reader(&reader, "AdditiveAttention")?)
            .with_trainable(reader.trainable()?);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }

    /// Runs a call on its split inputs and masks.
    fn run(&self, split: &Split<'_>, ctx: &mut CallContext<'_>) -> Result<Vec<Tensor>> {
        let name = self.name();
        let mut terms = pairwise_sum(split.query, split.key)
            .and_then(|s| s.tanh())
            .in_layer(name)?;
        if self.use_scale {
            terms = terms.mul(&self.core.weight(0)?).in_layer(name)?;
        }
        let scores = terms.sum(&[-1], false).in_layer(name)?;
        self.options.finish(self, scores, split, ctx)
    }
}

impl Layer for AdditiveAttention {
    fn class_name(&self) -> &'static str {
        "AdditiveAttention"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        Ok(self.options.shapes(self, input_shapes)?.0)
    }

    fn output_shapes(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        self.options.output_shapes(self, input_shapes)
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.options.shapes(self, input_shapes)?;
        if !self.use_scale {
            return Ok(Vec::new());
        }
        let dim = input_shapes[0][1];
        let scale = Initializer::GlorotUniform
            .sample(&[dim], rng)
            .in_layer(self.name())?;
        let scale = Variable::new("scale", scale);
        scale.set_trainable(self.trainable);
        Ok(vec![scale])
    }

    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let mut outputs = self.forward_all(inputs, ctx)?;
        Ok(outputs.swap_remove(0))
    }

    fn forward_all(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Vec<Tensor>> {
        self.run(&self.options.split(self, inputs)?, ctx)
    }

    crate::attention::base::attention_mask_methods!();

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert("use_scale".into(), json!(self.use_scale));
        self.options.write(&mut config);
        Value::Object(config)
    }
}
