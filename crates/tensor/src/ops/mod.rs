//! Differentiable operations on [`crate::Tensor`], one family per file. Each op computes its forward values and
//! records a backward rule; every rule is checked against finite differences in `tests/grad_tests.rs`.

mod activation;
mod attention;
mod batch_norm;
mod bias_relu;
mod binary;
mod conv;
mod conv_op;
mod conv_pool;
mod conv_transpose;
mod dropout;
mod fast;
mod flatten_matmul;
mod gather;
mod gru;
mod lane_activation;
mod layer_norm;
mod loss;
mod lstm;
mod matmul;
mod matmul_bias;
mod reduce;
mod relu_family;
mod reverse;
mod shape_ops;
mod shrink_activation;
mod simple_rnn;
mod smooth_activation;
mod softmax;
mod unary;

pub use attention::AttentionOptions;
pub use batch_norm::BatchMoments;
pub use conv::Conv2dOptions;
pub use conv_transpose::Conv2dTransposeOptions;
pub use dropout::dropout_mask;
pub use gru::GruConfig;
pub use lstm::LstmConfig;
pub use matmul_bias::MATMUL_BIAS_SAME_BITS_DEPTH;
pub use relu_family::ReluOptions;

use crate::error::{Result, TensorError};
use ndarray::{ArrayD, Axis, Dimension, IxDyn};

/// Sums a broadcast gradient back down to `shape` (the inverse of broadcasting `shape` up to `grad`'s shape).
pub(crate) fn sum_to_shape(
    grad: &ArrayD<f32>,
    shape: &[usize],
    op: &'static str,
) -> Result<ArrayD<f32>> {
    if grad.shape() == shape {
        return Ok(crate::pooled::clone(grad));
    }
    if shape.len() > grad.ndim() {
        return Err(TensorError::shape_mismatch(op, grad.shape(), shape));
    }
    // The sums so far (`None`: none yet, the gradient itself).
    let mut summed: Option<ArrayD<f32>> = None;
    fn replace(summed: &mut Option<ArrayD<f32>>, next: ArrayD<f32>) {
        if let Some(previous) = summed.replace(next) {
            crate::buffer_pool::give_array(previous);
        }
    }
    // Leading axes that broadcasting added.
    for _ in shape.len()..grad.ndim() {
        let next = crate::pooled::sum_axis(summed.as_ref().unwrap_or(grad), Axis(0));
        replace(&mut summed, next);
    }
    for (axis, &size) in shape.iter().enumerate() {
        let current = summed.as_ref().unwrap_or(grad);
        if size == 1 && current.shape()[axis] != 1 {
            let next = crate::pooled::sum_axis(current, Axis(axis)).insert_axis(Axis(axis));
            replace(&mut summed, next);
        } else if size != current.shape()[axis] {
            return Err(TensorError::shape_mismatch(op, grad.shape(), shape));
        }
    }
    Ok(summed.unwrap_or_else(|| crate::pooled::clone(grad)))
}

/// [`sum_to_shape`] of an owned gradient: the gradient itself when it already has `shape` (no copy), otherwise
/// its sums, its buffer going back to the pool.
pub(crate) fn into_shape_sum(
    grad: ArrayD<f32>,
    shape: &[usize],
    op: &'static str,
) -> Result<ArrayD<f32>> {
    if grad.shape() == shape {
        return Ok(grad);
    }
    let summed = sum_to_shape(&grad, shape, op);
    crate::buffer_pool::give_array(grad);
    summed
}

/// Resolves a possibly negative axis against a rank.
pub(crate) fn normalize_axis(axis: isize, rank: usize, op: &'static str) -> Result<usize> {
    let resolved = if axis < 0 { axis + rank as isize } else { axis };
    if resolved < 0 || resolved >= rank as isize {
        return Err(TensorError::AxisOutOfRange { op, axis, rank });
    }
    Ok(resolved as usize)
}

/// The shape two operands broadcast to (NumPy rules), or a shape error naming `op`.
pub(crate) fn broadcast_shape(lhs: &[usize], rhs: &[usize], op: &'static str) -> Result<IxDyn> {
    let rank = lhs.len().max(rhs.len());
    // Up to four axes are stored inline: no allocation.
    let mut out = IxDyn::zeros(rank);
    for (i, size) in out.slice_mut().iter_mut().enumerate() {
        let l = if i + lhs.len() >= rank {
            lhs[i + lhs.len() - rank]
        } else {
            1
        };
        let r = if i + rhs.len() >= rank {
            rhs[i + rhs.len() - rank]
        } else {
            1
        };
        *size = match (l, r) {
            (a, b) if a == b => a,
            (1, b) => b,
            (a, 1) => a,
            _ => return Err(TensorError::shape_mismatch(op, lhs, rhs)),
        };
    }
    Ok(out)
}

/// Broadcasts an array to `shape` as an owned array.
pub(crate) fn broadcast_to(
    array: &ArrayD<f32>,
    shape: &[usize],
    op: &'static str,
) -> Result<ArrayD<f32>> {
    crate::pooled::broadcast(array.view(), shape)
        .ok_or_else(|| TensorError::shape_mismatch(op, array.shape(), shape))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pooled::testing::{assert_identical, varied};

    /// `sum_to_shape` as it was written on cloned arrays.
    fn summed_by_clones(grad: &ArrayD<f32>, shape: &[usize]) -> ArrayD<f32> {
        let mut out = grad.clone();
        while out.ndim() > shape.len() {
            out = out.sum_axis(Axis(0));
        }
        for (axis, &size) in shape.iter().enumerate() {
            if size == 1 && out.shape()[axis] != 1 {
                out = out.sum_axis(Axis(axis)).insert_axis(Axis(axis));
            }
        }
        out
    }

    #[test]
    fn sums_back_to_a_shape_exactly_as_on_cloned_arrays() {
        let grad = varied(&[3, 4, 5], 7);
        let transposed = grad.clone().reversed_axes();
        for (g, shape) in [
            (&grad, &[3usize, 4, 5][..]),
            (&grad, &[5]),
            (&grad, &[4, 1]),
            (&grad, &[1, 4, 1]),
            (&grad, &[]),
            (&transposed, &[5, 1, 3]),
            (&transposed, &[1, 3]),
        ] {
            let expected = summed_by_clones(g, shape);
            let what = format!("{:?} to {shape:?}", g.shape());
            assert_identical(&sum_to_shape(g, shape, "test").unwrap(), &expected, &what);
            assert_identical(
                &into_shape_sum(g.clone(), shape, "test").unwrap(),
                &expected,
                &what,
            );
        }
        assert!(sum_to_shape(&grad, &[2, 5], "test").is_err());
        assert!(into_shape_sum(grad.clone(), &[1, 3, 4, 5], "test").is_err());
    }
}
