//! [`Lion`]: sign of an interpolated momentum — Keras 3's `keras.optimizers.Lion`.
//!
//! Update rule, in f32 as Keras computes it (`g` the clipped gradient):
//! - `w ← w − lr·sign(momentum·beta_1 + g·(1 − beta_1))` (`sign(0) = 0`)
//! - `momentum ← momentum·beta_2 + g·(1 − beta_2)`
//!
//! One slot, `momentum`. `beta_1` must lie in `(0, 1]` (Keras: otherwise Lion degenerates to SignSGD). A row
//! gradient is used densely, as TensorFlow does.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Lion, Optimizer};
//!
//! let mut opt = Lion::new(0.1)?;
//! let mut w: ArrayD<f32> = arr1(&[0.0f32, 0.0, 0.0]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&arr1(&[5.0f32, -0.01, 0.0]).into_dyn()])?;
//! assert_eq!(w, arr1(&[-0.1f32, 0.1, 0.0]).into_dyn());
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::base::{BaseConfig, check, check_decay_rate};
use crate::elementwise::for_each_1;
use crate::error::Result;
use crate::macros::optimizer;
use crate::optimizer_config::{OptimizerConfig, unexpected_slots};
use crate::slots::SlotStore;
use serde_json::{Value, json};

/// Hyper-parameters of [`Lion`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct LionConfig {
    /// Base options; the learning rate defaults to `0.001`.
    pub base: BaseConfig,
    /// Interpolation between momentum and gradient for the step's sign, in `(0, 1]`. Defaults to `0.9`.
    pub beta_1: f64,
    /// Decay rate of the momentum, in `[0, 1)`. Defaults to `0.99`.
    pub beta_2: f64,
}

impl Default for LionConfig {
    fn default() -> Self {
        LionConfig {
            base: BaseConfig::new(0.001),
            beta_1: 0.9,
            beta_2: 0.99,
        }
    }
}

impl LionConfig {}

crate::macros::moment_builders!(LionConfig: beta_1, beta_2);

optimizer! {
    /// The Lion optimizer.
    Lion {
        config: LionConfig,
        class_name: "Lion",
        default_name: "lion",
    }
}

/// `ops.sign`: −1, 0 or 1 (NaN stays NaN); unlike `f32::signum`, zero gives zero.
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

impl OptimizerConfig for LionConfig {
    fn check(&self) -> Result<()> {
        check(
            Lion::CLASS_NAME,
            "beta_1",
            self.beta_1,
            self.beta_1 > 0.0 && self.beta_1 <= 1.0,
            "a float in the (0, 1] range (otherwise the optimizer degenerates to SignSGD)",
        )?;
        check_decay_rate(Lion::CLASS_NAME, "beta_2", self.beta_2)
    }

    fn slots(&self) -> SlotStore {
        SlotStore::new(vec!["momentum"], vec![0.0], &[])
    }

    fn update_step(&self, _iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        let lr = self.base.learning_rate as f32;
        let beta_1 = self.beta_1 as f32;
        let beta_2 = self.beta_2 as f32;
        move |param, grad, _squares, slots| {
            let [m] = slots else {
                return Err(unexpected_slots(Lion::CLASS_NAME));
            };
            for_each_1(param, &grad, None, m, |w, g, _, m| {
                *w -= lr * sign(*m * beta_1 + g * (1.0 - beta_1));
                *m = *m * beta_2 + g * (1.0 - beta_2);
            });
            Ok(())
        }
    }

    fn keras_entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("beta_1", json!(self.beta_1)),
            ("beta_2", json!(self.beta_2)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_1_outside_zero_one_is_rejected_in_keras_words() {
        let err = LionConfig::default().with_beta_1(0.0).build().unwrap_err();
        assert!(err.to_string().contains("degenerates to SignSGD"), "{err}");
        assert!(LionConfig::default().with_beta_1(1.0).build().is_ok());
    }
}
