//! Keras 3's `OrthogonalRegularizer` penalty.

use super::OrthogonalMode;
use rkeras_tensor::{Tensor, TensorError};

/// Keras's `ops.nn.normalize` epsilon (`backend.epsilon()`).
const EPSILON: f32 = 1e-7;

/// `factor · 0.5 · Σ|P ∘ (1 − I)| / (n(n−1)/2)` where `P` is the Gram matrix of the L2-normalised rows
/// (`x·xᵀ`) or columns (`xᵀ·x`) and `n` their number. Keras's normalisation is `x · min(rsqrt(Σx²), 1/ε)`.
pub(super) fn penalty(
    x: &Tensor,
    factor: f32,
    mode: OrthogonalMode,
) -> Result<Tensor, TensorError> {
    if x.ndim() != 2 {
        return Err(TensorError::invalid_shape(
            "OrthogonalRegularizer",
            x.shape(),
            format!(
                "Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={:?}",
                x.shape()
            ),
        ));
    }
    let (axis, size) = match mode {
        OrthogonalMode::Rows => (1, x.shape()[0]),
        OrthogonalMode::Columns => (0, x.shape()[1]),
    };
    let inv_norm = x
        .square()?
        .sum(&[axis], true)?
        .powf(-0.5)?
        .minimum(&Tensor::scalar(1.0 / EPSILON))?;
    let normalized = x.mul(&inv_norm)?;
    let product = match mode {
        OrthogonalMode::Rows => normalized.matmul(&normalized.transpose_last()?)?,
        OrthogonalMode::Columns => normalized.transpose_last()?.matmul(&normalized)?,
    };
    let off_diagonal: Vec<f32> = (0..size * size)
        .map(|i| if i / size == i % size { 0.0 } else { 1.0 })
        .collect();
    let masked = product.mul(&Tensor::from_vec(&[size, size], off_diagonal)?)?;
    let pairs = size as f32 * (size as f32 - 1.0) / 2.0;
    masked
        .abs()?
        .sum_all()?
        .mul_scalar(factor * 0.5)?
        .mul_scalar(1.0 / pairs)
}
