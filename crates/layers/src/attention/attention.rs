//! `Attention`: Luong-style dot-product (or concat) attention.

use super::base::{AttentionOptions, Split};
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape};
use crate::serialization::{ConfigReader, base_config};
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// How [`Attention`] scores a query against a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreMode {
    /// `query · keyᵀ` (times `scale` with `use_scale`).
    Dot,
    /// `concat_score_weight · Σ tanh(scale · (query + key))` over the features.
    Concat,
}

impl ScoreMode {
    /// Keras's name (`"dot"`, `"concat"`).
    pub fn name(self) -> &'static str {
        match self {
            ScoreMode::Dot => "dot",
            ScoreMode::Concat => "concat",
        }
    }

    /// The mode of Keras's name, or an error echoing it.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "dot" => Ok(ScoreMode::Dot),
            "concat" => Ok(ScoreMode::Concat),
            other => Err(LayersError::InvalidArgument {
                class: "Attention",
                argument: "score_mode",
                reason: format!("expected one of \"dot\", \"concat\", received \"{other}\""),
            }),
        }
    }
}

/// Keras's `Attention` (Luong-style): `softmax(scores(query, key)) · value`.
///
/// Weights, in Keras's order and with its names: `scale` (a scalar, ones, with `use_scale`) and
/// `concat_score_weight` (a scalar, ones, with `score_mode="concat"`). The call options Keras passes per call
/// (`mask=[query_mask, value_mask]`, `use_causal_mask`, `return_attention_scores`) are set on the layer, see
/// [`AttentionOptions`]; `dropout` applies to the attention distribution in training.
///
/// # Shapes
/// inputs `[Tq, dim]` (query), `[Tv, value_dim]` (value), optionally `[Tv, dim]` (key, the value by
/// default), then with masks `[Tq]` and `[Tv]`; output `[Tq, value_dim]`, and the attention scores
/// `[Tq, Tv]` with `return_attention_scores`.
///
/// ```
/// use rkeras_layers::{Attention, Input, Layer, LayerCall};
/// let (query, value) = (Input::new(&[3, 4]), Input::new(&[5, 4]));
/// let layer = Attention::new().with_scale(true).with_return_attention_scores(true);
/// let outputs = layer.call_outputs(&[query, value])?;
/// assert_eq!(outputs[0].shape(), &[3, 4]);
/// assert_eq!(outputs[1].shape(), &[3, 5]);
/// assert_eq!(layer.weights()[0].name(), "scale");
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Attention {
    core: LayerCore,
    use_scale: bool,
    score_mode: ScoreMode,
    options: AttentionOptions,
    trainable: bool,
}

impl Default for Attention {
    fn default() -> Self {
        Self::new()
    }
}

impl Attention {
    /// Keras's defaults: `use_scale=False`, `score_mode="dot"`, no dropout.
    pub fn new() -> Self {
        Attention {
            core: LayerCore::new("attention"),
            use_scale: false,
            score_mode: ScoreMode::Dot,
            options: AttentionOptions::default(),
            trainable: true,
        }
    }

    /// Whether to learn a scalar `scale` for the scores. Defaults to false.
    pub fn with_scale(mut self, use_scale: bool) -> Self {
        self.use_scale = use_scale;
        self
    }

    /// How the scores are computed. Defaults to [`ScoreMode::Dot`].
    pub fn with_score_mode(mut self, mode: ScoreMode) -> Self {
        self.score_mode = mode;
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

    /// Rebuilds the layer from Keras's config (`use_scale`, `score_mode`, `dropout`, `seed`, `trainable`,
    /// `name`).
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("Attention", config)?;
        let mut layer = Attention::new()
            .with_scale(reader.bool_or("use_scale", false)?)
            .with_score_mode(ScoreMode::from_name(reader.str_or("score_mode", "dot")?)?)
            .with_options(AttentionOptions::from_reader(&reader, "Attention")?)
            .with_trainable(reader.trainable()?);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }

    /// Runs a call on its split inputs and masks.
    fn run(&self, split: &Split<'_>, ctx: &mut CallContext<'_>) -> Result<Vec<Tensor>> {
        let scores = self.scores(split.query, split.key)?;
        self.options.finish(self, scores, split, ctx)
    }

    fn scores(&self, query: &Tensor, key: &Tensor) -> Result<Tensor> {
        let name = self.name();
        let mut next = 0;
        let mut weight = || {
            next += 1;
            self.core.weight(next - 1)
        };
        let scale = if self.use_scale {
            Some(weight()?)
        } else {
            None
        };
        match self.score_mode {
            ScoreMode::Dot => {
                let scores = query.batch_matmul(key, false, true).in_layer(name)?;
                match scale {
                    Some(scale) => scores.mul(&scale).in_layer(name),
                    None => Ok(scores),
                }
            }
            ScoreMode::Concat => {
                let concat_weight = weight()?;
                let mut sum = pairwise_sum(query, key).in_layer(name)?;
                if let Some(scale) = scale {
                    sum = sum.mul(&scale).in_layer(name)?;
                }
                sum.tanh()
                    .and_then(|t| t.sum(&[-1], false))
                    .and_then(|s| s.mul(&concat_weight))
                    .in_layer(name)
            }
        }
    }
}

/// `query[b, i, :] + key[b, j, :]` for every pair: `[batch, Tq, Tv, dim]`.
pub(crate) fn pairwise_sum(
    query: &Tensor,
    key: &Tensor,
) -> std::result::Result<Tensor, rkeras_tensor::TensorError> {
    let (q, k) = (query.shape(), key.shape());
    let q = query.reshape(&[q[0], q[1], 1, q[2]])?;
    let k = key.reshape(&[k[0], 1, k[1], k[2]])?;
    q.add(&k)
}

impl Layer for Attention {
    fn class_name(&self) -> &'static str {
        "Attention"
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

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.options.shapes(self, input_shapes)?;
        let scalar = |name: &str| Variable::new(name, ArrayD::ones(ndarray::IxDyn(&[])));
        let mut weights = Vec::new();
        if self.use_scale {
            weights.push(scalar("scale"));
        }
        if self.score_mode == ScoreMode::Concat {
            weights.push(scalar("concat_score_weight"));
        }
        weights.iter().for_each(|w| w.set_trainable(self.trainable));
        Ok(weights)
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
        config.insert("score_mode".into(), json!(self.score_mode.name()));
        self.options.write(&mut config);
        Value::Object(config)
    }
}
