//! [`Adamax`]: Adam with the infinity norm — Keras 3's `keras.optimizers.Adamax`.
//!
//! Update rule at step `t`, in f32 as Keras computes it (`g` the clipped gradient):
//! - `momentum ← momentum + (g − momentum)·(1 − beta_1)`
//! - `norm ← max(beta_2·norm, |g|)`
//! - `w ← w − lr·momentum / ((1 − beta_1^t)·(norm + epsilon))`
//!
//! Slots, in Keras's order: `momentum`, `norm` (created together, so alternating per parameter in Keras's
//! variable list). A row gradient is used densely, as TensorFlow does for `|g|`.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Adamax, Optimizer};
//!
//! let mut opt = Adamax::new(0.1)?;
//! let mut w: ArrayD<f32> = arr1(&[0.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&arr1(&[2.0f32]).into_dyn()])?;
//! // m = 0.2, norm = 2: w = −0.1 · 0.2 / (0.1 · (2 + 1e-7)) ≈ −0.1
//! assert!((w[0] + 0.1).abs() < 1e-6);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::base::{BaseConfig, check_decay_rate, check_epsilon};
use crate::elementwise::for_each_2;
use crate::error::Result;
use crate::macros::optimizer;
use crate::optimizer_config::{OptimizerConfig, unexpected_slots};
use crate::slots::SlotStore;
use serde_json::{Value, json};

/// Hyper-parameters of [`Adamax`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamaxConfig {
    /// Base options; the learning rate defaults to `0.001`.
    pub base: BaseConfig,
    /// Decay rate of the first moment, in `[0, 1)`. Defaults to `0.9`.
    pub beta_1: f64,
    /// Decay rate of the infinity norm, in `[0, 1)`. Defaults to `0.999`.
    pub beta_2: f64,
    /// Small constant (> 0) added to the norm. Defaults to `1e-7`.
    pub epsilon: f64,
}

impl Default for AdamaxConfig {
    fn default() -> Self {
        AdamaxConfig {
            base: BaseConfig::new(0.001),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
        }
    }
}

impl AdamaxConfig {}

crate::macros::moment_builders!(AdamaxConfig: beta_1, beta_2, epsilon);

optimizer! {
    /// The Adamax optimizer.
    Adamax {
        config: AdamaxConfig,
        class_name: "Adamax",
        default_name: "adamax",
    }
}

impl OptimizerConfig for AdamaxConfig {
    fn check(&self) -> Result<()> {
        check_decay_rate(Adamax::CLASS_NAME, "beta_1", self.beta_1)?;
        check_decay_rate(Adamax::CLASS_NAME, "beta_2", self.beta_2)?;
        check_epsilon(Adamax::CLASS_NAME, self.epsilon)
    }

    fn slots(&self) -> SlotStore {
        SlotStore::new(
            vec!["momentum", "norm"],
            vec![0.0, 0.0],
            &[("m", "momentum"), ("u", "norm")],
        )
    }

    fn update_step(&self, iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        let lr = self.base.learning_rate as f32;
        let local_step = (iterations + 1) as f32;
        let beta_1_power = (self.beta_1 as f32).powf(local_step);
        let one_minus_beta_1 = (1.0 - self.beta_1) as f32;
        let beta_2 = self.beta_2 as f32;
        let epsilon = self.epsilon as f32;
        move |param, grad, _squares, slots| {
            let [m, u] = slots else {
                return Err(unexpected_slots(Adamax::CLASS_NAME));
            };
            for_each_2(param, &grad, None, m, u, |w, g, _, m, u| {
                *m += (g - *m) * one_minus_beta_1;
                *u = (beta_2 * *u).max(g.abs());
                *w -= (lr * *m) / ((1.0 - beta_1_power) * (*u + epsilon));
            });
            Ok(())
        }
    }

    fn keras_entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("beta_1", json!(self.beta_1)),
            ("beta_2", json!(self.beta_2)),
            ("epsilon", json!(self.epsilon)),
        ]
    }
}
