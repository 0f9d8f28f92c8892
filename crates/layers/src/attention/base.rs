//! What Keras's `Attention` and `AdditiveAttention` share: the inputs `[query, value, key?]` with optional
//! explicit masks, the score mask (value mask and causal mask), the softmax, dropout on the attention
//! distribution, the weighted sum of the values and the query mask.

use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, Shape, shape_error};
use crate::serialization::{ConfigReader, f32_to_json};
use ndarray::{ArrayD, IxDyn};
use rkeras_tensor::Tensor;
use serde_json::{Map, Value, json};

/// Added to a masked score before the softmax, as Keras does for float32 (`scores − 1e9`).
const MASKED_SCORE: f32 = -1.0e9;

/// The call options and dropout of an attention layer.
///
/// Keras passes `mask`, `use_causal_mask` and `return_attention_scores` to each call; rkeras fixes them on the
/// layer. With [`AttentionOptions::masks`] on, the layer's inputs are `[query, value, key?, query_mask,
/// value_mask]`, the masks being `[batch, Tq]` and `[batch, Tv]` tensors of ones (kept) and zeros (masked).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttentionOptions {
    /// Dropout rate on the attention distribution during training (Keras's `dropout`).
    pub dropout: f32,
    /// Keras's `seed`, recorded in the config only: dropout masks come from the run's generator.
    pub seed: Option<u64>,
    /// Whether position `i` of the query may only attend to positions `j <= i` of the value.
    pub use_causal_mask: bool,
    /// Whether a call returns `[output, attention_scores]` instead of the output alone.
    pub return_attention_scores: bool,
    /// Whether the inputs end with `[query_mask, value_mask]`.
    pub masks: bool,
}

/// The builder methods the attention layers share for their [`AttentionOptions`] (a field `options`).
macro_rules! attention_option_setters {
    () => {
        /// Replaces the call options (dropout, causal mask, explicit masks, returned scores).
        pub fn with_options(mut self, options: AttentionOptions) -> Self {
            self.options = options;
            self
        }

        /// Dropout rate on the attention distribution in training. Defaults to 0.
        pub fn with_dropout(mut self, rate: f32) -> Self {
            self.options.dropout = rate;
            self
        }

        /// Keras's `use_causal_mask`. Defaults to false.
        pub fn with_causal_mask(mut self, on: bool) -> Self {
            self.options.use_causal_mask = on;
            self
        }

        /// Keras's `return_attention_scores`: calls return `[output, scores]`. Defaults to false.
        pub fn with_return_attention_scores(mut self, on: bool) -> Self {
            self.options.return_attention_scores = on;
            self
        }

        /// Whether the inputs end with `[query_mask, value_mask]` (Keras's `mask=`). Defaults to false.
        pub fn with_masks(mut self, on: bool) -> Self {
            self.options.masks = on;
            self
        }
    };
}
pub(crate) use attention_option_setters;

/// The [`Layer`] methods by which the attention layers take Keras's implicit masks (`mask=[query_mask,
/// value_mask]` filled from the masks the inputs carry): the value's mask hides scores, the query's zeroes the
/// output rows and is the output's mask. Explicit mask inputs ([`AttentionOptions::masks`]) take precedence.
/// Needs a field `options` and a method `run(&self, &Split, &mut CallContext) -> Result<Vec<Tensor>>`.
macro_rules! attention_mask_methods {
    () => {
        fn supports_masking(&self) -> bool {
            true
        }

        fn compute_mask(
            &self,
            inputs: &[Tensor],
            masks: &[Option<Tensor>],
        ) -> Result<Option<Tensor>> {
            self.options.output_mask(self, inputs, masks)
        }

        fn forward_masked(
            &self,
            inputs: &[Tensor],
            masks: &[Option<Tensor>],
            ctx: &mut CallContext<'_>,
        ) -> Result<Option<Vec<Tensor>>> {
            match self.options.split_implicit(self, inputs, masks)? {
                Some(split) => self.run(&split, ctx).map(Some),
                None => Ok(None),
            }
        }
    };
}
pub(crate) use attention_mask_methods;

/// One call's inputs, split.
pub(crate) struct Split<'a> {
    pub query: &'a Tensor,
    pub value: &'a Tensor,
    pub key: &'a Tensor,
    pub query_mask: Option<&'a Tensor>,
    pub value_mask: Option<&'a Tensor>,
}

