//! `Precision` and `Recall`: true/false positives and negatives at thresholds, optionally for one class or
//! the top-k predictions (Keras's `update_confusion_matrix_variables`).

use super::StatefulMetric;
use super::reduction::weights_per_sample;
use crate::error::{EngineError, Result};
use ndarray::ArrayD;
use serde_json::{Map, Value, json};

/// Confusion counts per threshold, float32 as Keras keeps them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counts {
    pub(crate) tp: Vec<f32>,
    pub(crate) fp: Vec<f32>,
    pub(crate) tn: Vec<f32>,
    pub(crate) fn_: Vec<f32>,
}

/// How predictions are selected before thresholding.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Selection {
    pub(crate) top_k: Option<usize>,
    pub(crate) class_id: Option<usize>,
    /// Thresholds evenly spaced over `[0, 1]` (the outer ones maybe shifted by ε): Keras then counts by bucket,
    /// `ceil(clip(p, 0, 1)·(n−1)) − 1` (at least 0 when the outer thresholds carry ε), positive at
    /// threshold `i` when the bucket is `≥ i`.
    pub(crate) evenly: bool,
}

impl Counts {
    pub(crate) fn new(thresholds: usize) -> Counts {
        Counts {
            tp: vec![0.0; thresholds],
            fp: vec![0.0; thresholds],
            tn: vec![0.0; thresholds],
            fn_: vec![0.0; thresholds],
        }
    }

    /// The counts laid end to end (`tp`, `fp`, `tn`, `fn`), a state [`Counts::merge`] adds.
    pub(crate) fn state(&self) -> Vec<f32> {
        [&self.tp[..], &self.fp[..], &self.tn[..], &self.fn_[..]].concat()
    }

    /// Adds another copy's [`Counts::state`].
    pub(crate) fn merge(&mut self, state: &[f32]) -> Result<()> {
        super::state::add_into(
            &mut [&mut self.tp, &mut self.fp, &mut self.tn, &mut self.fn_],
            state,
        )
    }

    /// Adds a batch: a label is positive when non-zero, a prediction when above the threshold.
    pub(crate) fn update(
        &mut self,
        thresholds: &[f32],
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        weights: Option<&ArrayD<f32>>,
        select: Selection,
    ) -> Result<()> {
        self.update_weighted(thresholds, y_true, y_pred, weights, select, None)
    }

    /// [`Counts::update`] with a weight per label (the last axis) multiplying the sample weights, as Keras's
    /// `label_weights`.
    pub(crate) fn update_weighted(
        &mut self,
        thresholds: &[f32],
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        weights: Option<&ArrayD<f32>>,
        select: Selection,
        label_weights: Option<&[f32]>,
    ) -> Result<()> {
        if y_true.len() != y_pred.len() {
            return Err(EngineError::invalid(
                "y_true",
                format!(
                    "targets of shape {:?} for predictions of shape {:?}",
                    y_true.shape(),
                    y_pred.shape()
                ),
            ));
        }
        let samples = y_pred.shape().first().copied().unwrap_or(1).max(1);
        let width = (y_pred.len() / samples).max(1);
        let classes = y_pred.shape().last().copied().unwrap_or(1).max(1);
        let w = match weights {
            Some(w) => Some(weights_per_sample(w, samples)?),
            None => None,
        };
        if let Some(c) = select.class_id {
            if c >= classes {
                return Err(EngineError::invalid(
                    "class_id",
                    format!("expected a class below {classes}. Received: class_id={c}"),
                ));
            }
        }
        let truth: Vec<f32> = y_true.iter().copied().collect();
        let mut pred: Vec<f32> = y_pred.iter().copied().collect();
        if let Some(k) = select.top_k {
            for row in pred.chunks_mut(classes) {
                // The k largest stay (the lower index first at ties, as `top_k` picks); the rest become −∞.
                let mut order: Vec<usize> = (0..row.len()).collect();
                order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
                for &dropped in order.iter().skip(k) {
                    row[dropped] = f32::NEG_INFINITY;
                }
            }
        }
        if let Some(lw) = label_weights {
            if lw.len() != classes {
                return Err(EngineError::invalid(
                    "label_weights",
                    format!(
                        "{} label weights for predictions of shape {:?}",
                        lw.len(),
                        y_pred.shape()
                    ),
                ));
            }
        }
        let n = thresholds.len();
        let with_epsilon = n > 0 && (thresholds[0] < 0.0 || thresholds[n - 1] > 1.0);
        for (i, (&t, &p)) in truth.iter().zip(&pred).enumerate() {
            if let Some(c) = select.class_id {
                if i % classes != c {
                    continue;
                }
            }
            let mut weight = w.as_ref().map_or(1.0, |w| w[i / width]);
            if let Some(lw) = label_weights {
                weight *= lw[i % classes];
            }
            let label = t != 0.0;
            let bucket = if select.evenly {
                let b = (p.clamp(0.0, 1.0) * (n - 1) as f32).ceil() - 1.0;
                if with_epsilon { b.max(0.0) } else { b }
            } else {
                0.0
            };
            for (j, &threshold) in thresholds.iter().enumerate() {
                let positive = if select.evenly {
                    bucket >= j as f32
                } else {
                    p > threshold
                };
                match (label, positive) {
                    (true, true) => self.tp[j] += weight,
                    (false, true) => self.fp[j] += weight,
                    (false, false) => self.tn[j] += weight,
                    (true, false) => self.fn_[j] += weight,
                }
            }
        }
        Ok(())
    }
}

