//! Fused scaled-dot-product attention: scores, mask, softmax, dropout and the weighted sum of the values, one
//! `(batch, head)` pair at a time, with the `gemm` crate for the products.
//!
//! Queries, keys and values are in the layout Keras's `MultiHeadAttention` projects them to, heads next to
//! the features: `q` is `[batch, q_len, heads, key_dim]`, `k` is `[batch, kv_len, heads, key_dim]`, `v` is
//! `[batch, kv_len, heads, value_dim]`; the output is `[batch, q_len, heads, value_dim]`. The only
//! `[q_len, kv_len]` arrays kept are the probabilities (`[batch, heads, q_len, kv_len]`, which the backward pass
//! and `return_attention_scores` need); scores are computed into them in place.
//!
//! Masked positions get probability 0, and a query row with no position kept gets all zeros (Keras's
//! `Softmax` with a mask). Work is spread over the batch items with rayon (each item's heads write their
//! columns of its `[len, heads · dim]` rows in place); each item runs on one thread in a fixed order, so results
//! are bit-identical whatever the number of threads.
//!
//! ```
//! use rkeras_tensor::kernels::attention::{AttentionDims, attention_forward};
//! use rkeras_tensor::kernels::Parallelism;
//! // One query attending to two keys with scores 0 and ln 3: probabilities 1/4 and 3/4.
//! let dims = AttentionDims { batch: 1, heads: 1, q_len: 1, kv_len: 2, key_dim: 1, value_dim: 1 };
//! let (q, k, v) = ([1.0], [0.0, 3f32.ln()], [4.0, 8.0]);
//! let (mut out, mut probs) = ([0.0], [0.0; 2]);
//! attention_forward(&mut out, &mut probs, &q, &k, &v, dims, None, 1.0, None, Parallelism::None)?;
//! assert!((probs[0] - 0.25).abs() < 1e-6 && (out[0] - 7.0).abs() < 1e-5);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

mod backward;
mod forward;
mod reference;
mod softmax;

pub use backward::{AttentionGrads, attention_backward, attention_scores_backward};
pub use forward::attention_forward;
pub use reference::attention_reference;

use crate::{Result, TensorError};

/// The sizes of one attention call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttentionDims {
    /// Batch size.
    pub batch: usize,
    /// Number of heads.
    pub heads: usize,
    /// Query positions (Keras's `T`).
    pub q_len: usize,
    /// Key and value positions (Keras's `S`).
    pub kv_len: usize,
    /// Features per head of queries and keys.
    pub key_dim: usize,
    /// Features per head of values.
    pub value_dim: usize,
}

impl AttentionDims {
    /// Elements of `q`, `k`, `v`, the output and the probabilities.
    pub fn lens(&self) -> [usize; 5] {
        let (b, h) = (self.batch, self.heads);
        [
            b * self.q_len * h * self.key_dim,
            b * self.kv_len * h * self.key_dim,
            b * self.kv_len * h * self.value_dim,
            b * self.q_len * h * self.value_dim,
            b * h * self.q_len * self.kv_len,
        ]
    }

    /// Floating-point operations of the forward pass (the two products).
    pub fn forward_flops(&self) -> u64 {
        let pairs = (self.batch * self.heads * self.q_len * self.kv_len) as u64;
        2 * pairs * (self.key_dim + self.value_dim) as u64
    }

    pub(crate) fn check(&self, op: &'static str, given: [usize; 5]) -> Result<()> {
        if given != self.lens() {
            return Err(TensorError::invalid_argument(
                op,
                format!(
                    "slices of {given:?} elements do not fit q/k/v/output/probabilities of {self:?} ({:?})",
                    self.lens()
                ),
            ));
        }
        Ok(())
    }
}

/// Which query–key pairs may attend: an explicit mask (kept where > 0.5) of `[batch or 1, q_len, kv_len]`,
/// and/or the causal rule `key ≤ query`.
#[derive(Clone, Copy, Debug, Default)]
pub struct AttentionMask<'a> {
    /// `[mask_batch, q_len, kv_len]` values, `mask_batch` 1 (shared by the batch) or the batch size.
    pub values: Option<&'a [f32]>,
    /// Whether query `i` may only see keys `j ≤ i` (Keras's `use_causal_mask`).
    pub causal: bool,
}

impl AttentionMask<'_> {
    pub(crate) fn check(&self, op: &'static str, dims: &AttentionDims) -> Result<()> {
        if let Some(values) = self.values {
            let per = dims.q_len * dims.kv_len;
            if values.len() != per && values.len() != per * dims.batch {
                return Err(TensorError::invalid_argument(
                    op,
                    format!(
                        "a mask of {} elements is neither [1, {}, {}] nor [{}, {}, {}]",
                        values.len(),
                        dims.q_len,
                        dims.kv_len,
                        dims.batch,
                        dims.q_len,
                        dims.kv_len
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether batch item `b` may attend from query `i` to key `j`.
    #[inline]
    pub(crate) fn keeps(&self, dims: &AttentionDims, b: usize, i: usize, j: usize) -> bool {
        if self.causal && j > i {
            return false;
        }
        match self.values {
            None => true,
            Some(values) => {
                let per = dims.q_len * dims.kv_len;
                let base = if values.len() == per { 0 } else { b * per };
                values[base + i * dims.kv_len + j] > 0.5
            }
        }
    }
}

#[cfg(test)]
mod tests;
