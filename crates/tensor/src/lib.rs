//! rkeras-tensor: n-dimensional f32 tensors, reverse-mode automatic differentiation and CPU-parallel kernels.
//!
//! - [`Tensor`]: an immutable array handle that records how it was made; [`Tensor::backward`] returns
//!   [`Gradients`] for every leaf. Gradients accumulate over every use of a tensor and are summed back over
//!   broadcast axes. [`no_grad`] switches recording off (inference).
//! - [`Variable`]: a named weight updated in place by an optimizer.
//! - [`ops`]: the differentiable operations, one family per file.
//! - [`kernels`]: plain functions on slices (GEMM, batched GEMM, the fused LSTM), tested against naive references.
//! - [`Initializer`]: Keras's initializers, seeded.
//! - [`buffer_pool`]: per-thread reuse of array buffers across training steps.
//!
//! ```
//! use rkeras_tensor::{Tensor, Variable};
//! // y = x², dy/dx = 2x = 6 at x = 3.
//! let x = Variable::new("x", ndarray::arr0(3.0f32).into_dyn());
//! let y = x.tensor().square()?;
//! let grads = y.backward()?;
//! assert_eq!(grads.get_var(&x).unwrap().sum(), 6.0);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod backprop;
pub mod buffer_pool;
pub mod error;
pub mod gradcheck;
mod gradient;
mod indexed_slices;
pub mod init;
pub mod kernels;
pub mod ops;
mod pooled;
pub mod tensor;
pub mod variable;

pub use backprop::{Gradients, is_grad_enabled, no_grad};
pub use error::{Result, TensorError};
pub use gradient::{Gradient, GradientRef};
pub use indexed_slices::IndexedSlices;
pub use init::{FanMode, Initializer, ScalingDistribution};
pub use tensor::{Tensor, TensorId};
pub use variable::Variable;
