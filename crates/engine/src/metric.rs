//! Metrics: accuracy resolved from the loss as Keras does, logged under the name the user gave.

use crate::error::{EngineError, Result};
use crate::loss::Loss;
use ndarray::{ArrayD, Axis};

pub use crate::labels::one_hot;

/// How a metric is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// argmax(pred) == argmax(true).
    CategoricalAccuracy,
    /// argmax(pred) == label.
    SparseCategoricalAccuracy,
    /// (pred > 0.5) == true.
    BinaryAccuracy,
    /// mean((true − pred)²).
    MeanSquaredError,
    /// mean(|true − pred|).
    MeanAbsoluteError,
}

/// A compiled metric: its logged name and how it is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    /// The key in the logs (the name the user gave: `accuracy`, or `acc` for Keras 2 scripts).
    pub name: String,
    /// What it computes.
    pub kind: MetricKind,
}

/// The metric names `compile` accepts.
pub const METRIC_NAMES: [&str; 9] = [
    "accuracy",
    "acc",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "binary_accuracy",
    "mse",
    "mean_squared_error",
    "mae",
    "mean_absolute_error",
];

impl Metric {
    /// Resolves a metric name against the loss and the output width, as Keras does for `"accuracy"`.
    pub fn resolve(name: &str, loss: &Loss, output_width: usize) -> Result<Metric> {
        let kind = match name {
            "accuracy" | "acc" => match loss {
                Loss::SparseCategoricalCrossentropy => MetricKind::SparseCategoricalAccuracy,
                Loss::BinaryCrossentropy => MetricKind::BinaryAccuracy,
                _ if output_width == 1 => MetricKind::BinaryAccuracy,
                _ => MetricKind::CategoricalAccuracy,
            },
            "categorical_accuracy" => MetricKind::CategoricalAccuracy,
            "sparse_categorical_accuracy" => MetricKind::SparseCategoricalAccuracy,
            "binary_accuracy" => MetricKind::BinaryAccuracy,
            "mse" | "mean_squared_error" => MetricKind::MeanSquaredError,
            "mae" | "mean_absolute_error" => MetricKind::MeanAbsoluteError,
            _ => {
                return Err(EngineError::UnknownName {
                    kind: "metric",
                    name: name.to_string(),
                    valid: METRIC_NAMES.iter().map(|s| s.to_string()).collect(),
                });
            }
        };
        Ok(Metric {
            name: name.to_string(),
            kind,
        })
    }

    /// The sum of the metric over the batch's samples (divide by the sample count for the mean).
    pub fn batch_sum(&self, y_true: &ArrayD<f32>, y_pred: &ArrayD<f32>) -> Result<f64> {
        let samples = y_pred.shape().first().copied().unwrap_or(0).max(1);
        let per_sample_mean = |values: f64| values * samples as f64 / y_pred.len().max(1) as f64;
        Ok(match self.kind {
            MetricKind::SparseCategoricalAccuracy => {
                let pred = argmax_last(y_pred);
                pred.iter()
                    .zip(y_true.iter())
                    .filter(|&(&p, &t)| p as f32 == t)
                    .count() as f64
                    * correction(pred.len(), samples)
            }
            MetricKind::CategoricalAccuracy => {
                let pred = argmax_last(y_pred);
                let truth = argmax_last(y_true);
                pred.iter().zip(&truth).filter(|(p, t)| p == t).count() as f64
                    * correction(pred.len(), samples)
            }
            MetricKind::BinaryAccuracy => {
                let hits = y_pred
                    .iter()
                    .zip(y_true.iter())
                    .filter(|&(&p, &t)| f32::from(p > 0.5) == t)
                    .count();
                per_sample_mean(hits as f64)
            }
            MetricKind::MeanSquaredError => per_sample_mean(
                y_pred
                    .iter()
                    .zip(y_true.iter())
                    .map(|(&p, &t)| f64::from(t - p).powi(2))
                    .sum(),
            ),
            MetricKind::MeanAbsoluteError => per_sample_mean(
                y_pred
                    .iter()
                    .zip(y_true.iter())
                    .map(|(&p, &t)| f64::from(t - p).abs())
                    .sum(),
            ),
        })
    }
}

/// Samples contribute equally even when each holds several predictions (sequence outputs).
fn correction(predictions: usize, samples: usize) -> f64 {
    samples as f64 / predictions.max(1) as f64
}

/// The index of the largest value along the last axis (the first one at ties, as argmax does).
fn argmax_last(values: &ArrayD<f32>) -> Vec<usize> {
    let axis = Axis(values.ndim().saturating_sub(1));
    values
        .lanes(axis)
        .into_iter()
        .map(|lane| {
            let mut best = 0;
            for (i, &v) in lane.iter().enumerate() {
                if v > lane[best] {
                    best = i;
                }
            }
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr2;

    #[test]
    fn accuracy_resolves_from_the_loss() {
        let m = Metric::resolve("acc", &Loss::SparseCategoricalCrossentropy, 22).unwrap();
        assert_eq!(
            (m.name.as_str(), m.kind),
            ("acc", MetricKind::SparseCategoricalAccuracy)
        );
        assert_eq!(
            Metric::resolve("accuracy", &Loss::CategoricalCrossentropy, 22)
                .unwrap()
                .kind,
            MetricKind::CategoricalAccuracy
        );
        assert_eq!(
            Metric::resolve("accuracy", &Loss::BinaryCrossentropy, 1)
                .unwrap()
                .kind,
            MetricKind::BinaryAccuracy
        );
        assert_eq!(
            Metric::resolve("accuracy", &Loss::MeanSquaredError, 1)
                .unwrap()
                .kind,
            MetricKind::BinaryAccuracy
        );
        let err = Metric::resolve("acuracy", &Loss::MeanSquaredError, 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("acuracy") && err.contains("accuracy"), "{err}");
    }

    #[test]
    fn accuracy_counts_hits() {
        let pred = arr2(&[[0.1f32, 0.9], [0.8, 0.2], [0.3, 0.7]]).into_dyn();
        let sparse = ndarray::arr1(&[1.0f32, 1.0, 1.0]).into_dyn();
        let m = Metric::resolve("accuracy", &Loss::SparseCategoricalCrossentropy, 2).unwrap();
        assert_eq!(m.batch_sum(&sparse, &pred).unwrap(), 2.0);
        let onehot = arr2(&[[0.0f32, 1.0], [1.0, 0.0], [1.0, 0.0]]).into_dyn();
        let m = Metric::resolve("accuracy", &Loss::CategoricalCrossentropy, 2).unwrap();
        assert_eq!(m.batch_sum(&onehot, &pred).unwrap(), 2.0);
        let bin_pred = arr2(&[[0.2f32], [0.6], [0.51]]).into_dyn();
        let bin_true = arr2(&[[0.0f32], [1.0], [0.0]]).into_dyn();
        let m = Metric::resolve("accuracy", &Loss::BinaryCrossentropy, 1).unwrap();
        assert_eq!(m.batch_sum(&bin_true, &bin_pred).unwrap(), 2.0);
    }

    #[test]
    fn one_hot_checks_labels() {
        let labels = ndarray::arr1(&[2.0f32, 0.0]).into_dyn();
        assert_eq!(
            one_hot(&labels, 3).unwrap(),
            arr2(&[[0.0f32, 0.0, 1.0], [1.0, 0.0, 0.0]]).into_dyn()
        );
        assert!(one_hot(&ndarray::arr1(&[3.0f32]).into_dyn(), 3).is_err());
        assert!(one_hot(&ndarray::arr1(&[0.5f32]).into_dyn(), 3).is_err());
    }
}
