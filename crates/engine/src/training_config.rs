//! The compile arguments as Keras saves them (`loss`, `loss_weights`, `metrics` of the legacy `.h5`
//! `training_config` and of the `.keras` `compile_config`), in the form they were given: one value, a list
//! by position, or a map by output name.

use crate::compile_config::{CompileConfig, LossArg, MetricArg, PerOutput};
use crate::error::Result;
use crate::keras3_format::object_name;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::output_task::OutputTask;
use serde_json::{Map, Value, json};

/// `loss`, `loss_weights` and `metrics` as JSON, each loss in its compile form (its Keras function name when
/// given by one, else its serialised object with class, arguments and reduction).
pub(crate) fn to_json(config: &CompileConfig, outputs: &[OutputTask]) -> (Value, Value, Value) {
    let loss_name = |name: &str| {
        outputs
            .iter()
            .find(|o| o.name == name)
            .map_or(Value::Null, |o| o.loss.to_compile_value())
    };
    let loss = match &config.loss {
        PerOutput::All(_) => outputs
            .first()
            .map_or(Value::Null, |o| o.loss.to_compile_value()),
        PerOutput::List(_) => outputs.iter().map(|o| o.loss.to_compile_value()).collect(),
        PerOutput::ByName(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(name, _)| (name.clone(), loss_name(name)))
                .collect(),
        ),
    };
    let weights = match &config.loss_weights {
        None => Value::Null,
        Some(PerOutput::All(w)) => json!(w),
        Some(PerOutput::List(ws)) => json!(ws),
        Some(PerOutput::ByName(pairs)) => Value::Object(
            pairs
                .iter()
                .map(|(name, w)| (name.clone(), json!(w)))
                .collect(),
        ),
    };
    let metrics = match &config.metrics {
        PerOutput::All(list) => metric_values(list),
        PerOutput::List(lists) => lists.iter().map(|l| metric_values(l)).collect(),
        PerOutput::ByName(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(name, list)| (name.clone(), metric_values(list)))
                .collect(),
        ),
    };
    (loss, weights, metrics)
}

/// Reads back what [`to_json`] (or Keras) wrote; `None` when the loss is missing.
pub(crate) fn from_json(
    loss: &Value,
    loss_weights: &Value,
    metrics: &Value,
) -> Result<Option<CompileConfig>> {
    let loss = match loss {
        Value::Array(items) => PerOutput::List(items.iter().map(loss_arg).collect::<Result<_>>()?),
        Value::Object(map) if !map.contains_key("class_name") => PerOutput::ByName(
            map.iter()
                .map(|(name, v)| Ok((name.clone(), loss_arg(v)?)))
                .collect::<Result<_>>()?,
        ),
        Value::Null => return Ok(None),
        single => PerOutput::All(loss_arg(single)?),
    };
    let loss_weights = match loss_weights {
        Value::Array(items) => Some(PerOutput::List(items.iter().map(number).collect())),
        Value::Object(map) => Some(PerOutput::ByName(
            map.iter().map(|(n, v)| (n.clone(), number(v))).collect(),
        )),
        Value::Number(_) => Some(PerOutput::All(number(loss_weights))),
        _ => None,
    };
    let metrics = match metrics {
        Value::Array(items)
            if items.iter().any(Value::is_array) || items.iter().any(Value::is_null) =>
        {
            PerOutput::List(items.iter().map(metric_list).collect())
        }
        Value::Array(_) => PerOutput::All(metric_list(metrics)),
        Value::Object(map) => PerOutput::ByName(
            map.iter()
                .map(|(n, v)| (n.clone(), metric_list(v)))
                .collect::<Vec<_>>(),
        ),
        _ => PerOutput::All(Vec::new()),
    };
    Ok(Some(CompileConfig {
        loss,
        loss_weights,
        metrics,
    }))
}

/// A loss as saved: a function name (`"mse"`) or Keras's serialised loss object (class, arguments, reduction).
fn loss_arg(value: &Value) -> Result<LossArg> {
    Ok(match value.as_str() {
        Some(name) => LossArg::Name(name.to_string()),
        None => LossArg::Loss(Loss::from_config(value)?),
    })
}

fn number(value: &Value) -> f32 {
    value.as_f64().map_or(f32::NAN, |v| v as f32)
}

/// A metric list as saved: a name stays a name; an object is written in Keras's config form (class name and
/// arguments), or as its name when it has none (a custom metric).
fn metric_values(list: &[MetricArg]) -> Value {
    list.iter()
        .map(|m| match m {
            MetricArg::Name(n) => json!(n),
            MetricArg::Metric(metric) => metric.to_config().unwrap_or_else(|_| json!(metric.name)),
        })
        .collect()
}

/// A metric list (or one metric); Keras writes `null` for an output without metrics. A config object with
/// arguments rkeras reads (`Precision(thresholds=0.3)`, `AUC(curve="PR")`, `MeanIoU(num_classes=3)`) is
/// rebuilt with them; another class is taken by its name, as `compile` takes the name.
fn metric_list(value: &Value) -> Vec<MetricArg> {
    let one = |v: &Value| -> Option<MetricArg> {
        if v.get("config").is_some_and(Value::is_object)
            && let Ok(metric) = Metric::from_config(v)
        {
            return Some(MetricArg::Metric(metric));
        }
        object_name(v).map(MetricArg::from)
    };
    match value {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        Value::Null => Vec::new(),
        single => one(single).into_iter().collect(),
    }
}

/// Adds `loss`, `loss_weights` and `metrics` to a config object.
pub(crate) fn insert(map: &mut Map<String, Value>, config: &CompileConfig, outputs: &[OutputTask]) {
    let (loss, weights, metrics) = to_json(config, outputs);
    map.insert("loss".into(), loss);
    map.insert("loss_weights".into(), weights);
    map.insert("metrics".into(), metrics);
}
