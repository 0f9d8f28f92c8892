//! `MeanIoU`: the mean over classes of intersection over union, from a confusion matrix of integer counts.

use super::StatefulMetric;
use super::accuracy::argmax_last;
use crate::error::{EngineError, Result};
use ndarray::ArrayD;

/// Keras's `MeanIoU(num_classes, ignore_class=None, sparse_y_true=True, sparse_y_pred=True)`.
#[derive(Debug, Clone)]
pub struct MeanIoU {
    num_classes: usize,
    ignore_class: Option<i64>,
    sparse_y_true: bool,
    sparse_y_pred: bool,
    matrix: Vec<f32>,
}

impl MeanIoU {
    /// A metric over `num_classes` classes (at least 1).
    pub fn new(
        num_classes: usize,
        ignore_class: Option<i64>,
        sparse_y_true: bool,
        sparse_y_pred: bool,
    ) -> Result<MeanIoU> {
        if num_classes == 0 {
            return Err(EngineError::invalid(
                "num_classes",
                "expected a positive integer. Received: num_classes=0",
            ));
        }
        Ok(MeanIoU {
            num_classes,
            ignore_class,
            sparse_y_true,
            sparse_y_pred,
            matrix: vec![0.0; num_classes * num_classes],
        })
    }
}

impl StatefulMetric for MeanIoU {
    fn update_state(
        &mut self,
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        w: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        let truth: Vec<f32> = if self.sparse_y_true {
            y_true.iter().copied().collect()
        } else {
            argmax_last(y_true).into_iter().map(|v| v as f32).collect()
        };
        let pred: Vec<f32> = if self.sparse_y_pred {
            y_pred.iter().copied().collect()
        } else {
            argmax_last(y_pred).into_iter().map(|v| v as f32).collect()
        };
        if truth.len() != pred.len() {
            return Err(EngineError::invalid(
                "y_true",
                format!("{} targets for {} predictions", truth.len(), pred.len()),
            ));
        }
        let weights: Vec<f32> = match w {
            None => vec![1.0; truth.len()],
            Some(w) if w.len() == truth.len() => w.iter().copied().collect(),
            Some(w) if truth.len() % w.len().max(1) == 0 => {
                let per = truth.len() / w.len().max(1);
                w.iter()
                    .flat_map(|&v| std::iter::repeat_n(v, per))
                    .collect()
            }
            Some(w) => {
                return Err(EngineError::invalid(
                    "sample_weight",
                    format!(
                        "shape {:?} does not fit {} positions",
                        w.shape(),
                        truth.len()
                    ),
                ));
            }
        };
        let n = self.num_classes as f32;
        let mut add = vec![0f64; self.matrix.len()];
        for ((&t, &p), &w) in truth.iter().zip(&pred).zip(&weights) {
            let in_bounds = t >= 0.0
                && t < n
                && p >= 0.0
                && p < n
                && self.ignore_class.is_none_or(|c| t != c as f32);
            if in_bounds {
                // Keras keeps the confusion matrix in integers: a float weight is truncated (0.5 counts 0).
                add[t as usize * self.num_classes + p as usize] += f64::from(w.trunc());
            }
        }
        for (m, a) in self.matrix.iter_mut().zip(add) {
            *m += a as f32;
        }
        Ok(())
    }

    fn result(&self) -> Vec<f32> {
        let n = self.num_classes;
        let eps = crate::losses::EPSILON;
        let (mut sum_iou, mut valid) = (0.0f32, 0.0f32);
        for c in 0..n {
            let predicted: f32 = (0..n).map(|r| self.matrix[r * n + c]).sum();
            let actual: f32 = (0..n).map(|k| self.matrix[c * n + k]).sum();
            let tp = self.matrix[c * n + c];
            let denominator = predicted + actual - tp;
            if denominator > 1e-9 {
                valid += 1.0;
                sum_iou += tp / (denominator + eps);
            }
        }
        vec![sum_iou / (valid + eps)]
    }

    fn reset_state(&mut self) {
        self.matrix.iter_mut().for_each(|m| *m = 0.0);
    }

    fn state(&self) -> Option<Vec<f32>> {
        Some(self.matrix.clone())
    }
    fn merge_state(&mut self, state: &[f32]) -> Result<()> {
        super::state::add_into(&mut [&mut self.matrix], state)
    }

    fn boxed_clone(&self) -> Box<dyn StatefulMetric> {
        Box::new(self.clone())
    }

    fn get_config(&self) -> Option<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        let serde_json::Value::Object(config) = serde_json::json!({
            "num_classes": self.num_classes,
            "dtype": "int32", // Keras's MeanIoU config says int32 (its confusion matrix's type)
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": -1,
        }) else {
            return None;
        };
        Some(("MeanIoU", config))
    }
}
