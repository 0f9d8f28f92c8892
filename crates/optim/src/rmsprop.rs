//! [`RMSprop`]: divides the gradient by a running root mean square — Keras 3's `keras.optimizers.RMSprop`.
//!
//! Update rule, in f32 as Keras computes it (`g` the clipped gradient, `lr` the learning rate):
//! - `velocity ← rho·velocity + (1 − rho)·g²`
//! - centered: `average_gradient ← rho·average_gradient + (1 − rho)·g`,
//!   `denominator = velocity − average_gradient² + epsilon`; otherwise `denominator = velocity + epsilon`
//! - `increment = lr·g / sqrt(denominator)` (epsilon *inside* the square root)
//! - `momentum > 0`: `momentum_slot ← momentum·momentum_slot + increment`, `w ← w − momentum_slot`;
//!   otherwise `w ← w − increment`
//!
//! Slots, in Keras's order: `velocity`, then `momentum` (only when `momentum > 0`), then `average_gradient`
//! (only when centered). Keras 2 put epsilon outside the square root when `momentum = 0`
//! (`lr·g / (sqrt(velocity) + epsilon)`); rkeras follows Keras 3.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Optimizer, RMSpropConfig};
//!
//! let mut opt = RMSpropConfig::default().with_learning_rate(0.1).with_rho(0.5).build()?;
//! let mut w: ArrayD<f32> = arr1(&[1.0f32]).into_dyn();
//! let g: ArrayD<f32> = arr1(&[2.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&g])?;
//! // velocity = 0.5 · 4 = 2; w = 1 − 0.1 · 2 / sqrt(2 + 1e-7)
//! assert!((f64::from(w[0]) - (1.0 - 0.2 / (2.0f64 + 1e-7).sqrt())).abs() < 1e-6);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::base::{BaseConfig, check_decay_rate, check_epsilon, check_momentum};
use crate::elementwise::{for_each_1, for_each_2, for_each_3};
use crate::error::Result;
use crate::macros::optimizer;
use crate::optimizer_config::{OptimizerConfig, unexpected_slots};
use crate::slots::SlotStore;
use serde_json::{Value, json};

/// Hyper-parameters of [`RMSprop`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RMSpropConfig {
    /// Base options; the learning rate defaults to `0.001`.
    pub base: BaseConfig,
    /// Discounting factor for the old gradients, in `[0, 1)`. Defaults to `0.9`.
    pub rho: f64,
    /// Momentum in `[0, 1]`; the `momentum` slot exists only when it is > 0. Defaults to `0.0`.
    pub momentum: f64,
    /// Small constant (> 0) added to the denominator inside the square root. Defaults to `1e-7`.
    pub epsilon: f64,
    /// Whether to normalize by the estimated variance of the gradient. Defaults to `false`.
    pub centered: bool,
}

impl Default for RMSpropConfig {
    fn default() -> Self {
        RMSpropConfig {
            base: BaseConfig::new(0.001),
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
        }
    }
}

impl RMSpropConfig {
    /// Sets `rho` (in `[0, 1)`).
    pub fn with_rho(mut self, rho: f64) -> Self {
        self.rho = rho;
        self
    }

    /// Sets the momentum (in `[0, 1]`).
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets epsilon (> 0).
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Turns the centered variant on or off.
    pub fn with_centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }
}

optimizer! {
    /// The RMSprop optimizer.
    RMSprop {
        config: RMSpropConfig,
        class_name: "RMSprop",
        // `to_snake_case("RMSprop")`
        default_name: "rm_sprop",
    }
}

impl OptimizerConfig for RMSpropConfig {
    fn check(&self) -> Result<()> {
        check_decay_rate(RMSprop::CLASS_NAME, "rho", self.rho)?;
        check_momentum(RMSprop::CLASS_NAME, self.momentum)?;
        check_epsilon(RMSprop::CLASS_NAME, self.epsilon)
    }

    fn slots(&self) -> SlotStore {
        let mut slots = vec!["velocity"];
        if self.momentum > 0.0 {
            slots.push("momentum");
        }
        if self.centered {
            slots.push("average_gradient");
        }
        let initial = vec![0.0; slots.len()];
        // Keras 2 named the velocity `rms` and the average gradient `mg`.
        let aliases = &[("rms", "velocity"), ("mg", "average_gradient")];
        SlotStore::new(slots, initial, aliases)
    }

