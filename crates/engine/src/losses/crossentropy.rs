//! Binary, categorical and sparse categorical cross-entropy (Keras 3's formulas, clipping at `ε = 1e-7`).

use super::{EPSILON, same_shape};
use crate::error::{EngineError, Result};
use ndarray::ArrayD;
use rkeras_tensor::Tensor;

/// The arguments of `BinaryCrossentropy` and `CategoricalCrossentropy` (Keras's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossentropy {
    /// Whether `y_pred` holds logits rather than probabilities. Defaults to `false`.
    pub from_logits: bool,
    /// Moves targets toward the uniform distribution: `y·(1 − s) + s/2` (binary) or `s/classes`. In `[0, 1]`.
    pub label_smoothing: f32,
    /// The class axis. Defaults to `-1`.
    pub axis: isize,
}

impl Default for Crossentropy {
    fn default() -> Self {
        Crossentropy {
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
        }
    }
}

/// The arguments of `SparseCategoricalCrossentropy` (Keras's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SparseCrossentropy {
    /// Whether `y_pred` holds logits. Defaults to `false`.
    pub from_logits: bool,
    /// A label whose positions count neither in the loss nor in its mean (segmentation's "void"). Defaults to
    /// `None`.
    pub ignore_class: Option<i64>,
    /// The class axis; rkeras supports `-1` (the last axis), Keras's default.
    pub axis: isize,
}

impl Default for SparseCrossentropy {
    fn default() -> Self {
        SparseCrossentropy {
            from_logits: false,
            ignore_class: None,
            axis: -1,
        }
    }
}

/// `label_smoothing` must lie in `[0, 1]`, as Keras's docs require.
pub(crate) fn check_smoothing(value: f32) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(EngineError::invalid(
            "label_smoothing",
            format!("expected a float in [0, 1]. Received: label_smoothing={value}"),
        ))
    }
}

/// `from_logits` losses need targets of the predictions' shape; otherwise the logits' axis is ambiguous.
fn check_logits_shape(loss: &str, y_true: &Tensor, y_pred: &Tensor) -> Result<()> {
    if y_true.shape() == y_pred.shape() {
        return Ok(());
    }
    Err(EngineError::invalid(
        "y_true",
        format!(
            "{loss} needs `target` and `output` of the same shape. Received: target.shape={:?}, \
             output.shape={:?}",
            y_true.shape(),
            y_pred.shape()
        ),
    ))
}

/// `y·(1 − s) + s·share`.
pub(crate) fn smooth(y_true: &Tensor, smoothing: f32, share: f32) -> Result<Tensor> {
    if smoothing == 0.0 {
        return Ok(y_true.clone());
    }
    Ok(y_true
        .mul_scalar(1.0 - smoothing)?
        .add_scalar(smoothing * share)?)
}

/// Elementwise binary cross-entropy (before the mean over the axis).
pub(crate) fn binary_elementwise(
    y_true: &Tensor,
    y_pred: &Tensor,
    from_logits: bool,
) -> Result<Tensor> {
    if from_logits {
        // softplus(x) − x·z = max(x, 0) − x·z + log(1 + e^−|x|), TensorFlow's stable form.
        return Ok(y_pred.softplus()?.sub(&y_pred.mul(y_true)?)?);
    }
    let p = y_pred.clip(EPSILON, 1.0 - EPSILON)?;
    let pos = y_true.mul(&p.log()?)?;
    let neg = y_true.rsub_scalar(1.0)?.mul(&p.rsub_scalar(1.0)?.log()?)?;
    Ok(pos.add(&neg)?.neg()?)
}

/// `mean(bce(y, p), axis)`.
pub(crate) fn binary(y_true: &Tensor, y_pred: &Tensor, args: &Crossentropy) -> Result<Tensor> {
    check_logits_shape("binary_crossentropy", y_true, y_pred)?;
    let y = smooth(y_true, args.label_smoothing, 0.5)?;
    Ok(binary_elementwise(&y, y_pred, args.from_logits)?.mean(&[args.axis], false)?)
}

/// `−Σ y·log p` along the axis, `p` normalised and clipped (or `log_softmax` of logits).
pub(crate) fn categorical(y_true: &Tensor, y_pred: &Tensor, args: &Crossentropy) -> Result<Tensor> {
    check_logits_shape("categorical_crossentropy", y_true, y_pred)?;
    let classes = y_true.shape().last().copied().unwrap_or(1).max(1);
    let y = smooth(y_true, args.label_smoothing, 1.0 / classes as f32)?;
    if args.from_logits {
        let log_p = y_pred.log_softmax(args.axis)?;
        return Ok(y.mul(&log_p)?.sum(&[args.axis], false)?.neg()?);
    }
    from_probabilities(&y, y_pred, args.axis)
}

