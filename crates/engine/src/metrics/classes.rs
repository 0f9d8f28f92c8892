//! Keras's function-wrapping metric classes as constructors with their arguments (`BinaryAccuracy(threshold)`,
//! `CosineSimilarity(axis)`, the cross-entropies' options, top-k's `k` and `from_sorted_ids`), each saved in
//! Keras's config form; plus `name` and `dtype` as Keras takes them.

use super::config::short;
use super::{MeanMetricWrapper, Metric, StatefulMetric, accuracy, regression};
use crate::error::{EngineError, Result};
use crate::losses::{Crossentropy, LossKind, SparseCrossentropy};
use ndarray::ArrayD;
use serde_json::{Map, Value, json};

/// The dtypes a metric's `dtype` may name (Keras's float types; the confusion-matrix metrics write int32).
const DTYPES: [&str; 6] = [
    "float16", "bfloat16", "float32", "float64", "int32", "int64",
];

/// A wrapped function saved as Keras's `class` with no arguments but `name` and `dtype`.
pub(super) fn plain(
    class: &'static str,
    f: impl Fn(&ArrayD<f32>, &ArrayD<f32>) -> Result<ArrayD<f32>> + Send + Sync + 'static,
) -> Box<dyn StatefulMetric> {
    Box::new(MeanMetricWrapper::new(f).configured(class, Map::new()))
}

/// A loss formula's mean as Keras's metric `class` with `args`.
pub(super) fn loss_class(
    class: &'static str,
    kind: LossKind,
    args: Map<String, Value>,
) -> Result<Box<dyn StatefulMetric>> {
    let values = regression::loss_values(kind)?;
    Ok(Box::new(
        MeanMetricWrapper::new(move |t: &ArrayD<f32>, p: &ArrayD<f32>| values(t, p))
            .configured(class, args),
    ))
}

/// Keras writes `label_smoothing` as it was given; its default is the integer 0.
fn smoothing(value: f32) -> Value {
    if value == 0.0 { json!(0) } else { short(value) }
}

fn args(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub(super) fn binary_accuracy(threshold: f32) -> Result<Box<dyn StatefulMetric>> {
    if threshold.is_nan() {
        return Err(EngineError::invalid(
            "threshold",
            "BinaryAccuracy needs a number. Received: threshold=NaN",
        ));
    }
    Ok(Box::new(
        MeanMetricWrapper::new(move |t: &ArrayD<f32>, p: &ArrayD<f32>| {
            accuracy::binary_accuracy(t, p, threshold)
        })
        .configured("BinaryAccuracy", args(&[("threshold", short(threshold))])),
    ))
}

fn positive_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(EngineError::invalid(
            "k",
            "expected a positive integer. Received: k=0",
        ));
    }
    Ok(())
}

pub(super) fn top_k(k: usize) -> Result<Box<dyn StatefulMetric>> {
    positive_k(k)?;
    Ok(Box::new(
        MeanMetricWrapper::new(move |t: &ArrayD<f32>, p: &ArrayD<f32>| {
            accuracy::top_k_categorical_accuracy(t, p, k)
        })
        .configured("TopKCategoricalAccuracy", args(&[("k", json!(k))])),
    ))
}

/// Keras writes `from_sorted_ids` only when it is set, and so does rkeras.
pub(super) fn sparse_top_k(k: usize, from_sorted_ids: bool) -> Result<Box<dyn StatefulMetric>> {
    positive_k(k)?;
    let mut config = args(&[("k", json!(k))]);
    let wrapper = if from_sorted_ids {
        config.insert("from_sorted_ids".into(), json!(true));
        MeanMetricWrapper::new(move |t: &ArrayD<f32>, p: &ArrayD<f32>| {
            accuracy::sorted_ids_top_k_accuracy(t, p, k)
        })
    } else {
        MeanMetricWrapper::new(move |t: &ArrayD<f32>, p: &ArrayD<f32>| {
            accuracy::sparse_top_k_categorical_accuracy(t, p, k)
        })
    };
    Ok(Box::new(
        wrapper.configured("SparseTopKCategoricalAccuracy", config),
    ))
}

pub(super) fn root_mean_squared_error() -> Box<dyn StatefulMetric> {
    Box::new(
        MeanMetricWrapper::new(regression::squared_error)
            .finished_by(f32::sqrt)
            .configured("RootMeanSquaredError", Map::new()),
    )
}

/// Keras's `CosineSimilarity` config leaves `axis` out (its `get_config` drops it); rkeras writes it when it
/// is not the default −1, so that it survives a reload (Keras's constructor takes it).
pub(super) fn cosine_similarity(axis: isize) -> Result<Box<dyn StatefulMetric>> {
    let values = regression::loss_values(LossKind::CosineSimilarity { axis })?;
    let config = if axis == -1 {
        Map::new()
    } else {
        args(&[("axis", json!(axis))])
    };
    Ok(Box::new(
        MeanMetricWrapper::new(move |t: &ArrayD<f32>, p: &ArrayD<f32>| {
            Ok(values(t, p)?.mapv(|v| -v))
        })
        .configured("CosineSimilarity", config),
    ))
}

