//! The intersection-over-union family from a confusion matrix of integer counts: Keras's `MeanIoU`, `IoU`
//! (the mean over some target classes), `BinaryIoU` (thresholded predictions), `OneHotIoU` and
//! `OneHotMeanIoU` (one-hot targets).

use super::StatefulMetric;
use super::accuracy::argmax_last;
use crate::error::{EngineError, Result};
use ndarray::ArrayD;

/// Keras's `MeanIoU(num_classes, ignore_class=None, sparse_y_true=True, sparse_y_pred=True)`, and with the
/// other constructors `IoU`, `BinaryIoU`, `OneHotIoU` and `OneHotMeanIoU`.
#[derive(Debug, Clone)]
pub struct MeanIoU {
    class: &'static str,
    num_classes: usize,
    /// The classes averaged (`None`: all of them).
    target_class_ids: Option<Vec<usize>>,
    /// `BinaryIoU`'s threshold: a prediction at or above it is class 1.
    threshold: Option<f32>,
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
            class: "MeanIoU",
            num_classes,
            target_class_ids: None,
            threshold: None,
            ignore_class,
            sparse_y_true,
            sparse_y_pred,
            matrix: vec![0.0; num_classes * num_classes],
        })
    }

    /// Keras's `IoU(num_classes, target_class_ids, ignore_class, sparse_y_true, sparse_y_pred)`: the mean IoU
    /// of the target classes only.
    pub fn iou(
        num_classes: usize,
        target_class_ids: Vec<usize>,
        ignore_class: Option<i64>,
        sparse_y_true: bool,
        sparse_y_pred: bool,
    ) -> Result<MeanIoU> {
        let mut m = MeanIoU::new(num_classes, ignore_class, sparse_y_true, sparse_y_pred)?;
        match target_class_ids.iter().max() {
            None => {
                return Err(EngineError::invalid(
                    "target_class_ids",
                    "expected at least one target class id. Received: target_class_ids=[]",
                ));
            }
            Some(&max) if max >= num_classes => {
                return Err(EngineError::invalid(
                    "target_class_ids",
                    format!("Target class id {max} is out of range, which is [0, {num_classes})."),
                ));
            }
            Some(_) => {}
        }
        m.class = "IoU";
        m.target_class_ids = Some(target_class_ids);
        Ok(m)
    }

    /// Keras's `BinaryIoU(target_class_ids=(0, 1), threshold=0.5)`: predictions at or above `threshold` are
    /// class 1, below it class 0.
    ///
    /// ```
    /// use rkeras_engine::metrics::{MeanIoU, Metric};
    /// let mut m = Metric::new("binary_io_u", MeanIoU::binary(vec![0, 1], 0.3)?);
    /// let t = ndarray::arr1(&[0.0f32, 1.0, 0.0, 1.0]).into_dyn();
    /// let p = ndarray::arr1(&[0.1f32, 0.2, 0.4, 0.7]).into_dyn();
    /// let w = ndarray::arr1(&[1.0f32, 2.0, 1.0, 1.0]).into_dyn();
    /// m.update_state(&t, &p, Some(&w))?;
    /// // Predicted classes 0, 0, 1, 1: each class has 1 hit over a union of 4.
    /// assert_eq!(m.result(), 0.25);
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn binary(target_class_ids: Vec<usize>, threshold: f32) -> Result<MeanIoU> {
        if threshold.is_nan() {
            return Err(EngineError::invalid(
                "threshold",
                "BinaryIoU needs a number. Received: threshold=NaN",
            ));
        }
        let mut m = MeanIoU::iou(2, target_class_ids, None, true, true)?;
        m.class = "BinaryIoU";
        m.threshold = Some(threshold);
        Ok(m)
    }

    /// Keras's `OneHotIoU(num_classes, target_class_ids, ignore_class, sparse_y_pred=False)`: one-hot targets.
    pub fn one_hot_iou(
        num_classes: usize,
        target_class_ids: Vec<usize>,
        ignore_class: Option<i64>,
        sparse_y_pred: bool,
    ) -> Result<MeanIoU> {
        let mut m = MeanIoU::iou(
            num_classes,
            target_class_ids,
            ignore_class,
            false,
            sparse_y_pred,
        )?;
        m.class = "OneHotIoU";
        Ok(m)
    }

    /// Keras's `OneHotMeanIoU(num_classes, ignore_class, sparse_y_pred=False)`: one-hot targets.
    pub fn one_hot_mean_iou(
        num_classes: usize,
        ignore_class: Option<i64>,
        sparse_y_pred: bool,
    ) -> Result<MeanIoU> {
        let mut m = MeanIoU::new(num_classes, ignore_class, false, sparse_y_pred)?;
        m.class = "OneHotMeanIoU";
        Ok(m)
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
        let pred: Vec<f32> = if let Some(threshold) = self.threshold {
            y_pred.iter().map(|&p| f32::from(p >= threshold)).collect()
        } else if self.sparse_y_pred {
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
        let all: Vec<usize> = (0..n).collect();
        for &c in self.target_class_ids.as_deref().unwrap_or(&all) {
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
        use serde_json::json;
        // Keras's IoU configs say int32 (the confusion matrix's type); each class writes its own arguments.
        let mut config = serde_json::Map::new();
        config.insert("dtype".into(), json!("int32"));
        if self.class != "BinaryIoU" {
            config.insert("num_classes".into(), json!(self.num_classes));
        }
        if let Some(ids) = &self.target_class_ids {
            config.insert("target_class_ids".into(), json!(ids));
        }
        if let Some(threshold) = self.threshold {
            config.insert("threshold".into(), super::config::short(threshold));
            return Some((self.class, config));
        }
        config.insert("ignore_class".into(), json!(self.ignore_class));
        if !self.class.starts_with("OneHot") {
            config.insert("sparse_y_true".into(), json!(self.sparse_y_true));
        }
        config.insert("sparse_y_pred".into(), json!(self.sparse_y_pred));
        config.insert("axis".into(), json!(-1));
        Some((self.class, config))
    }
}
