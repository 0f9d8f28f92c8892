//! `AUC`: the area under the ROC or precision-recall curve from confusion counts at evenly spaced thresholds,
//! summed as Keras does (interpolation, minoring or majoring; Davis & Goadrich's interpolation for PR).

use super::StatefulMetric;
use super::confusion::{Counts, Selection, divide_no_nan};
use crate::error::{EngineError, Result};
use ndarray::ArrayD;

/// Which curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// True-positive rate against false-positive rate (`"ROC"`).
    Roc,
    /// Precision against recall (`"PR"`).
    Pr,
}

/// How the area is summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summation {
    /// Trapezoids (ROC) or Davis & Goadrich's interpolation (PR) (`"interpolation"`).
    Interpolation,
    /// Left-or-right minimum heights (`"minoring"`).
    Minoring,
    /// Maximum heights (`"majoring"`).
    Majoring,
}

/// Keras's `AUC(num_thresholds=200, curve="ROC", summation_method="interpolation", from_logits=False)`.
#[derive(Debug, Clone)]
pub struct Auc {
    thresholds: Vec<f32>,
    curve: Curve,
    summation: Summation,
    from_logits: bool,
    counts: Counts,
}

impl Auc {
    /// `num_thresholds` thresholds `[−ε, 1/(n−1), …, (n−2)/(n−1), 1 + ε]`; `num_thresholds` must exceed 1.
    pub fn new(
        num_thresholds: usize,
        curve: Curve,
        summation: Summation,
        from_logits: bool,
    ) -> Result<Auc> {
        if num_thresholds <= 1 {
            return Err(EngineError::invalid(
                "num_thresholds",
                format!(
                    "Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}"
                ),
            ));
        }
        let eps = f64::from(crate::losses::EPSILON);
        let mut thresholds = vec![(0.0 - eps) as f32];
        thresholds.extend(
            (0..num_thresholds - 2).map(|i| ((i + 1) as f64 / (num_thresholds - 1) as f64) as f32),
        );
        thresholds.push((1.0 + eps) as f32);
        Ok(Auc {
            counts: Counts::new(thresholds.len()),
            thresholds,
            curve,
            summation,
            from_logits,
        })
    }

    /// A curve by Keras name (`"ROC"`, `"PR"`).
    pub fn curve_from_name(name: &str) -> Result<Curve> {
        match name.to_ascii_uppercase().as_str() {
            "ROC" => Ok(Curve::Roc),
            "PR" => Ok(Curve::Pr),
            _ => Err(EngineError::invalid(
                "curve",
                format!("Invalid `curve` argument value \"{name}\". Expected one of: ROC, PR"),
            )),
        }
    }

    /// A summation method by Keras name.
    pub fn summation_from_name(name: &str) -> Result<Summation> {
        match name.to_ascii_lowercase().as_str() {
            "interpolation" => Ok(Summation::Interpolation),
            "minoring" => Ok(Summation::Minoring),
            "majoring" => Ok(Summation::Majoring),
            _ => Err(EngineError::invalid(
                "summation_method",
                format!(
                    "Invalid `summation_method` argument value \"{name}\". Expected one of: interpolation, minoring, majoring"
                ),
            )),
        }
    }

    fn interpolate_pr(&self) -> f32 {
        let c = &self.counts;
        let n = self.thresholds.len();
        let mut total = 0.0f32;
        for i in 0..n - 1 {
            let dtp = c.tp[i] - c.tp[i + 1];
            let p0 = c.tp[i] + c.fp[i];
            let p1 = c.tp[i + 1] + c.fp[i + 1];
            let dp = p0 - p1;
            let slope = divide_no_nan(dtp, dp.max(0.0));
            let intercept = c.tp[i + 1] - slope * p1;
            let ratio = if p0 > 0.0 && p1 > 0.0 {
                divide_no_nan(p0, p1.max(0.0))
            } else {
                1.0
            };
            total += divide_no_nan(
                slope * (dtp + intercept * ratio.ln()),
                (c.tp[i + 1] + c.fn_[i + 1]).max(0.0),
            );
        }
        total
    }
}

impl StatefulMetric for Auc {
    fn update_state(
        &mut self,
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        w: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        let pred = if self.from_logits {
            y_pred.mapv(|v| 1.0 / (1.0 + (-v).exp()))
        } else {
            if let Some(bad) = y_pred.iter().find(|v| !(0.0..=1.0).contains(*v)) {
                return Err(EngineError::invalid(
                    "y_pred",
                    format!(
                        "AUC needs predictions in [0, 1] (pass from_logits for logits). Received: {bad}"
                    ),
                ));
            }
            y_pred.clone()
        };
        self.counts
            .update(&self.thresholds, y_true, &pred, w, Selection::default())
    }

    fn result(&self) -> Vec<f32> {
        if self.curve == Curve::Pr && self.summation == Summation::Interpolation {
            return vec![self.interpolate_pr()];
        }
        let c = &self.counts;
        let n = self.thresholds.len();
        let recall: Vec<f32> = (0..n)
            .map(|i| divide_no_nan(c.tp[i], c.tp[i] + c.fn_[i]))
            .collect();
        let (x, y): (Vec<f32>, Vec<f32>) = match self.curve {
            Curve::Roc => (
                (0..n)
                    .map(|i| divide_no_nan(c.fp[i], c.fp[i] + c.tn[i]))
                    .collect(),
                recall,
            ),
            Curve::Pr => (
                recall,
                (0..n)
                    .map(|i| divide_no_nan(c.tp[i], c.tp[i] + c.fp[i]))
                    .collect(),
            ),
        };
        let mut total = 0.0f32;
        for i in 0..n - 1 {
            let height = match self.summation {
                Summation::Interpolation => (y[i] + y[i + 1]) / 2.0,
                Summation::Minoring => y[i].min(y[i + 1]),
                Summation::Majoring => y[i].max(y[i + 1]),
            };
            total += (x[i] - x[i + 1]) * height;
        }
        vec![total]
    }

    fn reset_state(&mut self) {
        self.counts = Counts::new(self.thresholds.len());
    }

    fn boxed_clone(&self) -> Box<dyn StatefulMetric> {
        Box::new(self.clone())
    }
}
