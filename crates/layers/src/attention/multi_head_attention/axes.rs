//! Keras's `attention_axes`: attention over chosen axes of `[batch, d1, …, dn, features]` inputs, run as the
//! one-sequence-axis attention by moving the other axes into the batch and flattening the attention axes into
//! one (the softmax then spans all of them jointly, as Keras's).

use crate::layer::Shape;
use rkeras_tensor::Tensor;

/// The attention axes (Keras counts the batch axis) of inputs with `rank` axes after the batch: `axes` as
/// given, or Keras's default, every axis between the batch and the features.
pub(super) fn resolve(axes: Option<&[usize]>, rank: usize) -> Vec<usize> {
    match axes {
        Some(axes) => {
            let mut axes = axes.to_vec();
            axes.sort_unstable();
            axes
        }
        None => (1..rank.max(2)).collect(),
    }
}

/// The axes of a `rank + 1`-axis tensor (batch first) in folding order: batch, the other axes, the attention
/// axes, the features.
fn order(attn: &[usize], rank: usize) -> Vec<usize> {
    let mut order = vec![0];
    order.extend((1..rank).filter(|a| !attn.contains(a)));
    order.extend_from_slice(attn);
    order.push(rank);
    order
}

/// A per-sample shape `[d1, …, dn, features]` split into the sizes of the other axes and the folded shape
/// `[attention positions, features]`; `None` when an axis is out of range.
pub(super) fn split(shape: &Shape, attn: &[usize]) -> Option<(Vec<usize>, Shape)> {
    let rank = shape.len();
    if rank < 2 || attn.is_empty() || attn.iter().any(|&a| a == 0 || a >= rank) {
        return None;
    }
    let outer = (1..rank)
        .filter(|a| !attn.contains(a))
        .map(|a| shape[a - 1])
        .collect();
    let positions = attn.iter().map(|&a| shape[a - 1]).product();
    Some((outer, vec![positions, shape[rank - 1]]))
}

/// `x` `[batch, d1, …, dn, features]` as `[batch · others, attention positions, features]`.
pub(super) fn fold(x: &Tensor, attn: &[usize]) -> rkeras_tensor::Result<Tensor> {
    let rank = x.ndim() - 1;
    let order = order(attn, rank);
    let permuted = x.permute(&order)?;
    let shape = permuted.shape().to_vec();
    let outer: usize = shape[..rank - attn.len()].iter().product();
    let positions: usize = shape[rank - attn.len()..rank].iter().product();
    permuted.reshape(&[outer, positions, shape[rank]])
}

/// The folded output `[batch · others, query positions, out]` back as `[batch, d1, …, dn, out]` for a query of
/// per-sample shape `query`.
pub(super) fn unfold(
    y: &Tensor,
    batch: usize,
    query: &Shape,
    attn: &[usize],
) -> rkeras_tensor::Result<Tensor> {
    let rank = query.len();
    let order = order(attn, rank);
    let out = y.shape()[y.ndim() - 1];
    let mut full = vec![batch];
    full.extend_from_slice(&query[..rank - 1]);
    full.push(out);
    let permuted_shape: Vec<usize> = order.iter().map(|&a| full[a]).collect();
    let mut inverse = vec![0; order.len()];
    for (i, &a) in order.iter().enumerate() {
        inverse[a] = i;
    }
    y.reshape(&permuted_shape)?.permute(&inverse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn folding_moves_other_axes_into_the_batch_and_back() {
        let x = Tensor::new(ArrayD::from_shape_fn(IxDyn(&[2, 3, 4, 5]), |i| {
            (i[0] * 60 + i[1] * 20 + i[2] * 5 + i[3]) as f32
        }));
        let folded = fold(&x, &[2]).unwrap();
        assert_eq!(folded.shape(), [6, 4, 5]);
        // Batch 1, axis-1 index 2, position 3, feature 4.
        assert_eq!(folded.data()[[5, 3, 4]], (60 + 40 + 15 + 4) as f32);
        assert_eq!(
            unfold(&folded, 2, &vec![3, 4, 5], &[2]).unwrap().data(),
            x.data()
        );
        let joint = fold(&x, &[1, 2]).unwrap();
        assert_eq!(joint.shape(), [2, 12, 5]);
        assert_eq!(
            unfold(&joint, 2, &vec![3, 4, 5], &[1, 2]).unwrap().data(),
            x.data()
        );
        assert_eq!(split(&vec![3, 4, 5], &[1]), Some((vec![4], vec![3, 5])));
        assert_eq!(split(&vec![3, 4, 5], &[3]), None);
        assert_eq!(resolve(None, 3), [1, 2]);
    }
}
