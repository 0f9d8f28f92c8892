//! Checks of the targets `y` and the class weights against the model's output and the compiled loss, made
//! where fit / evaluate start (before any batch runs or any callback is called), so that the same `y` gives the
//! same answer whatever the batch size, and a mistake names `y`, the loss and the shape expected.
//!
//! What each loss takes, for a model output of shape `(None, ..., C)`:
//! - `sparse_categorical_crossentropy`: integer class ids of shape `(samples, ...)` or `(samples, ..., 1)`, each
//!   in `0..C` (a one-hot `y` is named as such);
//! - `categorical_crossentropy`: one-hot (or probability) rows of the output's shape;
//! - `mean_squared_error`, `mean_absolute_error`, `binary_crossentropy`: the output's shape, or that shape
//!   without (or with) a trailing axis of 1, as Keras squeezes or expands one axis of size 1;
//! - a custom loss: anything with one row per sample (the function decides).

use crate::data::check_arrays;
use crate::error::{EngineError, Result};
use crate::fit_config::FitConfig;
use crate::inputs::{InputRef, Samples};
use crate::losses::{Loss, LossKind};
use crate::model::Model;
use ndarray::{ArrayD, IxDyn};
#[cfg(test)]
use rkeras_layers::Network;
use rkeras_layers::SymbolicTensor;
use rkeras_layers::error::format_shape;
use std::borrow::Cow;
use std::collections::HashMap;

/// Everything `fit` checks before it starts: `x` and `y` (counts, shapes, finite values), `y` against the
/// outputs and their losses, the same for `validation_data` (whose targets may be reshaped in place), and
/// `class_weight` (a single output only, as in Keras). Returns the targets, reshaped as [`targets`] does.
pub(crate) fn fit_arguments(
    model: &Model,
    x: &[InputRef<'_>],
    y: &[&ArrayD<f32>],
    config: &mut FitConfig<'_>,
) -> Result<Vec<ArrayD<f32>>> {
    let ys = model_targets(model, x, y, "x", "fit")?;
    if let Some((vx, vy)) = config.validation_data.take() {
        let refs: Vec<&ArrayD<f32>> = vy.iter().collect();
        let fixed = model_targets(model, &vx, &refs, "validation_data.x", "fit")?;
        config.validation_data = Some((vx, fixed));
    }
    if let Some(weights) = &config.class_weight {
        if model.network.outputs().len() > 1 {
            return Err(EngineError::invalid(
                "class_weight",
                "not supported for a model with several outputs (as in Keras); give `sample_weight`",
            ));
        }
        class_weight(weights)?;
    }
    Ok(ys)
}

/// Checks `x` and the targets `ys` (one per output, each against its output and loss; `name` names `x`)
/// and returns the targets, reshaped as [`targets`] does. `what` names the call, for a model not compiled.
pub(crate) fn model_targets<A: Samples>(
    model: &Model,
    x: &[A],
    ys: &[&ArrayD<f32>],
    name: &str,
    what: &'static str,
) -> Result<Vec<ArrayD<f32>>> {
    let compiled = model.compiled(what)?;
    let outputs = model.network.outputs();
    let y_name = if name == "x" {
        "y".to_string()
    } else {
        name.replace('x', "y")
    };
    if ys.len() != outputs.len() {
        let names: Vec<&str> = outputs.iter().map(|o| o.layer().name()).collect();
        return Err(EngineError::invalid(
            y_name,
            format!(
                "the model has {} output(s) ({}), received {} target array(s); give one per output, in order",
                outputs.len(),
                names.join(", "),
                ys.len()
            ),
        ));
    }
    let first = ys.first().copied();
    check_arrays(&model.network, x, first, name)?;
    let mut fixed = Vec::with_capacity(ys.len());
    for (i, ((y, output), task)) in ys.iter().zip(outputs).zip(&compiled.outputs).enumerate() {
        let arg = if outputs.len() == 1 {
            y_name.clone()
        } else {
            format!("{y_name}[{i}] (output `{}`)", task.name)
        };
        if i > 0 {
            check_arrays(&model.network, x, Some(y), name).map_err(|e| rename(e, &y_name, &arg))?;
        }
        fixed.push(output_targets(output, &task.loss, y, &arg)?.into_owned());
    }
    Ok(fixed)
}

/// An error about `from` renamed `to` (a second output's targets checked as `y`).
fn rename(error: EngineError, from: &str, to: &str) -> EngineError {
    match error {
        EngineError::InvalidArgument { argument, reason } if argument == from => {
            EngineError::invalid(to, reason)
        }
        other => other,
    }
}

/// Checks `y` (named `arg`) against the model's single output and `loss`; returns `y` in the output's shape
/// when it differed only by a trailing axis of 1 (so that element-wise losses never broadcast `(n,)` against
/// `(n, 1)` into `(n, n)`). Models with several outputs are checked output by output ([`output_targets`]).
#[cfg(test)]
pub(crate) fn targets<'y>(
    network: &Network,
    loss: &Loss,
    y: &'y ArrayD<f32>,
    arg: &str,
) -> Result<Cow<'y, ArrayD<f32>>> {
    let [output] = network.outputs() else {
        return Ok(Cow::Borrowed(y));
    };
    output_targets(output, loss, y, arg)
}

