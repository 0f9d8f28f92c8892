//! [`SGD`]: gradient descent, with optional (Nesterov) momentum — Keras 3's `keras.optimizers.SGD`.
//!
//! Update rule, in f32 as Keras computes it (`g` the clipped gradient, `lr` the learning rate):
//! - `momentum = 0`: `w ← w − g·lr`
//! - `momentum > 0`: `m ← m·momentum − g·lr`, then `w ← w + m`
//! - `nesterov`: `m ← m·momentum − g·lr`, then `w ← w + (m·momentum − g·lr)`
//!
//! The `momentum` slot exists only when `momentum > 0`.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Optimizer, SGDConfig};
//!
//! let mut opt = SGDConfig::default().with_learning_rate(0.5).with_momentum(0.5).build()?;
//! let mut w: ArrayD<f32> = arr1(&[1.0f32]).into_dyn();
//! let g: ArrayD<f32> = arr1(&[1.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&g])?; // m = -0.5,         w = 0.5
//! opt.apply_gradients(&mut [&mut w], &[&g])?; // m = -0.25 - 0.5, w = -0.25
//! assert_eq!(w, arr1(&[-0.25f32]).into_dyn());
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::base::{BaseConfig, check_momentum};
use crate::elementwise::{for_each_0, for_each_1};
use crate::error::Result;
use crate::macros::optimizer;
use crate::optimizer_config::{OptimizerConfig, unexpected_slots};
use crate::slots::SlotStore;
use serde_json::{Value, json};

/// Hyper-parameters of [`SGD`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct SGDConfig {
    /// Base options; the learning rate defaults to `0.01`.
    pub base: BaseConfig,
    /// Momentum in `[0, 1]`; 0 is plain gradient descent. Defaults to `0.0`.
    pub momentum: f64,
    /// Whether to apply Nesterov momentum. Defaults to `false`.
    pub nesterov: bool,
}

impl Default for SGDConfig {
    fn default() -> Self {
        SGDConfig {
            base: BaseConfig::new(0.01),
            momentum: 0.0,
            nesterov: false,
        }
    }
}

impl SGDConfig {
    /// Sets the momentum (in `[0, 1]`).
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Turns Nesterov momentum on or off.
    pub fn with_nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }
}

optimizer! {
    /// Gradient descent with optional (Nesterov) momentum.
    #[allow(clippy::upper_case_acronyms)] // Keras's class name
    SGD {
        config: SGDConfig,
        class_name: "SGD",
        default_name: "sgd",
    }
}

impl OptimizerConfig for SGDConfig {
    fn check(&self) -> Result<()> {
        check_momentum(SGD::CLASS_NAME, self.momentum)
    }

    fn slots(&self) -> SlotStore {
        let slots = if self.momentum != 0.0 {
            vec!["momentum"]
        } else {
            Vec::new()
        };
        let initial = vec![0.0; slots.len()];
        // Keras 2.11–2.15 named the momentum slot `m`.
        SlotStore::new(slots, initial, &[("m", "momentum")])
    }

    fn update_step(&self, _iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        let lr = self.base.learning_rate as f32;
        let momentum = self.momentum as f32;
        let with_momentum = self.momentum != 0.0;
        let nesterov = self.nesterov;
        // Plain and momentum SGD never square a gradient, so per-lookup squares change nothing.
        move |param, grad, _squares, slots| {
            match (with_momentum, slots) {
                (false, []) => for_each_0(param, &grad, None, |w, g, _| *w -= g * lr),
                (true, [m]) if nesterov => for_each_1(param, &grad, None, m, |w, g, _, m| {
                    *m = *m * momentum - g * lr;
                    *w += *m * momentum - g * lr;
                }),
                (true, [m]) => for_each_1(param, &grad, None, m, |w, g, _, m| {
                    *m = *m * momentum - g * lr;
                    *w += *m;
                }),
                _ => return Err(unexpected_slots(SGD::CLASS_NAME)),
            }
            Ok(())
        }
    }

    fn zero_gradient_keeps_state(&self) -> bool {
        // w − 0·lr = w; a momentum slot would decay.
        self.momentum == 0.0
    }

    fn keras_entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("momentum", json!(self.momentum)),
            ("nesterov", json!(self.nesterov)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::Optimizer;
    use ndarray::arr1;

    #[test]
    fn momentum_outside_unit_interval_is_rejected() {
        let err = SGDConfig::default().with_momentum(1.5).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "SGD: invalid value for `momentum`, expected a float in [0, 1]. Received: momentum=1.5"
        );
        assert!(SGDConfig::default().with_momentum(-0.1).build().is_err());
        assert!(
            SGDConfig::default()
                .with_momentum(f64::NAN)
                .build()
                .is_err()
        );
    }

    #[test]
    fn plain_sgd_has_no_slots_and_momentum_sgd_has_one() {
        assert!(SGD::default().slot_names().is_empty());
        assert_eq!(
            SGDConfig::default()
                .with_momentum(0.9)
                .build()
                .unwrap()
                .slot_names(),
            ["momentum"]
        );
    }

    #[test]
    fn config_has_keras_keys() {
        let opt = SGDConfig::default()
            .with_momentum(0.9)
            .with_nesterov(true)
            .build()
            .unwrap();
        let config = opt.config();
        assert_eq!(config["name"], "sgd");
        assert_eq!(config["learning_rate"], f64::from(0.01f32)); // float32, as Keras
        assert_eq!(config["momentum"], 0.9);
        assert_eq!(config["nesterov"], true);
    }

    #[test]
    fn learning_rate_zero_leaves_parameters_unchanged() {
        let mut opt = SGD::new(0.0).unwrap();
        let mut w = arr1(&[1.0f32, -2.0]).into_dyn();
        let g = arr1(&[5.0f32, 5.0]).into_dyn();
        opt.apply_gradients(&mut [&mut w], &[&g]).unwrap();
        assert_eq!(w, arr1(&[1.0f32, -2.0]).into_dyn());
    }
}
