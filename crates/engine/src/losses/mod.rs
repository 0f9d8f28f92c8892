//! Losses: Keras 3's catalogue (classes, function names, arguments, defaults and formulas), `reduction` modes,
//! custom losses, and Keras's config form. One family per file.
//!
//! ```
//! use rkeras_engine::losses::{Loss, LossKind, Reduction};
//! use rkeras_tensor::Tensor;
//! let loss = Loss::new(LossKind::Huber { delta: 0.5 })?.with_reduction(Reduction::Sum);
//! let y = Tensor::from_vec(&[2, 1], vec![0.0, 1.0])?;
//! let p = Tensor::from_vec(&[2, 1], vec![0.2, 3.0])?;
//! // ½·0.2² + (0.5·2 − ½·0.5²)
//! let value = loss.call(&y, &p, None)?.to_scalar()?;
//! assert!((value - (0.02 + 0.875)).abs() < 1e-6);
//! # Ok::<(), rkeras_engine::EngineError>(())
//! ```

mod config;
mod cosine;
mod crossentropy;
mod custom;
mod focal;
mod hinge;
mod names;
mod probabilistic;
mod reduction;
mod regression;
mod robust;

pub use crossentropy::{Crossentropy, SparseCrossentropy};
pub use custom::LossFunction;
pub use focal::{BinaryFocal, CategoricalFocal};
pub use names::LOSS_NAMES;
pub use reduction::Reduction;

use crate::error::{EngineError, Result};
use ndarray::ArrayD;
use rkeras_layers::NetworkOutput;
use rkeras_tensor::Tensor;
use std::sync::Arc;

/// Keras's clipping constant for probabilities (`keras.backend.epsilon()`).
pub const EPSILON: f32 = 1e-7;

/// Which loss, with its arguments.
#[derive(Clone)]
pub enum LossKind {
    /// `BinaryCrossentropy` / `binary_crossentropy`.
    BinaryCrossentropy(Crossentropy),
    /// `CategoricalCrossentropy` / `categorical_crossentropy`.
    CategoricalCrossentropy(Crossentropy),
    /// `SparseCategoricalCrossentropy` / `sparse_categorical_crossentropy`.
    SparseCategoricalCrossentropy(SparseCrossentropy),
    /// `BinaryFocalCrossentropy` / `binary_focal_crossentropy`.
    BinaryFocalCrossentropy(BinaryFocal),
    /// `CategoricalFocalCrossentropy` / `categorical_focal_crossentropy`.
    CategoricalFocalCrossentropy(CategoricalFocal),
    /// `MeanSquaredError` / `mse`.
    MeanSquaredError,
    /// `MeanAbsoluteError` / `mae`.
    MeanAbsoluteError,
    /// `MeanAbsolutePercentageError` / `mape`.
    MeanAbsolutePercentageError,
    /// `MeanSquaredLogarithmicError` / `msle`.
    MeanSquaredLogarithmicError,
    /// `Huber` / `huber`, quadratic below `delta` (default 1.0), linear above.
    Huber {
        /// The switch point.
        delta: f32,
    },
    /// `LogCosh` / `log_cosh`.
    LogCosh,
    /// `KLDivergence` / `kl_divergence` / `kld`.
    KLDivergence,
    /// `Poisson` / `poisson`.
    Poisson,
    /// `Hinge` / `hinge` (0/1 targets become ∓1).
    Hinge,
    /// `SquaredHinge` / `squared_hinge`.
    SquaredHinge,
    /// `CategoricalHinge` / `categorical_hinge`.
    CategoricalHinge,
    /// `CosineSimilarity` / `cosine_similarity` along `axis` (default −1).
    CosineSimilarity {
        /// The axis of the vectors.
        axis: isize,
    },
    /// A user function.
    Custom(Arc<dyn LossFunction>),
}

/// A loss: what it computes, how it reduces, and its name.
#[derive(Clone)]
pub struct Loss {
    kind: LossKind,
    reduction: Reduction,
    name: String,
    /// Whether it was given by a function name (`"mse"`), so that a compile config writes that name back.
    from_function_name: bool,
    /// Whether `reduction` was Python's `None` rather than `"none"` (written back as read).
    null_reduction: bool,
}

impl std::fmt::Debug for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Loss {
    /// A loss of the given kind with Keras's default name and `sum_over_batch_size`; arguments out of range
    /// (`label_smoothing` outside `[0, 1]`, `delta ≤ 0`, `gamma < 0`) are errors that echo the value.
    pub fn new(kind: LossKind) -> Result<Loss> {
        check(&kind)?;
        let name = names::default_name(&kind).to_string();
        Ok(Loss {
            kind,
            reduction: Reduction::default(),
            name,
            from_function_name: false,
            null_reduction: false,
        })
    }

