//! [`OptimizerConfig`]: the part of an optimizer that differs from class to class, supplied by its config type.
//!
//! Keras's optimizers override `build` (the slots), `update_step` (the formula) and `get_config` (their own keys)
//! and inherit everything else from `BaseOptimizer`. Here each optimizer's config implements this trait for those
//! three, plus the checks of its own hyper-parameters; the optimizer type, its constructors and the rest of the
//! [`crate::Optimizer`] methods are generated once, by the `optimizer!` macro in `macros.rs`.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Optimizer, SGDConfig};
//!
//! // The checks of SGD's own `momentum` run after those of the base options.
//! assert!(SGDConfig::default().with_momentum(2.0).build().is_err());
//! let mut opt = SGDConfig::default().with_momentum(0.5).build()?;
//! assert_eq!(opt.slot_names(), ["momentum"]);
//! let mut w: ArrayD<f32> = arr1(&[1.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&arr1(&[1.0f32]).into_dyn()])?;
//! assert_eq!(w[0], 1.0 - 0.01); // m = -0.01, w = w + m
//! assert_eq!(opt.config()["momentum"], 0.5);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::error::{OptimError, Result};
use crate::slots::SlotStore;
use ndarray::{ArrayD, ArrayViewD};
use serde_json::Value;

/// What one optimizer class adds to the shared base: its checks, slots, update formula and config keys.
pub(crate) trait OptimizerConfig {
    /// Checks the class's own hyper-parameters (the base options are checked before).
    fn check(&self) -> Result<()>;

    /// The slots, named and ordered as Keras creates them, with their initial values and Keras 2's aliases.
    fn slots(&self) -> SlotStore;

    /// The update of one parameter at the step that follows `iterations` steps: called as
    /// `update(param, clipped_gradient, squares, slots)` after clipping and weight decay, with the parameter's
    /// slots in [`OptimizerConfig::slots`] order; `squares` replaces `gradient²` when given (a row gradient's
    /// per-lookup squares). For a row gradient the arrays hold only the looked-up rows.
    fn update_step(&self, iterations: u64) -> impl UpdateStep;

    /// Whether a zero gradient leaves a parameter element and its slots exactly as they are (plain SGD,
    /// Adagrad), so that a row gradient may update only its rows and still give the dense result bit for bit.
    fn zero_gradient_keeps_state(&self) -> bool {
        false
    }

    /// The class's own `get_config()` entries, in Keras's key order, to follow the base ones.
    fn keras_entries(&self) -> Vec<(&'static str, Value)>;
}

/// One parameter's update: `update(param, gradient, squares, slots)`.
pub(crate) trait UpdateStep:
    Fn(
        &mut ArrayD<f32>,
        ArrayViewD<'_, f32>,
        Option<ArrayViewD<'_, f32>>,
        &mut [ArrayD<f32>],
    ) -> Result<()>
    + Sync
{
}

impl<T> UpdateStep for T where
    T: Fn(
            &mut ArrayD<f32>,
            ArrayViewD<'_, f32>,
            Option<ArrayViewD<'_, f32>>,
            &mut [ArrayD<f32>],
        ) -> Result<()>
        + Sync
{
}

/// The error of an update step handed slots that its config did not create (an internal invariant).
pub(crate) fn unexpected_slots(optimizer: &'static str) -> OptimError {
    OptimError::Internal {
        optimizer,
        reason: "unexpected slots".into(),
    }
}
