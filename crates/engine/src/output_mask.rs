//! Keras's output masks in losses: a sequence output's timestep mask (`[batch, time]`, from
//! `Embedding(mask_zero=True)` or `Masking` through recurrent layers with `return_sequences`) turns into sample
//! weights as Keras 3's `losses.loss.apply_mask` does, so that masked steps count for nothing.

use crate::error::Result;
use crate::losses::{Loss, Reduction, broadcast_weights};
use rkeras_tensor::Tensor;

/// Keras's `apply_mask`: the sample weights with the mask folded in. Under `sum_over_batch_size` / `mean` a
/// kept position weighs `total / valid` (0 when nothing is kept) so that the reduction's division by all
/// positions becomes a division by the kept ones; other reductions weigh kept positions 1.
pub fn apply_mask(
    sample_weight: Option<&Tensor>,
    mask: &Tensor,
    reduction: Reduction,
) -> Result<Tensor> {
    let data = mask.data();
    let float_mask = match reduction {
        Reduction::SumOverBatchSize | Reduction::Mean => {
            let total = data.len() as f32;
            let valid: f32 = data.iter().map(|&m| f32::from(m != 0.0)).sum();
            let weight = if valid > 0.0 { total / valid } else { 0.0 };
            data.mapv(|m| if m != 0.0 { weight } else { 0.0 })
        }
        _ => data.mapv(|m| f32::from(m != 0.0)),
    };
    let float_mask = Tensor::new(float_mask);
    Ok(match sample_weight {
        Some(w) => broadcast_weights(w, float_mask.shape())?.mul(&float_mask)?,
        None => float_mask,
    })
}

impl Loss {
    /// Keras's `loss(y_true, y_pred, sample_weight)` for a `y_pred` that carries a timestep mask (`mask`,
    /// the shape of the loss values, `[batch, time]` for a sequence output): masked positions count for
    /// nothing, and `sum_over_batch_size` averages over the kept positions only.
    ///
    /// ```
    /// use rkeras_engine::Loss;
    /// use rkeras_tensor::Tensor;
    /// let loss = Loss::from_name("mse")?;
    /// let y_true = Tensor::from_vec(&[1, 3, 1], vec![0.0, 0.0, 0.0])?;
    /// let y_pred = Tensor::from_vec(&[1, 3, 1], vec![1.0, 2.0, 100.0])?;
    /// let mask = Tensor::from_vec(&[1, 3], vec![1.0, 1.0, 0.0])?;
    /// let value = loss.call_masked(&y_true, &y_pred, None, Some(&mask))?.to_scalar()?;
    /// assert!((value - 2.5).abs() < 1e-6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn call_masked(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        match mask {
            Some(mask) => {
                let weights = apply_mask(sample_weight, mask, self.reduction())?;
                self.call(y_true, y_pred, Some(&weights))
            }
            None => self.call(y_true, y_pred, sample_weight),
        }
    }
}
