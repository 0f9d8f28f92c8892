//! Keras's output masks in losses: a sequence output's timestep mask (`[batch, time]`, from
//! `Embedding(mask_zero=True)` or `Masking` through recurrent layers with `return_sequences`) turns into sample
//! weights as Keras 3's `losses.loss.apply_mask` does, so that masked steps count for nothing.

use crate::error::Result;
use crate::losses::{Loss, Reduction, broadcast_weights};
use ndarray::ArrayD;
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

/// One part of a batch as a training step's divisors read it: an output's targets, the sample weights
/// (`[rows]`) and the output's timestep mask (`[rows, time]`), when it has one.
pub(crate) type MaskedPart<'t> = (
    &'t ArrayD<f32>,
    Option<&'t ArrayD<f32>>,
    Option<&'t ArrayD<f32>>,
);

/// The divisor of a masked output's `Σ wᵢ·lossᵢ` over a whole batch (every part of it, so that shards divide
/// as the batch does), for per-sample values that are each sample's masked loss values averaged over its
/// `positions / batch` positions: Keras's [`apply_mask`] then reduction. `sum_over_batch_size` / `mean`
/// divide by the kept positions, `mean_with_sample_weight` by the weights of the kept positions, `sum` by
/// nothing; positions whose target is `ignored` (`ignore_class`) are not kept either. Keras's `fit` averages a
/// `none` loss's (masked) values over every position.
pub(crate) fn masked_batch_divisor(
    reduction: Reduction,
    parts: &[MaskedPart<'_>],
    batch: usize,
    positions: usize,
    ignored: Option<f32>,
) -> f64 {
    let per_sample = (positions.max(1) as f64) / (batch.max(1) as f64);
    let (mut kept, mut kept_weight) = (0.0f64, 0.0f64);
    for &(y_true, weights, mask) in parts {
        let rows = y_true.shape().first().copied().unwrap_or(1).max(1);
        let weight_of = |row: usize| {
            weights.map_or(1.0, |w| {
                f64::from(
                    w.as_slice()
                        .and_then(|s| s.get(row))
                        .copied()
                        .unwrap_or(1.0),
                )
            })
        };
        match mask {
            Some(mask) => {
                let per_row = (mask.len() / rows).max(1);
                let same_positions = y_true.len() == mask.len();
                for (i, (&m, y)) in mask
                    .iter()
                    .zip(y_true.iter().map(Some).chain(std::iter::repeat(None)))
                    .enumerate()
                {
                    let dropped = match (ignored, y) {
                        (Some(c), Some(&y)) if same_positions => y == c,
                        _ => false,
                    };
                    if m != 0.0 && !dropped {
                        kept += 1.0;
                        kept_weight += weight_of(i / per_row);
                    }
                }
            }
            None => {
                kept += rows as f64 * per_sample;
                kept_weight += (0..rows).map(weight_of).sum::<f64>() * per_sample;
            }
        }
    }
    let divisor = match reduction {
        Reduction::Sum => 1.0,
        Reduction::MeanWithSampleWeight => kept_weight,
        Reduction::SumOverBatchSize | Reduction::Mean => kept,
        Reduction::None => return batch as f64,
    };
    divisor / per_sample
}

/// A timestep mask (`[batch, time]`) shaped to multiply loss values of `shape` (`[batch, time, …]`).
pub(crate) fn mask_for(mask: &Tensor, shape: &[usize]) -> Result<Tensor> {
    broadcast_weights(mask, shape)
}
