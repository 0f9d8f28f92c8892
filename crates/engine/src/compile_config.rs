//! [`CompileConfig`]: `compile`'s loss, `loss_weights` and metrics for models with one or several outputs,
//! as Keras takes them (one for all, a list by position, a map by output name).

use crate::losses::Loss;
use crate::metrics::Metric;

/// A loss as `compile` takes it: a Keras name (resolved, and checked, at `compile`) or a [`Loss`].
#[derive(Debug, Clone)]
pub enum LossArg {
    /// A Keras name (`"mse"`, `"sparse_categorical_crossentropy"`, …).
    Name(String),
    /// A loss value (a custom loss, say).
    Loss(Loss),
}

impl From<&str> for LossArg {
    fn from(name: &str) -> Self {
        LossArg::Name(name.to_string())
    }
}

impl From<String> for LossArg {
    fn from(name: String) -> Self {
        LossArg::Name(name)
    }
}

impl From<Loss> for LossArg {
    fn from(loss: Loss) -> Self {
        LossArg::Loss(loss)
    }
}

/// A metric as `compile` takes it: a Keras name (`"accuracy"`, resolved against the output's loss) or a
/// [`Metric`] object with its arguments (`Precision(thresholds=[0.3, 0.6])`, `AUC(curve="PR")`, …), saved in
/// Keras's config form.
#[derive(Debug, Clone)]
pub enum MetricArg {
    /// A Keras name.
    Name(String),
    /// A metric object, logged under its name.
    Metric(Metric),
}

impl MetricArg {
    /// The key the metric is logged under (before any output prefix).
    pub fn name(&self) -> &str {
        match self {
            MetricArg::Name(n) => n,
            MetricArg::Metric(m) => &m.name,
        }
    }
}

impl From<&str> for MetricArg {
    fn from(name: &str) -> Self {
        MetricArg::Name(name.to_string())
    }
}

impl From<String> for MetricArg {
    fn from(name: String) -> Self {
        MetricArg::Name(name)
    }
}

impl From<Metric> for MetricArg {
    fn from(metric: Metric) -> Self {
        MetricArg::Metric(metric)
    }
}

/// One value for all outputs, one per output in the model's output order, or one per output name.
#[derive(Debug, Clone)]
pub enum PerOutput<T> {
    /// Keras's single value (`loss="mse"`; for metrics, a flat list).
    All(T),
    /// Keras's list, one entry per output in order.
    List(Vec<T>),
    /// Keras's dict, keyed by output (layer) name; outputs left out get nothing.
    ByName(Vec<(String, T)>),
}

/// What `compile` takes besides the optimizer (Keras's `loss`, `loss_weights` and `metrics`).
///
/// ```
/// use rkeras_engine::{CompileConfig, Model};
/// use rkeras_layers::{Dense, Input, LayerCall};
/// let x = Input::new(&[3]);
/// let cls = Dense::new(2).with_activation("softmax")?.with_name("cls").call(&x)?;
/// let reg = Dense::new(1).with_name("reg").call(&x)?;
/// let mut model = Model::with_outputs(&[x], &[cls, reg])?;
/// let config = CompileConfig::losses_by_name([("cls", "sparse_categorical_crossentropy"), ("reg", "mse")])
///     .loss_weights_by_name([("cls", 1.0), ("reg", 0.5)])
///     .metrics_by_name([("cls", &["accuracy"][..]), ("reg", &["mae"][..])]);
/// model.compile_with("sgd", config)?;
/// assert_eq!(model.metrics_names(), ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"]);
/// // A name that is not an output is an error at compile, not at the first step.
/// let wrong = CompileConfig::losses_by_name([("cls", "mse"), ("regression", "mse")]);
/// assert!(model.compile_with("sgd", wrong).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CompileConfig {
    /// Keras's `loss`.
    pub loss: PerOutput<LossArg>,
    /// Keras's `loss_weights` (`None`: 1 for every output). `All` is taken only by a single-output model.
    pub loss_weights: Option<PerOutput<f32>>,
    /// Keras's `metrics`: `All` is a flat list (all metrics of a single-output model, or exactly one per
    /// output, as Keras 3 reads a flat list for several outputs); `List`/`ByName` give each output its list.
    pub metrics: PerOutput<Vec<MetricArg>>,
}

fn names(metrics: &[&str]) -> Vec<MetricArg> {
    metrics.iter().map(|&m| m.into()).collect()
}

impl CompileConfig {
    /// One loss for every output (Keras's `loss="mse"`), no metrics.
    pub fn new(loss: impl Into<LossArg>) -> Self {
        CompileConfig {
            loss: PerOutput::All(loss.into()),
            loss_weights: None,
            metrics: PerOutput::All(Vec::new()),
        }
    }

    /// One loss per output, in output order (Keras's `loss=[...]`).
    pub fn losses<L: Into<LossArg>>(losses: impl IntoIterator<Item = L>) -> Self {
        CompileConfig {
            loss: PerOutput::List(losses.into_iter().map(Into::into).collect()),
            ..CompileConfig::new("mse")
        }
    }