impl AttentionOptions {
    /// Reads `dropout` and `seed` from a Keras config.
    pub(crate) fn from_reader(reader: &ConfigReader<'_>, class: &'static str) -> Result<Self> {
        let dropout = reader.f32_or("dropout", 0.0)?;
        if !(0.0..1.0).contains(&dropout) {
            return Err(LayersError::InvalidArgument {
                class,
                argument: "dropout",
                reason: format!("expected a rate in [0, 1), received {dropout}"),
            });
        }
        let seed = match reader.get("seed") {
            None | Some(Value::Null) => None,
            Some(seed) => Some(seed.as_u64().ok_or_else(|| LayersError::InvalidArgument {
                class,
                argument: "seed",
                reason: format!("expected a non-negative integer or null, received {seed}"),
            })?),
        };
        Ok(AttentionOptions {
            dropout,
            seed,
            ..AttentionOptions::default()
        })
    }

    /// Writes `dropout` and `seed` as Keras does.
    pub(crate) fn write(&self, config: &mut Map<String, Value>) {
        config.insert("dropout".into(), f32_to_json(self.dropout));
        config.insert("seed".into(), json!(self.seed));
    }

    /// The number of data inputs (2 or 3) in a call with `n` inputs, or an error naming the layer.
    fn data_inputs(&self, layer: &dyn Layer, shapes: &[Shape]) -> Result<usize> {
        let extra = if self.masks { 2 } else { 0 };
        let n = shapes.len();
        if n < 2 + extra || n > 3 + extra {
            let expected = if self.masks {
                "[query, value, query_mask, value_mask] or [query, value, key, query_mask, value_mask]"
            } else {
                "[query, value] or [query, value, key]"
            };
            return Err(shape_error(
                layer,
                format!("expected the inputs {expected}, received {n} input(s)"),
                shapes,
            ));
        }
        Ok(n - extra)
    }

    /// Checks the shapes and returns the output's and the attention scores' (`[Tq, value_dim]`, `[Tq, Tv]`).
    /// `same_dim`: the query and key must share their last axis (all of rkeras's score modes).
    pub(crate) fn shapes(&self, layer: &dyn Layer, shapes: &[Shape]) -> Result<(Shape, Shape)> {
        let data = self.data_inputs(layer, shapes)?;
        if shapes[..data].iter().any(|s| s.len() != 2) {
            return Err(shape_error(
                layer,
                "expected query, value and key of shape [batch, time, features]",
                shapes,
            ));
        }
        let (query, value) = (&shapes[0], &shapes[1]);
        let key = &shapes[data - 1];
        if key[0] != value[0] {
            return Err(shape_error(
                layer,
                "the key and the value must have the same number of time steps",
                shapes,
            ));
        }
        if query[1] != key[1] {
            return Err(shape_error(
                layer,
                "the query and the key must have the same number of features",
                shapes,
            ));
        }
        if self.masks && (shapes[data] != [query[0]] || shapes[data + 1] != [value[0]]) {
            return Err(shape_error(
                layer,
                "expected a query mask [batch, Tq] and a value mask [batch, Tv]",
                shapes,
            ));
        }
        Ok((vec![query[0], value[1]], vec![query[0], value[0]]))
    }

    /// The output shapes of a call: the output, then the scores when they are returned.
    pub(crate) fn output_shapes(&self, layer: &dyn Layer, shapes: &[Shape]) -> Result<Vec<Shape>> {
        let (output, scores) = self.shapes(layer, shapes)?;
        Ok(if self.return_attention_scores {
            vec![output, scores]
        } else {
            vec![output]
        })
    }

