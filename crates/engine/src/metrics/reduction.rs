//! `Mean` and `Sum`: running float32 totals, as Keras keeps them.

use super::StatefulMetric;
use crate::error::{EngineError, Result};
use ndarray::ArrayD;

/// Per-sample values: the mean (or sum) over every axis past the batch axis, in f64 then rounded to f32.
pub(crate) fn samplewise(values: &ArrayD<f32>, mean: bool) -> Vec<f32> {
    let rows = values.shape().first().copied().unwrap_or(1).max(1);
    if values.ndim() == 0 {
        return vec![values.iter().next().copied().unwrap_or(0.0)];
    }
    let per_row = values.len() / rows;
    let flat: Vec<f32> = values.iter().copied().collect();
    flat.chunks(per_row.max(1))
        .map(|row| {
            let sum: f64 = row.iter().map(|&v| f64::from(v)).sum();
            (if mean {
                sum / row.len().max(1) as f64
            } else {
                sum
            }) as f32
        })
        .collect()
}

/// The sample weights as one weight per sample (`[batch]` or `[batch, 1]`); any other shape is an error.
pub(crate) fn weights_per_sample(weights: &ArrayD<f32>, samples: usize) -> Result<Vec<f32>> {
    if weights.len() == samples {
        return Ok(weights.iter().copied().collect());
    }
    Err(EngineError::invalid(
        "sample_weight",
        format!(
            "expected one weight per sample ({samples}). Received: sample_weight.shape={:?}",
            weights.shape()
        ),
    ))
}

/// The f32 sum of `values · weights`, accumulated in f64.
fn weighted_sum(values: &[f32], weights: Option<&[f32]>) -> f32 {
    match weights {
        Some(w) => values
            .iter()
            .zip(w)
            .map(|(&v, &w)| f64::from(v * w))
            .sum::<f64>() as f32,
        None => values.iter().map(|&v| f64::from(v)).sum::<f64>() as f32,
    }
}

/// Keras's `Mean`: `total / count`, both float32, with `total += Σ wᵢ·vᵢ` and `count += Σ wᵢ` (or the sample
/// count) per update.
#[derive(Debug, Clone, Default)]
pub struct Mean {
    total: f32,
    count: f32,
}

impl Mean {
    /// A fresh mean.
    pub fn new() -> Mean {
        Mean::default()
    }

    /// Adds values (`[batch, …]`, averaged per sample first) with optional per-sample weights. Weights of the
    /// values' own shape (a timestep mask, `[batch, time]`) weigh each value, as Keras's
    /// `reduce_to_samplewise_values` does: each sample adds the mean of its weighted values and counts the
    /// mean of its weights.
    pub fn update_values(
        &mut self,
        values: &ArrayD<f32>,
        weights: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        if let Some(w) = weights {
            let rows = values.shape().first().copied().unwrap_or(1);
            if values.ndim() > 1 && w.len() == values.len() && w.len() != rows {
                let weighted: Vec<f32> =
                    values.iter().zip(w.iter()).map(|(&v, &w)| v * w).collect();
                let weighted = ArrayD::from_shape_vec(values.raw_dim(), weighted)
                    .map_err(|e| EngineError::invalid("sample_weight", e.to_string()))?;
                self.total += weighted_sum(&samplewise(&weighted, true), None);
                let w = w
                    .to_shape(values.raw_dim())
                    .map_err(|e| EngineError::invalid("sample_weight", e.to_string()))?;
                self.count += weighted_sum(&samplewise(&w.to_owned(), true), None);
                return Ok(());
            }
        }
        let per_sample = samplewise(values, true);
        let w = match weights {
            Some(w) => Some(weights_per_sample(w, per_sample.len())?),
            None => None,
        };
        self.total += weighted_sum(&per_sample, w.as_deref());
        self.count += match &w {
            Some(w) => w.iter().map(|&v| f64::from(v)).sum::<f64>() as f32,
            None => per_sample.len() as f32,
        };
        Ok(())
    }

    /// `total / count`, 0 when nothing was counted.
    pub fn value(&self) -> f32 {
        if self.count == 0.0 {
            0.0
        } else {
            self.total / self.count
        }
    }
}

impl StatefulMetric for Mean {
    fn update_state(
        &mut self,
        _y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        w: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        self.update_values(y_pred, w)
    }
    fn result(&self) -> Vec<f32> {
        vec![self.value()]
    }
    fn reset_state(&mut self) {
        *self = Mean::default();
    }
    fn state(&self) -> Option<Vec<f32>> {
        Some(vec![self.total, self.count])
    }
    fn merge_state(&mut self, state: &[f32]) -> Result<()> {
        let mut parts = [self.total, self.count];
        super::state::add_into(&mut [&mut parts], state)?;
        [self.total, self.count] = parts;
        Ok(())
    }

    fn boxed_clone(&self) -> Box<dyn StatefulMetric> {
        Box::new(self.clone())
    }

    fn get_config(&self) -> Option<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        Some(("Mean", serde_json::Map::new()))
    }
}

/// Keras's `Sum`: a float32 running `Σ wᵢ·vᵢ` (values summed per sample first).
#[derive(Debug, Clone, Default)]
pub struct Sum {
    total: f32,
}

impl Sum {
    /// A fresh sum.
    pub fn new() -> Sum {
        Sum::default()
    }
}

impl StatefulMetric for Sum {
    fn update_state(
        &mut self,
        _y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        w: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        let per_sample = samplewise(y_pred, false);
        let w = match w {
            Some(w) => Some(weights_per_sample(w, per_sample.len())?),
            None => None,
        };
        self.total += weighted_sum(&per_sample, w.as_deref());
        Ok(())
    }
    fn result(&self) -> Vec<f32> {
        vec![self.total]
    }
    fn reset_state(&mut self) {
        self.total = 0.0;
    }
    fn state(&self) -> Option<Vec<f32>> {
        Some(vec![self.total])
    }
    fn merge_state(&mut self, state: &[f32]) -> Result<()> {
        super::state::add_into(&mut [std::slice::from_mut(&mut self.total)], state)
    }
    fn boxed_clone(&self) -> Box<dyn StatefulMetric> {
        Box::new(self.clone())
    }
    fn get_config(&self) -> Option<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        Some(("Sum", serde_json::Map::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_weights_samples_and_resets() {
        let mut m = Mean::new();
        let v = ndarray::arr2(&[[1.0f32, 3.0], [4.0, 4.0]]).into_dyn();
        m.update_values(&v, None).unwrap();
        assert_eq!(m.value(), 3.0); // (2 + 4) / 2
        let w = ndarray::arr1(&[3.0f32, 1.0]).into_dyn();
        m.update_values(&v, Some(&w)).unwrap(); // total 6 + 10, count 2 + 4
        assert_eq!(m.value(), 16.0 / 6.0);
        m.reset_state();
        assert_eq!(m.value(), 0.0);
        assert!(
            m.update_values(&v, Some(&ndarray::arr1(&[1.0f32]).into_dyn()))
                .is_err()
        );
    }
}