    /// One loss per output name (Keras's `loss={...}`); every output needs one.
    pub fn losses_by_name<'n, L: Into<LossArg>>(
        losses: impl IntoIterator<Item = (&'n str, L)>,
    ) -> Self {
        CompileConfig {
            loss: PerOutput::ByName(
                losses
                    .into_iter()
                    .map(|(n, l)| (n.to_string(), l.into()))
                    .collect(),
            ),
            ..CompileConfig::new("mse")
        }
    }

    /// `loss_weights` by position.
    pub fn loss_weights(mut self, weights: &[f32]) -> Self {
        self.loss_weights = Some(PerOutput::List(weights.to_vec()));
        self
    }

    /// `loss_weights` by output name.
    pub fn loss_weights_by_name<'n>(
        mut self,
        weights: impl IntoIterator<Item = (&'n str, f32)>,
    ) -> Self {
        self.loss_weights = Some(PerOutput::ByName(
            weights
                .into_iter()
                .map(|(n, w)| (n.to_string(), w))
                .collect(),
        ));
        self
    }

    /// A flat metric list (Keras's `metrics=["accuracy"]`).
    pub fn metrics(mut self, metrics: &[&str]) -> Self {
        self.metrics = PerOutput::All(names(metrics));
        self
    }

    /// A flat list of metric names and objects (Keras's `metrics=["accuracy", Precision(thresholds=0.3)]`).
    ///
    /// ```
    /// use rkeras_engine::metrics::{Confusion, Metric};
    /// use rkeras_engine::{CompileConfig, Model};
    /// use rkeras_layers::{Dense, Input, LayerCall};
    /// let x = Input::new(&[3]);
    /// let mut model = Model::new(&[x.clone()], &Dense::new(1).with_activation("sigmoid")?.call(&x)?)?;
    /// let precision = Metric::new("precision", Confusion::precision(Some(vec![0.3, 0.6]), None, None)?);
    /// model.compile_with("sgd", CompileConfig::new("binary_crossentropy").metric_list(["accuracy".into(), precision.into()]))?;
    /// assert_eq!(model.metrics_names(), ["loss", "accuracy", "precision"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metric_list(mut self, metrics: impl IntoIterator<Item = MetricArg>) -> Self {
        self.metrics = PerOutput::All(metrics.into_iter().collect());
        self
    }

    /// One metric list per output, in output order (Keras's `metrics=[["accuracy"], ["mae"]]`).
    pub fn metrics_per_output(mut self, metrics: &[&[&str]]) -> Self {
        self.metrics = PerOutput::List(metrics.iter().map(|m| names(m)).collect());
        self
    }

    /// One list of metric names and objects per output, in output order (Keras's
    /// `metrics=[["accuracy", BinaryAccuracy(threshold=0.7)], ["mae"]]`).
    pub fn metric_lists(mut self, metrics: impl IntoIterator<Item = Vec<MetricArg>>) -> Self {
        self.metrics = PerOutput::List(metrics.into_iter().collect());
        self
    }

    /// Lists of metric names and objects by output name (Keras's
    /// `metrics={"cls": ["accuracy", SparseTopKCategoricalAccuracy(k=2)]}`); outputs left out get none.
    ///
    /// ```
    /// use rkeras_engine::metrics::Metric;
    /// use rkeras_engine::{CompileConfig, Model};
    /// use rkeras_layers::{Dense, Input, LayerCall};
    /// let x = Input::new(&[3]);
    /// let cls = Dense::new(3).with_activation("softmax")?.with_name("cls").call(&x)?;
    /// let bin = Dense::new(1).with_activation("sigmoid")?.with_name("bin").call(&x)?;
    /// let mut model = Model::with_outputs(&[x], &[cls, bin])?;
    /// let config = CompileConfig::losses_by_name([("cls", "sparse_categorical_crossentropy"), ("bin", "binary_crossentropy")])
    ///     .metric_lists_by_name([
    ///         ("cls", vec!["accuracy".into(), Metric::sparse_top_k_categorical_accuracy(2, false)?.named("top2").into()]),
    ///         ("bin", vec![Metric::binary_accuracy(0.7)?.named("ba7").into()]),
    ///     ]);
    /// model.compile_with("sgd", config)?;
    /// assert_eq!(model.metrics_names(), ["loss", "cls_loss", "bin_loss", "cls_accuracy", "cls_top2", "bin_ba7"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metric_lists_by_name<'n>(
        mut self,
        metrics: impl IntoIterator<Item = (&'n str, Vec<MetricArg>)>,
    ) -> Self {
        self.metrics = PerOutput::ByName(
            metrics
                .into_iter()
                .map(|(n, m)| (n.to_string(), m))
                .collect(),
        );
        self
    }

    /// Metric lists by output name (Keras's `metrics={"cls": ["accuracy"]}`); outputs left out get none.
    pub fn metrics_by_name<'n, 'm>(
        mut self,
        metrics: impl IntoIterator<Item = (&'n str, &'m [&'m str])>,
    ) -> Self {
        self.metrics = PerOutput::ByName(
            metrics
                .into_iter()
                .map(|(n, m)| (n.to_string(), names(m)))
                .collect(),
        );
        self
    }
}