pub(super) fn binary_crossentropy(
    from_logits: bool,
    label_smoothing: f32,
) -> Result<Box<dyn StatefulMetric>> {
    let kind = LossKind::BinaryCrossentropy(Crossentropy {
        from_logits,
        label_smoothing,
        axis: -1,
    });
    let config = args(&[
        ("from_logits", json!(from_logits)),
        ("label_smoothing", smoothing(label_smoothing)),
    ]);
    loss_class("BinaryCrossentropy", kind, config)
}

pub(super) fn categorical_crossentropy(
    from_logits: bool,
    label_smoothing: f32,
    axis: isize,
) -> Result<Box<dyn StatefulMetric>> {
    let kind = LossKind::CategoricalCrossentropy(Crossentropy {
        from_logits,
        label_smoothing,
        axis,
    });
    let config = args(&[
        ("from_logits", json!(from_logits)),
        ("label_smoothing", smoothing(label_smoothing)),
        ("axis", json!(axis)),
    ]);
    loss_class("CategoricalCrossentropy", kind, config)
}

pub(super) fn sparse_categorical_crossentropy(
    from_logits: bool,
    ignore_class: Option<i64>,
    axis: isize,
) -> Result<Box<dyn StatefulMetric>> {
    let kind = LossKind::SparseCategoricalCrossentropy(SparseCrossentropy {
        from_logits,
        ignore_class,
        axis,
    });
    let config = args(&[
        ("from_logits", json!(from_logits)),
        ("ignore_class", json!(ignore_class)),
        ("axis", json!(axis)),
    ]);
    loss_class("SparseCategoricalCrossentropy", kind, config)
}

impl Metric {
    /// Keras's `Accuracy()`: exact equality, named `accuracy`.
    pub fn accuracy() -> Metric {
        Metric::boxed("accuracy", plain("Accuracy", accuracy::accuracy))
    }

    /// Keras's `BinaryAccuracy(threshold=…)`: `y_true == (y_pred > threshold)`, named `binary_accuracy`.
    ///
    /// ```
    /// use rkeras_engine::metrics::Metric;
    /// let mut m = Metric::binary_accuracy(0.7)?.named("ba7");
    /// let t = ndarray::arr2(&[[1.0f32], [0.0]]).into_dyn();
    /// m.update_state(&t, &ndarray::arr2(&[[0.6f32], [0.6]]).into_dyn(), None)?;
    /// assert_eq!(m.result(), 0.5); // 0.6 is below the threshold: a miss, then a hit
    /// assert_eq!(m.to_config()?["config"]["threshold"], 0.7);
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn binary_accuracy(threshold: f32) -> Result<Metric> {
        Ok(Metric::boxed(
            "binary_accuracy",
            binary_accuracy(threshold)?,
        ))
    }

    /// Keras's `CategoricalAccuracy()`: argmax against argmax, named `categorical_accuracy`.
    pub fn categorical_accuracy() -> Metric {
        Metric::boxed(
            "categorical_accuracy",
            plain("CategoricalAccuracy", accuracy::categorical_accuracy),
        )
    }

    /// Keras's `SparseCategoricalAccuracy()`: class ids against argmax, named `sparse_categorical_accuracy`.
    pub fn sparse_categorical_accuracy() -> Metric {
        Metric::boxed(
            "sparse_categorical_accuracy",
            plain(
                "SparseCategoricalAccuracy",
                accuracy::sparse_categorical_accuracy,
            ),
        )
    }

    /// Keras's `TopKCategoricalAccuracy(k)`, named `top_k_categorical_accuracy`.
    pub fn top_k_categorical_accuracy(k: usize) -> Result<Metric> {
        Ok(Metric::boxed("top_k_categorical_accuracy", top_k(k)?))
    }

    /// Keras's `SparseTopKCategoricalAccuracy(k, from_sorted_ids)`: with `from_sorted_ids`, `y_pred` holds
    /// category ids sorted from the highest score down, and a hit is the id among the first `k`.
    ///
    /// ```
    /// use rkeras_engine::metrics::Metric;
    /// let mut m = Metric::sparse_top_k_categorical_accuracy(1, true)?;
    /// let ids = ndarray::arr1(&[2.0f32, 1.0]).into_dyn();
    /// m.update_state(&ids, &ndarray::arr2(&[[1.0f32, 0.0, 3.0], [1.0, 2.0, 3.0]]).into_dyn(), None)?;
    /// assert_eq!(m.result(), 0.5); // Keras's own example
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn sparse_top_k_categorical_accuracy(k: usize, from_sorted_ids: bool) -> Result<Metric> {
        Ok(Metric::boxed(
            "sparse_top_k_categorical_accuracy",
            sparse_top_k(k, from_sorted_ids)?,
        ))
    }