    /// A loss by Keras name, function (`"mse"`, `"huber"`) or class (`"MeanSquaredError"`, `"KLD"`); an unknown
    /// name lists the valid ones.
    ///
    /// ```
    /// use rkeras_engine::Loss;
    /// assert_eq!(Loss::from_name("mse")?.name(), "mean_squared_error");
    /// assert!(Loss::from_name("msee").is_err());
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Loss> {
        names::from_name(name)
    }

    /// A custom loss from a closure or a [`LossFunction`].
    pub fn custom(name: &str, function: impl LossFunction + 'static) -> Loss {
        Loss {
            kind: LossKind::Custom(Arc::new(function)),
            reduction: Reduction::default(),
            name: name.to_string(),
            from_function_name: false,
            null_reduction: false,
        }
    }

    /// The same loss with another reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> Loss {
        self.reduction = reduction;
        self.null_reduction = false;
        self
    }

    /// The same loss under another name.
    pub fn with_name(mut self, name: &str) -> Loss {
        self.name = name.to_string();
        self
    }

    /// The loss's name (Keras's: the function name, or the class's default `name` argument).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it computes.
    pub fn kind(&self) -> &LossKind {
        &self.kind
    }

    /// How it reduces.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// Keras's `loss(y_true, y_pred, sample_weight)`: the loss values (the class axis reduced), weighted and
    /// reduced. `sample_weight` has the batch's shape (`[batch]`) or the values' shape.
    pub fn call(
        &self,
        y_true: &Tensor,
        y_pred: &Tensor,
        sample_weight: Option<&Tensor>,
    ) -> Result<Tensor> {
        let (values, mask) = self.values(y_true, y_pred)?;
        let total = values.len().max(1) as f64;
        let mut weights: Option<Tensor> = match sample_weight {
            Some(w) => Some(broadcast_weights(w, values.shape())?),
            None => None,
        };
        if let Some(mask) = mask {
            let scaled = match self.reduction {
                Reduction::Mean | Reduction::SumOverBatchSize => {
                    let valid = mask.sum();
                    let scale = if valid > 0.0 {
                        total as f32 / valid
                    } else {
                        0.0
                    };
                    mask.mapv(|m| m * scale)
                }
                _ => mask,
            };
            let scaled = Tensor::new(scaled);
            weights = Some(match weights {
                Some(w) => w.mul(&scaled)?,
                None => scaled,
            });
        }
        let weighted = match &weights {
            Some(w) => values.mul(w)?,
            None => values,
        };
        if self.reduction == Reduction::None {
            return Ok(weighted);
        }
        let weight_sum = weights.as_ref().map(|w| f64::from(w.data().sum()));
        let divisor = self.reduction.divisor(total, weight_sum);
        let sum = weighted.sum_all()?;
        Ok(if divisor == 0.0 {
            sum.mul_scalar(0.0)?
        } else {
            sum.mul_scalar((1.0 / divisor) as f32)?
        })
    }

    /// Keras's `call(y_true, y_pred)`: the loss values before weighting and reduction (`[batch, …]`).
    pub fn unreduced(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
        Ok(self.values(y_true, y_pred)?.0)
    }

    /// Keras's `call(y_true, y_pred)`: the unreduced values and, for `ignore_class`, the valid positions.
    fn values(&self, y_true: &Tensor, y_pred: &Tensor) -> Result<(Tensor, Option<ArrayD<f32>>)> {
        if let LossKind::SparseCategoricalCrossentropy(args) = &self.kind {
            return crossentropy::sparse(y_true, y_pred, args);
        }
        let y_true = &same_rank(y_true, y_pred)?;
        let values = match &self.kind {
            LossKind::SparseCategoricalCrossentropy(_) => unreachable_sparse()?,
            LossKind::BinaryCrossentropy(args) => crossentropy::binary(y_true, y_pred, args)?,
            LossKind::CategoricalCrossentropy(args) => {
                crossentropy::categorical(y_true, y_pred, args)?
            }
            LossKind::BinaryFocalCrossentropy(args) => focal::binary(y_true, y_pred, args)?,
            LossKind::CategoricalFocalCrossentropy(args) => {
                focal::categorical(y_true, y_pred, args)?
            }
            LossKind::MeanSquaredError => regression::mean_squared_error(y_true, y_pred)?,
            LossKind::MeanAbsoluteError => regression::mean_absolute_error(y_true, y_pred)?,
            LossKind::MeanAbsolutePercentageError => {
                regression::mean_absolute_percentage_error(y_true, y_pred)?
            }
            LossKind::MeanSquaredLogarithmicError => {
                regression::mean_squared_logarithmic_error(y_true, y_pred)?
            }
            LossKind::Huber { delta } => robust::huber(y_true, y_pred, *delta)?,
            LossKind::LogCosh => robust::log_cosh(y_true, y_pred)?,
            LossKind::KLDivergence => probabilistic::kl_divergence(y_true, y_pred)?,
            LossKind::Poisson => probabilistic::poisson(y_true, y_pred)?,
            LossKind::Hinge => hinge::hinge(y_true, y_pred)?,
            LossKind::SquaredHinge => hinge::squared_hinge(y_true, y_pred)?,
            LossKind::CategoricalHinge => hinge::categorical_hinge(y_true, y_pred)?,
            LossKind::CosineSimilarity { axis } => {
                cosine::cosine_similarity(y_true, y_pred, *axis)?
            }
            LossKind::Custom(function) => function.call(y_true, y_pred)?,
        };
        Ok((values, None))
    }

    /// Whether the loss can use logits from a final softmax (the fused, exact path, as Keras's TensorFlow
    /// backend does for a softmax output).
    pub(crate) fn wants_logits(&self) -> bool {
        match &self.kind {
            LossKind::CategoricalCrossentropy(a) => !a.from_logits && a.axis == -1,
            LossKind::SparseCategoricalCrossentropy(a) => !a.from_logits,
            _ => false,
        }
    }

    /// The per-sample loss (`[batch]`) of one batch in training: the values, averaged over any axes beyond the
    /// batch axis (sequence outputs); ignored positions and the steps the output's mask drops count 0.
    pub(crate) fn per_sample(&self, y_true: &Tensor, out: &NetworkOutput) -> Result<Tensor> {
        let values = match (&self.kind, &out.logits) {
            (LossKind::CategoricalCrossentropy(args), Some(logits)) if self.wants_logits() => {
                let classes = y_true.shape().last().copied().unwrap_or(1).max(1);
                let y = crossentropy::smooth(y_true, args.label_smoothing, 1.0 / classes as f32)?;
                logits.softmax_cross_entropy(&y)?
            }
            (LossKind::SparseCategoricalCrossentropy(args), Some(logits))
                if self.wants_logits() =>
            {
                let (labels, mask) = crossentropy::ignore_mask(y_true, args.ignore_class);
                let values = logits.sparse_softmax_cross_entropy(&labels)?;
                match mask {
                    Some(mask) => values.mul(&Tensor::new(reshape(mask, values.shape())?))?,
                    None => values,
                }
            }
            _ => self.values(y_true, &out.output)?.0,
        };
        let values = match &out.mask {
            Some(mask) => {
                let mask = crate::output_mask::mask_for(mask, values.shape())?;
                values.mul(&mask)?
            }
            None => values,
        };
        if values.ndim() > 1 {
            let rest: Vec<isize> = (1..values.ndim() as isize).collect();
            return Ok(values.mean(&rest, false)?);
        }
        Ok(values)
    }

    /// The divisor of a training batch's `Σ wᵢ·lossᵢ` over [`Loss::per_sample`] values, as Keras's reduction
    /// divides the sum over all positions: `batch` for `sum_over_batch_size` (the number of valid positions,
    /// in samples, under `ignore_class`), `Σ w` for `mean_with_sample_weight`, 1 / positions per sample for
    /// `sum`. Keras's `fit` averages a `none` loss's values, so `none` divides as `sum_over_batch_size`.
    pub(crate) fn batch_divisor(
        &self,
        parts: &[crate::output_mask::MaskedPart<'_>],
        batch: usize,
        positions: usize,
    ) -> f64 {
        if parts.iter().any(|&(_, _, mask)| mask.is_some()) {
            let ignored = match &self.kind {
                LossKind::SparseCategoricalCrossentropy(args) => {
                    args.ignore_class.map(|c| c as f32)
                }
                _ => None,
            };
            return crate::output_mask::masked_batch_divisor(
                self.reduction,
                parts,
                batch,
                positions,
                ignored,
            );
        }
        let per_sample = (positions.max(1) as f64) / (batch.max(1) as f64);
        let valid = match &self.kind {
            LossKind::SparseCategoricalCrossentropy(SparseCrossentropy {
                ignore_class: Some(ignored),
                ..
            }) => {
                let ignored = *ignored as f32;
                let mut valid_weight = 0.0f64;
                let mut valid = 0usize;
                for &(y_true, weights, _) in parts {
                    let rows = y_true.shape().first().copied().unwrap_or(1).max(1);
                    let per_label = (y_true.len() / rows).max(1);
                    for (i, &v) in y_true.iter().enumerate() {
                        if v != ignored {
                            valid += 1;
                            valid_weight += weights.map_or(1.0, |w| {
                                let w = w.as_slice().and_then(|s| s.get(i / per_label));
                                f64::from(w.copied().unwrap_or(1.0))
                            });
                        }
                    }
                }
                Some((valid as f64, valid_weight))
            }
            _ => None,
        };
        let weight_sum = parts
            .iter()
            .map(|(_, w, _)| w.map(|w| w.iter().map(|&v| f64::from(v)).sum::<f64>()))
            .sum::<Option<f64>>()
            .map(|w| w * per_sample);
        let divisor = match (self.reduction, valid) {
            (Reduction::Sum, _) => 1.0,
            (Reduction::MeanWithSampleWeight, Some((_, w))) => w,
            (Reduction::MeanWithSampleWeight, None) => weight_sum.unwrap_or(positions as f64),
            (_, Some((v, _))) => v,
            (_, None) => return batch as f64,
        };
        divisor / per_sample
    }
}

