//! Keras's config form of a metric, `{"module": "keras.metrics", "class_name": …, "config": {…}}`, both ways.

use super::{
    AtConstraint, Auc, Condition, ConditionCount, Confusion, Curve, FBetaScore, MeanIoU, Metric,
    StatefulMetric, Summation, Target,
};
use crate::error::{EngineError, Result};
use serde_json::{Map, Value, json};

/// An f32 argument as its shortest decimal (0.3, not 0.30000001192092896), as Keras writes Python floats.
pub(crate) fn short(value: f32) -> Value {
    value
        .to_string()
        .parse::<f64>()
        .map_or(Value::Null, |v| json!(v))
}

/// Thresholds as Keras's config holds them: `null` for the default, a number for one, else a list.
pub(crate) fn thresholds_value(given: Option<&[f32]>) -> Value {
    match given {
        None => Value::Null,
        Some([one]) => short(*one),
        Some(list) => list.iter().map(|&v| short(v)).collect(),
    }
}

/// The classes [`Metric::from_config`] rebuilds with their arguments.
const CONFIG_CLASSES: [&str; 16] = [
    "F1Score",
    "FBetaScore",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanIoU",
    "Precision",
    "Recall",
    "TruePositives",
    "TrueNegatives",
    "FalsePositives",
    "FalseNegatives",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "AUC",
];

impl Metric {
    /// Keras's serialised form (`keras.metrics.serialize(metric)`), for the metrics that have arguments
    /// (confusion counts, the constrained rates, `AUC`); others are an error naming the metric.
    ///
    /// ```
    /// use rkeras_engine::metrics::Metric;
    /// let config = serde_json::json!({"module": "keras.metrics", "class_name": "PrecisionAtRecall",
    ///     "config": {"name": "p_at_r", "dtype": "float32", "class_id": 1, "num_thresholds": 50, "recall": 0.8},
    ///     "registered_name": null});
    /// let m = Metric::from_config(&config)?;
    /// assert_eq!(m.name, "p_at_r");
    /// assert_eq!(m.to_config()?, config);
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn to_config(&self) -> Result<Value> {
        let Some((class, args)) = self.state.get_config() else {
            return Err(EngineError::invalid(
                "metric",
                format!("metric `{}` has no config form; give it by name", self.name),
            ));
        };
        let mut config = Map::new();
        config.insert("name".into(), json!(self.name));
        config.insert("dtype".into(), json!("float32"));
        config.extend(args);
        Ok(
            json!({"module": "keras.metrics", "class_name": class, "config": config, "registered_name": null}),
        )
    }

