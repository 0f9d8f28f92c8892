//! rkeras-optim: Keras 3's optimizers (SGD, RMSprop, Adam, AdamW, Nadam, Adamax, Adagrad, Adadelta, Lion, Ftrl)
//! and learning-rate schedules over plain `ndarray` parameters.
//!
//! Each optimizer follows Keras 3's update formulas exactly, in f32 and in Keras's order of operations, with
//! Keras's defaults, gradient clipping (`clipnorm`, `clipvalue`, `global_clipnorm`) and weight decay. Its state
//! (iteration count, learning rate, slots named as Keras names them) can be saved and restored, and its config
//! reads and writes Keras's `get_config()` dictionaries. See `docs/keras-mapping-optimizers.md` for the
//! argument-by-argument mapping and where Keras 2 differed.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Optimizer, RMSprop};
//!
//! let mut opt = RMSprop::new(0.01)?;
//! let mut w: ArrayD<f32> = arr1(&[1.0f32]).into_dyn();
//! let g: ArrayD<f32> = arr1(&[2.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&g])?;
//! // velocity = 0.1 · 2² = 0.4; w = 1 − 0.01 · 2 / sqrt(0.4 + 1e-7)
//! let expected = 1.0 - 0.01 * 2.0 / (0.4f64 + 1e-7).sqrt();
//! assert!((f64::from(w[0]) - expected).abs() < 1e-6);
//! opt.set_learning_rate(0.001)?; // e.g. from a callback
//! assert_eq!(opt.learning_rate(), f64::from(0.001f32)); // a float32 variable, as in Keras
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod adadelta;
mod adadelta_kernel;
mod adagrad;
mod adam;
mod adamax;
mod adamw;
mod base;
mod clipping;
mod elementwise;
pub mod error;
mod ftrl;
mod keras_config;
mod lion;
mod macros;
mod nadam;
mod optimizer;
mod optimizer_config;
mod registry;
mod rmsprop;
pub mod schedules;
mod sgd;
mod slots;
mod weight_decay;

pub use adadelta::{Adadelta, AdadeltaConfig};
pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig};
pub use adamax::{Adamax, AdamaxConfig};
pub use adamw::{AdamW, AdamWConfig};
pub use base::BaseConfig;
pub use error::{OptimError, Result};
pub use ftrl::{Ftrl, FtrlConfig};
pub use lion::{Lion, LionConfig};
pub use nadam::{Nadam, NadamConfig, keras_u_product, nadam_u_product};
pub use optimizer::{Optimizer, OptimizerState, SlotArray, keras_slot_path, keras_variable_paths};
pub use registry::{OPTIMIZER_NAMES, optimizer_from_config, optimizer_from_name};
pub use rkeras_tensor::{GradientRef, IndexedSlices};
pub use rmsprop::{RMSprop, RMSpropConfig};
pub use sgd::{SGD, SGDConfig};
