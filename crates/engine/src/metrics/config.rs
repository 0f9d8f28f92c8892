//! Keras's config form of a metric, `{"module": "keras.metrics", "class_name": …, "config": {…}}`, both ways.

use super::{
    AtConstraint, Auc, Condition, ConditionCount, Confusion, Curve, FBetaScore, MeanIoU, Metric,
    StatefulMetric, Summation, Target, classes,
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

/// The classes [`Metric::from_config`] rebuilds.
const CONFIG_CLASSES: [&str; 41] = [
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "CosineSimilarity",
    "LogCoshError",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "KLDivergence",
    "Poisson",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "F1Score",
    "FBetaScore",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanIoU",
    "IoU",
    "BinaryIoU",
    "OneHotIoU",
    "OneHotMeanIoU",
    "Mean",
    "Sum",
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
    /// Keras's serialised form (`keras.metrics.serialize(metric)`): every built-in metric class with its
    /// arguments, `name` and `dtype`; a custom metric without a config form is an error naming it.
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
        if let Some(dtype) = self.dtype_value() {
            config.insert("dtype".into(), dtype.clone());
        }
        Ok(
            json!({"module": "keras.metrics", "class_name": class, "config": config, "registered_name": null}),
        )
    }

    /// A metric from Keras's serialised form, or from a name string. A class without arguments
    /// (`{"class_name": "Hinge", "config": {"name": …, "dtype": …}}`) is built by name; unknown classes and
    /// arguments are errors naming them.
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
            "MeanIoU" | "IoU" | "BinaryIoU" | "OneHotIoU" | "OneHotMeanIoU" => {
                Box::new(iou(&args)?)
            }
            "F1Score" | "FBetaScore" => Box::new(fbeta(&args)?),
            "TopKCategoricalAccuracy" => {
                args.only(&["k"])?;
                classes::top_k(args.count("k")?.unwrap_or(5))?
            }
            "SparseTopKCategoricalAccuracy" => {
                args.only(&["k", "from_sorted_ids"])?;
                classes::sparse_top_k(args.count("k")?.unwrap_or(5), args.flag("from_sorted_ids")?)?
            }
            "BinaryAccuracy" => {
                args.only(&["threshold"])?;
                classes::binary_accuracy(args.number("threshold")?.unwrap_or(0.5) as f32)?
            }
            "CosineSimilarity" => {
                args.only(&["axis"])?;
                classes::cosine_similarity(args.axis()?)?
            }
            "BinaryCrossentropy" => {
                args.only(&["from_logits", "label_smoothing"])?;
                classes::binary_crossentropy(
                    args.flag("from_logits")?,
                    args.number("label_smoothing")?.unwrap_or(0.0) as f32,
                )?
            }
            "CategoricalCrossentropy" => {
                args.only(&["from_logits", "label_smoothing", "axis"])?;
                classes::categorical_crossentropy(
                    args.flag("from_logits")?,
                    args.number("label_smoothing")?.unwrap_or(0.0) as f32,
                    args.axis()?,
                )?
            }
            "SparseCategoricalCrossentropy" => {
                args.only(&["from_logits", "ignore_class", "axis"])?;
                classes::sparse_categorical_crossentropy(
                    args.flag("from_logits")?,
                    args.integer("ignore_class")?,
                    args.axis()?,
                )?
            }
            _ if config.keys().all(|k| k == "name" || k == "dtype") => {
                Metric::from_name(class).map_err(|_| unknown(class))?.state
            }
            _ => return Err(unknown(class)),
        };
        let dtype = config.get("dtype").cloned().unwrap_or(Value::Null);
        Metric::boxed(&name, state).with_dtype_value(dtype)
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
        kind: "metric class",
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

/// The IoU family: `MeanIoU`, `IoU`, `BinaryIoU`, `OneHotIoU`, `OneHotMeanIoU`.
fn iou(args: &Args) -> Result<MeanIoU> {
    let class = args.class;
    if class == "BinaryIoU" {
        args.only(&["target_class_ids", "threshold"])?;
        let ids = args.ids("target_class_ids")?.unwrap_or_else(|| vec![0, 1]);
        return MeanIoU::binary(ids, args.number("threshold")?.unwrap_or(0.5) as f32);
    }
    let targeted = matches!(class, "IoU" | "OneHotIoU");
    let one_hot = class.starts_with("OneHot");
    let mut allowed = vec!["num_classes", "ignore_class", "sparse_y_pred", "axis"];
    if targeted {
        allowed.push("target_class_ids");
    }
    if !one_hot {
        allowed.push("sparse_y_true");
    }
    args.only(&allowed)?;
    if let Some(axis) = args.present("axis")
        && axis.as_i64() != Some(-1)
    {
        return Err(EngineError::invalid(
            "axis",
            format!("{class} reads classes on the last axis only (axis=-1); got axis={axis}"),
        ));
    }
    let ignore_class = args.integer("ignore_class")?;
    let flag = |key: &str, default: bool| -> Result<bool> {
        args.present(key)
            .map_or(Ok(default), |v| v.as_bool().ok_or_else(|| args.bad(key, v)))
    };
    let num_classes = args
        .count("num_classes")?
        .ok_or_else(|| args.missing("num_classes"))?;
    let sparse_y_pred = flag("sparse_y_pred", !one_hot)?;
    let ids = || {
        args.ids("target_class_ids")?
            .ok_or_else(|| args.missing("target_class_ids"))
    };
    match class {
        "IoU" => MeanIoU::iou(
            num_classes,
            ids()?,
            ignore_class,
            flag("sparse_y_true", true)?,
            sparse_y_pred,
        ),
        "OneHotIoU" => MeanIoU::one_hot_iou(num_classes, ids()?, ignore_class, sparse_y_pred),
        "OneHotMeanIoU" => MeanIoU::one_hot_mean_iou(num_classes, ignore_class, sparse_y_pred),
        _ => MeanIoU::new(
            num_classes,
            ignore_class,
            flag("sparse_y_true", true)?,
            sparse_y_pred,
        ),
    }
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

    fn integer(&self, key: &str) -> Result<Option<i64>> {
        self.present(key)
            .map(|v| v.as_i64().ok_or_else(|| self.bad(key, v)))
            .transpose()
    }

    /// `axis`, −1 when absent.
    fn axis(&self) -> Result<isize> {
        Ok(self.integer("axis")?.map_or(-1, |a| a as isize))
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

    /// A list of class ids.
    fn ids(&self, key: &str) -> Result<Option<Vec<usize>>> {
        self.present(key)
            .map(|v| {
                v.as_array()
                    .and_then(|items| {
                        items
                            .iter()
                            .map(|x| x.as_u64().map(|n| n as usize))
                            .collect()
                    })
                    .ok_or_else(|| self.bad(key, v))
            })
            .transpose()
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
