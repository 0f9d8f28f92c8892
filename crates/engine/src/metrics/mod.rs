//! Metrics as stateful objects, as Keras 3 keeps them: `update_state` per batch (with sample weights),
//! `result`, `reset_state` at each epoch and evaluation (validation runs fresh twins). One family per file.
//!
//! ```
//! use rkeras_engine::metrics::Metric;
//! let mut m = Metric::from_name("mae")?;
//! let t = ndarray::arr2(&[[0.0f32, 1.0], [2.0, 2.0]]).into_dyn();
//! let p = ndarray::arr2(&[[1.0f32, 1.0], [2.0, 0.0]]).into_dyn();
//! m.update_state(&t, &p, None)?;
//! assert_eq!(m.result(), 0.75); // per sample 0.5 and 1.0
//! m.reset_state();
//! assert_eq!(m.result(), 0.0);
//! # Ok::<(), rkeras_engine::EngineError>(())
//! ```

mod accuracy;
mod at_constraint;
mod auc;
mod classes;
mod condition_count;
mod config;
mod confusion;
mod fbeta;
mod iou;
mod reduction;
mod regression;
mod state;
mod wrapper;

pub use at_constraint::{AtConstraint, Target};
pub use auc::{Auc, Curve, Summation};
pub use condition_count::{Condition, ConditionCount};
pub use confusion::Confusion;
pub use fbeta::{Average, FBetaScore};
pub use iou::MeanIoU;
pub use reduction::{Mean, Sum};
pub use wrapper::{MeanMetricWrapper, MetricFn};

pub use crate::labels::one_hot;

use crate::error::{EngineError, Result};
use crate::losses::{BinaryFocal, CategoricalFocal, Loss, LossKind};
use ndarray::ArrayD;

/// A metric's state: Keras's `update_state` / `result` / `reset_state`. Implement it for a custom metric.
pub trait StatefulMetric: Send + Sync {
    /// Adds a batch (`sample_weight`: one weight per sample).
    fn update_state(
        &mut self,
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        sample_weight: Option<&ArrayD<f32>>,
    ) -> Result<()>;
    /// The result so far (one value, or one per threshold or class).
    fn result(&self) -> Vec<f32>;
    /// Back to the state before any update.
    fn reset_state(&mut self);
    /// A copy (the engine's per-pass twins are copies of the compiled metric, reset).
    fn boxed_clone(&self) -> Box<dyn StatefulMetric>;
    /// The state as numbers that add up (totals, counts), for [`StatefulMetric::merge_state`]: a batch's
    /// shards (or ranks training together) each update a fresh copy, and the copies' states are merged in
    /// shard order instead of sending predictions around. `None` (the default): the metric cannot merge, and
    /// `fit` updates it with the whole batch's predictions.
    fn state(&self) -> Option<Vec<f32>> {
        None
    }
    /// Adds another copy's [`StatefulMetric::state`] to this one's, as Keras's `merge_state`.
    fn merge_state(&mut self, state: &[f32]) -> Result<()> {
        let _ = state;
        Err(EngineError::invalid(
            "state",
            "this metric does not implement `merge_state`",
        ))
    }
    /// Keras's class name and arguments (without `name` and `dtype`) for [`Metric::to_config`]; `None` for a
    /// metric known by its name alone.
    fn get_config(&self) -> Option<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        None
    }
}

/// A named metric: what `compile` resolves and the logs show.
pub struct Metric {
    /// The key in the logs (the name the user gave: `accuracy`, or `acc` for Keras 2 scripts).
    pub name: String,
    state: Box<dyn StatefulMetric>,
    /// Keras's `dtype` as given or read (`None`: the class's default); results are computed in f32.
    dtype: Option<serde_json::Value>,
}

