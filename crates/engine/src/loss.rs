//! Losses by Keras name or custom, each giving one value per sample so that sample weights apply.

use crate::error::{EngineError, Result};
use rkeras_layers::NetworkOutput;
use rkeras_tensor::Tensor;
use std::sync::Arc;

/// Keras's clipping constant for probabilities (`keras.backend.epsilon()`).
pub const EPSILON: f32 = 1e-7;

/// A custom loss: `(y_true, y_pred) → per-sample loss` of shape `[batch]` (or `[batch, …]`, averaged).
pub type LossFn = Arc<dyn Fn(&Tensor, &Tensor) -> rkeras_tensor::Result<Tensor> + Send + Sync>;

/// A loss function.
#[derive(Clone)]
pub enum Loss {
    /// `−Σ y·log p` over the last axis; one-hot (or probability) targets.
    CategoricalCrossentropy,
    /// `−log p[label]`; integer class ids as targets.
    SparseCategoricalCrossentropy,
    /// `−mean(y·log p + (1−y)·log(1−p))` over the last axis.
    BinaryCrossentropy,
    /// `mean((y − p)²)` over the last axis.
    MeanSquaredError,
    /// `mean(|y − p|)` over the last axis.
    MeanAbsoluteError,
    /// A user function.
    Custom {
        /// The name logged and saved.
        name: String,
        /// The function.
        function: LossFn,
    },
}

impl std::fmt::Debug for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A loss name and how to make it.
type NamedLoss = (&'static str, fn() -> Loss);

const NAMES: [NamedLoss; 9] = [
    ("categorical_crossentropy", || Loss::CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", || {
        Loss::SparseCategoricalCrossentropy
    }),
    ("binary_crossentropy", || Loss::BinaryCrossentropy),
    ("mean_squared_error", || Loss::MeanSquaredError),
    ("mse", || Loss::MeanSquaredError),
    ("mean_absolute_error", || Loss::MeanAbsoluteError),
    ("mae", || Loss::MeanAbsoluteError),
    ("CategoricalCrossentropy", || Loss::CategoricalCrossentropy),
    ("SparseCategoricalCrossentropy", || {
        Loss::SparseCategoricalCrossentropy
    }),
];

impl Loss {
    /// A loss by Keras name (`"sparse_categorical_crossentropy"`, `"mse"`, …); an unknown name lists the valid.
    ///
    /// ```
    /// use rkeras_engine::Loss;
    /// assert_eq!(Loss::from_name("mse")?.name(), "mean_squared_error");
    /// assert!(Loss::from_name("msee").is_err());
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Loss> {
        NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, make)| make())
            .ok_or_else(|| EngineError::UnknownName {
                kind: "loss",
                name: name.to_string(),
                valid: NAMES.iter().map(|(n, _)| n.to_string()).collect(),
            })
    }

    /// A custom loss.
    pub fn custom(
        name: &str,
        function: impl Fn(&Tensor, &Tensor) -> rkeras_tensor::Result<Tensor> + Send + Sync + 'static,
    ) -> Loss {
        Loss::Custom {
            name: name.to_string(),
            function: Arc::new(function),
        }
    }

    /// Keras's name.
    pub fn name(&self) -> &str {
        match self {
            Loss::CategoricalCrossentropy => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
            Loss::BinaryCrossentropy => "binary_crossentropy",
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::Custom { name, .. } => name,
        }
    }

    /// Whether the loss can use logits from a final softmax (the fused, exact path).
    pub(crate) fn wants_logits(&self) -> bool {
        matches!(
            self,
            Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy
        )
    }

    /// The per-sample loss (`[batch]`) of one batch.
    pub(crate) fn per_sample(&self, y_true: &Tensor, out: &NetworkOutput) -> Result<Tensor> {
        let y_pred = &out.output;
        let values = match (self, &out.logits) {
            (Loss::CategoricalCrossentropy, Some(logits)) => {
                logits.softmax_cross_entropy(y_true)?
            }
            (Loss::SparseCategoricalCrossentropy, Some(logits)) => {
                logits.sparse_softmax_cross_entropy(y_true)?
            }
            (Loss::CategoricalCrossentropy, None) => {
                categorical_from_probabilities(y_true, y_pred)?
            }
            (Loss::SparseCategoricalCrossentropy, None) => {
                let classes = y_pred.shape().last().copied().unwrap_or(0);
                let one_hot = crate::labels::one_hot(y_true.data(), classes)?;
                categorical_from_probabilities(&Tensor::new(one_hot), y_pred)?
            }
            (Loss::BinaryCrossentropy, _) => {
                let p = y_pred.clip(EPSILON, 1.0 - EPSILON)?;
                let pos = y_true.mul(&p.log()?)?;
                let neg = y_true.rsub_scalar(1.0)?.mul(&p.rsub_scalar(1.0)?.log()?)?;
                pos.add(&neg)?.neg()?.mean(&[-1], false)?
            }
            (Loss::MeanSquaredError, _) => y_true.sub(y_pred)?.square()?.mean(&[-1], false)?,
            (Loss::MeanAbsoluteError, _) => y_true.sub(y_pred)?.abs()?.mean(&[-1], false)?,
            (Loss::Custom { function, .. }, _) => function(y_true, y_pred)?,
        };
        // Average any axes beyond the batch axis (sequence outputs), as Keras's reduction does.
        if values.ndim() > 1 {
            let rest: Vec<isize> = (1..values.ndim() as isize).collect();
            return Ok(values.mean(&rest, false)?);
        }
        Ok(values)
    }
}

/// Keras's categorical cross-entropy on probabilities: normalise, clip to `[ε, 1 − ε]`, `−Σ y·log p`.
fn categorical_from_probabilities(y_true: &Tensor, y_pred: &Tensor) -> Result<Tensor> {
    if y_true.shape() != y_pred.shape() {
        return Err(EngineError::invalid(
            "y",
            format!(
                "targets of shape {:?} do not match the model's output shape {:?}",
                y_true.shape(),
                y_pred.shape()
            ),
        ));
    }
    let normalised = y_pred.div(&y_pred.sum(&[-1], true)?)?;
    let log_p = normalised.clip(EPSILON, 1.0 - EPSILON)?.log()?;
    Ok(y_true.mul(&log_p)?.sum(&[-1], false)?.neg()?)
}