/// The sparse case returns before the match; this arm only completes it.
fn unreachable_sparse() -> Result<Tensor> {
    Err(EngineError::invalid(
        "loss",
        "sparse cross-entropy takes its own path",
    ))
}

/// Checks the arguments of a kind.
fn check(kind: &LossKind) -> Result<()> {
    let focal_gamma = |gamma: f32| {
        if gamma.is_finite() && gamma >= 0.0 {
            Ok(())
        } else {
            Err(EngineError::invalid(
                "gamma",
                format!("expected a float ≥ 0. Received: gamma={gamma}"),
            ))
        }
    };
    match kind {
        LossKind::BinaryCrossentropy(a) | LossKind::CategoricalCrossentropy(a) => {
            crossentropy::check_smoothing(a.label_smoothing)
        }
        LossKind::BinaryFocalCrossentropy(a) => {
            crossentropy::check_smoothing(a.label_smoothing)?;
            focal_gamma(a.gamma)
        }
        LossKind::CategoricalFocalCrossentropy(a) => {
            crossentropy::check_smoothing(a.label_smoothing)?;
            focal_gamma(a.gamma)
        }
        LossKind::Huber { delta } => robust::check_delta(*delta),
        _ => Ok(()),
    }
}

/// Targets and predictions must agree in shape where the formula pairs them elementwise.
pub(crate) fn same_shape(y_true: &Tensor, y_pred: &Tensor) -> Result<()> {
    if y_true.shape() == y_pred.shape() {
        return Ok(());
    }
    Err(EngineError::invalid(
        "y_true",
        format!(
            "targets of shape {:?} do not match the predictions' shape {:?}",
            y_true.shape(),
            y_pred.shape()
        ),
    ))
}

