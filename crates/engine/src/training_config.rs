//! The compile arguments as Keras saves them (`loss`, `loss_weights`, `metrics` of the legacy `.h5`
//! `training_config` and of the `.keras` `compile_config`), in the form they were given: one value, a list
//! by position, or a map by output name.

use crate::compile_config::{CompileConfig, LossArg, PerOutput};
use crate::error::Result;
use crate::keras3_format::object_name;
use crate::losses::Loss;
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
        PerOutput::All(list) => json!(list),
        PerOutput::List(lists) => json!(lists),
        PerOutput::ByName(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(name, list)| (name.clone(), json!(list)))
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

/// A metric list (or one metric) as names; Keras writes `null` for an output without metrics.
fn metric_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(object_name)
            .map(str::to_string)
            .collect(),
        Value::Null => Vec::new(),
        single => object_name(single)
            .map(str::to_string)
            .into_iter()
            .collect(),
    }
}

/// Adds `loss`, `loss_weights` and `metrics` to a config object.
pub(crate) fn insert(map: &mut Map<String, Value>, config: &CompileConfig, outputs: &[OutputTask]) {
    let (loss, weights, metrics) = to_json(config, outputs);
    map.insert("loss".into(), loss);
    map.insert("loss_weights".into(), weights);
    map.insert("metrics".into(), metrics);
}
