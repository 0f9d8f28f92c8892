//! Keras's `MultiHeadAttention._compute_attention_mask`: the masks the inputs carry (`Embedding(mask_zero=True)`,
//! `Masking`) merged with an explicit `attention_mask` into one `[batch, q_len, kv_len]` mask.

use ndarray::{ArrayD, IxDyn};
use rkeras_tensor::Tensor;

/// The implicit masks of one call: the query's `[batch, q_len]`, the value's and the key's `[batch, kv_len]`
/// (the key's only when a separate key is given, as in Keras).
#[derive(Default)]
pub(super) struct InputMasks<'a> {
    pub query: Option<&'a Tensor>,
    pub value: Option<&'a Tensor>,
    pub key: Option<&'a Tensor>,
}

impl InputMasks<'_> {
    /// Whether any input carries a mask.
    pub fn any(&self) -> bool {
        self.query.is_some() || self.value.is_some() || self.key.is_some()
    }

    /// An error message when a mask is not `[batch, q_len]` (query) or `[batch, kv_len]` (value, key).
    pub fn check(&self, batch: usize, q_len: usize, kv_len: usize) -> Option<String> {
        [
            ("query", self.query, q_len),
            ("value", self.value, kv_len),
            ("key", self.key, kv_len),
        ]
        .into_iter()
        .find_map(|(what, mask, len)| {
            mask.filter(|m| m.shape() != [batch, len]).map(|m| {
                format!(
                    "the {what}'s mask is {:?}, expected [{batch}, {len}]",
                    m.shape()
                )
            })
        })
    }

    /// `query_mask[b, i] & value_mask[b, j] & key_mask[b, j] & attention_mask[b, i, j]` as ones and zeros
    /// (a mask value counts as kept when it is not 0, Keras's cast to bool), or `None` when nothing is masked.
    /// The causal mask is left to the kernel, which ANDs it in.
    pub fn merge(
        &self,
        batch: usize,
        q_len: usize,
        kv_len: usize,
        explicit: Option<&ArrayD<f32>>,
    ) -> Option<ArrayD<f32>> {
        if !self.any() {
            return explicit.cloned();
        }
        let kept =
            |m: Option<&Tensor>, b: usize, t: usize| m.is_none_or(|m| m.data()[[b, t]] != 0.0);
        Some(ArrayD::from_shape_fn(
            IxDyn(&[batch, q_len, kv_len]),
            |ix| {
                let (b, i, j) = (ix[0], ix[1], ix[2]);
                let keep = kept(self.query, b, i)
                    && kept(self.value, b, j)
                    && kept(self.key, b, j)
                    && explicit.is_none_or(|m| m[[b, i, j]] != 0.0);
                f32::from(u8::from(keep))
            },
        ))
    }
}

/// `[batch, q_len, 1]`: 1 where query `i` of item `b` may attend to no key under `mask` (`[batch, q_len,
/// kv_len]`) and the causal rule, 0 elsewhere; `None` when every query attends to some key.
///
/// Keras runs attention without dropout and without returned scores through `ops.dot_product_attention`,
/// which gives such a query the same weight on every key (the mean of the values), where its masked softmax
/// gives zeros.
pub(super) fn empty_rows(mask: &ArrayD<f32>, causal: bool) -> Option<ArrayD<f32>> {
    let (batch, q_len, kv_len) = (mask.shape()[0], mask.shape()[1], mask.shape()[2]);
    let mut any = false;
    let rows = ArrayD::from_shape_fn(IxDyn(&[batch, q_len, 1]), |ix| {
        let (b, i) = (ix[0], ix[1]);
        let last = if causal { (i + 1).min(kv_len) } else { kv_len };
        let empty = (0..last).all(|j| mask[[b, i, j]] == 0.0);
        any |= empty;
        f32::from(u8::from(empty))
    });
    any.then_some(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_query_value_and_explicit_masks() {
        let query = Tensor::from_vec(&[1, 2], vec![1.0, 0.0]).unwrap();
        let value = Tensor::from_vec(&[1, 3], vec![1.0, 1.0, 0.0]).unwrap();
        let explicit =
            ArrayD::from_shape_vec(IxDyn(&[1, 2, 3]), vec![0.0, 1.0, 1.0, 1.0, 1.0, 1.0]).unwrap();
        let masks = InputMasks {
            query: Some(&query),
            value: Some(&value),
            key: None,
        };
        let merged = masks.merge(1, 2, 3, Some(&explicit)).unwrap();
        assert_eq!(
            merged.iter().copied().collect::<Vec<_>>(),
            vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
        );
        assert!(InputMasks::default().merge(1, 2, 3, None).is_none());
        let rows = empty_rows(&merged, false).unwrap();
        assert_eq!(rows.iter().copied().collect::<Vec<_>>(), vec![0.0, 1.0]);
        assert!(empty_rows(&ArrayD::ones(IxDyn(&[1, 2, 3])), true).is_none());
    }
}
