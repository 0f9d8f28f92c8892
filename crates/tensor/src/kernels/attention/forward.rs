//! The forward pass: per batch item, for each head, scores `scale·q·kᵀ` into the probability block, masked softmax
//! in place, then `(probabilities ⊙ dropout)·v`.

use super::softmax::{Prefix, softmax_prefix_rows};
use super::{AttentionDims, AttentionMask};
use crate::kernels::{MatRef, Parallelism, gemm, gemm_strided_rows};
use crate::{Result, TensorError};
use rayon::prelude::*;

/// The strided `len × dim` matrix of head `h` of batch item `b` in a `[batch, len, heads, dim]` slice.
pub(crate) fn head_view(
    data: &[f32],
    b: usize,
    h: usize,
    len: usize,
    heads: usize,
    dim: usize,
) -> Result<MatRef<'_>> {
    let start = (b * len * heads + h) * dim;
    let rest = data.get(start..).ok_or_else(|| TensorError::Internal {
        op: "attention",
        reason: "head offset past the end".into(),
    })?;
    MatRef::new(rest, len, dim, heads * dim, 1)
}

/// Runs `f(index, blocks…)` for each of `pairs` units of work (a `(batch, head)` pair or a batch item), block `i`
/// of every buffer to unit `i`, in parallel when `par` allows.
pub(crate) fn for_each_pair<const N: usize>(
    blocks: [(&mut [f32], usize); N],
    pairs: usize,
    par: Parallelism,
    f: impl Fn(usize, &mut [&mut [f32]; N]) -> Result<()> + Sync + Send,
) -> Result<()> {
    let mut per_pair: Vec<[&mut [f32]; N]> = Vec::with_capacity(pairs);
    let mut iters: Vec<_> = blocks
        .into_iter()
        .map(|(data, size)| data.chunks_mut(size.max(1)))
        .collect();
    for _ in 0..pairs {
        let mut next: Vec<&mut [f32]> = Vec::with_capacity(N);
        for it in iters.iter_mut() {
            next.push(it.next().unwrap_or(&mut []));
        }
        let array: [&mut [f32]; N] = next.try_into().map_err(|_| TensorError::Internal {
            op: "attention",
            reason: "block split".into(),
        })?;
        per_pair.push(array);
    }
    if par == Parallelism::None || pairs < 2 {
        per_pair
            .iter_mut()
            .enumerate()
            .try_for_each(|(i, blocks)| f(i, blocks))
    } else {
        per_pair
            .par_iter_mut()
            .enumerate()
            .try_for_each(|(i, blocks)| f(i, blocks))
    }
}

/// Masked softmax of each row of a `rows × cols` block in place (masked entries and fully masked rows 0).
pub(crate) fn masked_softmax_rows(
    block: &mut [f32],
    cols: usize,
    keep: impl Fn(usize, usize) -> bool,
) {
    for (i, row) in block.chunks_mut(cols.max(1)).enumerate() {
        let mut max = f32::NEG_INFINITY;
        for (j, &s) in row.iter().enumerate() {
            if keep(i, j) && s > max {
                max = s;
            }
        }
        if max == f32::NEG_INFINITY {
            row.fill(0.0);
            continue;
        }
        let mut sum = 0.0f32;
        for (j, s) in row.iter_mut().enumerate() {
            *s = if keep(i, j) {
                crate::kernels::exp::exp_nonpositive(*s - max)
            } else {
                0.0
            };
            sum += *s;
        }
        let inv = 1.0 / sum;
        row.iter_mut().for_each(|p| *p *= inv);
    }
}

/// Fills `out` (`[batch, q_len, heads, value_dim]`) and `probs` (`[batch, heads, q_len, kv_len]`, the softmax
/// before dropout, Keras's `attention_scores`). `dropout`, of the probabilities' shape, multiplies them before
/// the weighted sum (0 or `1 / (1 − rate)` for inverted dropout).
///
/// # Errors
/// [`TensorError::InvalidArgument`] when a slice's length does not match `dims` or the mask's shape is wrong.
#[allow(clippy::too_many_arguments)]
pub fn attention_forward(
    out: &mut [f32],
    probs: &mut [f32],
    q: &[f32],
    k: &[f32],
    v: &[f32],
    dims: AttentionDims,
    mask: Option<AttentionMask<'_>>,
    scale: f32,
    dropout: Option<&[f32]>,
    par: Parallelism,
) -> Result<()> {
    dims.check(
        "attention_forward",
        [q.len(), k.len(), v.len(), out.len(), probs.len()],
    )?;
    let mask = mask.unwrap_or_default();
    mask.check("attention_forward", &dims)?;
    if dropout.is_some_and(|d| d.len() != probs.len()) {
        return Err(TensorError::invalid_argument(
            "attention_forward",
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
    // Parallel over batch items: each item's output rows hold every head side by side, so a head's product
    // writes its columns of them in place (no per-head buffer and no copy into `[batch, q_len, heads, dim]`).
    for_each_pair(
        [(probs, heads * block), (out, q_len * heads * value_dim)],
        batch,
        par,
        |b, [p_item, o_item]| {
            for h in 0..heads {
                let pair = b * heads + h;
                let p = &mut p_item[h * block..(h + 1) * block];
                let qh = head_view(q, b, h, q_len, heads, key_dim)?;
                let kh = head_view(k, b, h, kv_len, heads, key_dim)?;
                let vh = head_view(v, b, h, kv_len, heads, value_dim)?;
                gemm(p, qh, kh.t(), scale, 0.0, Parallelism::None)?;
                match (mask.values, mask.causal) {
                    (None, false) => softmax_prefix_rows(p, kv_len, Prefix::All),
                    (None, true) => softmax_prefix_rows(p, kv_len, Prefix::Causal),
                    (Some(_), _) => {
                        masked_softmax_rows(p, kv_len, |i, j| mask.keeps(&dims, b, i, j))
                    }
                }
                let o = &mut o_item[h * value_dim..];
                let row_stride = heads * value_dim;
                match dropout {
                    None => gemm_strided_rows(
                        o,
                        row_stride,
                        MatRef::row_major(p, q_len, kv_len)?,
                        vh,
                        1.0,
                    )?,
                    Some(d) => {
                        let d = &d[pair * block..(pair + 1) * block];
                        let mut dropped = crate::buffer_pool::take(block);
                        dropped
                            .iter_mut()
                            .zip(p.iter().zip(d))
                            .for_each(|(x, (p, d))| *x = p * d);
                        let product = gemm_strided_rows(
                            o,
                            row_stride,
                            MatRef::row_major(&dropped, q_len, kv_len)?,
                            vh,
                            1.0,
                        );
                        crate::buffer_pool::give(dropped);
                        product?
                    }
                }
            }
            Ok(())
        },
    )?;
    Ok(())
}
