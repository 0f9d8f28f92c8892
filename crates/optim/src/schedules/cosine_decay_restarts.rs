//! [`CosineDecayRestarts`]: cosine decay with warm restarts (SGDR) — Keras 3's
//! `keras.optimizers.schedules.CosineDecayRestarts`. Period `i` lasts `first_decay_steps · t_mul^i` steps and
//! starts from `initial_learning_rate · m_mul^i`.
//!
//! ```
//! use rkeras_optim::schedules::CosineDecayRestarts;
//! let s = CosineDecayRestarts::new(1.0, 4.0)?.with_t_mul(1.0);
//! assert_eq!(s.value(4), 1.0); // restarted
//! assert!((s.value(2) - 0.5).abs() < 1e-6);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use super::config::ScheduleConfigReader;
use super::{check_steps, steps_json};
use crate::error::Result;
use serde_json::{Value, json};

/// Cosine decay with warm restarts.
#[derive(Debug, Clone, PartialEq)]
pub struct CosineDecayRestarts {
    initial_learning_rate: f64,
    first_decay_steps: f64,
    t_mul: f64,
    m_mul: f64,
    alpha: f64,
    name: String,
}

impl CosineDecayRestarts {
    /// Keras's class name.
    pub const CLASS_NAME: &'static str = "CosineDecayRestarts";

    /// A schedule with Keras's defaults: `t_mul` 2, `m_mul` 1, `alpha` 0.
    pub fn new(initial_learning_rate: f64, first_decay_steps: f64) -> Result<Self> {
        check_steps(Self::CLASS_NAME, "first_decay_steps", first_decay_steps)?;
        Ok(CosineDecayRestarts {
            initial_learning_rate,
            first_decay_steps,
            t_mul: 2.0,
            m_mul: 1.0,
            alpha: 0.0,
            name: "SGDRDecay".into(),
        })
    }

    /// Sets the factor of each period's length over the previous one's.
    pub fn with_t_mul(mut self, t_mul: f64) -> Self {
        self.t_mul = t_mul;
        self
    }

    /// Sets the factor of each period's initial rate over the previous one's.
    pub fn with_m_mul(mut self, m_mul: f64) -> Self {
        self.m_mul = m_mul;
        self
    }

    /// Sets the floor, as a fraction of the initial rate.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// The rate at `step`, in float32 as Keras computes it.
    pub fn value(&self, step: u64) -> f32 {
        let initial = self.initial_learning_rate as f32;
        let alpha = self.alpha as f32;
        let t_mul = self.t_mul as f32;
        let m_mul = self.m_mul as f32;
        let mut completed = step as f32 / self.first_decay_steps as f32;
        let i_restart;
        if t_mul == 1.0 {
            i_restart = completed.floor();
            completed -= i_restart;
        } else {
            i_restart = ((1.0 - completed * (1.0 - t_mul)).ln() / t_mul.ln()).floor();
            let sum_r = (1.0 - t_mul.powf(i_restart)) / (1.0 - t_mul);
            completed = (completed - sum_r) / t_mul.powf(i_restart);
        }
        let m_fac = m_mul.powf(i_restart);
        let cosine = 0.5 * m_fac * (1.0 + (std::f32::consts::PI * completed).cos());
        let decayed = (1.0 - alpha) * cosine + alpha;
        initial * decayed
    }

    pub(crate) fn class_name(&self) -> &'static str {
        Self::CLASS_NAME
    }

    /// Keras's `get_config()`.
    pub fn config(&self) -> Value {
        json!({
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": steps_json(self.first_decay_steps),
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        })
    }

    pub(crate) fn read(r: &mut ScheduleConfigReader) -> Result<Self> {
        let mut s = Self::new(r.f64("initial_learning_rate")?, r.f64("first_decay_steps")?)?
            .with_t_mul(r.f64_or("t_mul", 2.0)?)
            .with_m_mul(r.f64_or("m_mul", 1.0)?)
            .with_alpha(r.f64_or("alpha", 0.0)?);
        s.name = r.name("SGDRDecay")?;
        Ok(s)
    }
}
