//! Scaled-dot-product attention as one op (the fused kernel in [`crate::kernels::attention`]).

use crate::backprop::{self, Node};
use crate::error::{Result, TensorError};
use crate::kernels::Parallelism;
use crate::kernels::attention::{
    AttentionDims, AttentionGrads, AttentionMask, attention_backward, attention_forward,
    attention_scores_backward,
};
use crate::tensor::Tensor;
use crate::tensor::TensorId;
use ndarray::{ArrayD, IxDyn};
use std::borrow::Cow;
use std::sync::Arc;

/// The options of [`Tensor::attention`].
#[derive(Debug, Clone, Default)]
pub struct AttentionOptions {
    /// Multiplies the scores (Keras: `1 / sqrt(key_dim)`); `None` means that value.
    pub scale: Option<f32>,
    /// `[batch or 1, q_len, kv_len]`: query `i` may attend to key `j` where the value is > 0.5.
    pub mask: Option<ArrayD<f32>>,
    /// Whether query `i` may only attend to keys `j ≤ i`.
    pub causal: bool,
    /// Dropout multipliers of `[batch, heads, q_len, kv_len]` (0 or `1 / (1 − rate)`, see
    /// [`crate::ops::dropout_mask`]) applied to the probabilities before the weighted sum.
    pub dropout: Option<ArrayD<f32>>,
    /// `Some(heads)`: queries, keys and values are `[batch, length, heads · features]`, each position's heads side
    /// by side (the memory of `[batch, length, heads, features]`, so a projection's output is read where it is
    /// and no reshape copies it), and the output is `[batch, q_len, heads · value_dim]`. `None`: rank-4 inputs.
    pub heads: Option<usize>,
}

fn contiguous(t: &ArrayD<f32>) -> Vec<f32> {
    t.as_standard_layout().iter().copied().collect()
}

/// The values of `t` in row-major order: borrowed when it is stored so (the usual case), copied otherwise.
fn row_major(t: &ArrayD<f32>) -> Cow<'_, [f32]> {
    match t.as_slice() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(contiguous(t)),
    }
}

/// A tensor's shared values in row-major order: the same allocation when they are stored so, a copy otherwise.
fn shared_row_major(t: &Tensor) -> Arc<ArrayD<f32>> {
    let data = t.data_arc();
    if data.is_standard_layout() {
        data
    } else {
        Arc::new(data.as_standard_layout().into_owned())
    }
}

/// Values a backward pass holds: when it is their last owner, its drop hands the buffer back to the pool (the
/// next step's probabilities then reuse it instead of a fresh zeroed allocation).
struct Pooled(Arc<ArrayD<f32>>);

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(values) = Arc::get_mut(&mut self.0) {
            crate::buffer_pool::give_array(std::mem::take(values));
        }
    }
}

/// The row-major values of an array [`shared_row_major`] or `from_shape_vec` made.
fn slice_of(a: &ArrayD<f32>) -> Result<&[f32]> {
    a.as_slice().ok_or_else(|| TensorError::Internal {
        op: "attention",
        reason: "values not in row-major order".into(),
    })
}

fn dims_of(q: &[usize], k: &[usize], v: &[usize], heads: Option<usize>) -> Result<AttentionDims> {
    let bad = |reason: &str| {
        Err(TensorError::invalid_shape(
            "attention",
            q,
            format!("{reason}; received keys {k:?} and values {v:?}"),
        ))
    };
    let split = |s: &[usize]| -> Option<[usize; 4]> {
        match (heads, s) {
            (None, &[b, l, h, f]) => Some([b, l, h, f]),
            (Some(h), &[b, l, hf]) if h > 0 && hf % h == 0 => Some([b, l, h, hf / h]),
            _ => None,
        }
    };
    let (Some(q), Some(k), Some(v)) = (split(q), split(k), split(v)) else {
        return match heads {
            None => bad("queries, keys and values must be [batch, length, heads, features]"),
            Some(h) => bad(&format!(
                "queries, keys and values must be [batch, length, heads · features] with {h} heads"
            )),
        };
    };
    if k[..3] != v[..3] || q[0] != k[0] || q[2] != k[2] || q[3] != k[3] {
        return bad(
            "keys must match the queries' batch, heads and features, values the keys' batch, length and heads",
        );
    }
    Ok(AttentionDims {
        batch: q[0],
        heads: q[2],
        q_len: q[1],
        kv_len: k[1],
        key_dim: q[3],
        value_dim: v[3],
    })
}

