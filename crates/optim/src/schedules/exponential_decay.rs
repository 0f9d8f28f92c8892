//! [`ExponentialDecay`]: `initial_learning_rate · decay_rate^(step / decay_steps)` — Keras 3's
//! `keras.optimizers.schedules.ExponentialDecay`; with `staircase` the exponent is floored.
//!
//! ```
//! use rkeras_optim::schedules::ExponentialDecay;
//! let s = ExponentialDecay::new(1.0, 10.0, 0.5)?;
//! assert!((s.value(10) - 0.5).abs() < 1e-7);
//! assert!((s.value(5) - 0.5f32.sqrt()).abs() < 1e-6);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use super::config::ScheduleConfigReader;
use super::staircase_args::StaircaseArgs;
use crate::error::Result;
use serde_json::Value;

/// Exponential decay of the learning rate.
#[derive(Debug, Clone, PartialEq)]
pub struct ExponentialDecay(StaircaseArgs);

impl ExponentialDecay {
    /// Keras's class name.
    pub const CLASS_NAME: &'static str = "ExponentialDecay";

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
        self.0.initial_learning_rate as f32 * (self.0.decay_rate as f32).powf(self.0.progress(step))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staircase_floors_the_exponent_and_steps_must_be_positive() {
        let s = ExponentialDecay::new(0.1, 3.0, 0.7)
            .unwrap()
            .with_staircase(true);
        assert_eq!(s.value(2), 0.1);
        assert_eq!(s.value(3), 0.1f32 * 0.7f32);
        let err = ExponentialDecay::new(0.1, 0.0, 0.5).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ExponentialDecay: Argument `decay_steps` must be > 0. Received: decay_steps=0"
        );
    }
}
