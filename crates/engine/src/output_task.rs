//! [`OutputTask`]: what one model output is trained with (loss, weight, metrics), resolved from a
//! [`CompileConfig`] against the model's outputs, and the log names Keras 3 gives them.

use crate::compile_config::{CompileConfig, LossArg, MetricArg, PerOutput};
use crate::error::{EngineError, Result};
use crate::losses::{Loss, LossKind};
use crate::metrics::Metric;
use rkeras_layers::Network;

/// One output's share of training.
#[derive(Debug, Clone)]
pub(crate) struct OutputTask {
    /// The output's name (its layer's), the prefix of its logs when the model has several outputs.
    pub(crate) name: String,
    /// The loss.
    pub(crate) loss: Loss,
    /// The loss weight (`None`: no weight given, the loss is taken as it is).
    pub(crate) weight: Option<f32>,
    /// The metrics.
    pub(crate) metrics: Vec<Metric>,
}

/// Resolves `config` against the network's outputs.
pub(crate) fn resolve(network: &Network, config: &CompileConfig) -> Result<Vec<OutputTask>> {
    let outputs: Vec<(String, Vec<usize>)> = network
        .outputs()
        .iter()
        .map(|o| (o.layer().name().to_string(), o.shape().to_vec()))
        .collect();
    let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    let losses = spread("loss", &config.loss, &names, true)?;
    let mut tasks = Vec::with_capacity(outputs.len());
    for ((name, _), loss) in outputs.iter().zip(losses) {
        let loss = match loss {
            Some(LossArg::Name(n)) => Loss::from_name(n)?,
            Some(LossArg::Loss(l)) => l.clone(),
            None => {
                return Err(EngineError::invalid(
                    "loss",
                    format!("no loss for output `{name}`"),
                ));
            }
        };
        tasks.push(OutputTask {
            name: name.clone(),
            loss,
            weight: None,
            metrics: Vec::new(),
        });
    }
    if let Some(weights) = &config.loss_weights {
        if let PerOutput::All(_) = weights
            && names.len() > 1
        {
            return Err(EngineError::invalid(
                "loss_weights",
                format!(
                    "one weight for a model with {} outputs: give a list or a map by output name ({})",
                    names.len(),
                    names.join(", ")
                ),
            ));
        }
        for (task, w) in tasks
            .iter_mut()
            .zip(spread("loss_weights", weights, &names, false)?)
        {
            if let Some(&w) = w {
                if !w.is_finite() {
                    return Err(EngineError::invalid(
                        "loss_weights",
                        format!(
                            "the weight of output `{}` is {w}; weights must be finite",
                            task.name
                        ),
                    ));
                }
                task.weight = Some(w);
            }
        }
    }
    let metric_lists = spread_metrics(&config.metrics, &names)?;
    for ((task, (_, shape)), list) in tasks.iter_mut().zip(&outputs).zip(metric_lists) {
        let width = shape.last().copied().unwrap_or(1);
        for arg in list {
            let name = arg.name();
            let metric = match arg {
                MetricArg::Name(n) if n == "loss" => continue,
                MetricArg::Name(n) => Metric::resolve(n, &task.loss, width)?,
                MetricArg::Metric(m) => m.fresh(),
            };
            check_fits(&metric, &task.loss, width, &task.name)?;
            if task.metrics.iter().any(|m| m.name == metric.name) {
                return Err(EngineError::invalid(
                    "metrics",
                    format!("`{name}` is listed twice"),
                ));
            }
            task.metrics.push(metric);
        }
    }
    Ok(tasks)
}

/// One entry per output from `spec`: `All` repeated, a list of exactly one per output, or a map whose every
/// key is an output (and, when `every` is set, that names every output).
fn spread<'s, T>(
    argument: &str,
    spec: &'s PerOutput<T>,
    outputs: &[&str],
    every: bool,
) -> Result<Vec<Option<&'s T>>> {
    match spec {
        PerOutput::All(value) => Ok(vec![Some(value); outputs.len()]),
        PerOutput::List(values) => {
            if values.len() != outputs.len() {
                return Err(EngineError::invalid(
                    argument,
                    format!(
                        "{} entries for a model with {} output(s) ({}); give one per output",
                        values.len(),
                        outputs.len(),
                        outputs.join(", ")
                    ),
                ));
            }
            Ok(values.iter().map(Some).collect())
        }
        PerOutput::ByName(pairs) => by_name(argument, pairs, outputs, every),
    }
}

