//! `MultiHeadAttention`: Keras 3's multi-head attention, on the fused kernel of
//! [`rkeras_tensor::kernels::attention`].

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::keras_call::KerasCall;
use crate::layer::{CallContext, Layer, LayerCore, LayerRef, Shape, shape_error};
use crate::serialization::{ConfigReader, base_config, f32_to_json, initializer_to_config};
use crate::weight_rules::{WeightRules, weight_rule_builders};
use masks::InputMasks;
use rand::rngs::StdRng;
use rkeras_tensor::ops::{AttentionOptions, dropout_mask};
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};

mod axes;
mod masks;

/// Keras's `MultiHeadAttention` (attention over the sequence axis, `attention_axes=None`): queries, keys and
/// values are projected per head, `softmax(q·kᵀ / sqrt(key_dim))·v` is taken per head (masked, with dropout on
/// the probabilities in training), and the heads are projected back to `output_shape` features (the query's by
/// default).
///
/// Inputs, in order: `query` `[q_len, query_dim]`, `value` `[kv_len, value_in]`, then `key` `[kv_len, key_in]`
/// if [`MultiHeadAttention::with_key_input`], then `attention_mask` `[q_len, kv_len]` (1 attends, 0 does not) if
/// [`MultiHeadAttention::with_attention_mask_input`]. Keras's call arguments `use_causal_mask` and
/// `return_attention_scores` are settings of the layer here, read from and written to the call's `kwargs` in a
/// saved Keras graph. The masks the inputs carry
/// (`Embedding(mask_zero=True)`, `Masking`) apply as in Keras's `_compute_attention_mask`: query `i` attends
/// to key `j` when the query's mask keeps `i`, the value's (and a separate key's) mask keeps `j`, the
/// `attention_mask` input and the causal mask allow it; the output carries the query's mask. A query that may
/// attend to no key gets zeros, or, without dropout and without returned scores, the mean of the values (as
/// Keras's `ops.dot_product_attention` path gives it). The scores returned with `return_attention_scores` (the
/// probabilities before dropout) carry gradients: a loss on them trains the query and key projections, as in
/// Keras.
///
/// Weights, in Keras's order and with its names: `query/kernel` `[query_dim, heads, key_dim]`, `query/bias`
/// `[heads, key_dim]`, `key/kernel`, `key/bias`, `value/kernel` `[value_in, heads, value_dim]`, `value/bias`,
/// `attention_output/kernel` `[heads, value_dim, output]`, `attention_output/bias` `[output]` (the biases only
/// with `use_bias`).
///
/// # Shapes
/// output `[q_len, output]`; with `return_attention_scores` a second output `[heads, q_len, kv_len]`.
///
/// ```
/// use rkeras_layers::{Input, Layer, LayerCall, MultiHeadAttention};
/// let (q, v) = (Input::new(&[5, 8]), Input::new(&[3, 6]));
/// let mha = MultiHeadAttention::new(2, 4);
/// let y = mha.call_many(&[q, v])?;
/// assert_eq!(y.shape(), &[5, 8]);
/// assert_eq!(mha.weights()[6].shape(), vec![2, 4, 8]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    core: LayerCore,
    num_heads: usize,
    key_dim: usize,
    value_dim: Option<usize>,
    dropout: f32,
    use_bias: bool,
    output_dim: Option<usize>,
    kernel_initializer: Initializer,
    bias_initializer: Initializer,
    key_input: bool,
    mask_input: bool,
    causal: bool,
    return_scores: bool,
    trainable: bool,
    attention_axes: Option<Vec<usize>>,
    rules: WeightRules,
}

impl MultiHeadAttention {
    /// `num_heads` heads of `key_dim` features; Keras's defaults otherwise (`value_dim = key_dim`, no dropout,
    /// biases, glorot_uniform kernels, zero biases).
    pub fn new(num_heads: usize, key_dim: usize) -> Self {
        MultiHeadAttention {
            core: LayerCore::new("multi_head_attention"),
            num_heads,
            key_dim,
            value_dim: None,
            dropout: 0.0,
            use_bias: true,
            output_dim: None,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
            key_input: false,
            mask_input: false,
            causal: false,
            return_scores: false,
            trainable: true,
            attention_axes: None,
            rules: WeightRules::new(&[("kernel", "kernel"), ("bias", "bias")]),
        }
    }

