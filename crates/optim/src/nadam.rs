//! [`Nadam`]: Adam with Nesterov momentum — Keras 3's `keras.optimizers.Nadam`.
//!
//! Update rule at step `t` (1 for the first step), in f32 as Keras computes it (`g` the clipped gradient):
//! - `u_t = beta_1·(1 − ½·0.96^t)`, `u_{t+1} = beta_1·(1 − ½·0.96^(t+1))`
//! - `u_product_t = u_1·u_2·…·u_t` (Keras's `u_product` variable), `u_product_{t+1} = u_product_t·u_{t+1}`
//! - `momentum ← momentum + (g − momentum)·(1 − beta_1)`; `velocity ← velocity + (g² − velocity)·(1 − beta_2)`
//! - `m̂ = u_{t+1}·momentum / (1 − u_product_{t+1}) + (1 − u_t)·g / (1 − u_product_t)`,
//!   `v̂ = velocity / (1 − beta_2^t)`
//! - `w ← w − m̂·lr / (sqrt(v̂) + epsilon)`
//!
//! Slots, in Keras's order: `momentum`, `velocity`. Keras also keeps `u_product` as an optimizer variable; it is a
//! function of the step count alone (the product above, in f32), so rkeras recomputes it rather than storing it,
//! and writes it for Keras where Keras's files hold it.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Nadam, Optimizer};
//!
//! let mut opt = Nadam::new(0.1)?;
//! let mut w: ArrayD<f32> = arr1(&[0.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&arr1(&[1.0f32]).into_dyn()])?;
//! assert!(w[0] < -0.1 && w[0] > -0.2); // a Nesterov step is larger than Adam's first step
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::base::{BaseConfig, check_decay_rate, check_epsilon};
use crate::elementwise::for_each_2;
use crate::error::Result;
use crate::macros::optimizer;
use crate::optimizer_config::{OptimizerConfig, unexpected_slots};
use crate::slots::SlotStore;
use serde_json::{Value, json};

/// Hyper-parameters of [`Nadam`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct NadamConfig {
    /// Base options; the learning rate defaults to `0.001`.
    pub base: BaseConfig,
    /// Decay rate of the first-moment estimates, in `[0, 1)`. Defaults to `0.9`.
    pub beta_1: f64,
    /// Decay rate of the second-moment estimates, in `[0, 1)`. Defaults to `0.999`.
    pub beta_2: f64,
    /// Small constant (> 0) added to `sqrt(v̂)`. Defaults to `1e-7`.
    pub epsilon: f64,
}

impl Default for NadamConfig {
    fn default() -> Self {
        NadamConfig {
            base: BaseConfig::new(0.001),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
        }
    }
}

impl NadamConfig {}

crate::macros::moment_builders!(NadamConfig: beta_1, beta_2, epsilon);

optimizer! {
    /// The Nadam optimizer.
    Nadam {
        config: NadamConfig,
        class_name: "Nadam",
        default_name: "nadam",
    }
}

/// Keras's `u_product` after `steps` updates, multiplied in f32 step by step as Keras's variable is
/// (`u_product ← u_product · beta_1 · (1 − 0.5 · 0.96^t)`); 1 before the first step. The loop ends early once the
/// product underflows to zero, which it then stays.
pub fn nadam_u_product(beta_1: f64, steps: u64) -> f32 {
    let beta_1 = beta_1 as f32;
    let mut product = 1.0f32;
    for t in 1..=steps {
        product = product * beta_1 * (1.0 - 0.5 * 0.96f32.powf(t as f32));
        if product == 0.0 {
            break;
        }
    }
    product
}

/// Keras's Nadam `u_product` variable of `optimizer` (its value after the optimizer's updates so far), or `None`
/// for any other class: what a Keras file holds after Nadam's slots.
pub fn keras_u_product(optimizer: &dyn crate::Optimizer) -> Option<f32> {
    (optimizer.class_name() == Nadam::CLASS_NAME).then(|| {
        let config = optimizer.config();
        let beta_1 = config["beta_1"].as_f64().unwrap_or(0.9);
        let steps = config["gradient_accumulation_steps"]
            .as_u64()
            .filter(|s| *s > 0)
            .map_or(optimizer.iterations(), |s| optimizer.iterations() / s);
        nadam_u_product(beta_1, steps)
    })
}

impl OptimizerConfig for NadamConfig {
    fn check(&self) -> Result<()> {
        check_decay_rate(Nadam::CLASS_NAME, "beta_1", self.beta_1)?;
        check_decay_rate(Nadam::CLASS_NAME, "beta_2", self.beta_2)?;
        check_epsilon(Nadam::CLASS_NAME, self.epsilon)
    }

    fn slots(&self) -> SlotStore {
        SlotStore::new(
            vec!["momentum", "velocity"],
            vec![0.0, 0.0],
            &[("m", "momentum"), ("v", "velocity")],
        )
    }

    fn update_step(&self, iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        let lr = self.base.learning_rate as f32;
        let local_step = (iterations + 1) as f32;
        let next_step = (iterations + 2) as f32;
        let beta_1 = self.beta_1 as f32;
        let beta_2 = self.beta_2 as f32;
        let u_t = beta_1 * (1.0 - 0.5 * 0.96f32.powf(local_step));
        let u_t_1 = beta_1 * (1.0 - 0.5 * 0.96f32.powf(next_step));
        let u_product_t = nadam_u_product(self.beta_1, iterations + 1);
        let u_product_t_1 = u_product_t * u_t_1;
        let beta_2_power = beta_2.powf(local_step);
        let epsilon = self.epsilon as f32;
        move |param, grad, squares, slots| {
            let [m, v] = slots else {
                return Err(unexpected_slots(Nadam::CLASS_NAME));
            };
            for_each_2(param, &grad, squares.as_ref(), m, v, |w, g, g2, m, v| {
                *m += (g - *m) * (1.0 - beta_1);
                *v += (g2 - *v) * (1.0 - beta_2);
                let m_hat =
                    (u_t_1 * *m) / (1.0 - u_product_t_1) + ((1.0 - u_t) * g) / (1.0 - u_product_t);
                let v_hat = *v / (1.0 - beta_2_power);
                *w -= (m_hat * lr) / (v_hat.sqrt() + epsilon);
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
