//! [`InverseTimeDecay`]: `initial_learning_rate / (1 + decay_rate · step / decay_steps)` — Keras 3's
//! `keras.optimizers.schedules.InverseTimeDecay`; with `staircase` the quotient `step / decay_steps` is floored.
//!
//! ```
//! use rkeras_optim::schedules::InverseTimeDecay;
//! let s = InverseTimeDecay::new(1.0, 1.0, 0.5)?;
//! assert_eq!(s.value(2), 0.5); // 1 / (1 + 0.5 · 2)
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use super::config::ScheduleConfigReader;
use super::staircase_args::StaircaseArgs;
use crate::error::Result;
use serde_json::Value;

/// Inverse-time decay of the learning rate.
#[derive(Debug, Clone, PartialEq)]
pub struct InverseTimeDecay(StaircaseArgs);

impl InverseTimeDecay {
    /// Keras's class name.
    pub const CLASS_NAME: &'static str = "InverseTimeDecay";

    /// A schedule from `initial_learning_rate`, `decay_steps` (> 0) and `decay_rate`; `staircase` off.
    pub fn new(initial_learning_rate: f64, decay_steps: f64, decay_rate: f64) -> Result<Self> {
        StaircaseArgs::new(
            Self::CLASS_NAME,
            initial_learning_rate,
            decay_steps,
            decay_rate,
        )
        .map(Self)
    }

    /// Decays at discrete intervals (`step / decay_steps` floored).
    pub fn with_staircase(mut self, staircase: bool) -> Self {
        self.0.staircase = staircase;
        self
    }

    /// The rate at `step`, in float32 as Keras computes it.
    pub fn value(&self, step: u64) -> f32 {
        self.0.initial_learning_rate as f32
            / (1.0 + self.0.decay_rate as f32 * self.0.progress(step))
    }

    pub(crate) fn class_name(&self) -> &'static str {
        Self::CLASS_NAME
    }

    /// Keras's `get_config()`.
    pub fn config(&self) -> Value {
        self.0.config()
    }

    pub(crate) fn read(r: &mut ScheduleConfigReader) -> Result<Self> {
        StaircaseArgs::read(Self::CLASS_NAME, r).map(Self)
    }
}
