//! [`Adam`]: adaptive moment estimation — Keras 3's `keras.optimizers.Adam`.
//!
//! Update rule at step `t` (1 for the first step), in f32 as Keras computes it (`g` the clipped gradient):
//! - `alpha = lr · sqrt(1 − beta_2^t) / (1 − beta_1^t)`
//! - `momentum ← momentum + (g − momentum)·(1 − beta_1)`
//! - `velocity ← velocity + (g² − velocity)·(1 − beta_2)`
//! - amsgrad: `velocity_hat ← max(velocity_hat, velocity)`, and `velocity_hat` replaces `velocity` below
//! - `w ← w − momentum·alpha / (sqrt(velocity) + epsilon)` (epsilon *outside* the square root)
//!
//! Slots, in Keras's order: `momentum`, `velocity`, then `velocity_hat` (only with amsgrad).
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Adam, Optimizer};
//!
//! // The first Adam step moves each weight by about lr in the direction opposite to its gradient.
//! let mut opt = Adam::new(0.1)?;
//! let mut w: ArrayD<f32> = arr1(&[0.0f32, 0.0]).into_dyn();
//! let g: ArrayD<f32> = arr1(&[3.0f32, -0.5]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&g])?;
//! assert!((w[0] + 0.1).abs() < 1e-5 && (w[1] - 0.1).abs() < 1e-5);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::base::{BaseConfig, check_decay_rate, check_epsilon};
use crate::elementwise::{for_each_2, for_each_3};
use crate::error::Result;
use crate::macros::optimizer;
use crate::optimizer_config::{OptimizerConfig, unexpected_slots};
use crate::slots::SlotStore;
use serde_json::{Value, json};

/// Hyper-parameters of [`Adam`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamConfig {
    /// Base options; the learning rate defaults to `0.001`.
    pub base: BaseConfig,
    /// Decay rate of the first-moment estimates, in `[0, 1)`. Defaults to `0.9`.
    pub beta_1: f64,
    /// Decay rate of the second-moment estimates, in `[0, 1)`. Defaults to `0.999`.
    pub beta_2: f64,
    /// Small constant (> 0) added to `sqrt(velocity)` ("epsilon hat"). Defaults to `1e-7`.
    pub epsilon: f64,
    /// Whether to apply the AMSGrad variant. Defaults to `false`.
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            base: BaseConfig::new(0.001),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
        }
    }
}

impl AdamConfig {
    /// Turns AMSGrad on or off.
    pub fn with_amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }
}

crate::macros::moment_builders!(AdamConfig: beta_1, beta_2, epsilon);

optimizer! {
    /// The Adam optimizer.
    Adam {
        config: AdamConfig,
        class_name: "Adam",
        default_name: "adam",
    }
}

impl OptimizerConfig for AdamConfig {
    fn check(&self) -> Result<()> {
        check_decay_rate(Adam::CLASS_NAME, "beta_1", self.beta_1)?;
        check_decay_rate(Adam::CLASS_NAME, "beta_2", self.beta_2)?;
        check_epsilon(Adam::CLASS_NAME, self.epsilon)
    }

    fn slots(&self) -> SlotStore {
        let mut slots = vec!["momentum", "velocity"];
        if self.amsgrad {
            slots.push("velocity_hat");
        }
        let initial = vec![0.0; slots.len()];
        // Keras 2 named the slots `m`, `v` and `vhat`.
        let aliases = &[
            ("m", "momentum"),
            ("v", "velocity"),
            ("vhat", "velocity_hat"),
        ];
        SlotStore::new(slots, initial, aliases)
    }

    fn update_step(&self, iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        adam_rule(self, iterations, Adam::CLASS_NAME)
    }

    fn keras_entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("beta_1", json!(self.beta_1)),
            ("beta_2", json!(self.beta_2)),
            ("epsilon", json!(self.epsilon)),
            ("amsgrad", json!(self.amsgrad)),
        ]
    }
}

/// Adam's update of one parameter at the step after `iterations` (shared with [`crate::AdamW`], which differs
/// only in its weight decay).
pub(crate) fn adam_rule(
    config: &AdamConfig,
    iterations: u64,
    class_name: &'static str,
) -> impl crate::optimizer_config::UpdateStep + use<> {
    let lr = config.base.learning_rate as f32;
    // Keras: local_step = iterations + 1 and the powers, all cast to the variable's dtype (f32).
    let local_step = (iterations + 1) as f32;
    let beta_1_power = (config.beta_1 as f32).powf(local_step);
    let beta_2_power = (config.beta_2 as f32).powf(local_step);
    let alpha = lr * (1.0 - beta_2_power).sqrt() / (1.0 - beta_1_power);
    // `1 - beta` is computed in Python (f64), then cast.
    let one_minus_beta_1 = (1.0 - config.beta_1) as f32;
    let one_minus_beta_2 = (1.0 - config.beta_2) as f32;
    let epsilon = config.epsilon as f32;
    let amsgrad = config.amsgrad;
    move |param: &mut ndarray::ArrayD<f32>,
          grad: ndarray::ArrayViewD<'_, f32>,
          squares: Option<ndarray::ArrayViewD<'_, f32>>,
          slots: &mut [ndarray::ArrayD<f32>]| {
        // `g2` is `g · g`, or the per-lookup squares of an embedding's gradient when given.
        let moments = |m: &mut f32, v: &mut f32, g: f32, g2: f32| {
            *m += (g - *m) * one_minus_beta_1;
            *v += (g2 - *v) * one_minus_beta_2;
        };
        let sq = squares.as_ref();
        match (amsgrad, slots) {
            (false, [m, v]) => for_each_2(param, &grad, sq, m, v, |w, g, g2, m, v| {
                moments(m, v, g, g2);
                *w -= (*m * alpha) / (v.sqrt() + epsilon);
            }),
            (true, [m, v, v_hat]) => {
                for_each_3(param, &grad, sq, m, v, v_hat, |w, g, g2, m, v, v_hat| {
                    moments(m, v, g, g2);
                    *v_hat = v_hat.max(*v);
                    *w -= (*m * alpha) / (v_hat.sqrt() + epsilon);
                })
            }
            _ => return Err(unexpected_slots(class_name)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::Optimizer;

    #[test]
    fn betas_must_lie_in_the_half_open_unit_interval() {
        let err = AdamConfig::default().with_beta_1(1.0).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "Adam: invalid value for `beta_1`, expected a float in [0, 1). Received: beta_1=1"
        );
        assert!(AdamConfig::default().with_beta_2(-0.5).build().is_err());
        assert!(AdamConfig::default().with_epsilon(-1e-7).build().is_err());
        assert!(AdamConfig::default().with_beta_1(0.0).build().is_ok());
    }

    #[test]
    fn amsgrad_adds_the_velocity_hat_slot() {
        assert_eq!(Adam::default().slot_names(), ["momentum", "velocity"]);
        let opt = AdamConfig::default().with_amsgrad(true).build().unwrap();
        assert_eq!(opt.slot_names(), ["momentum", "velocity", "velocity_hat"]);
    }

    #[test]
    fn config_matches_keras_3_keys_and_defaults() {
        let config = Adam::default().config();
        assert_eq!(config["name"], "adam");
        assert_eq!(config["beta_1"], 0.9);
        assert_eq!(config["beta_2"], 0.999);
        assert_eq!(config["epsilon"], 1e-7);
        assert_eq!(config["amsgrad"], false);
    }
}