    /// Splits a call's inputs.
    pub(crate) fn split<'a>(&self, layer: &dyn Layer, inputs: &'a [Tensor]) -> Result<Split<'a>> {
        let shapes: Vec<Shape> = inputs.iter().map(|x| x.shape()[1..].to_vec()).collect();
        let data = self.data_inputs(layer, &shapes)?;
        Ok(Split {
            query: &inputs[0],
            value: &inputs[1],
            key: &inputs[data - 1],
            query_mask: self.masks.then(|| &inputs[data]),
            value_mask: self.masks.then(|| &inputs[data + 1]),
        })
    }

    /// A call's inputs split, with the masks the query and the value carry (Keras's `mask`); `None` when they
    /// carry none or the layer takes explicit mask inputs.
    pub(crate) fn split_implicit<'a>(
        &self,
        layer: &dyn Layer,
        inputs: &'a [Tensor],
        masks: &'a [Option<Tensor>],
    ) -> Result<Option<Split<'a>>> {
        let mask = |i: usize| masks.get(i).and_then(Option::as_ref);
        if self.masks || (mask(0).is_none() && mask(1).is_none()) {
            return Ok(None);
        }
        let mut split = self.split(layer, inputs)?;
        let batch = split.query.shape()[0];
        let expected = [
            (mask(0), split.query.shape()[1], "query"),
            (mask(1), split.value.shape()[1], "value"),
        ];
        if let Some((m, len, what)) = expected
            .into_iter()
            .find(|(m, len, _)| m.is_some_and(|m| m.shape() != [batch, *len]))
        {
            let shapes: Vec<Shape> = inputs.iter().map(|x| x.shape()[1..].to_vec()).collect();
            return Err(shape_error(
                layer,
                format!(
                    "the {what}'s mask is {:?}, expected [{batch}, {len}]",
                    m.map(Tensor::shape).unwrap_or_default()
                ),
                &shapes,
            ));
        }
        split.query_mask = mask(0);
        split.value_mask = mask(1);
        Ok(Some(split))
    }

    /// Keras's `compute_mask`: the query's mask (the explicit one with [`AttentionOptions::masks`]).
    pub(crate) fn output_mask(
        &self,
        layer: &dyn Layer,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Option<Tensor>> {
        if self.masks {
            return Ok(self.split(layer, inputs)?.query_mask.cloned());
        }
        Ok(masks.first().cloned().flatten())
    }

    /// From raw scores `[batch, Tq, Tv]`: masks them, takes the softmax over the value's time axis, applies
    /// dropout in training, weighs the values and zeroes the masked query positions. Returns every output.
    pub(crate) fn finish(
        &self,
        layer: &dyn Layer,
        scores: Tensor,
        split: &Split<'_>,
        ctx: &mut CallContext<'_>,
    ) -> Result<Vec<Tensor>> {
        let name = layer.name();
        let scores = match self.score_bias(scores.shape(), split.value_mask) {
            Some(bias) => scores.add(&Tensor::new(bias)).in_layer(name)?,
            None => scores,
        };
        let weights = scores.softmax(-1).in_layer(name)?;
        let dropped = if ctx.training && self.dropout > 0.0 {
            weights
                .dropout(self.dropout, &mut *ctx.rng)
                .in_layer(name)?
        } else {
            weights.clone()
        };
        let mut output = dropped
            .batch_matmul(split.value, false, false)
            .in_layer(name)?;
        if let Some(mask) = split.query_mask {
            let shape = [mask.shape()[0], mask.shape()[1], 1];
            let mask = Tensor::new(
                mask.data()
                    .to_shape(IxDyn(&shape))
                    .map_err(|e| LayersError::Graph(format!("layer `{name}`: query mask: {e}")))?
                    .to_owned(),
            );
            output = output.mul(&mask).in_layer(name)?;
        }
        Ok(if self.return_attention_scores {
            vec![output, dropped]
        } else {
            vec![output]
        })
    }

    /// `0` where a score counts and `−1e9` where the value mask or the causal mask hides it, or `None` when
    /// nothing is masked.
    fn score_bias(&self, shape: &[usize], value_mask: Option<&Tensor>) -> Option<ArrayD<f32>> {
        if value_mask.is_none() && !self.use_causal_mask {
            return None;
        }
        let (batch, tq, tv) = (shape[0], shape[1], shape[2]);
        Some(ArrayD::from_shape_fn(IxDyn(&[batch, tq, tv]), |ix| {
            let (b, i, j) = (ix[0], ix[1], ix[2]);
            let hidden_value = value_mask.is_some_and(|m| m.data()[[b, j]] == 0.0);
            let future = self.use_causal_mask && j > i;
            if hidden_value || future {
                MASKED_SCORE
            } else {
                0.0
            }
        }))
    }
}
