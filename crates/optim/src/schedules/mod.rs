//! Learning-rate schedules — Keras 3's `keras.optimizers.schedules`: a learning rate that is a function of the
//! optimizer's iteration count, passed in place of a fixed rate
//! ([`BaseConfig::with_schedule`](crate::BaseConfig)).
//!
//! Each schedule computes in float32 in Keras's order of operations, is evaluated on the optimizer's raw
//! iteration count before each step (Keras's `optimizer._iterations`, not divided by
//! `gradient_accumulation_steps`), and serialises as Keras does inside the optimizer's config:
//! `{"module": "keras.optimizers.schedules", "class_name": …, "config": {…}, "registered_name": null}`.
//!
//! ```
//! use rkeras_optim::schedules::{ExponentialDecay, LearningRateSchedule};
//!
//! let schedule = LearningRateSchedule::from(ExponentialDecay::new(0.1, 2.0, 0.5)?.with_staircase(true));
//! assert_eq!(schedule.value(0), 0.1);
//! assert_eq!(schedule.value(3), 0.05); // floor(3 / 2) = 1 halving
//! let back = LearningRateSchedule::from_keras(&schedule.to_keras())?;
//! assert_eq!(back, schedule);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

mod config;
mod cosine_decay;
mod cosine_decay_restarts;
mod exponential_decay;
mod inverse_time_decay;
mod piecewise_constant_decay;
mod polynomial_decay;
mod staircase_args;

pub use cosine_decay::CosineDecay;
pub use cosine_decay_restarts::CosineDecayRestarts;
pub use exponential_decay::ExponentialDecay;
pub use inverse_time_decay::InverseTimeDecay;
pub use piecewise_constant_decay::PiecewiseConstantDecay;
pub use polynomial_decay::PolynomialDecay;

use crate::error::{OptimError, Result};
use config::ScheduleConfigReader;
use serde_json::{Value, json};

/// The Keras module every built-in schedule serialises under.
pub const SCHEDULES_MODULE: &str = "keras.optimizers.schedules";

/// The class names [`LearningRateSchedule::from_keras`] knows.
pub const SCHEDULE_NAMES: [&str; 6] = [
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
];

/// One of Keras's built-in learning-rate schedules.
#[derive(Debug, Clone, PartialEq)]
pub enum LearningRateSchedule {
    /// `keras.optimizers.schedules.ExponentialDecay`.
    ExponentialDecay(ExponentialDecay),
    /// `keras.optimizers.schedules.PiecewiseConstantDecay`.
    PiecewiseConstantDecay(PiecewiseConstantDecay),
    /// `keras.optimizers.schedules.PolynomialDecay`.
    PolynomialDecay(PolynomialDecay),
    /// `keras.optimizers.schedules.InverseTimeDecay`.
    InverseTimeDecay(InverseTimeDecay),
    /// `keras.optimizers.schedules.CosineDecay`.
    CosineDecay(CosineDecay),
    /// `keras.optimizers.schedules.CosineDecayRestarts`.
    CosineDecayRestarts(CosineDecayRestarts),
}

macro_rules! each_schedule {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            LearningRateSchedule::ExponentialDecay($s) => $body,
            LearningRateSchedule::PiecewiseConstantDecay($s) => $body,
            LearningRateSchedule::PolynomialDecay($s) => $body,
            LearningRateSchedule::InverseTimeDecay($s) => $body,
            LearningRateSchedule::CosineDecay($s) => $body,
            LearningRateSchedule::CosineDecayRestarts($s) => $body,
        }
    };
}

impl LearningRateSchedule {
    /// The learning rate at optimizer step `step` (Keras's `schedule(step)`), in float32.
    pub fn value(&self, step: u64) -> f32 {
        each_schedule!(self, s => s.value(step))
    }

    /// Keras's class name (`"ExponentialDecay"`).
    pub fn class_name(&self) -> &'static str {
        each_schedule!(self, s => s.class_name())
    }

    /// Keras's `get_config()` of the schedule.
    pub fn config(&self) -> Value {
        each_schedule!(self, s => s.config())
    }

    /// Keras's `keras.optimizers.schedules.serialize(schedule)`, the form an optimizer config holds under
    /// `learning_rate`.
    pub fn to_keras(&self) -> Value {
        json!({
            "module": SCHEDULES_MODULE,
            "class_name": self.class_name(),
            "config": self.config(),
            "registered_name": null,
        })
    }

    /// A schedule from Keras's serialised form (`{"class_name": …, "config": {…}}`, with or without `module`).
    /// An unknown class, unknown config key or invalid value is an error.
    pub fn from_keras(value: &Value) -> Result<Self> {
        let class_name = value
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| OptimError::InvalidSchedule {
                schedule: "LearningRateSchedule".into(),
                reason: format!(
                    "expected {{\"class_name\": …, \"config\": {{…}}}}, received {value}"
                ),
            })?;
        let config = value.get("config").unwrap_or(&Value::Null);
        let bare = class_name.rsplit('>').next().unwrap_or(class_name);
        let mut reader = ScheduleConfigReader::new(bare, config)?;
        let schedule = match bare {
            "ExponentialDecay" => Self::from(ExponentialDecay::read(&mut reader)?),
            "PiecewiseConstantDecay" => Self::from(PiecewiseConstantDecay::read(&mut reader)?),
            "PolynomialDecay" => Self::from(PolynomialDecay::read(&mut reader)?),
            "InverseTimeDecay" => Self::from(InverseTimeDecay::read(&mut reader)?),
            "CosineDecay" => Self::from(CosineDecay::read(&mut reader)?),
            "CosineDecayRestarts" => Self::from(CosineDecayRestarts::read(&mut reader)?),
            _ => {
                return Err(OptimError::InvalidSchedule {
                    schedule: class_name.into(),
                    reason: format!(
                        "unknown learning-rate schedule; expected one of: {}",
                        SCHEDULE_NAMES.join(", ")
                    ),
                });
            }
        };
        reader.finish()?;
        Ok(schedule)
    }
}

macro_rules! schedule_from {
    ($($name:ident),*) => {
        $(impl From<$name> for LearningRateSchedule {
            fn from(s: $name) -> Self {
                LearningRateSchedule::$name(s)
            }
        })*
    };
}
schedule_from!(
    ExponentialDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
    InverseTimeDecay,
    CosineDecay,
    CosineDecayRestarts
);

/// A step count as Keras writes it in a config: an integer when whole (`decay_steps: 1000`), else a float.
pub(crate) fn steps_json(steps: f64) -> Value {
    if steps.fract() == 0.0 && steps.abs() < 9.0e15 {
        json!(steps as i64)
    } else {
        json!(steps)
    }
}

/// Keras's check of a decay step count: `Argument `{argument}` must be > 0. Received: {argument}={value}`.
pub(crate) fn check_steps(schedule: &'static str, argument: &str, steps: f64) -> Result<()> {
    if steps > 0.0 && steps.is_finite() {
        Ok(())
    } else {
        Err(OptimError::InvalidSchedule {
            schedule: schedule.into(),
            reason: format!("Argument `{argument}` must be > 0. Received: {argument}={steps}"),
        })
    }
}
