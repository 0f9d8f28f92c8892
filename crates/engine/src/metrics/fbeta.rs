//! `FBetaScore` and `F1Score`: per-class (or pooled) F-scores from thresholded or argmax predictions.

use super::StatefulMetric;
use super::config::short;
use super::reduction::weights_per_sample;
use crate::error::{EngineError, Result};
use ndarray::ArrayD;
use serde_json::{Map, Value, json};

/// How per-class scores combine (Keras's `average`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// One score per class (`None`).
    PerClass,
    /// Counts pooled over classes (`"micro"`).
    Micro,
    /// The mean of the per-class scores (`"macro"`).
    Macro,
    /// The per-class scores weighted by each class's true count (`"weighted"`).
    Weighted,
}

/// Keras's `FBetaScore(average=None, beta=1.0, threshold=None)`.
#[derive(Debug, Clone)]
pub struct FBetaScore {
    average: Average,
    beta: f32,
    threshold: Option<f32>,
    /// Made as Keras's `F1Score` (saved under that class, without `beta`).
    f1: bool,
    tp: Vec<f32>,
    fp: Vec<f32>,
    fn_: Vec<f32>,
    support: Vec<f32>,
}

impl FBetaScore {
    /// Checks `beta > 0` and `0 < threshold ≤ 1` as Keras does, echoing the value.
    pub fn new(average: Average, beta: f32, threshold: Option<f32>) -> Result<FBetaScore> {
        if beta.is_nan() || beta <= 0.0 {
            return Err(EngineError::invalid(
                "beta",
                format!("Invalid `beta` argument value. It should be > 0. Received: beta={beta}"),
            ));
        }
        if let Some(t) = threshold {
            if !(t > 0.0 && t <= 1.0) {
                return Err(EngineError::invalid(
                    "threshold",
                    format!(
                        "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. Received: threshold={t}"
                    ),
                ));
            }
        }
        Ok(FBetaScore {
            average,
            beta,
            threshold,
            f1: false,
            tp: vec![],
            fp: vec![],
            fn_: vec![],
            support: vec![],
        })
    }

    /// Keras's `F1Score`: `FBetaScore` with `beta = 1`.
    pub fn f1(average: Average, threshold: Option<f32>) -> Result<FBetaScore> {
        Ok(FBetaScore {
            f1: true,
            ..FBetaScore::new(average, 1.0, threshold)?
        })
    }

    /// The average's Keras name (`None` for per-class scores).
    fn average_name(&self) -> Option<&'static str> {
        match self.average {
            Average::PerClass => None,
            Average::Micro => Some("micro"),
            Average::Macro => Some("macro"),
            Average::Weighted => Some("weighted"),
        }
    }

    /// An average by Keras name (`None` is `"none"` here).
    pub fn average_from_name(name: Option<&str>) -> Result<Average> {
        match name {
            None | Some("none") => Ok(Average::PerClass),
            Some("micro") => Ok(Average::Micro),
            Some("macro") => Ok(Average::Macro),
            Some("weighted") => Ok(Average::Weighted),
            Some(other) => Err(EngineError::invalid(
                "average",
                format!(
                    "Invalid `average` argument value. Expected one of: {{None, 'micro', 'macro', 'weighted'}}. Received: average={other}"
                ),
            )),
        }
    }
}

impl StatefulMetric for FBetaScore {
    /// Keras's `F1Score` (`average`, `threshold`) or `FBetaScore` (`average`, `beta`, `threshold`) config.
    fn get_config(&self) -> Option<(&'static str, Map<String, Value>)> {
        let mut args = Map::new();
        args.insert("average".into(), json!(self.average_name()));
        if !self.f1 {
            args.insert("beta".into(), short(self.beta));
        }
        args.insert(
            "threshold".into(),
            self.threshold.map_or(Value::Null, short),
        );
        Some((if self.f1 { "F1Score" } else { "FBetaScore" }, args))
    }

    fn update_state(
        &mut self,
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        w: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        if y_pred.ndim() != 2 || y_true.shape() != y_pred.shape() {
            return Err(EngineError::invalid(
                "y_pred",
                format!(
                    "FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input shapes: y_pred.shape={:?} and y_true.shape={:?}.",
                    y_pred.shape(),
                    y_true.shape()
                ),
            ));
        }
        let (rows, classes) = (y_pred.shape()[0], y_pred.shape()[1]);
        let slots = if self.average == Average::Micro {
            1
        } else {
            classes
        };
        if self.tp.len() != slots {
            self.tp = vec![0.0; slots];
            self.fp = vec![0.0; slots];
            self.fn_ = vec![0.0; slots];
            self.support = vec![0.0; slots];
        }
        let w = match w {
            Some(w) => Some(weights_per_sample(w, rows)?),
            None => None,
        };
        let (mut tp, mut fp, mut fn_, mut support) = (
            vec![0f64; slots],
            vec![0f64; slots],
            vec![0f64; slots],
            vec![0f64; slots],
        );
        for r in 0..rows {
            let row: Vec<f32> = (0..classes).map(|c| y_pred[[r, c]]).collect();
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let weight = f64::from(w.as_ref().map_or(1.0, |w| w[r]));
            for c in 0..classes {
                let p = match self.threshold {
                    None => row[c] >= max && row[c].abs() > 1e-9,
                    Some(t) => row[c] > t,
                };
                let (p, t) = (f64::from(u8::from(p)), f64::from(y_true[[r, c]]));
                let s = if slots == 1 { 0 } else { c };
                tp[s] += p * t * weight;
                fp[s] += p * (1.0 - t) * weight;
                fn_[s] += (1.0 - p) * t * weight;
                support[s] += t * weight;
            }
        }
        for s in 0..slots {
            self.tp[s] += tp[s] as f32;
            self.fp[s] += fp[s] as f32;
            self.fn_[s] += fn_[s] as f32;
            self.support[s] += support[s] as f32;
        }
        Ok(())
    }

    fn result(&self) -> Vec<f32> {
        let eps = crate::losses::EPSILON;
        let b2 = self.beta * self.beta;
        let scores: Vec<f32> = (0..self.tp.len())
            .map(|s| {
                let precision = self.tp[s] / (self.tp[s] + self.fp[s] + eps);
                let recall = self.tp[s] / (self.tp[s] + self.fn_[s] + eps);
                precision * recall / (b2 * precision + recall + eps) * (1.0 + b2)
            })
            .collect();
        match self.average {
            Average::PerClass | Average::Micro => scores,
            Average::Macro => vec![scores.iter().sum::<f32>() / scores.len().max(1) as f32],
            Average::Weighted => {
                let total: f32 = self.support.iter().sum::<f32>() + eps;
                vec![
                    scores
                        .iter()
                        .zip(&self.support)
                        .map(|(f, w)| f * (w / total))
                        .sum(),
                ]
            }
        }
    }

    fn reset_state(&mut self) {
        for v in [&mut self.tp, &mut self.fp, &mut self.fn_, &mut self.support] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }

    fn state(&self) -> Option<Vec<f32>> {
        Some([&self.tp[..], &self.fp[..], &self.fn_[..], &self.support[..]].concat())
    }
    fn merge_state(&mut self, state: &[f32]) -> Result<()> {
        super::state::add_into(
            &mut [&mut self.tp, &mut self.fp, &mut self.fn_, &mut self.support],
            state,
        )
    }

    fn boxed_clone(&self) -> Box<dyn StatefulMetric> {
        Box::new(self.clone())
    }
}
