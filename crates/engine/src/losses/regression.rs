//! Mean squared / absolute / absolute percentage / squared logarithmic error.

use super::EPSILON;
use crate::error::Result;
use rkeras_tensor::Tensor;

/// `mean((y − p)², −1)`.
pub(crate) fn mean_squared_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    Ok(y_true.sub(y_pred)?.square()?.mean(&[-1], false)?)
}

/// `mean(|y − p|, −1)`.
pub(crate) fn mean_absolute_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    Ok(y_true.sub(y_pred)?.abs()?.mean(&[-1], false)?)
}

/// `100 · mean(|(y − p) / max(|y|, ε)|, −1)`.
pub(crate) fn mean_absolute_percentage_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let scale = Tensor::new(y_true.data().mapv(|v| v.abs().max(EPSILON)));
    let diff = y_true.sub(y_pred)?.div(&scale)?.abs()?;
    Ok(diff.mean(&[-1], false)?.mul_scalar(100.0)?)
}

/// `mean((log(max(p, ε) + 1) − log(max(y, ε) + 1))², −1)`.
pub(crate) fn mean_squared_logarithmic_error(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let eps = Tensor::scalar(EPSILON);
    let first = y_pred.maximum(&eps)?.add_scalar(1.0)?.log()?;
    let second = y_true.maximum(&eps)?.add_scalar(1.0)?.log()?;
    Ok(first.sub(&second)?.square()?.mean(&[-1], false)?)
}
