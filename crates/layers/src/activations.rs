//! Keras 3's activation functions by name, as `activation="…"` takes them: linear, relu, relu6, leaky_relu,
//! elu, selu, gelu, silu (swish), mish, sigmoid, hard_sigmoid, hard_silu (hard_swish), tanh, softmax,
//! log_softmax, softplus, softsign, exponential, celu, hard_shrink, hard_tanh, log_sigmoid, soft_shrink,
//! sparse_plus, sparse_sigmoid, sparsemax, squareplus, tanh_shrink. A name stands for Keras's default arguments (`leaky_relu`:
//! slope 0.2; `gelu`: exact; `softmax`, `sparsemax`: last axis; `celu`: alpha 1; `hard_shrink`, `soft_shrink`:
//! threshold 0.5; `squareplus`: b 4); the layers [`crate::ReLU`], [`crate::LeakyReLU`],
//! [`crate::ELU`], [`crate::Softmax`] and the tensor ops (`Tensor::relu_with`, `Tensor::gelu(approximate)`, …)
//! take the arguments. Keras's `glu` (which halves an axis, so that a layer's declared output shape would be
//! wrong) and `threshold` (which has no default arguments) are the tensor ops `Tensor::glu(axis)` and
//! `Tensor::threshold(threshold, default_value)`.
//!
//! `hard_sigmoid` is Keras 3's `relu6(x + 3) / 6`. Keras 1 and 2 defined it as `clip(0.2x + 0.5, 0, 1)`:
//! that form is `hard_sigmoid_keras2`, which files written by Keras 1/2 get (see
//! [`crate::Network::from_config_written_by`]).
//!
//! ```
//! use rkeras_layers::ActivationFn;
//! use rkeras_tensor::Tensor;
//! let x = Tensor::from_vec(&[2], vec![1.5, 2.6])?;
//! assert_eq!(ActivationFn::from_name("hard_sigmoid")?.apply(&x)?.to_vec(), vec![0.75, (2.6f32 + 3.0) / 6.0]);
//! assert_eq!(ActivationFn::from_name("hard_sigmoid_keras2")?.apply(&x)?.to_vec(), vec![0.8, 1.0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::{LayersError, Result};
use rkeras_tensor::{Tensor, TensorError};

/// An activation function, as named in Keras.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationFn {
    /// Identity.
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// Logistic sigmoid.
    Sigmoid,
    /// Keras 3's `relu6(x + 3) / 6`, the name `hard_sigmoid` in the API and in files written by Keras 3.
    HardSigmoid,
    /// Keras 1/2's `clip(0.2x + 0.5, 0, 1)`: `hard_sigmoid` in files written by Keras 1 or 2, and the name
    /// `hard_sigmoid_keras2` (rkeras's own, which Keras cannot read) in the API and in files rkeras writes.
    HardSigmoidKeras2,
    /// Hyperbolic tangent.
    Tanh,
    /// Softmax over the last axis.
    Softmax,
    /// ELU with alpha 1.
    Elu,
    /// `ln(1 + eˣ)`.
    Softplus,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `x` for `x ≥ 0`, `0.2·x` otherwise.
    LeakyRelu,
    /// Scaled ELU.
    Selu,
    /// Exact gelu `x·Φ(x)`.
    Gelu,
    /// `x·sigmoid(x)`, also named `swish`.
    Silu,
    /// `x·tanh(softplus(x))`.
    Mish,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `x·relu6(x + 3) / 6`, also named `hard_swish`.
    HardSilu,
    /// `eˣ`.
    Exponential,
    /// Log-softmax over the last axis.
    LogSoftmax,
    /// CELU with alpha 1.
    Celu,
    /// `x` where `|x| > 0.5`, 0 elsewhere.
    HardShrink,
    /// `x` clipped to `[−1, 1]`.
    HardTanh,
    /// `log(sigmoid(x))`.
    LogSigmoid,
    /// `x ∓ 0.5` outside `[−0.5, 0.5]`, 0 inside.
    SoftShrink,
    /// 0, `(x + 1)²/4`, `x` on `(−∞, −1]`, `(−1, 1)`, `[1, ∞)`.
    SparsePlus,
    /// `clip(x + 1, 0, 2) / 2`.
    SparseSigmoid,
    /// Keras 3.15's sparsemax over the last axis.
    Sparsemax,
    /// `(x + √(x² + 4)) / 2`.
    Squareplus,
    /// `x − tanh(x)`.
    TanhShrink,
}

/// Keras's other names for the same functions (Keras writes the first name of each in configs).
const ALIASES: [(&str, ActivationFn); 2] = [
    ("swish", ActivationFn::Silu),
    ("hard_swish", ActivationFn::HardSilu),
];

