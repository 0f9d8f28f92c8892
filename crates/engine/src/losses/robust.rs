//! Losses less sensitive to outliers: Huber and log-cosh.

use crate::error::{EngineError, Result};
use rkeras_tensor::Tensor;

/// `delta` must be a finite number above 0.
pub(crate) fn check_delta(delta: f32) -> Result<()> {
    if delta.is_finite() && delta > 0.0 {
        Ok(())
    } else {
        Err(EngineError::invalid(
            "delta",
            format!("expected a positive float. Received: delta={delta}"),
        ))
    }
}

/// `mean(½e² if |e| ≤ δ else δ·|e| − ½δ², −1)` with `e = p − y`, written as `½m² + δ·(|e| − m)`,
/// `m = min(|e|, δ)`, so that both branches share one differentiable expression.
pub(crate) fn huber(y_true: &Tensor, y_pred: &Tensor, delta: f32) -> Result<Tensor> {
    let abs_error = y_pred.sub(y_true)?.abs()?;
    let m = abs_error.minimum(&Tensor::scalar(delta))?;
    let quadratic = m.square()?.mul_scalar(0.5)?;
    let linear = abs_error.sub(&m)?.mul_scalar(delta)?;
    Ok(quadratic.add(&linear)?.mean(&[-1], false)?)
}

/// `mean(x + softplus(−2x) − log 2, −1)` with `x = p − y` (`log cosh x`, without overflow).
pub(crate) fn log_cosh(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let x = y_pred.sub(y_true)?;
    let value = x
        .add(&x.mul_scalar(-2.0)?.softplus()?)?
        .add_scalar(-std::f32::consts::LN_2)?;
    Ok(value.mean(&[-1], false)?)
}
