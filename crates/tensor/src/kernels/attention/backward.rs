//! The backward pass, per batch item and head from the stored probabilities:
//! `dV = P̃ᵀ·dO`, `dP = (dO·Vᵀ) ⊙ D`, `dS = P ⊙ (dP − rowsum(P ⊙ dP))`, `dQ = scale·dS·K`, `dK = scale·dSᵀ·Q`,
//! where `P̃ = P ⊙ D` is the probabilities after dropout.

use super::AttentionDims;
use super::forward::{for_each_pair, head_view};
use super::softmax::softmax_backward_rows;
use crate::kernels::{MatRef, Parallelism, gemm, gemm_strided_rows};
use crate::{Result, TensorError};

/// The gradients of the three inputs, in their `[batch, len, heads, dim]` layouts.
pub struct AttentionGrads<'a> {
    /// d loss / d q.
    pub dq: &'a mut [f32],
    /// d loss / d k.
    pub dk: &'a mut [f32],
    /// d loss / d v.
    pub dv: &'a mut [f32],
}

/// Fills `grads` from `dout` (`[batch, q_len, heads, value_dim]`), the inputs and the probabilities the forward
/// pass stored; `dropout` must be the multipliers the forward pass used.
///
/// # Errors
/// [`TensorError::InvalidArgument`] when a slice's length does not match `dims`.
#[allow(clippy::too_many_arguments)]
pub fn attention_backward(
    grads: AttentionGrads<'_>,
    dout: &[f32],
    q: &[f32],
    k: &[f32],
    v: &[f32],
    probs: &[f32],
    dims: AttentionDims,
    scale: f32,
    dropout: Option<&[f32]>,
    par: Parallelism,
) -> Result<()> {
    dims.check(
        "attention_backward",
        [q.len(), k.len(), v.len(), dout.len(), probs.len()],
    )?;
    if grads.dq.len() != q.len() || grads.dk.len() != k.len() || grads.dv.len() != v.len() {
        return Err(TensorError::invalid_argument(
            "attention_backward",
            "gradient slices must have their inputs' lengths",
        ));
    }
    if dropout.is_some_and(|d| d.len() != probs.len()) {
        return Err(TensorError::invalid_argument(
            "attention_backward",
            "the dropout multipliers must have the probabilities' shape",
        ));
    }
    let AttentionDims {
        batch,
        heads,
        q_len,
        kv_len,
        key_dim,
        value_dim,
    } = dims;
    let block = q_len * kv_len;
    // Parallel over batch items; each head's products write its columns of the item's gradient rows in place.
    for_each_pair(
        [
            (grads.dq, q_len * heads * key_dim),
            (grads.dk, kv_len * heads * key_dim),
            (grads.dv, kv_len * heads * value_dim),
        ],
        batch,
        par,
        |b, [dq, dk, dv]| {
            let mut ds = crate::buffer_pool::take(block);
            let mut dropped = dropout.map(|_| crate::buffer_pool::take(block));
            let result = (0..heads).try_for_each(|h| {
                let pair = b * heads + h;
                let p = &probs[pair * block..(pair + 1) * block];
                let d = dropout.map(|d| &d[pair * block..(pair + 1) * block]);
                let qh = head_view(q, b, h, q_len, heads, key_dim)?;
                let kh = head_view(k, b, h, kv_len, heads, key_dim)?;
                let vh = head_view(v, b, h, kv_len, heads, value_dim)?;
                let doh = head_view(dout, b, h, q_len, heads, value_dim)?;
                // dV = P̃ᵀ·dO.
                let p_used = match (d, dropped.as_deref_mut()) {
                    (Some(d), Some(buffer)) => {
                        buffer
                            .iter_mut()
                            .zip(p.iter().zip(d))
                            .for_each(|(x, (p, d))| *x = p * d);
                        &*buffer
                    }
                    _ => p,
                };
                let p_view = MatRef::row_major(p_used, q_len, kv_len)?;
                gemm_strided_rows(
                    &mut dv[h * value_dim..],
                    heads * value_dim,
                    p_view.t(),
                    doh,
                    1.0,
                )?;
                // dP = (dO·Vᵀ) ⊙ D, then dS in place.
                gemm(&mut ds, doh, vh.t(), 1.0, 0.0, Parallelism::None)?;
                if let Some(d) = d {
                    ds.iter_mut().zip(d).for_each(|(g, d)| *g *= d);
                }
                softmax_to_queries_and_keys(
                    &mut ds,
                    p,
                    [qh, kh],
                    [&mut *dq, &mut *dk],
                    h,
                    heads,
                    scale,
                )
            });
            crate::buffer_pool::give(ds);
            if let Some(buffer) = dropped {
                crate::buffer_pool::give(buffer);
            }
            result
        },
    )?;
    Ok(())
}