/// Checks `y` (named `arg`) against one output and its loss, as [`targets`] does.
pub(crate) fn output_targets<'y>(
    output: &SymbolicTensor,
    loss: &Loss,
    y: &'y ArrayD<f32>,
    arg: &str,
) -> Result<Cow<'y, ArrayD<f32>>> {
    let out = output.shape();
    let per_sample = y.shape().get(1..).unwrap_or(&[]);
    let samples = y.shape().first().copied().unwrap_or(0);
    let with_samples = |shape: &[usize]| {
        let dims: Vec<String> = std::iter::once(samples)
            .chain(shape.iter().copied())
            .map(|d| d.to_string())
            .collect();
        match dims.as_slice() {
            [only] => format!("({only},)"),
            _ => format!("({})", dims.join(", ")),
        }
    };
    let output_desc = format!(
        "the model's output `{}` {}",
        output.layer().name(),
        format_shape(out)
    );
    let received = with_samples(per_sample);
    let name = loss.name();
    match loss.kind() {
        LossKind::SparseCategoricalCrossentropy(args) => {
            let (classes, ids_shape) = match out.split_last() {
                Some((&c, rest)) => (c, rest),
                None => (1, out),
            };
            let mut with_one = ids_shape.to_vec();
            with_one.push(1);
            if per_sample != ids_shape && per_sample != with_one.as_slice() {
                let hint = if per_sample == out {
                    format!(
                        "; `y` looks one-hot ({classes} columns): use categorical_crossentropy for one-hot \
                         targets, or pass the class ids (argmax of each row)"
                    )
                } else {
                    String::new()
                };
                return Err(EngineError::invalid(
                    arg,
                    format!(
                        "{name} takes integer class ids of shape {} for {output_desc}, received {received}{hint}",
                        with_samples(ids_shape)
                    ),
                ));
            }
            check_labels(y, classes, arg, name, args.ignore_class)?;
            Ok(Cow::Borrowed(y))
        }
        LossKind::CategoricalCrossentropy(_)
        | LossKind::CategoricalFocalCrossentropy(_)
        | LossKind::CategoricalHinge => {
            if per_sample == out {
                return Ok(Cow::Borrowed(y));
            }
            let ids_shape = out.split_last().map(|(_, rest)| rest).unwrap_or(out);
            let mut with_one = ids_shape.to_vec();
            with_one.push(1);
            let hint = if per_sample == ids_shape || per_sample == with_one.as_slice() {
                "; `y` looks like integer class ids: use sparse_categorical_crossentropy, or one-hot encode `y`"
            } else {
                ""
            };
            Err(EngineError::invalid(
                arg,
                format!(
                    "{name} takes one-hot targets of shape {} for {output_desc}, received {received}{hint}",
                    with_samples(out)
                ),
            ))
        }
        LossKind::Custom(_) => Ok(Cow::Borrowed(y)),
        _ => {
            if per_sample == out {
                return Ok(Cow::Borrowed(y));
            }
            let squeezed = out.last() == Some(&1) && per_sample == &out[..out.len() - 1];
            let expanded =
                per_sample.last() == Some(&1) && &per_sample[..per_sample.len() - 1] == out;
            if squeezed || expanded {
                let mut shape = vec![samples];
                shape.extend_from_slice(out);
                let reshaped = y
                    .as_standard_layout()
                    .into_owned()
                    .into_shape_with_order(IxDyn(&shape))
                    .map_err(|e| EngineError::invalid(arg, e.to_string()))?;
                return Ok(Cow::Owned(reshaped));
            }
            Err(EngineError::invalid(
                arg,
                format!(
                    "{name} takes targets of shape {} (that of {output_desc}), received {received}",
                    with_samples(out)
                ),
            ))
        }
    }
}