    fn update_step(&self, _iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        let lr = self.base.learning_rate as f32;
        let rho = self.rho as f32;
        // Keras computes `1 - rho` in Python (f64) and then casts it.
        let one_minus_rho = (1.0 - self.rho) as f32;
        let epsilon = self.epsilon as f32;
        let momentum = self.momentum as f32;
        let with_momentum = self.momentum > 0.0;
        let centered = self.centered;
        move |param, grad, squares, slots| {
            // `g2` is `g · g`, or the per-lookup squares of an embedding's gradient when given.
            let increment = |v: &mut f32, g: f32, g2: f32| {
                *v = rho * *v + one_minus_rho * g2;
                (lr * g) / (*v + epsilon).sqrt()
            };
            let centered_increment = |v: &mut f32, a: &mut f32, g: f32, g2: f32| {
                *v = rho * *v + one_minus_rho * g2;
                *a = rho * *a + one_minus_rho * g;
                (lr * g) / (*v - *a * *a + epsilon).sqrt()
            };
            let sq = squares.as_ref();
            match (with_momentum, centered, slots) {
                (false, false, [v]) => {
                    for_each_1(param, &grad, sq, v, |w, g, g2, v| *w -= increment(v, g, g2));
                }
                (true, false, [v, m]) => for_each_2(param, &grad, sq, v, m, |w, g, g2, v, m| {
                    *m = momentum * *m + increment(v, g, g2);
                    *w -= *m;
                }),
                (false, true, [v, a]) => for_each_2(param, &grad, sq, v, a, |w, g, g2, v, a| {
                    *w -= centered_increment(v, a, g, g2);
                }),
                (true, true, [v, m, a]) => {
                    for_each_3(param, &grad, sq, v, m, a, |w, g, g2, v, m, a| {
                        *m = momentum * *m + centered_increment(v, a, g, g2);
                        *w -= *m;
                    })
                }
                _ => return Err(unexpected_slots(RMSprop::CLASS_NAME)),
            }
            Ok(())
        }
    }

    fn keras_entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("rho", json!(self.rho)),
            ("momentum", json!(self.momentum)),
            ("epsilon", json!(self.epsilon)),
            ("centered", json!(self.centered)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::Optimizer;

    #[test]
    fn keras_docstring_example() {
        // Keras's RMSprop docstring: learning_rate 0.1, var1 = 10, loss = var1² / 2 (gradient = var1);
        // one `minimize` step gives 9.683772.
        let mut opt = RMSprop::new(0.1).unwrap();
        let mut var1 = ndarray::arr0(10.0f32).into_dyn();
        let gradient = var1.clone();
        opt.apply_gradients(&mut [&mut var1], &[&gradient]).unwrap();
        assert!((var1[[]] - 9.683772).abs() < 1e-6, "{var1}");
    }

    #[test]
    fn invalid_hyper_parameters_are_rejected_with_their_value() {
        let err = RMSpropConfig::default().with_rho(1.0).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "RMSprop: invalid value for `rho`, expected a float in [0, 1). Received: rho=1"
        );
        assert!(RMSpropConfig::default().with_epsilon(0.0).build().is_err());
        assert!(RMSpropConfig::default().with_momentum(2.0).build().is_err());
        assert!(RMSprop::new(-1.0).is_err());
    }

    #[test]
    fn slots_follow_momentum_and_centered() {
        assert_eq!(RMSprop::default().slot_names(), ["velocity"]);
        let both = RMSpropConfig::default()
            .with_momentum(0.5)
            .with_centered(true)
            .build()
            .unwrap();
        assert_eq!(
            both.slot_names(),
            ["velocity", "momentum", "average_gradient"]
        );
    }

    #[test]
    fn config_matches_keras_3_keys_and_defaults() {
        let config = RMSprop::default().config();
        assert_eq!(config["name"], "rm_sprop");
        assert_eq!(config["learning_rate"], f64::from(0.001f32)); // float32, as Keras
        assert_eq!(config["rho"], 0.9);
        assert_eq!(config["momentum"], 0.0);
        assert_eq!(config["epsilon"], 1e-7);
        assert_eq!(config["centered"], false);
        assert_eq!(config["clipnorm"], Value::Null);
    }
}