/// Keras's `squeeze_or_expand_to_same_rank` for targets: `[batch]` against `[batch, 1]` predictions gains the
/// trailing axis, `[batch, n, 1]` against `[batch, n]` loses it.
fn same_rank(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    let (t, p) = (y_true.shape(), y_pred.shape());
    if t.len() + 1 == p.len() && p.last() == Some(&1) {
        return Ok(y_true.reshape(p)?);
    }
    if p.len() + 1 == t.len() && t.last() == Some(&1) && t[..p.len()] == *p && p.len() > 1 {
        return Ok(y_true.reshape(p)?);
    }
    Ok(y_true.clone())
}

fn reshape(mask: ArrayD<f32>, shape: &[usize]) -> Result<ArrayD<f32>> {
    mask.into_shape_with_order(shape)
        .map_err(|e| EngineError::invalid("y_true", e.to_string()))
}

/// Sample weights of shape `[batch]` gain trailing axes to multiply values of shape `[batch, …]`.
pub(crate) fn broadcast_weights(weights: &Tensor, values: &[usize]) -> Result<Tensor> {
    if weights.shape() == values || weights.ndim() >= values.len() {
        return Ok(weights.clone());
    }
    let mut shape = weights.shape().to_vec();
    shape.resize(values.len(), 1);
    Ok(weights.reshape(&shape)?)
}
