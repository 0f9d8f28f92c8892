//! Hinge, squared hinge and categorical hinge (maximum-margin losses).

use crate::error::Result;
use rkeras_tensor::Tensor;

/// Keras's label conversion: targets that are all 0 or 1 become −1 or 1; others are kept.
fn to_signs(y_true: &Tensor) -> Tensor {
    if y_true.data().iter().all(|&v| v == 0.0 || v == 1.0) {
        Tensor::new(y_true.data().mapv(|v| 2.0 * v - 1.0))
    } else {
        y_true.clone()
    }
}

/// `max(1 − y·p, 0)`.
fn margin(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    Ok(to_signs(y_true)
        .mul(y_pred)?
        .rsub_scalar(1.0)?
        .maximum(&Tensor::scalar(0.0))?)
}

/// `mean(max(1 − y·p, 0), −1)`.
pub(crate) fn hinge(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    Ok(margin(y_true, y_pred)?.mean(&[-1], false)?)
}

/// `mean(max(1 − y·p, 0)², −1)`.
pub(crate) fn squared_hinge(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    Ok(margin(y_true, y_pred)?.square()?.mean(&[-1], false)?)
}

/// `max(max((1 − y)·p) − Σ y·p + 1, 0)` over the last axis.
pub(crate) fn categorical_hinge(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let pos = y_true.mul(y_pred)?.sum(&[-1], false)?;
    let neg = y_true.rsub_scalar(1.0)?.mul(y_pred)?.max(-1, false)?;
    Ok(neg
        .sub(&pos)?
        .add_scalar(1.0)?
        .maximum(&Tensor::scalar(0.0))?)
}
