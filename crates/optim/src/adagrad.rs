//! [`Adagrad`]: per-parameter rates that shrink with the sum of squared gradients — Keras 3's
//! `keras.optimizers.Adagrad`.
//!
//! Update rule, in f32 as Keras computes it (`g` the clipped gradient, `lr` the learning rate):
//! - `accumulator ← accumulator + g²` (the accumulator starts at `initial_accumulator_value`)
//! - `w ← w − lr·g / sqrt(accumulator + epsilon)` (epsilon *inside* the square root)
//!
//! One slot: `accumulator`. Keras 2 put epsilon outside the square root (`lr·g / (sqrt(accumulator) + epsilon)`);
//! rkeras follows Keras 3.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Adagrad, Optimizer};
//!
//! let mut opt = Adagrad::new(0.1)?;
//! let mut w: ArrayD<f32> = arr1(&[1.0f32]).into_dyn();
//! let g: ArrayD<f32> = arr1(&[1.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&g])?;
//! // accumulator = 0.1 + 1 = 1.1; w = 1 − 0.1 / sqrt(1.1 + 1e-7)
//! assert!((f64::from(w[0]) - (1.0 - 0.1 / (1.1f64 + 1e-7).sqrt())).abs() < 1e-6);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::base::{BaseConfig, FINITE_NON_NEGATIVE, check, check_epsilon, finite_f32};
use crate::elementwise::for_each_1;
use crate::error::Result;
use crate::macros::optimizer;
use crate::optimizer_config::{OptimizerConfig, unexpected_slots};
use crate::slots::SlotStore;
use serde_json::{Value, json};

/// Hyper-parameters of [`Adagrad`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AdagradConfig {
    /// Base options; the learning rate defaults to `0.001`.
    pub base: BaseConfig,
    /// Starting value (≥ 0) of the accumulators. Defaults to `0.1`.
    pub initial_accumulator_value: f64,
    /// Small constant (> 0) added to the accumulator inside the square root. Defaults to `1e-7`.
    pub epsilon: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            base: BaseConfig::new(0.001),
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
        }
    }
}

impl AdagradConfig {
    /// Sets the accumulators' starting value (≥ 0).
    pub fn with_initial_accumulator_value(mut self, initial_accumulator_value: f64) -> Self {
        self.initial_accumulator_value = initial_accumulator_value;
        self
    }

    /// Sets epsilon (> 0).
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }
}

optimizer! {
    /// The Adagrad optimizer.
    Adagrad {
        config: AdagradConfig,
        class_name: "Adagrad",
        default_name: "adagrad",
    }
}

impl OptimizerConfig for AdagradConfig {
    fn check(&self) -> Result<()> {
        let initial = self.initial_accumulator_value;
        check(
            Adagrad::CLASS_NAME,
            "initial_accumulator_value",
            initial,
            finite_f32(initial) && initial >= 0.0,
            FINITE_NON_NEGATIVE,
        )?;
        check_epsilon(Adagrad::CLASS_NAME, self.epsilon)
    }

    fn slots(&self) -> SlotStore {
        let initial = vec![self.initial_accumulator_value as f32];
        SlotStore::new(vec!["accumulator"], initial, &[])
    }

    fn update_step(&self, _iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        let lr = self.base.learning_rate as f32;
        let epsilon = self.epsilon as f32;
        move |param, grad, squares, slots| {
            let [accumulator] = slots else {
                return Err(unexpected_slots(Adagrad::CLASS_NAME));
            };
            for_each_1(
                param,
                &grad,
                squares.as_ref(),
                accumulator,
                |w, g, g2, acc| {
                    *acc += g2;
                    *w -= (lr * g) / (*acc + epsilon).sqrt();
                },
            );
            Ok(())
        }
    }

    fn zero_gradient_keeps_state(&self) -> bool {
        // accumulator + 0 = accumulator, and w − lr·0 / sqrt(accumulator + ε) = w (ε > 0).
        true
    }

    fn keras_entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            (
                "initial_accumulator_value",
                json!(self.initial_accumulator_value),
            ),
            ("epsilon", json!(self.epsilon)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OptimError;
    use crate::optimizer::Optimizer;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn negative_initial_accumulator_is_rejected() {
        let err = AdagradConfig::default()
            .with_initial_accumulator_value(-0.1)
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            OptimError::InvalidArgument {
                argument: "initial_accumulator_value",
                ..
            }
        ));
        assert!(AdagradConfig::default().with_epsilon(0.0).build().is_err());
    }

    #[test]
    fn accumulator_starts_at_the_initial_value() {
        let mut opt = AdagradConfig::default()
            .with_initial_accumulator_value(0.5)
            .build()
            .unwrap();
        let mut w = ArrayD::<f32>::zeros(IxDyn(&[2]));
        let g = ArrayD::<f32>::zeros(IxDyn(&[2]));
        opt.apply_gradients(&mut [&mut w], &[&g]).unwrap();
        let state = opt.state();
        assert_eq!(state.slots[0].slot, "accumulator");
        assert_eq!(state.slots[0].value, ArrayD::from_elem(IxDyn(&[2]), 0.5f32));
    }

    #[test]
    fn config_matches_keras_3_keys_and_defaults() {
        let config = Adagrad::default().config();
        assert_eq!(config["name"], "adagrad");
        assert_eq!(config["learning_rate"], f64::from(0.001f32)); // float32, as Keras
        assert_eq!(config["initial_accumulator_value"], 0.1);
        assert_eq!(config["epsilon"], 1e-7);
    }
}