const NAMES: [(&str, ActivationFn); 29] = [
    ("linear", ActivationFn::Linear),
    ("relu", ActivationFn::Relu),
    ("sigmoid", ActivationFn::Sigmoid),
    ("hard_sigmoid", ActivationFn::HardSigmoid),
    ("hard_sigmoid_keras2", ActivationFn::HardSigmoidKeras2),
    ("tanh", ActivationFn::Tanh),
    ("softmax", ActivationFn::Softmax),
    ("elu", ActivationFn::Elu),
    ("softplus", ActivationFn::Softplus),
    ("relu6", ActivationFn::Relu6),
    ("leaky_relu", ActivationFn::LeakyRelu),
    ("selu", ActivationFn::Selu),
    ("gelu", ActivationFn::Gelu),
    ("silu", ActivationFn::Silu),
    ("mish", ActivationFn::Mish),
    ("softsign", ActivationFn::Softsign),
    ("hard_silu", ActivationFn::HardSilu),
    ("exponential", ActivationFn::Exponential),
    ("log_softmax", ActivationFn::LogSoftmax),
    ("celu", ActivationFn::Celu),
    ("hard_shrink", ActivationFn::HardShrink),
    ("hard_tanh", ActivationFn::HardTanh),
    ("log_sigmoid", ActivationFn::LogSigmoid),
    ("soft_shrink", ActivationFn::SoftShrink),
    ("sparse_plus", ActivationFn::SparsePlus),
    ("sparse_sigmoid", ActivationFn::SparseSigmoid),
    ("sparsemax", ActivationFn::Sparsemax),
    ("squareplus", ActivationFn::Squareplus),
    ("tanh_shrink", ActivationFn::TanhShrink),
];

impl ActivationFn {
    /// Parses Keras's name (`None`/`"linear"` for identity); an unknown name lists the valid ones.
    ///
    /// ```
    /// use rkeras_layers::ActivationFn;
    /// assert_eq!(ActivationFn::from_name("relu")?, ActivationFn::Relu);
    /// assert!(ActivationFn::from_name("rleu").unwrap_err().to_string().contains("relu"));
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Self> {
        NAMES
            .iter()
            .chain(ALIASES.iter())
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .ok_or_else(|| LayersError::UnknownName {
                kind: "activation",
                name: name.to_string(),
                valid: NAMES.iter().map(|(n, _)| n.to_string()).collect(),
            })
    }

    /// Every name `from_name` accepts, aliases last.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().chain(ALIASES.iter()).map(|(n, _)| *n)
    }

    /// Keras's name.
    pub fn name(&self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, a)| a == self)
            .map(|(n, _)| *n)
            .unwrap_or("linear")
    }

    /// Applies the function.
    pub fn apply(&self, x: &Tensor) -> std::result::Result<Tensor, TensorError> {
        match self {
            ActivationFn::Linear => Ok(x.clone()),
            ActivationFn::Relu => x.relu(),
            ActivationFn::Sigmoid => x.sigmoid(),
            ActivationFn::HardSigmoid => x.hard_sigmoid(),
            ActivationFn::HardSigmoidKeras2 => x.hard_sigmoid_keras2(),
            ActivationFn::Tanh => x.tanh(),
            ActivationFn::Softmax => x.softmax(-1),
            ActivationFn::Elu => x.elu(1.0),
            ActivationFn::Softplus => x.softplus(),
            ActivationFn::Relu6 => x.relu6(),
            ActivationFn::LeakyRelu => x.leaky_relu(0.2),
            ActivationFn::Selu => x.selu(),
            ActivationFn::Gelu => x.gelu(false),
            ActivationFn::Silu => x.silu(),
            ActivationFn::Mish => x.mish(),
            ActivationFn::Softsign => x.softsign(),
            ActivationFn::HardSilu => x.hard_silu(),
            ActivationFn::Exponential => x.exponential(),
            ActivationFn::LogSoftmax => x.log_softmax(-1),
            ActivationFn::Celu => x.celu(1.0),
            ActivationFn::HardShrink => x.hard_shrink(0.5),
            ActivationFn::HardTanh => x.hard_tanh(),
            ActivationFn::LogSigmoid => x.log_sigmoid(),
            ActivationFn::SoftShrink => x.soft_shrink(0.5),
            ActivationFn::SparsePlus => x.sparse_plus(),
            ActivationFn::SparseSigmoid => x.sparse_sigmoid(),
            ActivationFn::Sparsemax => x.sparsemax(-1),
            ActivationFn::Squareplus => x.squareplus(4.0),
            ActivationFn::TanhShrink => x.tanh_shrink(),
        }
    }
}

impl std::str::FromStr for ActivationFn {
    type Err = LayersError;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s)
    }
}
