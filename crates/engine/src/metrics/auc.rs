//! `AUC`: the area under the ROC or precision-recall curve from confusion counts at evenly spaced thresholds,
//! summed as Keras does (interpolation, minoring or majoring; Davis & Goadrich's interpolation for PR).

use super::StatefulMetric;
use super::config::short;
use super::confusion::{Counts, Selection, divide_no_nan};
use crate::error::{EngineError, Result};
use ndarray::ArrayD;
use serde_json::{Map, Value, json};

/// Which curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// True-positive rate against false-positive rate (`"ROC"`).
    Roc,
    /// Precision against recall (`"PR"`).
    Pr,
    /// Precision gain against recall gain (`"PRGAIN"`, Flach & Kull 2015), as Keras 3 computes them: with
    /// `s = P/N`, `recall_gain = max(0, 1 − s·FN/TP)` and `precision_gain = 1 − s·FP/TP`, `0` and `1` where
    /// `TP = 0`; summed like ROC (trapezoids for `"interpolation"`).
    PrGain,
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

/// Keras's `AUC(num_thresholds=200, curve="ROC", summation_method="interpolation", thresholds=None,
/// multi_label=False, num_labels=None, label_weights=None, from_logits=False)`.
///
/// ```
/// use rkeras_engine::metrics::{Auc, Curve, Summation};
/// use rkeras_engine::StatefulMetric;
/// // Two labels, each perfectly ranked: the ROC area of each is 1, and so is their mean.
/// let mut auc = Auc::new(200, Curve::Roc, Summation::Interpolation, false)?.multi_label(Some(2))?;
/// let t = ndarray::arr2(&[[1.0f32, 0.0], [0.0, 1.0]]).into_dyn();
/// let p = ndarray::arr2(&[[0.9f32, 0.2], [0.1, 0.7]]).into_dyn();
/// auc.update_state(&t, &p, None)?;
/// assert!((auc.result()[0] - 1.0).abs() < 1e-6);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Auc {
    thresholds: Vec<f32>,
    /// The thresholds as given (`thresholds=`), sorted; `None` when spaced by `num_thresholds`.
    given: Option<Vec<f32>>,
    evenly: bool,
    curve: Curve,
    summation: Summation,
    from_logits: bool,
    multi_label: bool,
    num_labels: Option<usize>,
    label_weights: Option<Vec<f32>>,
    /// One set of counts, or one per label (`multi_label`; empty until the first batch when `num_labels` is
    /// not given).
    counts: Vec<Counts>,
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
            counts: vec![Counts::new(thresholds.len())],
            thresholds,
            given: None,
            evenly: true,
            curve,
            summation,
            from_logits,
            multi_label: false,
            num_labels: None,
            label_weights: None,
        })
    }

    /// Keras's `AUC(thresholds=[…])`: the given thresholds, sorted, between `−ε` and `1 + ε`
    /// (`num_thresholds` is then their count plus 2).
    pub fn with_thresholds(
        thresholds: Vec<f32>,
        curve: Curve,
        summation: Summation,
        from_logits: bool,
    ) -> Result<Auc> {
        let mut given = thresholds;
        if let Some(bad) = given.iter().find(|t| t.is_nan()) {
            return Err(EngineError::invalid(
                "thresholds",
                format!("thresholds must be numbers. Received: {bad}"),
            ));
        }
        given.sort_by(f32::total_cmp);
        let mut auc = Auc::new(given.len() + 2, curve, summation, from_logits)?;
        let eps = f64::from(crate::losses::EPSILON);
        let n = given.len() + 2;
        // Keras's `is_evenly_distributed_thresholds` on [0, thresholds…, 1].
        auc.evenly = n >= 3
            && std::iter::once(0.0)
                .chain(given.iter().copied())
                .chain(std::iter::once(1.0))
                .enumerate()
                .all(|(i, t)| {
                    let even = f64::from(i as f32 / (n - 1) as f32);
                    (f64::from(t) - even).abs() <= eps + 1e-5 * even.abs()
                });
        auc.thresholds = std::iter::once((0.0 - eps) as f32)
            .chain(given.iter().copied())
            .chain(std::iter::once((1.0 + eps) as f32))
            .collect();
        auc.given = Some(given);
        Ok(auc)
    }

    /// Keras's `multi_label=True` (and `num_labels`): counts per label (the last axis of rank-2 predictions),
    /// the result their mean, or their `label_weights`-weighted mean.
    pub fn multi_label(mut self, num_labels: Option<usize>) -> Result<Auc> {
        self.multi_label = true;
        self.num_labels = num_labels;
        self.counts = match num_labels {
            Some(l) => vec![Counts::new(self.thresholds.len()); l],
            None => Vec::new(),
        };
        Ok(self)
    }

    /// Keras's `label_weights`: one non-negative weight per label. Without `multi_label` they multiply the
    /// sample weights of each label's entries; with it they weight the mean of the per-label areas.
    pub fn label_weights(mut self, weights: Vec<f32>) -> Result<Auc> {
        if let Some(bad) = weights.iter().find(|w| w.is_nan() || **w < 0.0) {
            return Err(EngineError::invalid(
                "label_weights",
                format!(
                    "All values of `label_weights` must be non-negative. Received: {weights:?} (bad value {bad})"
                ),
            ));
        }
        self.label_weights = Some(weights);
        Ok(self)
    }

    /// A curve by Keras name (`"ROC"`, `"PR"`, `"PRGAIN"`).
    pub fn curve_from_name(name: &str) -> Result<Curve> {
        match name.to_ascii_uppercase().as_str() {
            "ROC" => Ok(Curve::Roc),
            "PR" => Ok(Curve::Pr),
            "PRGAIN" => Ok(Curve::PrGain),
            _ => Err(EngineError::invalid(
                "curve",
                format!(
                    "Invalid AUC curve value: \"{name}\". Expected values are [\"PR\", \"ROC\", \"PRGAIN\"]"
                ),
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

    fn interpolate_pr(&self, c: &Counts) -> f32 {
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
        let select = Selection {
            evenly: self.evenly,
            ..Selection::default()
        };
        if !self.multi_label {
            return self.counts[0].update_weighted(
                &self.thresholds,
                y_true,
                &pred,
                w,
                select,
                self.label_weights.as_deref(),
            );
        }
        if pred.ndim() != 2 || y_true.shape() != pred.shape() {
            return Err(EngineError::invalid(
                "y_pred",
                format!(
                    "`y_pred` must have rank 2 when `multi_label=True`. Full shape received for `y_pred`: {:?} (y_true {:?})",
                    pred.shape(),
                    y_true.shape()
                ),
            ));
        }
        let labels = pred.shape()[1];
        if self.counts.is_empty() {
            self.counts = vec![Counts::new(self.thresholds.len()); labels];
        }
        if self.counts.len() != labels {
            return Err(EngineError::invalid(
                "y_pred",
                format!(
                    "{labels} labels for an AUC built for {} (num_labels)",
                    self.counts.len()
                ),
            ));
        }
        for (l, counts) in self.counts.iter_mut().enumerate() {
            let column = |a: &ArrayD<f32>| a.index_axis(ndarray::Axis(1), l).to_owned();
            counts.update(&self.thresholds, &column(y_true), &column(&pred), w, select)?;
        }
        Ok(())
    }

    fn result(&self) -> Vec<f32> {
        let areas: Vec<f32> = self.counts.iter().map(|c| self.area(c)).collect();
        if !self.multi_label {
            return vec![areas.first().copied().unwrap_or(0.0)];
        }
        if areas.is_empty() {
            return vec![0.0];
        }
        match &self.label_weights {
            None => vec![areas.iter().sum::<f32>() / areas.len() as f32],
            Some(w) => vec![divide_no_nan(
                areas.iter().zip(w).map(|(a, w)| a * w).sum(),
                w.iter().sum(),
            )],
        }
    }

    fn reset_state(&mut self) {
        for c in &mut self.counts {
            *c = Counts::new(self.thresholds.len());
        }
    }

    fn state(&self) -> Option<Vec<f32>> {
        Some(self.counts.iter().flat_map(Counts::state).collect())
    }
    fn merge_state(&mut self, state: &[f32]) -> Result<()> {
        let mut targets: Vec<&mut [f32]> = self
            .counts
            .iter_mut()
            .flat_map(|c| [&mut c.tp[..], &mut c.fp[..], &mut c.tn[..], &mut c.fn_[..]])
            .collect();
        super::state::add_into(&mut targets, state)
    }

    fn boxed_clone(&self) -> Box<dyn StatefulMetric> {
        Box::new(self.clone())
    }

    fn get_config(&self) -> Option<(&'static str, Map<String, Value>)> {
        let mut config = Map::new();
        config.insert("num_thresholds".into(), json!(self.thresholds.len()));
        config.insert(
            "curve".into(),
            json!(match self.curve {
                Curve::Roc => "ROC",
                Curve::Pr => "PR",
                Curve::PrGain => "PRGAIN",
            }),
        );
        config.insert(
            "summation_method".into(),
            json!(match self.summation {
                Summation::Interpolation => "interpolation",
                Summation::Minoring => "minoring",
                Summation::Majoring => "majoring",
            }),
        );
        config.insert("multi_label".into(), json!(self.multi_label));
        config.insert("num_labels".into(), json!(self.num_labels));
        config.insert(
            "label_weights".into(),
            self.label_weights.as_ref().map_or(Value::Null, |w| {
                json!({"class_name": "__tensor__", "config": {"value": w.iter().map(|&v| short(v)).collect::<Vec<_>>(), "dtype": "float32"}})
            }),
        );
        config.insert("from_logits".into(), json!(self.from_logits));
        if let Some(t) = &self.given {
            config.insert("thresholds".into(), t.iter().map(|&v| short(v)).collect());
        }
        Some(("AUC", config))
    }
}

/// Keras's recall gain and precision gain at threshold `i`.
fn gains(c: &Counts, i: usize) -> (f32, f32) {
    let scaling = divide_no_nan(c.tp[i] + c.fn_[i], c.tn[i] + c.fp[i]);
    if c.tp[i] == 0.0 {
        return (0.0, 1.0);
    }
    let recall_gain = 1.0 - scaling * divide_no_nan(c.fn_[i], c.tp[i]);
    let precision_gain = 1.0 - scaling * divide_no_nan(c.fp[i], c.tp[i]);
    (recall_gain.max(0.0), precision_gain)
}

impl Auc {
    /// The area under the curve of one set of counts.
    fn area(&self, c: &Counts) -> f32 {
        if self.curve == Curve::Pr && self.summation == Summation::Interpolation {
            return self.interpolate_pr(c);
        }
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
            Curve::PrGain => (0..n).map(|i| gains(c, i)).unzip(),
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
        total
    }
}