    /// A metric from Keras's serialised form, or from a name string. A class without arguments rkeras reads
    /// (`{"class_name": "Precision", "config": {"name": …}}`) is built by name; unknown classes and arguments
    /// are errors naming them.
    pub fn from_config(value: &Value) -> Result<Metric> {
        if let Some(name) = value.as_str() {
            return Metric::from_name(name);
        }
        let class = value
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                EngineError::invalid("metric", format!("not a metric config: {value}"))
            })?;
        let empty = Map::new();
        let config = value
            .get("config")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let args = Args { class, config };
        let name = config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(class)
            .to_string();
        let state: Box<dyn StatefulMetric> = match class {
            "TruePositives" | "TrueNegatives" | "FalsePositives" | "FalseNegatives" => {
                args.only(&["thresholds"])?;
                let condition = match class {
                    "TruePositives" => Condition::TruePositives,
                    "TrueNegatives" => Condition::TrueNegatives,
                    "FalsePositives" => Condition::FalsePositives,
                    _ => Condition::FalseNegatives,
                };
                Box::new(ConditionCount::new(condition, args.floats("thresholds")?)?)
            }
            "Precision" | "Recall" => {
                args.only(&["thresholds", "top_k", "class_id"])?;
                let make = if class == "Precision" {
                    Confusion::precision
                } else {
                    Confusion::recall
                };
                Box::new(make(
                    args.floats("thresholds")?,
                    args.count("top_k")?,
                    args.count("class_id")?,
                )?)
            }
            "PrecisionAtRecall"
            | "RecallAtPrecision"
            | "SensitivityAtSpecificity"
            | "SpecificityAtSensitivity" => {
                let target = match class {
                    "PrecisionAtRecall" => Target::PrecisionAtRecall,
                    "RecallAtPrecision" => Target::RecallAtPrecision,
                    "SensitivityAtSpecificity" => Target::SensitivityAtSpecificity,
                    _ => Target::SpecificityAtSensitivity,
                };
                args.only(&["class_id", "num_thresholds", target.argument()])?;
                let value = args
                    .number(target.argument())?
                    .ok_or_else(|| args.missing(target.argument()))?;
                Box::new(AtConstraint::new(
                    target,
                    value as f32,
                    args.count("num_thresholds")?.unwrap_or(200),
                    args.count("class_id")?,
                )?)
            }
            "AUC" => Box::new(auc(&args)?),
            "MeanIoU" => Box::new(mean_iou(&args)?),
            "F1Score" | "FBetaScore" => Box::new(fbeta(&args)?),
            "TopKCategoricalAccuracy" | "SparseTopKCategoricalAccuracy" => {
                args.only(&["k"])?;
                let metric = if class == "TopKCategoricalAccuracy" {
                    "top_k_categorical_accuracy"
                } else {
                    "sparse_top_k_categorical_accuracy"
                };
                Metric::with_top_k(metric, args.count("k")?.unwrap_or(5))?.state
            }
            _ if config.keys().all(|k| k == "name" || k == "dtype") => {
                let mut m = Metric::from_name(class).map_err(|_| unknown(class))?;
                m.name = name;
                return Ok(m);
            }
            _ => return Err(unknown(class)),
        };
        Ok(Metric { name, state })
    }
}

/// `F1Score(average, threshold)` or `FBetaScore(average, beta, threshold)`.
fn fbeta(args: &Args) -> Result<FBetaScore> {
    let f1 = args.class == "F1Score";
    args.only(if f1 {
        &["average", "threshold"]
    } else {
        &["average", "beta", "threshold"]
    })?;
    let average = match args.present("average") {
        None => None,
        Some(v) => Some(v.as_str().ok_or_else(|| args.bad("average", v))?),
    };
    let average = FBetaScore::average_from_name(average)?;
    let threshold = args.number("threshold")?.map(|t| t as f32);
    if f1 {
        FBetaScore::f1(average, threshold)
    } else {
        let beta = args.number("beta")?.unwrap_or(1.0) as f32;
        FBetaScore::new(average, beta, threshold)
    }
}

fn unknown(class: &str) -> EngineError {
    EngineError::UnknownName {
        kind: "metric class with arguments",
        name: class.to_string(),
        valid: CONFIG_CLASSES.iter().map(|s| s.to_string()).collect(),
    }
}

fn auc(args: &Args) -> Result<Auc> {
    args.only(&[
        "num_thresholds",
        "curve",
        "summation_method",
        "multi_label",
        "num_labels",
        "label_weights",
        "from_logits",
        "thresholds",
    ])?;
    let curve = match args.config.get("curve").and_then(Value::as_str) {
        Some(c) => Auc::curve_from_name(c)?,
        None => Curve::Roc,
    };
    let summation = match args.config.get("summation_method").and_then(Value::as_str) {
        Some(s) => Auc::summation_from_name(s)?,
        None => Summation::Interpolation,
    };
    let from_logits = args.flag("from_logits")?;
    let mut auc = match args.floats("thresholds")? {
        Some(t) => Auc::with_thresholds(t, curve, summation, from_logits)?,
        None => Auc::new(
            args.count("num_thresholds")?.unwrap_or(200),
            curve,
            summation,
            from_logits,
        )?,
    };
    let num_labels = args.count("num_labels")?;
    if args.flag("multi_label")? {
        auc = auc.multi_label(num_labels)?;
    } else if num_labels.is_some() {
        return Err(EngineError::invalid(
            "num_labels",
            "`num_labels` is needed only when `multi_label` is True.",
        ));
    }
    // Keras writes a tensor as {"class_name": "__tensor__", "config": {"value": […]}}.
    let weights = match args.config.get("label_weights") {
        Some(Value::Object(t)) => t.get("config").and_then(|c| c.get("value")),
        other => other,
    };
    if let Some(w) = weights.filter(|w| !w.is_null()) {
        auc = auc.label_weights(floats(w).ok_or_else(|| args.bad("label_weights", w))?)?;
    }
    Ok(auc)
}