    /// Top-k accuracy with another `k` than Keras's default 5 (`"top_k_categorical_accuracy"` or
    /// `"sparse_top_k_categorical_accuracy"`), logged under `name`.
    pub fn with_top_k(name: &str, k: usize) -> Result<Metric> {
        let state = match name {
            "top_k_categorical_accuracy" => top_k(k)?,
            "sparse_top_k_categorical_accuracy" => sparse_top_k(k, false)?,
            other => {
                return Err(EngineError::UnknownName {
                    kind: "top-k metric",
                    name: other.to_string(),
                    valid: vec![
                        "top_k_categorical_accuracy".into(),
                        "sparse_top_k_categorical_accuracy".into(),
                    ],
                });
            }
        };
        Ok(Metric::boxed(name, state))
    }

    /// Keras's `CosineSimilarity(axis)`, named `cosine_similarity`.
    pub fn cosine_similarity(axis: isize) -> Result<Metric> {
        Ok(Metric::boxed("cosine_similarity", cosine_similarity(axis)?))
    }

    /// Keras's `BinaryCrossentropy(from_logits, label_smoothing)` metric, named `binary_crossentropy`.
    pub fn binary_crossentropy(from_logits: bool, label_smoothing: f32) -> Result<Metric> {
        Ok(Metric::boxed(
            "binary_crossentropy",
            binary_crossentropy(from_logits, label_smoothing)?,
        ))
    }

    /// Keras's `CategoricalCrossentropy(from_logits, label_smoothing, axis)` metric.
    pub fn categorical_crossentropy(
        from_logits: bool,
        label_smoothing: f32,
        axis: isize,
    ) -> Result<Metric> {
        Ok(Metric::boxed(
            "categorical_crossentropy",
            categorical_crossentropy(from_logits, label_smoothing, axis)?,
        ))
    }

    /// Keras's `SparseCategoricalCrossentropy(from_logits, ignore_class, axis)` metric.
    pub fn sparse_categorical_crossentropy(
        from_logits: bool,
        ignore_class: Option<i64>,
        axis: isize,
    ) -> Result<Metric> {
        Ok(Metric::boxed(
            "sparse_categorical_crossentropy",
            sparse_categorical_crossentropy(from_logits, ignore_class, axis)?,
        ))
    }

    /// The same metric logged under another name (Keras's `name=`).
    pub fn named(mut self, name: &str) -> Metric {
        self.name = name.to_string();
        self
    }

    /// The same metric with Keras's `dtype` (`"float64"`, …), kept for its config; rkeras computes in f32.
    /// Another value is an error naming it.
    pub fn with_dtype(self, dtype: &str) -> Result<Metric> {
        self.with_dtype_value(json!(dtype))
    }

    /// `dtype` as a config holds it: a dtype name or a serialised `DTypePolicy`.
    pub(super) fn with_dtype_value(mut self, dtype: Value) -> Result<Metric> {
        let known = match &dtype {
            Value::String(s) => DTYPES.contains(&s.as_str()),
            Value::Object(policy) => policy.contains_key("class_name"),
            Value::Null => true,
            _ => false,
        };
        if !known {
            return Err(EngineError::invalid(
                "dtype",
                format!(
                    "metric `{}`: unknown dtype {dtype}; expected one of {}",
                    self.name,
                    DTYPES.join(", ")
                ),
            ));
        }
        self.dtype = Some(dtype).filter(|d| !d.is_null());
        Ok(self)
    }

    /// Keras's class name, for a metric that has a config form.
    pub fn class_name(&self) -> Option<&'static str> {
        self.state.get_config().map(|(class, _)| class)
    }

    /// The dtype written in the metric's config (`None`: the class's default).
    pub(super) fn dtype_value(&self) -> Option<&Value> {
        self.dtype.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_reach_the_config_and_back() {
        let m = Metric::binary_accuracy(0.3)
            .unwrap()
            .named("b")
            .with_dtype("float64")
            .unwrap();
        let config = m.to_config().unwrap();
        assert_eq!(config["config"]["threshold"], 0.3);
        assert_eq!(config["config"]["dtype"], "float64");
        assert_eq!(
            Metric::from_config(&config).unwrap().to_config().unwrap(),
            config
        );
        let e = Metric::accuracy()
            .with_dtype("float8")
            .unwrap_err()
            .to_string();
        assert!(e.contains("float8"), "{e}");
        assert!(Metric::binary_accuracy(f32::NAN).is_err());
        let e = Metric::sparse_top_k_categorical_accuracy(0, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("k=0"), "{e}");
    }
}
