//! Metric functions computed by the losses' formulas (MSE, MAE, MAPE, MSLE, cross-entropies, hinges, …),
//! plus RMSE's squared error and the positive cosine similarity.

use crate::error::Result;
use crate::losses::{Loss, LossKind};
use ndarray::ArrayD;
use rkeras_tensor::{Tensor, no_grad};

/// The loss's unreduced values (`[batch, …]`) as a metric function.
pub(crate) fn loss_values(kind: LossKind) -> Result<super::MetricFn> {
    let loss = Loss::new(kind)?;
    Ok(std::sync::Arc::new(
        move |y_true: &ArrayD<f32>, y_pred: &ArrayD<f32>| {
            no_grad(|| {
                let values =
                    loss.unreduced(&Tensor::new(y_true.clone()), &Tensor::new(y_pred.clone()))?;
                Ok(values.data().clone())
            })
        },
    ))
}

/// `(p − y)²` elementwise (RootMeanSquaredError takes the root of its mean).
pub(crate) fn squared_error(y_true: &ArrayD<f32>, y_pred: &ArrayD<f32>) -> Result<ArrayD<f32>> {
    if y_true.len() != y_pred.len() {
        return Err(crate::EngineError::invalid(
            "y_true",
            format!(
                "targets of shape {:?} for predictions of shape {:?}",
                y_true.shape(),
                y_pred.shape()
            ),
        ));
    }
    let t: Vec<f32> = y_true.iter().copied().collect();
    let mut out = y_pred.clone();
    out.iter_mut()
        .zip(&t)
        .for_each(|(p, &t)| *p = (*p - t) * (*p - t));
    Ok(out)
}
