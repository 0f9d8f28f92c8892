//! The arguments ExponentialDecay and InverseTimeDecay share (Keras gives both the same signature and config):
//! `initial_learning_rate`, `decay_steps`, `decay_rate`, `staircase`, `name`.

use super::config::ScheduleConfigReader;
use super::{check_steps, steps_json};
use crate::error::Result;
use serde_json::{Value, json};

/// `initial_learning_rate`, `decay_steps` (> 0), `decay_rate`, `staircase` and the schedule's name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StaircaseArgs {
    pub(crate) initial_learning_rate: f64,
    pub(crate) decay_steps: f64,
    pub(crate) decay_rate: f64,
    pub(crate) staircase: bool,
    pub(crate) name: String,
}

impl StaircaseArgs {
    /// Checked arguments (Keras: `decay_steps` must be > 0), named `class` and without staircase.
    pub(crate) fn new(
        class: &'static str,
        initial_learning_rate: f64,
        decay_steps: f64,
        decay_rate: f64,
    ) -> Result<Self> {
        check_steps(class, "decay_steps", decay_steps)?;
        Ok(StaircaseArgs {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase: false,
            name: class.into(),
        })
    }

    /// `step / decay_steps` in float32, floored with `staircase`.
    pub(crate) fn progress(&self, step: u64) -> f32 {
        let p = step as f32 / self.decay_steps as f32;
        if self.staircase { p.floor() } else { p }
    }

    /// Keras's `get_config()`.
    pub(crate) fn config(&self) -> Value {
        json!({
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": steps_json(self.decay_steps),
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        })
    }

    /// The arguments of a Keras config.
    pub(crate) fn read(class: &'static str, r: &mut ScheduleConfigReader) -> Result<Self> {
        let mut args = Self::new(
            class,
            r.f64("initial_learning_rate")?,
            r.f64("decay_steps")?,
            r.f64("decay_rate")?,
        )?;
        args.staircase = r.bool_or("staircase", false)?;
        args.name = r.name(class)?;
        Ok(args)
    }
}
