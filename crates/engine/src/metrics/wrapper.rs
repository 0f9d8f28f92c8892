//! Keras's `MeanMetricWrapper`: a function of `(y_true, y_pred)` giving values, averaged by a [`Mean`].

use super::StatefulMetric;
use super::reduction::Mean;
use crate::error::Result;
use ndarray::ArrayD;
use serde_json::{Map, Value};
use std::sync::Arc;

/// A metric function: values of shape `[batch, …]` (averaged per sample, then over samples).
pub type MetricFn = Arc<dyn Fn(&ArrayD<f32>, &ArrayD<f32>) -> Result<ArrayD<f32>> + Send + Sync>;

/// A function's running weighted mean, as Keras's `MeanMetricWrapper`.
#[derive(Clone)]
pub struct MeanMetricWrapper {
    function: MetricFn,
    mean: Mean,
    /// A post-processing of the mean (the square root of `RootMeanSquaredError`).
    finish: Option<fn(f32) -> f32>,
    /// Keras's class and arguments, for a function with arguments (top-k's `k`).
    config: Option<(&'static str, Map<String, Value>)>,
}

impl MeanMetricWrapper {
    /// Wraps a function.
    pub fn new(
        function: impl Fn(&ArrayD<f32>, &ArrayD<f32>) -> Result<ArrayD<f32>> + Send + Sync + 'static,
    ) -> Self {
        MeanMetricWrapper {
            function: Arc::new(function),
            mean: Mean::new(),
            finish: None,
            config: None,
        }
    }

    /// The same with a post-processing of the mean.
    pub(crate) fn finished_by(mut self, finish: fn(f32) -> f32) -> Self {
        self.finish = Some(finish);
        self
    }

    /// The same, saved as Keras's `class` with `args` (see [`StatefulMetric::get_config`]).
    pub(crate) fn configured(mut self, class: &'static str, args: Map<String, Value>) -> Self {
        self.config = Some((class, args));
        self
    }
}

impl StatefulMetric for MeanMetricWrapper {
    fn update_state(
        &mut self,
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        w: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        let values = (self.function)(y_true, y_pred)?;
        self.mean.update_values(&values, w)
    }
    fn result(&self) -> Vec<f32> {
        let v = self.mean.value();
        vec![self.finish.map_or(v, |f| f(v))]
    }
    fn reset_state(&mut self) {
        self.mean = Mean::new();
    }
    fn state(&self) -> Option<Vec<f32>> {
        self.mean.state()
    }
    fn merge_state(&mut self, state: &[f32]) -> Result<()> {
        self.mean.merge_state(state)
    }

    fn boxed_clone(&self) -> Box<dyn StatefulMetric> {
        Box::new(self.clone())
    }

    fn get_config(&self) -> Option<(&'static str, Map<String, Value>)> {
        self.config.clone()
    }
}
