//! Keras's activation functions by name: linear, relu, sigmoid, hard_sigmoid, tanh, softmax, elu, softplus.
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
}

const NAMES: [(&str, ActivationFn); 9] = [
    ("linear", ActivationFn::Linear),
    ("relu", ActivationFn::Relu),
    ("sigmoid", ActivationFn::Sigmoid),
    ("hard_sigmoid", ActivationFn::HardSigmoid),
    ("hard_sigmoid_keras2", ActivationFn::HardSigmoidKeras2),
    ("tanh", ActivationFn::Tanh),
    ("softmax", ActivationFn::Softmax),
    ("elu", ActivationFn::Elu),
    ("softplus", ActivationFn::Softplus),
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
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .ok_or_else(|| LayersError::UnknownName {
                kind: "activation",
                name: name.to_string(),
                valid: NAMES.iter().map(|(n, _)| n.to_string()).collect(),
            })
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
        }
    }
}

impl std::str::FromStr for ActivationFn {
    type Err = LayersError;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s)
    }
}
