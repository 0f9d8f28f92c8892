//! `TruePositives`, `TrueNegatives`, `FalsePositives`, `FalseNegatives`: weighted confusion counts at one or
//! several thresholds (Keras's `_ConfusionMatrixConditionCount`).

use super::StatefulMetric;
use super::confusion::{Counts, Selection, check_thresholds};
use crate::error::Result;
use ndarray::ArrayD;
use serde_json::{Map, Value};

/// Which count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Label positive, prediction above the threshold (`"TruePositives"`).
    TruePositives,
    /// Label negative, prediction at or below the threshold (`"TrueNegatives"`).
    TrueNegatives,
    /// Label negative, prediction above the threshold (`"FalsePositives"`).
    FalsePositives,
    /// Label positive, prediction at or below the threshold (`"FalseNegatives"`).
    FalseNegatives,
}

impl Condition {
    /// Keras's class name.
    pub fn class_name(self) -> &'static str {
        match self {
            Condition::TruePositives => "TruePositives",
            Condition::TrueNegatives => "TrueNegatives",
            Condition::FalsePositives => "FalsePositives",
            Condition::FalseNegatives => "FalseNegatives",
        }
    }
}

/// Keras's `TruePositives(thresholds=None)` and its three siblings: the weighted count per threshold (default
/// one threshold, 0.5). A label is positive when non-zero, a prediction when above the threshold.
///
/// ```
/// use rkeras_engine::metrics::{Condition, ConditionCount};
/// use rkeras_engine::StatefulMetric;
/// let mut fp = ConditionCount::new(Condition::FalsePositives, Some(vec![0.3, 0.6]))?;
/// let t = ndarray::arr1(&[0.0f32, 0.0, 1.0]).into_dyn();
/// let p = ndarray::arr1(&[0.5f32, 0.9, 0.1]).into_dyn();
/// fp.update_state(&t, &p, Some(&ndarray::arr1(&[2.0f32, 1.0, 1.0]).into_dyn()))?;
/// assert_eq!(fp.result(), vec![3.0, 1.0]);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ConditionCount {
    condition: Condition,
    /// `None`: Keras's default (`thresholds=None`, 0.5).
    given: Option<Vec<f32>>,
    thresholds: Vec<f32>,
    counts: Counts,
}

impl ConditionCount {
    /// The count of `condition` at `thresholds` (each in `[0, 1]`; `None` is 0.5).
    pub fn new(condition: Condition, thresholds: Option<Vec<f32>>) -> Result<ConditionCount> {
        let list = thresholds.clone().unwrap_or_else(|| vec![0.5]);
        check_thresholds(&list)?;
        Ok(ConditionCount {
            condition,
            given: thresholds,
            counts: Counts::new(list.len()),
            thresholds: list,
        })
    }

    /// Which count this is.
    pub fn condition(&self) -> Condition {
        self.condition
    }
}

impl StatefulMetric for ConditionCount {
    fn update_state(
        &mut self,
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        w: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        self.counts
            .update(&self.thresholds, y_true, y_pred, w, Selection::default())
    }

    fn result(&self) -> Vec<f32> {
        let c = &self.counts;
        match self.condition {
            Condition::TruePositives => c.tp.clone(),
            Condition::TrueNegatives => c.tn.clone(),
            Condition::FalsePositives => c.fp.clone(),
            Condition::FalseNegatives => c.fn_.clone(),
        }
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
        Some((self.condition.class_name(), config))
    }
}
