//! [`PolynomialDecay`]: `(initial − end) · (1 − step / decay_steps)^power + end`, the step clamped to
//! `decay_steps` — Keras 3's `keras.optimizers.schedules.PolynomialDecay`. With `cycle`, `decay_steps` is
//! multiplied by `ceil(step / decay_steps)` (1 at step 0) instead.
//!
//! ```
//! use rkeras_optim::schedules::PolynomialDecay;
//! let s = PolynomialDecay::new(1.0, 10.0)?.with_end_learning_rate(0.0);
//! assert_eq!((s.value(5), s.value(20)), (0.5, 0.0));
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use super::config::ScheduleConfigReader;
use super::{check_steps, steps_json};
use crate::error::Result;
use serde_json::{Value, json};

/// Polynomial decay of the learning rate.
#[derive(Debug, Clone, PartialEq)]
pub struct PolynomialDecay {
    initial_learning_rate: f64,
    decay_steps: f64,
    end_learning_rate: f64,
    power: f64,
    cycle: bool,
    name: String,
}

impl PolynomialDecay {
    /// Keras's class name.
    pub const CLASS_NAME: &'static str = "PolynomialDecay";

    /// A schedule with Keras's defaults: `end_learning_rate` 0.0001, `power` 1, no `cycle`.
    pub fn new(initial_learning_rate: f64, decay_steps: f64) -> Result<Self> {
        check_steps(Self::CLASS_NAME, "decay_steps", decay_steps)?;
        Ok(PolynomialDecay {
            initial_learning_rate,
            decay_steps,
            end_learning_rate: 0.0001,
            power: 1.0,
            cycle: false,
            name: Self::CLASS_NAME.into(),
        })
    }

    /// Sets the final rate.
    pub fn with_end_learning_rate(mut self, end_learning_rate: f64) -> Self {
        self.end_learning_rate = end_learning_rate;
        self
    }

    /// Sets the power of the polynomial.
    pub fn with_power(mut self, power: f64) -> Self {
        self.power = power;
        self
    }

    /// Whether to cycle beyond `decay_steps`.
    pub fn with_cycle(mut self, cycle: bool) -> Self {
        self.cycle = cycle;
        self
    }

    /// The rate at `step`, in float32 as Keras computes it.
    pub fn value(&self, step: u64) -> f32 {
        let initial = self.initial_learning_rate as f32;
        let end = self.end_learning_rate as f32;
        let mut global_step = step as f32;
        let mut decay_steps = self.decay_steps as f32;
        if self.cycle {
            let multiplier = if global_step == 0.0 {
                1.0
            } else {
                (global_step / decay_steps).ceil()
            };
            decay_steps *= multiplier;
        } else {
            global_step = global_step.min(decay_steps);
        }
        let p = global_step / decay_steps;
        (initial - end) * (1.0 - p).powf(self.power as f32) + end
    }

    pub(crate) fn class_name(&self) -> &'static str {
        Self::CLASS_NAME
    }

    /// Keras's `get_config()`.
    pub fn config(&self) -> Value {
        json!({
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": steps_json(self.decay_steps),
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        })
    }

    pub(crate) fn read(r: &mut ScheduleConfigReader) -> Result<Self> {
        let s = Self::new(r.f64("initial_learning_rate")?, r.f64("decay_steps")?)?
            .with_end_learning_rate(r.f64_or("end_learning_rate", 0.0001)?)
            .with_power(r.f64_or("power", 1.0)?)
            .with_cycle(r.bool_or("cycle", false)?);
        Ok(PolynomialDecay {
            name: r.name(Self::CLASS_NAME)?,
            ..s
        })
    }
}