/// One pair's softmax backward from `ds` (its probabilities' gradient `dP`, replaced by `dS = P ⊙ (dP −
/// rowsum(P ⊙ dP))`), then `dQ = scale·dS·K` and `dK = scale·dSᵀ·Q` into head `h`'s columns of the batch item's
/// `[len, heads · key_dim]` gradient rows.
fn softmax_to_queries_and_keys(
    ds: &mut [f32],
    p: &[f32],
    [qh, kh]: [MatRef<'_>; 2],
    [dq, dk]: [&mut [f32]; 2],
    h: usize,
    heads: usize,
    scale: f32,
) -> Result<()> {
    let (q_len, kv_len, key_dim) = (qh.rows(), kh.rows(), qh.cols());
    softmax_backward_rows(ds, p, kv_len);
    let ds_view = MatRef::row_major(ds, q_len, kv_len)?;
    let row_stride = heads * key_dim;
    gemm_strided_rows(&mut dq[h * key_dim..], row_stride, ds_view, kh, scale)?;
    gemm_strided_rows(&mut dk[h * key_dim..], row_stride, ds_view.t(), qh, scale)
}

/// The gradients of queries and keys (`[batch, len, heads, key_dim]`) from `dprobs`, a gradient of the
/// probabilities the forward pass returned (`[batch, heads, q_len, kv_len]`, before dropout): the backward pass
/// of `return_attention_scores` when only the scores are used.
///
/// # Errors
/// [`TensorError::InvalidArgument`] when a slice's length does not match `dims`.
#[allow(clippy::too_many_arguments)]
pub fn attention_scores_backward(
    [dq, dk]: [&mut [f32]; 2],
    dprobs: &[f32],
    q: &[f32],
    k: &[f32],
    probs: &[f32],
    dims: AttentionDims,
    scale: f32,
    par: Parallelism,
) -> Result<()> {
    let [q_n, k_n, .., p_n] = dims.lens();
    if [
        q.len(),
        k.len(),
        probs.len(),
        dprobs.len(),
        dq.len(),
        dk.len(),
    ] != [q_n, k_n, p_n, p_n, q_n, k_n]
    {
        return Err(TensorError::invalid_argument(
            "attention_scores_backward",
            format!("slices do not fit q/k/probabilities of {dims:?}"),
        ));
    }
    let AttentionDims {
        batch,
        heads,
        q_len,
        kv_len,
        key_dim,
        ..
    } = dims;
    let block = q_len * kv_len;
    for_each_pair(
        [
            (dq, q_len * heads * key_dim),
            (dk, kv_len * heads * key_dim),
        ],
        batch,
        par,
        |b, [dq, dk]| {
            let mut ds = crate::buffer_pool::take(block);
            let result = (0..heads).try_for_each(|h| {
                let pair = b * heads + h;
                let p = &probs[pair * block..(pair + 1) * block];
                ds.copy_from_slice(&dprobs[pair * block..(pair + 1) * block]);
                let qh = head_view(q, b, h, q_len, heads, key_dim)?;
                let kh = head_view(k, b, h, kv_len, heads, key_dim)?;
                softmax_to_queries_and_keys(
                    &mut ds,
                    p,
                    [qh, kh],
                    [&mut *dq, &mut *dk],
                    h,
                    heads,
                    scale,
                )
            });
            crate::buffer_pool::give(ds);
            result
        },
    )?;
    Ok(())
}
