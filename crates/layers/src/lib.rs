//! rkeras-layers: Keras's layers, the functional graph API and `summary()`.
//!
//! ```
//! use rkeras_layers::{Dense, Input, LayerCall, Network};
//! let (left, right) = (Input::new(&[4]), Input::new(&[4]));
//! let shared = Dense::new(2);
//! let a = shared.call(&left)?;
//! let b = shared.call(&right)?; // one layer object called twice: one set of weights
//! let net = Network::new(&[left, right], &[a, b])?;
//! assert_eq!(net.count_params(), 4 * 2 + 2);
//! # Ok::<(), rkeras_layers::LayersError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

pub mod activations;
mod call_inputs;
pub mod core;
pub mod error;
pub mod input_layer;
pub mod layer;
pub mod merging;
pub mod network;
pub mod network_config;
pub mod registry;
pub mod regularization;
pub mod reshaping;
pub mod rnn;
pub mod serialization;
pub mod size;
pub mod summary;
pub mod symbolic;

pub use activations::ActivationFn;
pub use core::Dense;
pub use core::{Activation, Embedding};
pub use error::{LayersError, Result};
pub use input_layer::InputLayer;
pub use layer::{CallContext, Layer, LayerCore, LayerRef, Shape};
pub use merging::{
    Add, Average, Concatenate, Dot, DotAxes, Maximum, Minimum, Multiply, Subtract, add, average,
    concatenate, dot, maximum, minimum, multiply, subtract,
};
pub use network::{Network, NetworkOutput};
pub use registry::{SUPPORTED_LAYER_CLASSES, layer_from_config};
pub use regularization::Dropout;
pub use reshaping::{Flatten, Permute, Reshape};
pub use rnn::LSTM;
pub use symbolic::{Input, LayerCall, SymbolicTensor, set_random_seed};