fn mean_iou(args: &Args) -> Result<MeanIoU> {
    args.only(&[
        "num_classes",
        "ignore_class",
        "sparse_y_true",
        "sparse_y_pred",
        "axis",
    ])?;
    if let Some(axis) = args.present("axis")
        && axis.as_i64() != Some(-1)
    {
        return Err(EngineError::invalid(
            "axis",
            format!("MeanIoU reads classes on the last axis only (axis=-1); got axis={axis}"),
        ));
    }
    let ignore_class = match args.present("ignore_class") {
        Some(v) => Some(v.as_i64().ok_or_else(|| args.bad("ignore_class", v))?),
        None => None,
    };
    let sparse = |key: &str| -> Result<bool> {
        args.present(key)
            .map_or(Ok(true), |v| v.as_bool().ok_or_else(|| args.bad(key, v)))
    };
    MeanIoU::new(
        args.count("num_classes")?
            .ok_or_else(|| args.missing("num_classes"))?,
        ignore_class,
        sparse("sparse_y_true")?,
        sparse("sparse_y_pred")?,
    )
}

/// A config's arguments, read with errors that name the class and the argument.
struct Args<'a> {
    class: &'a str,
    config: &'a Map<String, Value>,
}

impl Args<'_> {
    fn only(&self, allowed: &[&str]) -> Result<()> {
        match self
            .config
            .keys()
            .find(|k| !matches!(k.as_str(), "name" | "dtype") && !allowed.contains(&k.as_str()))
        {
            Some(k) => Err(EngineError::invalid(
                k,
                format!("{} does not take the argument `{k}`", self.class),
            )),
            None => Ok(()),
        }
    }

    fn bad(&self, key: &str, v: &Value) -> EngineError {
        EngineError::invalid(key, format!("{}: bad `{key}` {v}", self.class))
    }

    fn missing(&self, key: &str) -> EngineError {
        EngineError::invalid(
            key,
            format!("{} is missing the required argument `{key}`", self.class),
        )
    }

    fn present(&self, key: &str) -> Option<&Value> {
        self.config.get(key).filter(|v| !v.is_null())
    }

    fn number(&self, key: &str) -> Result<Option<f64>> {
        self.present(key)
            .map(|v| v.as_f64().ok_or_else(|| self.bad(key, v)))
            .transpose()
    }

    fn count(&self, key: &str) -> Result<Option<usize>> {
        self.present(key)
            .map(|v| {
                v.as_u64()
                    .map(|n| n as usize)
                    .ok_or_else(|| self.bad(key, v))
            })
            .transpose()
    }

    fn flag(&self, key: &str) -> Result<bool> {
        self.present(key)
            .map_or(Ok(false), |v| v.as_bool().ok_or_else(|| self.bad(key, v)))
    }

    /// One number or a list of numbers.
    fn floats(&self, key: &str) -> Result<Option<Vec<f32>>> {
        self.present(key)
            .map(|v| floats(v).ok_or_else(|| self.bad(key, v)))
            .transpose()
    }
}

fn floats(v: &Value) -> Option<Vec<f32>> {
    match v {
        Value::Array(items) => items.iter().map(|x| x.as_f64().map(|x| x as f32)).collect(),
        other => other.as_f64().map(|x| vec![x as f32]),
    }
}
