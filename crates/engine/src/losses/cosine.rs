//! Cosine similarity as a loss: `−Σ ŷ·p̂` of the L2-normalised vectors.

use crate::error::Result;
use rkeras_tensor::Tensor;

/// `x · min(1/√Σx², 1/ε)` along `axis` (Keras's `normalize` with `ε = 1e-7`).
pub(crate) fn l2_normalize(x: &Tensor, axis: isize) -> Result<Tensor> {
    let inv_norm = x.square()?.sum(&[axis], true)?.powf(-0.5)?;
    Ok(x.mul(&inv_norm.minimum(&Tensor::scalar(1.0 / super::EPSILON))?)?)
}

/// `−Σ normalize(y)·normalize(p)` along `axis`: −1 for aligned vectors, 1 for opposite ones.
pub(crate) fn cosine_similarity(y_true: &Tensor, y_pred: &Tensor, axis: isize) -> Result<Tensor> {
    let y = l2_normalize(y_true, axis)?;
    let p = l2_normalize(y_pred, axis)?;
    Ok(y.mul(&p)?.sum(&[axis], false)?.neg()?)
}