    /// Keras's `attention_axes`: the axes (counting the batch axis) attended over; the other axes between the
    /// batch and the features index independent attentions. Defaults to every axis between the batch and the
    /// features (the sequence axis of `[batch, length, features]` inputs). With axes other than that one
    /// sequence axis, the attention mask input, the causal mask, returned scores and input masks are errors.
    pub fn with_attention_axes(mut self, axes: &[usize]) -> Self {
        self.attention_axes = Some(axes.to_vec());
        self
    }

    /// Features per head of the values. Defaults to `key_dim`.
    pub fn with_value_dim(mut self, value_dim: usize) -> Self {
        self.value_dim = Some(value_dim);
        self
    }

    /// Dropout rate on the attention probabilities (training only). Defaults to 0.
    pub fn with_dropout(mut self, rate: f32) -> Self {
        self.dropout = rate;
        self
    }

    /// Whether the projections have biases. Defaults to true.
    pub fn with_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Features of the output. Defaults to the query's.
    pub fn with_output_dim(mut self, output_dim: usize) -> Self {
        self.output_dim = Some(output_dim);
        self
    }

    /// Initializer of the four kernels. Defaults to glorot_uniform.
    pub fn with_kernel_initializer(mut self, init: Initializer) -> Self {
        self.kernel_initializer = init;
        self
    }

    /// Initializer of the four biases. Defaults to zeros.
    pub fn with_bias_initializer(mut self, init: Initializer) -> Self {
        self.bias_initializer = init;
        self
    }

    /// Whether a separate `key` input follows `value` (otherwise the keys are projected from `value`).
    pub fn with_key_input(mut self, key_input: bool) -> Self {
        self.key_input = key_input;
        self
    }

    /// Whether an `attention_mask` input `[q_len, kv_len]` comes last.
    pub fn with_attention_mask_input(mut self, mask_input: bool) -> Self {
        self.mask_input = mask_input;
        self
    }

    /// Keras's `use_causal_mask`: query `i` attends to positions `j ≤ i` only. Defaults to false.
    pub fn with_causal_mask(mut self, causal: bool) -> Self {
        self.causal = causal;
        self
    }

    /// Keras's `return_attention_scores`: a second output, the probabilities `[heads, q_len, kv_len]`.
    pub fn with_return_attention_scores(mut self, scores: bool) -> Self {
        self.return_scores = scores;
        self
    }

    /// Whether the optimizer updates the weights. Defaults to true.
    pub fn with_trainable(mut self, trainable: bool) -> Self {
        self.trainable = trainable;
        self
    }

    fn rules_mut(&mut self) -> &mut WeightRules {
        &mut self.rules
    }