/// `0 ≤ threshold ≤ 1` for every threshold.
pub(crate) fn check_thresholds(thresholds: &[f32]) -> Result<()> {
    match thresholds.iter().find(|t| !(0.0..=1.0).contains(*t)) {
        Some(t) => Err(EngineError::invalid(
            "thresholds",
            format!("threshold values must be in [0, 1]. Received: {thresholds:?} (bad value {t})"),
        )),
        None => Ok(()),
    }
}

/// `a / b`, 0 when `b` is 0 (Keras's `divide_no_nan`).
pub(crate) fn divide_no_nan(a: f32, b: f32) -> f32 {
    if b == 0.0 { 0.0 } else { a / b }
}

/// Which ratio a [`Confusion`] metric reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ratio {
    Precision,
    Recall,
}

/// Keras's `Precision` and `Recall`.
#[derive(Debug, Clone)]
pub struct Confusion {
    ratio: Ratio,
    /// The thresholds as given (`None`: Keras's default).
    given: Option<Vec<f32>>,
    thresholds: Vec<f32>,
    select: Selection,
    counts: Counts,
}

impl Confusion {
    fn new(
        ratio: Ratio,
        thresholds: Option<Vec<f32>>,
        top_k: Option<usize>,
        class_id: Option<usize>,
    ) -> Result<Self> {
        let given = thresholds.clone();
        // Keras: with `top_k` and no thresholds, the threshold is −∞ (every kept prediction is positive).
        let thresholds = match (thresholds, top_k) {
            (Some(t), _) => {
                check_thresholds(&t)?;
                t
            }
            (None, Some(_)) => vec![f32::NEG_INFINITY],
            (None, None) => vec![0.5],
        };
        if top_k == Some(0) {
            return Err(EngineError::invalid(
                "top_k",
                "expected a positive integer. Received: top_k=0",
            ));
        }
        Ok(Confusion {
            ratio,
            given,
            counts: Counts::new(thresholds.len()),
            thresholds,
            select: Selection {
                top_k,
                class_id,
                evenly: false,
            },
        })
    }

    /// Keras's `Precision(thresholds, top_k, class_id)`: `tp / (tp + fp)` per threshold (default 0.5).
    pub fn precision(
        thresholds: Option<Vec<f32>>,
        top_k: Option<usize>,
        class_id: Option<usize>,
    ) -> Result<Self> {
        Confusion::new(Ratio::Precision, thresholds, top_k, class_id)
    }

    /// Keras's `Recall(thresholds, top_k, class_id)`: `tp / (tp + fn)` per threshold (default 0.5).
    pub fn recall(
        thresholds: Option<Vec<f32>>,
        top_k: Option<usize>,
        class_id: Option<usize>,
    ) -> Result<Self> {
        Confusion::new(Ratio::Recall, thresholds, top_k, class_id)
    }
}

impl StatefulMetric for Confusion {
    fn update_state(
        &mut self,
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        w: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        self.counts
            .update(&self.thresholds, y_true, y_pred, w, self.select)
    }
    fn result(&self) -> Vec<f32> {
        let c = &self.counts;
        (0..self.thresholds.len())
            .map(|j| match self.ratio {
                Ratio::Precision => divide_no_nan(c.tp[j], c.tp[j] + c.fp[j]),
                Ratio::Recall => divide_no_nan(c.tp[j], c.tp[j] + c.fn_[j]),
            })
            .collect()
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
        config.insert(
            "thresholds".into(),
            super::config::thresholds_value(self.given.as_deref()),
        );
        config.insert("top_k".into(), json!(self.select.top_k));
        config.insert("class_id".into(), json!(self.select.class_id));
        let class = match self.ratio {
            Ratio::Precision => "Precision",
            Ratio::Recall => "Recall",
        };
        Some((class, config))
    }
}