impl Tensor {
    /// Scaled-dot-product attention of queries `self` (`[batch, q_len, heads, key_dim]`) over keys
    /// (`[batch, kv_len, heads, key_dim]`) and values (`[batch, kv_len, heads, value_dim]`):
    /// `softmax(scale·q·kᵀ, masked)·v` per head (or all three `[batch, length, heads · features]`, see
    /// [`AttentionOptions::heads`]). Returns the output (`[batch, q_len, heads, value_dim]`) and the
    /// probabilities before dropout (`[batch, heads, q_len, kv_len]`, Keras's `attention_scores`). Gradients
    /// flow from the output to queries, keys and values, and from the probabilities to queries and keys.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// use rkeras_tensor::ops::AttentionOptions;
    /// let q = Tensor::from_vec(&[1, 1, 1, 1], vec![1.0])?;
    /// let k = Tensor::from_vec(&[1, 2, 1, 1], vec![0.0, 3f32.ln()])?;
    /// let v = Tensor::from_vec(&[1, 2, 1, 1], vec![4.0, 8.0])?;
    /// let options = AttentionOptions { scale: Some(1.0), ..Default::default() };
    /// let (out, probs) = q.attention(&k, &v, &options)?;
    /// assert!((out.to_vec()[0] - 7.0).abs() < 1e-5 && (probs.to_vec()[1] - 0.75).abs() < 1e-6);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn attention(
        &self,
        keys: &Tensor,
        values: &Tensor,
        options: &AttentionOptions,
    ) -> Result<(Tensor, Tensor)> {
        let dims = dims_of(self.shape(), keys.shape(), values.shape(), options.heads)?;
        let scale = options.scale.unwrap_or(1.0 / (dims.key_dim as f32).sqrt());
        let mask_values = options.mask.as_ref().map(row_major);
        let mask = AttentionMask {
            values: mask_values.as_deref(),
            causal: options.causal,
        };
        let dropout = options.dropout.as_ref().map(contiguous).map(Arc::new);
        let [.., out_len, probs_len] = dims.lens();
        // Queries, keys and values are read in place and shared with the backward passes, not copied. The
        // outputs here and the gradients below are written whole by the kernels: pooled, not zeroed, buffers.
        let (q, k, v) = (
            shared_row_major(self),
            shared_row_major(keys),
            shared_row_major(values),
        );
        let mut out = crate::buffer_pool::take(out_len);
        let mut probs = crate::buffer_pool::take(probs_len);
        let par = Parallelism::auto(dims.forward_flops());
        attention_forward(
            &mut out,
            &mut probs,
            slice_of(&q)?,
            slice_of(&k)?,
            slice_of(&v)?,
            dims,
            Some(mask),
            scale,
            dropout.as_deref().map(Vec::as_slice),
            par,
        )?;
        let shape = |s: &[usize]| IxDyn(s);
        let internal = |_| TensorError::Internal {
            op: "attention",
            reason: "output shape".into(),
        };
        let out_shape = match options.heads {
            None => vec![dims.batch, dims.q_len, dims.heads, dims.value_dim],
            Some(_) => vec![dims.batch, dims.q_len, dims.heads * dims.value_dim],
        };
        let out = ArrayD::from_shape_vec(shape(&out_shape), out).map_err(internal)?;
        // One array of probabilities, both the returned scores' values and the backward passes' input.
        let probs = Arc::new(
            ArrayD::from_shape_vec(
                shape(&[dims.batch, dims.heads, dims.q_len, dims.kv_len]),
                probs,
            )
            .map_err(internal)?,
        );
        let needs_grad = self.requires_grad() || keys.requires_grad() || values.requires_grad();
        let scores = self.attention_scores(keys, [&q, &k, &probs], dims, scale);
        let (q, k, v, probs) = (Pooled(q), Pooled(k), Pooled(v), Pooled(probs));
        let output = Tensor::from_op(
            out,
            || {
                Node::new(
                    "attention",
                    vec![self.clone(), keys.clone(), values.clone()],
                    move |ctx| {
                        let dout = row_major(ctx.grad);
                        let (q, k, v, probs) = (
                            slice_of(&q.0)?,
                            slice_of(&k.0)?,
                            slice_of(&v.0)?,
                            slice_of(&probs.0)?,
                        );
                        let mut dq = crate::buffer_pool::take(q.len());
                        let mut dk = crate::buffer_pool::take(k.len());
                        let mut dv = crate::buffer_pool::take(v.len());
                        attention_backward(
                            AttentionGrads {
                                dq: &mut dq,
                                dk: &mut dk,
                                dv: &mut dv,
                            },
                            &dout,
                            q,
                            k,
                            v,
                            probs,
                            dims,
                            scale,
                            dropout.as_deref().map(Vec::as_slice),
                            Parallelism::auto(2 * dims.forward_flops()),
                        )?;
                        Ok(vec![
                            Some(gradient_array(dq, &ctx.inputs[0])?),
                            Some(gradient_array(dk, &ctx.inputs[1])?),
                            Some(gradient_array(dv, &ctx.inputs[2])?),
                        ])
                    },
                )
            },
            needs_grad,
        );
        Ok((output, scores))
    }

    /// The probabilities of [`Tensor::attention`] as a tensor sharing their array, whose gradient flows to the
    /// queries `self` and the `keys` (through the softmax and the scaled product; masked entries and dropout
    /// take none).
    fn attention_scores(
        &self,
        keys: &Tensor,
        [q, k, probs]: [&Arc<ArrayD<f32>>; 3],
        dims: AttentionDims,
        scale: f32,
    ) -> Tensor {
        if !(self.requires_grad() || keys.requires_grad()) || !backprop::is_grad_enabled() {
            return Tensor::from_parts(TensorId::fresh(), Arc::clone(probs), false, None);
        }
        let (q, k, shared) = (
            Pooled(Arc::clone(q)),
            Pooled(Arc::clone(k)),
            Pooled(Arc::clone(probs)),
        );
        let node = Node::new(
            "attention_scores",
            vec![self.clone(), keys.clone()],
            move |ctx| {
                let dprobs = row_major(ctx.grad);
                let (q, k, probs) = (slice_of(&q.0)?, slice_of(&k.0)?, slice_of(&shared.0)?);
                let mut dq = crate::buffer_pool::take(q.len());
                let mut dk = crate::buffer_pool::take(k.len());
                attention_scores_backward(
                    [&mut dq, &mut dk],
                    &dprobs,
                    q,
                    k,
                    probs,
                    dims,
                    scale,
                    Parallelism::auto(dims.forward_flops()),
                )?;
                Ok(vec![
                    Some(gradient_array(dq, &ctx.inputs[0])?),
                    Some(gradient_array(dk, &ctx.inputs[1])?),
                ])
            },
        );
        Tensor::from_parts(TensorId::fresh(), Arc::clone(probs), true, Some(node))
    }
}

/// A gradient `data` in the shape of input `t`.
fn gradient_array(data: Vec<f32>, t: &Tensor) -> Result<ArrayD<f32>> {
    ArrayD::from_shape_vec(IxDyn(t.shape()), data).map_err(|_| TensorError::Internal {
        op: "attention",
        reason: "gradient shape".into(),
    })
}