impl Clone for Metric {
    fn clone(&self) -> Self {
        Metric {
            name: self.name.clone(),
            state: self.state.boxed_clone(),
            dtype: self.dtype.clone(),
        }
    }
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Metric {
    /// A metric from a state under a name (a custom metric, or a built-in one with arguments).
    pub fn new(name: &str, state: impl StatefulMetric + 'static) -> Metric {
        Metric::boxed(name, Box::new(state))
    }

    fn boxed(name: &str, state: Box<dyn StatefulMetric>) -> Metric {
        Metric {
            name: name.to_string(),
            state,
            dtype: None,
        }
    }

    /// A metric by Keras name, without a loss to resolve `"accuracy"` against (it is then exact-match
    /// `Accuracy`, as `keras.metrics.get("accuracy")`).
    pub fn from_name(name: &str) -> Result<Metric> {
        by_name(name, name).map(|state| Metric::boxed(name, state))
    }

    /// Resolves a metric name as `compile` does: `"accuracy"`/`"acc"` become binary, sparse categorical or
    /// categorical accuracy from the loss and the output width; the log key is the name given.
    pub fn resolve(name: &str, loss: &Loss, output_width: usize) -> Result<Metric> {
        let lookup = match name {
            "accuracy" | "acc" => match loss.kind() {
                LossKind::SparseCategoricalCrossentropy(_) => "sparse_categorical_accuracy",
                LossKind::BinaryCrossentropy(_) | LossKind::BinaryFocalCrossentropy(_) => {
                    "binary_accuracy"
                }
                _ if output_width == 1 => "binary_accuracy",
                _ => "categorical_accuracy",
            },
            other => other,
        };
        by_name(lookup, name).map(|state| Metric::boxed(name, state))
    }

    /// Adds a batch.
    pub fn update_state(
        &mut self,
        y_true: &ArrayD<f32>,
        y_pred: &ArrayD<f32>,
        sample_weight: Option<&ArrayD<f32>>,
    ) -> Result<()> {
        self.state.update_state(y_true, y_pred, sample_weight)
    }

    /// The (first) result as logged, widened to f64.
    pub fn result(&self) -> f64 {
        self.results().first().map_or(0.0, |&v| f64::from(v))
    }

    /// Every result value (one per threshold or class for vector metrics).
    pub fn results(&self) -> Vec<f32> {
        self.state.result()
    }

    /// Back to the state before any update.
    pub fn reset_state(&mut self) {
        self.state.reset_state();
    }

    /// The state as numbers that add up ([`StatefulMetric::state`]); `None` when the metric cannot merge.
    ///
    /// ```
    /// use rkeras_engine::metrics::Metric;
    /// let v = |x: &[f32]| ndarray::Array2::from_shape_vec((x.len(), 1), x.to_vec()).unwrap().into_dyn();
    /// let mut whole = Metric::from_name("mae")?;
    /// whole.update_state(&v(&[1.0, 0.0, 1.0]), &v(&[0.5, 0.0, 0.0]), None)?;
    /// // The batch in two shards, each updating a fresh copy, merged in order.
    /// let (mut first, mut second) = (Metric::from_name("mae")?, Metric::from_name("mae")?);
    /// first.update_state(&v(&[1.0, 0.0]), &v(&[0.5, 0.0]), None)?;
    /// second.update_state(&v(&[1.0]), &v(&[0.0]), None)?;
    /// first.merge_state(&second.state().unwrap())?;
    /// assert_eq!(first.state(), Some(vec![1.5, 3.0]));
    /// assert_eq!(first.result(), whole.result());
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn state(&self) -> Option<Vec<f32>> {
        self.state.state()
    }

    /// Adds another copy's [`Metric::state`] to this one's (Keras's `merge_state`).
    pub fn merge_state(&mut self, state: &[f32]) -> Result<()> {
        self.state.merge_state(state)
    }

    /// A reset copy (a pass's twin).
    pub(crate) fn fresh(&self) -> Metric {
        let mut twin = self.clone();
        twin.reset_state();
        twin
    }

    /// Writes the result into logs under Keras 3's key, `name`. Keras logs a vector result (one value per
    /// threshold or class) as one array under that key and its progress bar prints the array's mean; logs
    /// hold numbers, so `name` holds that mean and the values follow as `name_0`, `name_1`, ….
    pub(crate) fn log_into(&self, logs: &mut rkeras_callbacks::Logs, prefix: &str) {
        let values = self.results();
        if let [one] = values[..] {
            logs.insert(format!("{prefix}{}", self.name), f64::from(one));
        } else if !values.is_empty() {
            let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64;
            logs.insert(format!("{prefix}{}", self.name), mean);
            for (i, v) in values.iter().enumerate() {
                logs.insert(format!("{prefix}{}_{i}", self.name), f64::from(*v));
            }
        }
    }
}

/// The metric names `compile` accepts (Keras 3's function and class names).
pub const METRIC_NAMES: [&str; 69] = [
    "accuracy",
    "acc",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "mse",
    "mean_squared_error",
    "mae",
    "mean_absolute_error",
    "mape",
    "mean_absolute_percentage_error",
    "msle",
    "mean_squared_logarithmic_error",
    "root_mean_squared_error",
    "cosine_similarity",
    "log_cosh_error",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "kl_divergence",
    "poisson",
    "binary_crossentropy",
    "bce",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "auc",
    "precision",
    "recall",
    "f1_score",
    "mean",
    "sum",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "CosineSimilarity",
    "LogCoshError",
    "logcosh",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "KLDivergence",
    "Poisson",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "AUC",
    "Precision",
    "Recall",
    "F1Score",
    "Mean",
    "Sum",
    "true_positives",
    "true_negatives",
    "false_positives",
    "false_negatives",
    "TruePositives",
    "TrueNegatives",
    "FalsePositives",
    "FalseNegatives",
];

fn loss_metric(kind: LossKind) -> Result<Box<dyn StatefulMetric>> {
    let values = regression::loss_values(kind)?;
    Ok(Box::new(MeanMetricWrapper::new(
        move |t: &ArrayD<f32>, p: &ArrayD<f32>| values(t, p),
    )))
}

/// The state for a Keras name (function or class, each saved as its class); `given` is the name to echo in
/// an error.
fn by_name(name: &str, given: &str) -> Result<Box<dyn StatefulMetric>> {
    use classes::{loss_class, plain};
    let none = serde_json::Map::new;
    Ok(match name {
        "accuracy" | "acc" | "Accuracy" => plain("Accuracy", accuracy::accuracy),
        "binary_accuracy" | "BinaryAccuracy" => classes::binary_accuracy(0.5)?,
        "categorical_accuracy" | "CategoricalAccuracy" => {
            plain("CategoricalAccuracy", accuracy::categorical_accuracy)
        }
        "sparse_categorical_accuracy" | "SparseCategoricalAccuracy" => plain(
            "SparseCategoricalAccuracy",
            accuracy::sparse_categorical_accuracy,
        ),
        "top_k_categorical_accuracy" | "TopKCategoricalAccuracy" => classes::top_k(5)?,
        "sparse_top_k_categorical_accuracy" | "SparseTopKCategoricalAccuracy" => {
            classes::sparse_top_k(5, false)?
        }
        "mse" | "mean_squared_error" | "MeanSquaredError" => {
            loss_class("MeanSquaredError", LossKind::MeanSquaredError, none())?
        }
        "mae" | "mean_absolute_error" | "MeanAbsoluteError" => {
            loss_class("MeanAbsoluteError", LossKind::MeanAbsoluteError, none())?
        }
        "mape" | "mean_absolute_percentage_error" | "MeanAbsolutePercentageError" => loss_class(
            "MeanAbsolutePercentageError",
            LossKind::MeanAbsolutePercentageError,
            none(),
        )?,
        "msle" | "mean_squared_logarithmic_error" | "MeanSquaredLogarithmicError" => loss_class(
            "MeanSquaredLogarithmicError",
            LossKind::MeanSquaredLogarithmicError,
            none(),
        )?,
        "root_mean_squared_error" | "RootMeanSquaredError" => classes::root_mean_squared_error(),
        "cosine_similarity" | "CosineSimilarity" => classes::cosine_similarity(-1)?,
        "log_cosh_error" | "logcosh" | "LogCoshError" => {
            loss_class("LogCoshError", LossKind::LogCosh, none())?
        }
        "hinge" | "Hinge" => loss_class("Hinge", LossKind::Hinge, none())?,
        "squared_hinge" | "SquaredHinge" => {
            loss_class("SquaredHinge", LossKind::SquaredHinge, none())?
        }
        "categorical_hinge" | "CategoricalHinge" => {
            loss_class("CategoricalHinge", LossKind::CategoricalHinge, none())?
        }
        "kl_divergence" | "KLDivergence" => {
            loss_class("KLDivergence", LossKind::KLDivergence, none())?
        }
        "poisson" | "Poisson" => loss_class("Poisson", LossKind::Poisson, none())?,
        "binary_crossentropy" | "bce" | "BinaryCrossentropy" => {
            classes::binary_crossentropy(false, 0.0)?
        }
        "categorical_crossentropy" | "CategoricalCrossentropy" => {
            classes::categorical_crossentropy(false, 0.0, -1)?
        }
        "sparse_categorical_crossentropy" | "SparseCategoricalCrossentropy" => {
            classes::sparse_categorical_crossentropy(false, None, -1)?
        }
        "binary_focal_crossentropy" => {
            loss_metric(LossKind::BinaryFocalCrossentropy(BinaryFocal::default()))?
        }
        "categorical_focal_crossentropy" => loss_metric(LossKind::CategoricalFocalCrossentropy(
            CategoricalFocal::default(),
        ))?,
        "auc" | "AUC" => Box::new(Auc::new(200, Curve::Roc, Summation::Interpolation, false)?),
        "precision" | "Precision" => Box::new(Confusion::precision(None, None, None)?),
        "recall" | "Recall" => Box::new(Confusion::recall(None, None, None)?),
        "f1_score" | "F1Score" => Box::new(FBetaScore::f1(Average::PerClass, None)?),
        "mean" | "Mean" => Box::new(Mean::new()),
        "sum" | "Sum" => Box::new(Sum::new()),
        "true_positives" | "TruePositives" => {
            Box::new(ConditionCount::new(Condition::TruePositives, None)?)
        }
        "true_negatives" | "TrueNegatives" => {
            Box::new(ConditionCount::new(Condition::TrueNegatives, None)?)
        }
        "false_positives" | "FalsePositives" => {
            Box::new(ConditionCount::new(Condition::FalsePositives, None)?)
        }
        "false_negatives" | "FalseNegatives" => {
            Box::new(ConditionCount::new(Condition::FalseNegatives, None)?)
        }
        _ => {
            return Err(EngineError::UnknownName {
                kind: "metric",
                name: given.to_string(),
                valid: METRIC_NAMES.iter().map(|s| s.to_string()).collect(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr2;

    #[test]
    fn accuracy_resolves_from_the_loss() {
        let result = |name: &str, loss: &str, width, t: ArrayD<f32>, p: ArrayD<f32>| {
            let mut m = Metric::resolve(name, &Loss::from_name(loss).unwrap(), width).unwrap();
            m.update_state(&t, &p, None).unwrap();
            (m.name.clone(), m.result())
        };
        let p = arr2(&[[0.2f32, 0.8], [0.6, 0.4]]).into_dyn();
        // Categorical: argmax against argmax, logged under the name given.
        let onehot = arr2(&[[0.0f32, 1.0], [0.0, 1.0]]).into_dyn();
        assert_eq!(
            result("acc", "categorical_crossentropy", 2, onehot, p.clone()),
            ("acc".into(), 0.5)
        );
        // Sparse: ids against argmax.
        let ids = ndarray::arr1(&[1.0f32, 0.0]).into_dyn();
        assert_eq!(
            result("accuracy", "sparse_categorical_crossentropy", 2, ids, p),
            ("accuracy".into(), 1.0)
        );
        // Binary for a one-column output, whatever the loss.
        let t = arr2(&[[1.0f32], [0.0]]).into_dyn();
        let p1 = arr2(&[[0.7f32], [0.4]]).into_dyn();
        assert_eq!(result("accuracy", "mse", 1, t, p1).1, 1.0);
        let err = Metric::resolve("acuracy", &Loss::from_name("mse").unwrap(), 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("acuracy") && err.contains("accuracy"), "{err}");
    }

    #[test]
    fn sparse_accuracy_accumulates_over_batches() {
        let mut m = Metric::resolve(
            "accuracy",
            &Loss::from_name("sparse_categorical_crossentropy").unwrap(),
            2,
        )
        .unwrap();
        let pred = arr2(&[[0.1f32, 0.9], [0.8, 0.2], [0.3, 0.7]]).into_dyn();
        let ids = ndarray::arr1(&[1.0f32, 1.0, 1.0]).into_dyn();
        m.update_state(&ids, &pred, None).unwrap();
        assert_eq!(m.result(), f64::from(2.0f32 / 3.0));
        m.update_state(
            &ids,
            &pred,
            Some(&ndarray::arr1(&[0.0f32, 1.0, 0.0]).into_dyn()),
        )
        .unwrap();
        assert_eq!(m.result(), f64::from(2.0f32 / 4.0));
        assert_eq!(m.fresh().result(), 0.0);
    }

    #[test]
    fn one_hot_checks_labels() {
        let labels = ndarray::arr1(&[2.0f32, 0.0]).into_dyn();
        assert_eq!(
            one_hot(&labels, 3).unwrap(),
            arr2(&[[0.0f32, 0.0, 1.0], [1.0, 0.0, 0.0]]).into_dyn()
        );
        assert!(one_hot(&ndarray::arr1(&[3.0f32]).into_dyn(), 3).is_err());
    }
}