/// Every label must be an integer in `0..classes`; the first that is not is named with its sample.
fn check_labels(
    y: &ArrayD<f32>,
    classes: usize,
    arg: &str,
    loss: &str,
    ignore_class: Option<i64>,
) -> Result<()> {
    let ignored = ignore_class.map(|c| c as f32);
    let per_sample = (y.len() / y.shape().first().copied().unwrap_or(1).max(1)).max(1);
    let bad = y.iter().enumerate().find(|&(_, &v)| {
        Some(v) != ignored && !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < classes)
    });
    if let Some((pos, &value)) = bad {
        return Err(EngineError::invalid(
            arg,
            format!(
                "label {value} at sample {} is out of range: {loss} with a {classes}-class output takes \
                 integer class ids in 0..{classes}",
                pos / per_sample
            ),
        ));
    }
    Ok(())
}

/// Class weights must be finite and ≥ 0, as sample weights must.
pub(crate) fn class_weight(weights: &HashMap<usize, f32>) -> Result<()> {
    let mut classes: Vec<(&usize, &f32)> = weights.iter().collect();
    classes.sort_by_key(|(class, _)| **class);
    if let Some((class, weight)) = classes
        .into_iter()
        .find(|(_, w)| !w.is_finite() || **w < 0.0)
    {
        return Err(EngineError::invalid(
            "class_weight",
            format!("weights must be finite and >= 0, received {weight} for class {class}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, arr2};
    use rkeras_layers::{Dense, Input, LayerCall};

    fn network(units: usize) -> Network {
        let x = Input::new(&[2]);
        let y = Dense::new(units).call(&x).unwrap();
        Network::new(&[x], &[y]).unwrap()
    }

    #[test]
    fn a_trailing_axis_of_one_is_squeezed_or_added() {
        let net = network(1);
        let y = arr1(&[1.0f32, 2.0]).into_dyn();
        let fixed = targets(&net, &Loss::from_name("mse").unwrap(), &y, "y").unwrap();
        assert_eq!(fixed.shape(), &[2, 1]);
        let y = ArrayD::zeros(IxDyn(&[2, 3, 1]));
        let fixed = targets(&network(3), &Loss::from_name("mse").unwrap(), &y, "y").unwrap();
        assert_eq!(fixed.shape(), &[2, 3]);
        let y = ArrayD::zeros(IxDyn(&[2, 1]));
        let err = targets(&network(3), &Loss::from_name("mse").unwrap(), &y, "y").unwrap_err();
        assert!(err.to_string().contains("(2, 3)"), "{err}");
    }

    #[test]
    fn labels_name_their_sample() {
        let y = arr2(&[[0.0f32], [2.0], [1.5]]).into_dyn();
        let err = targets(
            &network(3),
            &Loss::from_name("sparse_categorical_crossentropy").unwrap(),
            &y,
            "y",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("label 1.5 at sample 2") && err.contains("0..3"),
            "{err}"
        );
    }

    #[test]
    fn class_weights_must_be_finite_and_non_negative() {
        assert!(class_weight(&HashMap::from([(0, 1.0), (1, 0.0)])).is_ok());
        let err = class_weight(&HashMap::from([(0, 1.0), (3, -2.0)])).unwrap_err();
        assert!(err.to_string().contains("class 3"), "{err}");
        assert!(class_weight(&HashMap::from([(1, f32::NAN)])).is_err());
    }
}
