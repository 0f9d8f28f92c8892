//! Losses between distributions or counts: KL divergence and Poisson.

use super::EPSILON;
use crate::error::Result;
use rkeras_tensor::Tensor;

/// `Σ y·log(y / p)` over the last axis, both clipped to `[ε, 1]`.
pub(crate) fn kl_divergence(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let y = y_true.clip(EPSILON, 1.0)?;
    let p = y_pred.clip(EPSILON, 1.0)?;
    Ok(y.mul(&y.div(&p)?.log()?)?.sum(&[-1], false)?)
}

/// `mean(p − y·log(p + ε), −1)`.
pub(crate) fn poisson(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let log_p = y_pred.add_scalar(EPSILON)?.log()?;
    Ok(y_pred.sub(&y_true.mul(&log_p)?)?.mean(&[-1], false)?)
}