fn by_name<'s, T>(
    argument: &str,
    pairs: &'s [(String, T)],
    outputs: &[&str],
    every: bool,
) -> Result<Vec<Option<&'s T>>> {
    for (i, (key, _)) in pairs.iter().enumerate() {
        if !outputs.contains(&key.as_str()) {
            return Err(EngineError::invalid(
                argument,
                format!(
                    "`{key}` is not an output of the model; its outputs are {}",
                    outputs.join(", ")
                ),
            ));
        }
        if pairs[..i].iter().any(|(k, _)| k == key) {
            return Err(EngineError::invalid(
                argument,
                format!("output `{key}` is given twice"),
            ));
        }
    }
    outputs
        .iter()
        .map(|name| {
            let found = pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            if every && found.is_none() {
                return Err(EngineError::invalid(
                    argument,
                    format!("no entry for output `{name}`; every output needs one"),
                ));
            }
            Ok(found)
        })
        .collect()
}

/// Metric lists per output. A flat list goes whole to a single output; with several outputs Keras 3 reads it
/// as one metric per output, so it must hold exactly one per output.
fn spread_metrics<'s>(
    spec: &'s PerOutput<Vec<MetricArg>>,
    outputs: &[&str],
) -> Result<Vec<&'s [MetricArg]>> {
    match spec {
        PerOutput::All(list) if outputs.len() == 1 => Ok(vec![list.as_slice()]),
        PerOutput::All(list) if list.is_empty() => Ok(vec![&[]; outputs.len()]),
        PerOutput::All(list) => {
            if list.len() != outputs.len() {
                return Err(EngineError::invalid(
                    "metrics",
                    format!(
                        "a flat list of {} metric(s) for a model with {} outputs ({}): Keras 3 reads a flat list \
                         as one metric per output; give one list per output or a map by output name",
                        list.len(),
                        outputs.len(),
                        outputs.join(", ")
                    ),
                ));
            }
            Ok(list.iter().map(std::slice::from_ref).collect())
        }
        PerOutput::List(_) | PerOutput::ByName(_) => Ok(spread("metrics", spec, outputs, false)?
            .into_iter()
            .map(|l| l.map_or(&[][..], Vec::as_slice))
            .collect()),
    }
}

/// A metric must read the targets its output's loss takes: class ids for a sparse loss, rows of the output's
/// shape otherwise (a custom loss decides for itself).
fn check_fits(metric: &Metric, loss: &Loss, width: usize, output: &str) -> Result<()> {
    let sparse_targets = matches!(loss.kind(), LossKind::SparseCategoricalCrossentropy(_));
    let sparse_metric = takes_class_ids(metric);
    let follows_loss = matches!(metric.name.as_str(), "accuracy" | "acc");
    if width <= 1
        || follows_loss
        || matches!(loss.kind(), LossKind::Custom(_))
        || sparse_targets == sparse_metric
    {
        return Ok(());
    }
    let takes = if sparse_metric {
        "integer class ids"
    } else {
        "targets of the output's shape"
    };
    Err(EngineError::invalid(
        "metrics",
        format!(
            "`{}` on output `{output}` takes {takes}, but its loss {} takes {}",
            metric.name,
            loss.name(),
            if sparse_targets {
                "integer class ids"
            } else {
                "targets of the output's shape"
            }
        ),
    ))
}

/// Whether a metric reads integer class ids (the sparse ones, by class or name; `accuracy` follows its
/// output's loss).
fn takes_class_ids(metric: &Metric) -> bool {
    let name = &metric.name;
    metric.class_name().map_or(
        name.starts_with("sparse_") || name.starts_with("Sparse"),
        |c| c.starts_with("Sparse"),
    )
}

/// Keras 3's log names: `loss` then the metrics for one output; `loss`, each `<output>_loss`, then each
/// `<output>_<metric>` for several.
pub(crate) fn log_names(tasks: &[OutputTask]) -> Vec<String> {
    let mut names = vec!["loss".to_string()];
    if let [task] = tasks {
        names.extend(task.metrics.iter().map(|m| m.name.clone()));
        return names;
    }
    names.extend(tasks.iter().map(|t| format!("{}_loss", t.name)));
    for task in tasks {
        names.extend(
            task.metrics
                .iter()
                .map(|m| format!("{}_{}", task.name, m.name)),
        );
    }
    names
}

/// The keys of vector results' values (`precision_0`, `precision_1`, …, output-prefixed with several outputs),
/// which the logs carry after Keras's key (see [`Metric`]'s logging); sized from each metric's fresh result.
pub(crate) fn element_names(tasks: &[OutputTask]) -> Vec<String> {
    let several = tasks.len() > 1;
    let mut names = Vec::new();
    for task in tasks {
        let prefix = if several {
            format!("{}_", task.name)
        } else {
            String::new()
        };
        for metric in &task.metrics {
            let n = metric.fresh().results().len();
            if n > 1 {
                names.extend((0..n).map(|i| format!("{prefix}{}_{i}", metric.name)));
            }
        }
    }
    names
}