/// Keras's categorical cross-entropy on probabilities: normalise, clip to `[ε, 1 − ε]`, `−Σ y·log p`.
pub(crate) fn from_probabilities(y_true: &Tensor, y_pred: &Tensor, axis: isize) -> Result<Tensor> {
    same_shape(y_true, y_pred)?;
    let normalised = y_pred.div(&y_pred.sum(&[axis], true)?)?;
    let log_p = normalised.clip(EPSILON, 1.0 - EPSILON)?.log()?;
    Ok(y_true.mul(&log_p)?.sum(&[axis], false)?.neg()?)
}

/// The labels with ignored ones replaced by 0, and the mask of valid positions (labels' shape without a
/// trailing 1), when `ignore_class` is set.
pub(crate) fn ignore_mask(
    y_true: &Tensor,
    ignore_class: Option<i64>,
) -> (Tensor, Option<ArrayD<f32>>) {
    let Some(ignored) = ignore_class else {
        return (y_true.clone(), None);
    };
    let ignored = ignored as f32;
    let labels = y_true.data().mapv(|v| if v == ignored { 0.0 } else { v });
    let mask = y_true.data().mapv(|v| f32::from(v != ignored));
    (Tensor::new(labels), Some(mask))
}

/// `−log p[label]` per position; ignored positions give 0. Returns the values and the valid-position mask.
pub(crate) fn sparse(
    y_true: &Tensor,
    y_pred: &Tensor,
    args: &SparseCrossentropy,
) -> Result<(Tensor, Option<ArrayD<f32>>)> {
    if args.axis != -1 && args.axis != y_pred.ndim() as isize - 1 {
        return Err(EngineError::invalid(
            "axis",
            format!(
                "sparse_categorical_crossentropy supports the last axis only. Received: axis={}",
                args.axis
            ),
        ));
    }
    let (labels, mask) = ignore_mask(y_true, args.ignore_class);
    let values = if args.from_logits {
        y_pred.sparse_softmax_cross_entropy(&labels)?
    } else {
        let classes = y_pred.shape().last().copied().unwrap_or(0);
        let one_hot = crate::labels::one_hot(labels.data(), classes)?;
        from_probabilities(&Tensor::new(one_hot), y_pred, -1)?
    };
    match mask {
        Some(mask) => {
            let mask = mask
                .into_shape_with_order(values.shape())
                .map_err(|e| EngineError::invalid("y_true", e.to_string()))?;
            let values = values.mul(&Tensor::new(mask.clone()))?;
            Ok((values, Some(mask)))
        }
        None => Ok((values, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_vec(shape, v.to_vec()).unwrap()
    }

    #[test]
    fn binary_from_logits_matches_the_probability_form() {
        let y = t(&[2, 2], &[1.0, 0.0, 0.0, 1.0]);
        let z = t(&[2, 2], &[0.3, -1.2, 2.0, 0.1]);
        let args = Crossentropy {
            from_logits: true,
            ..Default::default()
        };
        let from_logits = binary(&y, &z, &args).unwrap().to_vec();
        let probs = binary(&y, &z.sigmoid().unwrap(), &Crossentropy::default())
            .unwrap()
            .to_vec();
        for (a, b) in from_logits.iter().zip(&probs) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn smoothing_out_of_range_echoes_the_value() {
        let err = check_smoothing(1.5).unwrap_err().to_string();
        assert!(err.contains("label_smoothing=1.5"), "{err}");
        assert!(check_smoothing(0.0).is_ok() && check_smoothing(1.0).is_ok());
    }

    #[test]
    fn ignored_labels_give_zero_and_a_mask() {
        let y = t(&[3], &[1.0, -1.0, 0.0]);
        let p = t(&[3, 2], &[0.2, 0.8, 0.5, 0.5, 0.9, 0.1]);
        let args = SparseCrossentropy {
            ignore_class: Some(-1),
            ..Default::default()
        };
        let (values, mask) = sparse(&y, &p, &args).unwrap();
        let v = values.to_vec();
        assert!((v[0] + 0.8f32.ln()).abs() < 1e-6 && v[1] == 0.0);
        assert_eq!(mask.unwrap().as_slice().unwrap(), &[1.0, 0.0, 1.0]);
    }
}
