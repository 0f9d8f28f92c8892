//! `PrecisionAtRecall`, `RecallAtPrecision`, `SensitivityAtSpecificity`, `SpecificityAtSensitivity`: the best
//! value of one rate over the thresholds where the other reaches a target (Keras's
//! `SensitivitySpecificityBase`).

use super::StatefulMetric;
use super::confusion::{Counts, Selection, divide_no_nan};
use crate::error::{EngineError, Result};
use ndarray::ArrayD;
use serde_json::{Map, Value, json};

/// Which rate is constrained and which is maximised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Maximise precision where recall ≥ the value (`PrecisionAtRecall(recall)`).
    PrecisionAtRecall,
    /// Maximise recall where precision ≥ the value (`RecallAtPrecision(precision)`).
    RecallAtPrecision,
    /// Maximise sensitivity where specificity ≥ the value (`SensitivityAtSpecificity(specificity)`).
    SensitivityAtSpecificity,
    /// Maximise specificity where sensitivity ≥ the value (`SpecificityAtSensitivity(sensitivity)`).
    SpecificityAtSensitivity,
}

impl Target {
    /// Keras's class name.
    pub fn class_name(self) -> &'static str {
        match self {
            Target::PrecisionAtRecall => "PrecisionAtRecall",
            Target::RecallAtPrecision => "RecallAtPrecision",
            Target::SensitivityAtSpecificity => "SensitivityAtSpecificity",
            Target::SpecificityAtSensitivity => "SpecificityAtSensitivity",
        }
    }

    /// The name of the constrained rate, Keras's argument name.
    pub fn argument(self) -> &'static str {
        match self {
            Target::PrecisionAtRecall => "recall",
            Target::RecallAtPrecision => "precision",
            Target::SensitivityAtSpecificity => "specificity",
            Target::SpecificityAtSensitivity => "sensitivity",
        }
    }
}

/// Keras's `PrecisionAtRecall(recall, num_thresholds=200, class_id=None)` and its three siblings. Thresholds
/// `[0, 1/(n−1), …, 1]` (one threshold, 0.5, when `num_thresholds` is 1); the result is the largest maximised
/// rate among thresholds whose constrained rate is `≥ value`, 0 when none is.
///
/// ```
/// use rkeras_engine::metrics::{AtConstraint, Target};
/// use rkeras_engine::StatefulMetric;
/// let mut m = AtConstraint::new(Target::PrecisionAtRecall, 0.5, 200, None)?;
/// let t = ndarray::arr1(&[0.0f32, 0.0, 1.0, 1.0]).into_dyn();
/// let p = ndarray::arr1(&[0.1f32, 0.8, 0.6, 0.9]).into_dyn();
/// m.update_state(&t, &p, None)?;
/// assert_eq!(m.result(), vec![1.0]); // above 0.8 only the 0.9 is positive: recall 0.5, precision 1
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AtConstraint {
    target: Target,
    value: f32,
    num_thresholds: usize,
    class_id: Option<usize>,
    thresholds: Vec<f32>,
    counts: Counts,
}

impl AtConstraint {
    /// `value` in `[0, 1]`, `num_thresholds ≥ 1`.
    pub fn new(
        target: Target,
        value: f32,
        num_thresholds: usize,
        class_id: Option<usize>,
    ) -> Result<AtConstraint> {
        let arg = target.argument();
        if !(0.0..=1.0).contains(&value) {
            return Err(EngineError::invalid(
                arg,
                format!("Argument `{arg}` must be in the range [0, 1]. Received: {arg}={value}"),
            ));
        }
        if num_thresholds == 0 {
            return Err(EngineError::invalid(
                "num_thresholds",
                "Argument `num_thresholds` must be an integer > 0. Received: num_thresholds=0",
            ));
        }
        let thresholds = if num_thresholds == 1 {
            vec![0.5]
        } else {
            let mut t = vec![0.0f32];
            t.extend(
                (0..num_thresholds - 2)
                    .map(|i| ((i + 1) as f64 / (num_thresholds - 1) as f64) as f32),
            );
            t.push(1.0);
            t
        };
        Ok(AtConstraint {
            target,
            value,
            num_thresholds,
            class_id,
            counts: Counts::new(thresholds.len()),
            thresholds,
        })
    }
}

impl StatefulMetric for AtConstraint {
    fn update_state(
        &mut self,
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        w: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        let select = Selection {
            top_k: None,
            class_id: self.class_id,
            evenly: self.num_thresholds > 1,
        };
        if self.class_id.is_some() && y_pred.ndim() < 2 {
            return Err(EngineError::invalid(
                "class_id",
                format!(
                    "When class_id is provided, y_pred must be a 2D array with shape (num_samples, num_classes), found shape: {:?}",
                    y_pred.shape()
                ),
            ));
        }
        self.counts
            .update(&self.thresholds, y_true, y_pred, w, select)
    }

    fn result(&self) -> Vec<f32> {
        let c = &self.counts;
        let mut best = 0.0f32;
        for i in 0..self.thresholds.len() {
            let recall = divide_no_nan(c.tp[i], c.tp[i] + c.fn_[i]);
            let precision = divide_no_nan(c.tp[i], c.tp[i] + c.fp[i]);
            let specificity = divide_no_nan(c.tn[i], c.tn[i] + c.fp[i]);
            let (constrained, dependent) = match self.target {
                Target::PrecisionAtRecall => (recall, precision),
                Target::RecallAtPrecision => (precision, recall),
                Target::SensitivityAtSpecificity => (specificity, recall),
                Target::SpecificityAtSensitivity => (recall, specificity),
            };
            if constrained >= self.value {
                best = best.max(dependent);
            }
        }
        vec![best]
    }

    fn reset_state(&mut self) {
        self.counts = Counts::new(self.thresholds.len());
    }

    fn state(&self) -> Option<Vec<f32>> {
        Some(self.counts.state())
    }
    fn merge_state(&mut self, state: &[f32]) -> Result<()> {
        self.counts.merge(state)
    }

    fn boxed_clone(&self) -> Box<dyn StatefulMetric> {
        Box::new(self.clone())
    }

    fn get_config(&self) -> Option<(&'static str, Map<String, Value>)> {
        let mut config = Map::new();
        config.insert("class_id".into(), json!(self.class_id));
        config.insert("num_thresholds".into(), json!(self.num_thresholds));
        config.insert(
            self.target.argument().into(),
            super::config::short(self.value),
        );
        Some((self.target.class_name(), config))
    }
}
