//! [`PiecewiseConstantDecay`]: `values[0]` up to and including step `boundaries[0]`, `values[1]` up to
//! `boundaries[1]`, …, `values[n]` after the last boundary — Keras 3's
//! `keras.optimizers.schedules.PiecewiseConstantDecay`.
//!
//! ```
//! use rkeras_optim::schedules::PiecewiseConstantDecay;
//! let s = PiecewiseConstantDecay::new(vec![10.0], vec![1.0, 0.5])?;
//! assert_eq!((s.value(10), s.value(11)), (1.0, 0.5));
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use super::config::ScheduleConfigReader;
use super::steps_json;
use crate::error::{OptimError, Result};
use serde_json::{Value, json};

/// A piecewise-constant learning rate.
#[derive(Debug, Clone, PartialEq)]
pub struct PiecewiseConstantDecay {
    boundaries: Vec<f64>,
    values: Vec<f64>,
    name: String,
}

impl PiecewiseConstantDecay {
    /// Keras's class name.
    pub const CLASS_NAME: &'static str = "PiecewiseConstantDecay";

    /// A schedule from `boundaries` (steps) and `values`, one more value than boundaries (Keras's check and words).
    pub fn new(boundaries: Vec<f64>, values: Vec<f64>) -> Result<Self> {
        if boundaries.len() + 1 != values.len() {
            return Err(OptimError::InvalidSchedule {
                schedule: Self::CLASS_NAME.into(),
                reason: format!(
                    "The length of boundaries should be 1 less than the length of values. Received: \
                     boundaries={boundaries:?} of length {}, and values={values:?} of length {}.",
                    boundaries.len(),
                    values.len()
                ),
            });
        }
        Ok(PiecewiseConstantDecay {
            boundaries,
            values,
            name: "PiecewiseConstant".into(),
        })
    }

    /// The rate at `step`: the sum of `value · [step in its interval]` as Keras computes it.
    pub fn value(&self, step: u64) -> f32 {
        let step = step as f64;
        let (Some(first), Some(last)) = (self.boundaries.first(), self.boundaries.last()) else {
            return self.values.first().map_or(0.0, |v| *v as f32);
        };
        let mut result = 0.0f32;
        let indicator = |b: bool| if b { 1.0f32 } else { 0.0 };
        result += indicator(step <= *first) * self.values[0] as f32;
        result += indicator(step > *last) * self.values[self.values.len() - 1] as f32;
        for (window, value) in self.boundaries.windows(2).zip(&self.values[1..]) {
            result += indicator(step > window[0] && step <= window[1]) * *value as f32;
        }
        result
    }

    pub(crate) fn class_name(&self) -> &'static str {
        Self::CLASS_NAME
    }

    /// Keras's `get_config()`.
    pub fn config(&self) -> Value {
        let boundaries: Vec<Value> = self.boundaries.iter().map(|b| steps_json(*b)).collect();
        json!({"boundaries": boundaries, "values": self.values, "name": self.name})
    }

    pub(crate) fn read(r: &mut ScheduleConfigReader) -> Result<Self> {
        let s = Self::new(r.f64_list("boundaries")?, r.f64_list("values")?)?;
        Ok(PiecewiseConstantDecay {
            name: r.name("PiecewiseConstant")?,
            ..s
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_must_match_in_keras_words() {
        let err = PiecewiseConstantDecay::new(vec![1.0, 2.0], vec![1.0]).unwrap_err();
        assert!(
            err.to_string()
                .contains("The length of boundaries should be 1 less")
        );
    }
}
