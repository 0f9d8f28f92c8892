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

pub mod activation;
pub mod activations;
pub mod attention;
mod call_inputs;
pub mod constraints;
pub mod convolutional;
pub mod core;
pub mod custom_registry;
pub mod error;
pub mod initializers;
pub mod input_layer;
pub mod keras_call;
pub mod layer;
pub mod merging;
pub mod nested_model;
pub mod network;
pub mod network_config;
pub mod normalization;
pub mod pooling;
pub mod preprocessing;
pub mod registry;
pub mod regularization;
pub mod regularizers;
pub mod reshaping;
pub mod rnn;
pub mod serialization;
pub mod size;
pub mod summary;
pub mod symbolic;
pub mod weight_rules;

pub use activation::{ELU, LeakyReLU, PReLU, ReLU, Softmax};
pub use activations::ActivationFn;
pub use attention::{
    AdditiveAttention, Attention, AttentionOptions, MultiHeadAttention, ScoreMode,
};
pub use constraints::Constraint;
pub use convolutional::{Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D};
pub use core::Dense;
pub use core::EinsumDense;
pub use core::{Activation, Embedding, Lambda, Masking};
pub use custom_registry::{LayerFactory, register_layer, registered_layer_names, unregister_layer};
pub use error::{LayersError, Result};
pub use input_layer::InputLayer;
pub use keras_call::KerasCall;
pub use layer::{CallContext, Layer, LayerCore, LayerRef, Shape};
pub use merging::{
    Add, Average, Concatenate, Dot, DotAxes, Maximum, Minimum, Multiply, Subtract, add, average,
    concatenate, dot, maximum, minimum, multiply, subtract,
};
pub use nested_model::NestedModel;
pub use network::{Network, NetworkOutput};
pub use normalization::{BatchNormalization, LayerNormalization};
pub use pooling::{
    AveragePooling1D, AveragePooling2D, GlobalPooling, GlobalPoolingKind, MaxPooling1D,
    MaxPooling2D,
};
pub use preprocessing::Rescaling;
pub use registry::{SUPPORTED_LAYER_CLASSES, layer_from_config, layer_from_saved};
pub use regularization::{Dropout, SpatialDropout};
pub use regularizers::{OrthogonalMode, Regularizer};
pub use reshaping::{
    Crop, Cropping, Flatten, Pad, PairsEdit, Permute, RepeatVector, Reshape, SpatialPairs,
    UpSampling, ZeroPadding,
};
pub use rnn::GRU;
pub use rnn::LSTM;
pub use rnn::SimpleRNN;
pub use rnn::TimeDistributed;
pub use rnn::{Bidirectional, MergeMode};
pub use symbolic::{Input, LayerCall, SymbolicTensor, set_random_seed};
pub use weight_rules::WeightRules;