    weight_rule_builders!(@without_activity
        "kernel" => with_kernel_regularizer, with_kernel_constraint;
        "bias" => with_bias_regularizer, with_bias_constraint;
    );

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config. `attention_axes` other than `null` or `[1]`, `use_gate`,
    /// `sliding_window`, a tuple `output_shape` and the activity regularizer (which Keras applies to the outputs
    /// of each of the four dense parts) are typed errors; the kernel and bias regularizers and constraints
    /// apply to each of the query, key, value and output parts.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("MultiHeadAttention", config)?;
        reader.reject_unsupported(&["sliding_window", "activity_regularizer"])?;
        // A built Keras layer saves its resolved axes: `[1]`, the sequence axis of `[batch, length, features]`.
        let name = config.get("name").and_then(Value::as_str).unwrap_or("?");
        let attention_axes = match reader.get("attention_axes") {
            None | Some(Value::Null) => None,
            Some(axes) if *axes == json!([1]) || *axes == json!(1) => None,
            Some(Value::Number(n)) => n.as_u64().map(|a| vec![a as usize]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|a| a.as_u64().map(|a| a as usize))
                .collect::<Option<Vec<usize>>>(),
            Some(_) => None,
        };
        if let Some(axes) = reader.get("attention_axes").filter(|a| !a.is_null())
            && attention_axes.is_none()
            && *axes != json!([1])
            && *axes != json!(1)
        {
            return Err(LayersError::Config(format!(
                "MultiHeadAttention `{name}`: attention_axes {axes} must be null, an axis or a list of \
                 non-negative axes"
            )));
        }
        reader.require_bool("use_gate", false)?;
        let output_dim = match reader.get("output_shape") {
            None | Some(Value::Null) => None,
            Some(Value::Array(dims)) if dims.len() == 1 => dims[0].as_u64().map(|d| d as usize),
            Some(v) => v.as_u64().map(|d| d as usize),
        };
        if reader.get("output_shape").is_some_and(|v| !v.is_null()) && output_dim.is_none() {
            return Err(LayersError::Config(format!(
                "MultiHeadAttention config: `output_shape` must be one integer, received {}",
                config["output_shape"]
            )));
        }
        let mut layer =
            MultiHeadAttention::new(reader.usize("num_heads")?, reader.usize("key_dim")?);
        layer.value_dim = reader.opt_usize("value_dim")?;
        layer.dropout = reader.f32_or("dropout", 0.0)?;
        layer.use_bias = reader.bool_or("use_bias", true)?;
        layer.output_dim = output_dim;
        layer.kernel_initializer =
            reader.initializer_or("kernel_initializer", Initializer::GlorotUniform)?;
        layer.bias_initializer = reader.initializer_or("bias_initializer", Initializer::Zeros)?;
        layer.trainable = reader.trainable()?;
        layer.attention_axes = attention_axes;
        layer.rules.read(&reader)?;
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }

    fn value_dim(&self) -> usize {
        self.value_dim.unwrap_or(self.key_dim)
    }

    fn invalid(&self, argument: &'static str, reason: String) -> LayersError {
        LayersError::InvalidArgument {
            class: "MultiHeadAttention",
            argument,
            reason,
        }
    }

    fn expected_inputs(&self) -> usize {
        2 + usize::from(self.key_input) + usize::from(self.mask_input)
    }

    /// The attention axes when they are not the one sequence axis of `[length, features]` inputs (queries of
    /// `rank` axes after the batch): the inputs are then folded (`axes::fold`).
    fn folded_axes(&self, rank: usize) -> Option<Vec<usize>> {
        let attn = axes::resolve(self.attention_axes.as_deref(), rank);
        (rank != 2 || attn != [1]).then_some(attn)
    }

    /// The input shapes as the one-sequence-axis attention sees them: folded by the attention axes, checked.
    fn folded_shapes(&self, shapes: &[Shape]) -> Result<Vec<Shape>> {
        let Some(query) = shapes.first() else {
            return Ok(shapes.to_vec());
        };
        let Some(attn) = self.folded_axes(query.len()) else {
            return Ok(shapes.to_vec());
        };
        if self.mask_input || self.causal || self.return_scores {
            return Err(shape_error(
                self,
                format!(
                    "attention_axes {attn:?}: the attention_mask input, use_causal_mask and \
                     return_attention_scores need attention over the one sequence axis of [length, features] inputs"
                ),
                shapes,
            ));
        }
        let mut folded = Vec::new();
        let mut outer_sizes = None;
        for shape in shapes {
            let Some((outer, flat)) =
                axes::split(shape, &attn).filter(|_| shape.len() == query.len())
            else {
                return Err(shape_error(
                    self,
                    format!("attention_axes {attn:?} do not fit the inputs"),
                    shapes,
                ));
            };
            if outer_sizes.get_or_insert_with(|| outer.clone()) != &outer {
                return Err(shape_error(
                    self,
                    format!(
                        "attention_axes {attn:?}: the other axes must have the same sizes in every input"
                    ),
                    shapes,
                ));
            }
            folded.push(flat);
        }
        Ok(folded)
    }

    /// `(query, value, key)` shapes and the attention mask's, checked.
    fn check_shapes<'a>(&self, shapes: &'a [Shape]) -> Result<(&'a Shape, &'a Shape, &'a Shape)> {
        if self.num_heads == 0 || self.key_dim == 0 || self.value_dim() == 0 {
            return Err(self.invalid(
                "num_heads",
                format!(
                    "num_heads, key_dim and value_dim must be positive, received {}, {}, {}",
                    self.num_heads,
                    self.key_dim,
                    self.value_dim()
                ),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(self.invalid(
                "dropout",
                format!("must be in [0, 1), received {}", self.dropout),
            ));
        }
        if shapes.len() != self.expected_inputs() {
            return Err(shape_error(
                self,
                format!(
                    "expected {} inputs (query, value{}{})",
                    self.expected_inputs(),
                    if self.key_input { ", key" } else { "" },
                    if self.mask_input {
                        ", attention_mask"
                    } else {
                        ""
                    }
                ),
                shapes,
            ));
        }
        let (query, value) = (&shapes[0], &shapes[1]);
        let key = if self.key_input { &shapes[2] } else { value };
        if query.len() != 2 || value.len() != 2 || key.len() != 2 {
            // Keras's `attention_axes=None` attends over every axis between the batch and the features.
            let axes: Vec<usize> = (1..query.len().max(2)).collect();
            return Err(shape_error(
                self,
                format!(
                    "rkeras attends over one sequence axis: query, value and key must be [length, features] \
                     (Keras would attend over attention_axes {axes:?} of these inputs, which rkeras does not \
                     support)"
                ),
                shapes,
            ));
        }
        if key[0] != value[0] {
            return Err(shape_error(
                self,
                "key and value must have the same length",
                shapes,
            ));
        }
        if self.mask_input && shapes[shapes.len() - 1] != [query[0], value[0]] {
            return Err(shape_error(
                self,
                format!("attention_mask must be [{}, {}]", query[0], value[0]),
                shapes,
            ));
        }
        Ok((query, value, key))
    }

    /// Projects `x` `[batch, len, features]` with kernel `[features, heads, dim]` and bias `[heads, dim]` to
    /// `[batch, len, heads · dim]` (the memory of `[batch, len, heads, dim]`, which the attention op reads as is).
    fn project(&self, x: &Tensor, kernel: usize, dim: usize) -> Result<Tensor> {
        let features = x.shape()[2];
        let name = self.name();
        let w = self
            .core
            .weight(kernel)?
            .reshape(&[features, self.num_heads * dim])
            .in_layer(name)?;
        if !self.use_bias {
            return x.matmul(&w).in_layer(name);
        }
        let b = self
            .core
            .weight(kernel + 1)?
            .reshape(&[self.num_heads * dim])
            .in_layer(name)?;
        x.matmul_bias(&w, &b).in_layer(name)
    }

    /// Runs a call with the masks its inputs carry, folding the inputs by the attention axes.
    fn run(
        &self,
        inputs: &[Tensor],
        masks: &InputMasks<'_>,
        ctx: &mut CallContext<'_>,
    ) -> Result<Vec<Tensor>> {
        let inputs = call_inputs::at_least(self, inputs, self.expected_inputs())?;
        let query = inputs[0].shape()[1..].to_vec();
        let Some(attn) = self.folded_axes(query.len()) else {
            return self.run_folded(inputs, masks, ctx);
        };
        let shapes: Vec<Shape> = inputs.iter().map(|t| t.shape()[1..].to_vec()).collect();
        self.folded_shapes(&shapes)?;
        if masks.any() {
            return Err(shape_error(
                self,
                format!("attention_axes {attn:?}: inputs carrying masks are not supported"),
                &shapes,
            ));
        }
        let folded = inputs
            .iter()
            .map(|t| axes::fold(t, &attn))
            .collect::<rkeras_tensor::Result<Vec<_>>>()
            .in_layer(self.name())?;
        let outputs = self.run_folded(&folded, masks, ctx)?;
        outputs
            .iter()
            .map(|y| axes::unfold(y, inputs[0].shape()[0], &query, &attn).in_layer(self.name()))
            .collect()
    }

    /// Runs a call over the sequence axis of `[batch, length, features]` inputs.
    fn run_folded(
        &self,
        inputs: &[Tensor],
        masks: &InputMasks<'_>,
        ctx: &mut CallContext<'_>,
    ) -> Result<Vec<Tensor>> {
        let shapes: Vec<Shape> = inputs.iter().map(|t| t.shape()[1..].to_vec()).collect();
        self.check_shapes(&shapes)?;
        let name = self.name();
        let (query, value) = (&inputs[0], &inputs[1]);
        let key = if self.key_input { &inputs[2] } else { value };
        let per = usize::from(self.use_bias) + 1;
        let (kd, vd) = (self.key_dim, self.value_dim());
        let q = self.project(query, 0, kd)?;
        let k = self.project(key, per, kd)?;
        let v = self.project(value, 2 * per, vd)?;
        let (batch, q_len, kv_len) = (q.shape()[0], q.shape()[1], k.shape()[1]);
        if let Some(reason) = masks.check(batch, q_len, kv_len) {
            return Err(shape_error(self, reason, &shapes));
        }
        let dropout = if ctx.training && self.dropout > 0.0 {
            Some(
                dropout_mask(
                    &[batch, self.num_heads, q_len, kv_len],
                    self.dropout,
                    ctx.rng,
                )
                .in_layer(name)?,
            )
        } else {
            None
        };
        let mask = masks.merge(
            batch,
            q_len,
            kv_len,
            self.mask_input.then(|| inputs[inputs.len() - 1].data()),
        );
        // Keras's `ops.dot_product_attention` path (no dropout, no scores): a query that may attend to nothing
        // takes the mean of the values.
        let empty = mask
            .as_ref()
            .filter(|_| self.dropout == 0.0 && !self.return_scores)
            .and_then(|m| masks::empty_rows(m, self.causal));
        let options = AttentionOptions {
            scale: Some(1.0 / (kd as f32).sqrt()),
            mask,
            causal: self.causal,
            dropout,
            heads: Some(self.num_heads),
        };
        let (mut attended, scores) = q.attention(&k, &v, &options).in_layer(name)?;
        if let Some(empty) = empty {
            let mean = v
                .mean(&[1], true)
                .and_then(|m| m.mul(&Tensor::new(empty)))
                .in_layer(name)?;
            attended = attended.add(&mean).in_layer(name)?;
        }
        // `[batch, q_len, heads · value_dim]` already: the output projection reads it in place.
        let merged = attended;
        let out_dim = self.output_dim.unwrap_or(query.shape()[2]);
        let w = self
            .core
            .weight(3 * per)?
            .reshape(&[self.num_heads * vd, out_dim])
            .in_layer(name)?;
        let y = if self.use_bias {
            merged
                .matmul_bias(&w, &self.core.weight(3 * per + 1)?)
                .in_layer(name)?
        } else {
            merged.matmul(&w).in_layer(name)?
        };
        let mut outputs = vec![y];
        if self.return_scores {
            outputs.push(scores);
        }
        Ok(outputs)
    }
}

impl Layer for MultiHeadAttention {
    fn class_name(&self) -> &'static str {
        "MultiHeadAttention"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn weight_rules(&self) -> Option<&WeightRules> {
        Some(&self.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        let folded = self.folded_shapes(input_shapes)?;
        let (query, _, _) = self.check_shapes(&folded)?;
        let mut shape = input_shapes[0].clone();
        if let Some(features) = shape.last_mut() {
            *features = self.output_dim.unwrap_or(query[1]);
        }
        Ok(shape)
    }

    fn output_shapes(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        let mut shapes = vec![self.output_shape(input_shapes)?];
        if self.return_scores {
            shapes.push(vec![self.num_heads, input_shapes[0][0], input_shapes[1][0]]);
        }
        Ok(shapes)
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        let folded = self.folded_shapes(input_shapes)?;
        let (query, value, key) = self.check_shapes(&folded)?;
        let (heads, kd, vd) = (self.num_heads, self.key_dim, self.value_dim());
        let out = self.output_dim.unwrap_or(query[1]);
        let mut weights = Vec::new();
        for (part, features, dim) in [
            ("query", query[1], kd),
            ("key", key[1], kd),
            ("value", value[1], vd),
        ] {
            let kernel = self
                .kernel_initializer
                .sample(&[features, heads, dim], rng)
                .in_layer(self.name())?;
            weights.push(Variable::new(format!("{part}/kernel"), kernel));
            if self.use_bias {
                let bias = self
                    .bias_initializer
                    .sample(&[heads, dim], rng)
                    .in_layer(self.name())?;
                weights.push(Variable::new(format!("{part}/bias"), bias));
            }
        }
        let kernel = self
            .kernel_initializer
            .sample(&[heads, vd, out], rng)
            .in_layer(self.name())?;
        weights.push(Variable::new("attention_output/kernel", kernel));
        if self.use_bias {
            let bias = self
                .bias_initializer
                .sample(&[out], rng)
                .in_layer(self.name())?;
            weights.push(Variable::new("attention_output/bias", bias));
        }
        weights.iter().for_each(|w| w.set_trainable(self.trainable));
        Ok(weights)
    }

    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let mut outputs = self.forward_all(inputs, ctx)?;
        Ok(outputs.swap_remove(0))
    }

    fn forward_all(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Vec<Tensor>> {
        self.run(inputs, &InputMasks::default(), ctx)
    }

    fn supports_masking(&self) -> bool {
        true
    }

    fn forward_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        ctx: &mut CallContext<'_>,
    ) -> Result<Option<Vec<Tensor>>> {
        let mask = |i: usize| masks.get(i).and_then(Option::as_ref);
        let masks = InputMasks {
            query: mask(0),
            value: mask(1),
            key: if self.key_input { mask(2) } else { None },
        };
        if !masks.any() {
            return Ok(None);
        }
        self.run(inputs, &masks, ctx).map(Some)
    }

    fn keras_call(&self) -> Option<KerasCall> {
        let mut keywords = Vec::new();
        if self.key_input {
            keywords.push("key");
        }
        if self.mask_input {
            keywords.push("attention_mask");
        }
        let mut arguments = serde_json::Map::new();
        if self.causal {
            arguments.insert("use_causal_mask".into(), json!(true));
        }
        if self.return_scores {
            arguments.insert("return_attention_scores".into(), json!(true));
        }
        Some(KerasCall {
            positional: 2,
            keywords,
            arguments,
        })
    }

    fn with_call_kwargs(
        &self,
        kwargs: &serde_json::Map<String, Value>,
    ) -> Result<Option<LayerRef>> {
        let given = |key: &str| kwargs.get(key).is_some_and(|v| !v.is_null());
        let flag = |key: &str| -> Result<bool> {
            match kwargs.get(key) {
                None | Some(Value::Null) => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(other) => Err(self.invalid(
                    "call",
                    format!("`{key}` must be true or false in a saved call, received {other}"),
                )),
            }
        };
        for key in kwargs.keys() {
            let known = [
                "query",
                "value",
                "key",
                "attention_mask",
                "use_causal_mask",
                "return_attention_scores",
                "training",
            ];
            if !known.contains(&key.as_str()) && !kwargs[key].is_null() {
                return Err(self.invalid(
                    "call",
                    format!(
                        "the call argument `{key}` of layer `{}` is not supported",
                        self.name()
                    ),
                ));
            }
        }
        let layer = self
            .clone()
            .with_key_input(given("key"))
            .with_attention_mask_input(given("attention_mask"))
            .with_causal_mask(flag("use_causal_mask")?)
            .with_return_attention_scores(flag("return_attention_scores")?);
        Ok(Some(std::sync::Arc::new(layer)))
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert("num_heads".into(), json!(self.num_heads));
        config.insert("key_dim".into(), json!(self.key_dim));
        config.insert("value_dim".into(), json!(self.value_dim()));
        config.insert("dropout".into(), f32_to_json(self.dropout));
        config.insert("use_bias".into(), json!(self.use_bias));
        config.insert("use_gate".into(), json!(false));
        config.insert(
            "output_shape".into(),
            self.output_dim.map_or(Value::Null, |d| json!(d)),
        );
        config.insert("attention_axes".into(), json!(self.attention_axes));
        config.insert("sliding_window".into(), Value::Null);
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
        config.insert("seed".into(), Value::Null);
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests;
