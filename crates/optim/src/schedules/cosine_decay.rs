//! [`CosineDecay`]: an optional linear warm-up from `initial_learning_rate` to `warmup_target` over
//! `warmup_steps`, then `rate · ((1 − alpha) · ½(1 + cos(π · step / decay_steps)) + alpha)` with the step clamped
//! to `decay_steps` — Keras 3's `keras.optimizers.schedules.CosineDecay` (SGDR without restarts).
//!
//! ```
//! use rkeras_optim::schedules::CosineDecay;
//! let s = CosineDecay::new(1.0, 10.0)?;
//! assert!((s.value(5) - 0.5).abs() < 1e-6);
//! let warm = CosineDecay::new(0.0, 10.0)?.with_warmup(0.2, 4.0);
//! assert!((warm.value(2) - 0.1).abs() < 1e-7); // halfway up the warm-up
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use super::config::ScheduleConfigReader;
use super::{check_steps, steps_json};
use crate::error::Result;
use serde_json::{Value, json};

/// Cosine decay of the learning rate, with optional linear warm-up.
#[derive(Debug, Clone, PartialEq)]
pub struct CosineDecay {
    initial_learning_rate: f64,
    decay_steps: f64,
    alpha: f64,
    name: String,
    warmup_target: Option<f64>,
    warmup_steps: f64,
}

impl CosineDecay {
    /// Keras's class name.
    pub const CLASS_NAME: &'static str = "CosineDecay";

    /// A schedule with Keras's defaults: `alpha` 0, no warm-up.
    pub fn new(initial_learning_rate: f64, decay_steps: f64) -> Result<Self> {
        check_steps(Self::CLASS_NAME, "decay_steps", decay_steps)?;
        Ok(CosineDecay {
            initial_learning_rate,
            decay_steps,
            alpha: 0.0,
            name: Self::CLASS_NAME.into(),
            warmup_target: None,
            warmup_steps: 0.0,
        })
    }

    /// Sets the floor, as a fraction of the rate decayed from.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// A linear warm-up to `warmup_target` over `warmup_steps`, before the decay.
    pub fn with_warmup(mut self, warmup_target: f64, warmup_steps: f64) -> Self {
        self.warmup_target = Some(warmup_target);
        self.warmup_steps = warmup_steps;
        self
    }

    fn decay(&self, step: f32, decay_steps: f32, from: f32) -> f32 {
        let completed = step / decay_steps;
        let cosine = 0.5 * (1.0 + (std::f32::consts::PI * completed).cos());
        // `(1 - alpha)` is a Python float; the product follows in float32.
        let decayed = (1.0 - self.alpha) as f32 * cosine + self.alpha as f32;
        from * decayed
    }

    /// The rate at `step`, in float32 as Keras computes it.
    pub fn value(&self, step: u64) -> f32 {
        let initial = self.initial_learning_rate as f32;
        let decay_steps = self.decay_steps as f32;
        let step = step as f32;
        let Some(target) = self.warmup_target else {
            return self.decay(step.min(decay_steps), decay_steps, initial);
        };
        let target = target as f32;
        let warmup_steps = self.warmup_steps as f32;
        let step = step.min(decay_steps + warmup_steps);
        if step < warmup_steps {
            (target - initial) * (step / warmup_steps) + initial
        } else {
            self.decay(step - warmup_steps, decay_steps, target)
        }
    }

    pub(crate) fn class_name(&self) -> &'static str {
        Self::CLASS_NAME
    }

    /// Keras's `get_config()`.
    pub fn config(&self) -> Value {
        json!({
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": steps_json(self.decay_steps),
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": steps_json(self.warmup_steps),
        })
    }

    pub(crate) fn read(r: &mut ScheduleConfigReader) -> Result<Self> {
        let mut s = Self::new(r.f64("initial_learning_rate")?, r.f64("decay_steps")?)?
            .with_alpha(r.f64_or("alpha", 0.0)?);
        s.name = r.name(Self::CLASS_NAME)?;
        s.warmup_target = r.f64_opt("warmup_target")?;
        s.warmup_steps = r.f64_or("warmup_steps", 0.0)?;
        Ok(s)
    }
}
