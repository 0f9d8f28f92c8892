//! Binary and categorical focal cross-entropy (Lin et al. 2017), Keras 3's formulas.

use super::EPSILON;
use super::crossentropy::{binary_elementwise, smooth};
use crate::error::Result;
use rkeras_tensor::Tensor;

/// The arguments of `BinaryFocalCrossentropy` (Keras's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinaryFocal {
    /// Weighs positives by `alpha` and negatives by `1 − alpha`. Defaults to `false`.
    pub apply_class_balancing: bool,
    /// The balancing weight. Defaults to `0.25`.
    pub alpha: f32,
    /// The focusing exponent of `(1 − p_t)^γ`. Defaults to `2.0`.
    pub gamma: f32,
    /// Whether `y_pred` holds logits. Defaults to `false`.
    pub from_logits: bool,
    /// Targets become `y·(1 − s) + s/2`. Defaults to `0.0`.
    pub label_smoothing: f32,
    /// The axis of the mean. Defaults to `-1`.
    pub axis: isize,
}

impl Default for BinaryFocal {
    fn default() -> Self {
        BinaryFocal {
            apply_class_balancing: false,
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
        }
    }
}

/// The arguments of `CategoricalFocalCrossentropy` (Keras's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoricalFocal {
    /// The weighting factor. Defaults to `0.25`.
    pub alpha: f32,
    /// The focusing exponent. Defaults to `2.0`.
    pub gamma: f32,
    /// Whether `y_pred` holds logits. Defaults to `false`.
    pub from_logits: bool,
    /// Targets become `y·(1 − s) + s/classes`. Defaults to `0.0`.
    pub label_smoothing: f32,
    /// The class axis. Defaults to `-1`.
    pub axis: isize,
}

impl Default for CategoricalFocal {
    fn default() -> Self {
        CategoricalFocal {
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
        }
    }
}

/// `mean((1 − p_t)^γ · bce [· (y·α + (1 − y)(1 − α))], axis)` with `p_t = y·p + (1 − y)(1 − p)`.
pub(crate) fn binary(y_true: &Tensor, y_pred: &Tensor, args: &BinaryFocal) -> Result<Tensor> {
    super::same_shape(y_true, y_pred)?;
    let y = smooth(y_true, args.label_smoothing, 0.5)?;
    // From logits, TensorFlow's backend computes the cross-entropy from the logits the sigmoid keeps.
    let bce = binary_elementwise(&y, y_pred, args.from_logits)?;
    let p = if args.from_logits {
        y_pred.sigmoid()?
    } else {
        y_pred.clone()
    };
    let p_t = y
        .mul(&p)?
        .add(&y.rsub_scalar(1.0)?.mul(&p.rsub_scalar(1.0)?)?)?;
    let mut focal = p_t.rsub_scalar(1.0)?.powf(args.gamma)?.mul(&bce)?;
    if args.apply_class_balancing {
        let weight = y
            .mul_scalar(args.alpha)?
            .add(&y.rsub_scalar(1.0)?.mul_scalar(1.0 - args.alpha)?)?;
        focal = weight.mul(&focal)?;
    }
    Ok(focal.mean(&[args.axis], false)?)
}

/// `Σ α·(1 − p)^γ · (−y·log p)` along the axis, `p` normalised and clipped (softmax of logits first).
pub(crate) fn categorical(
    y_true: &Tensor,
    y_pred: &Tensor,
    args: &CategoricalFocal,
) -> Result<Tensor> {
    super::same_shape(y_true, y_pred)?;
    let classes = y_true.shape().last().copied().unwrap_or(1).max(1);
    let y = smooth(y_true, args.label_smoothing, 1.0 / classes as f32)?;
    let p = if args.from_logits {
        y_pred.softmax(args.axis)?
    } else {
        y_pred.clone()
    };
    let output = p
        .div(&p.sum(&[args.axis], true)?)?
        .clip(EPSILON, 1.0 - EPSILON)?;
    let cce = y.neg()?.mul(&output.log()?)?;
    let factor = output
        .rsub_scalar(1.0)?
        .powf(args.gamma)?
        .mul_scalar(args.alpha)?;
    Ok(factor.mul(&cce)?.sum(&[args.axis], false)?)
}
