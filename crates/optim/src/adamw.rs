//! [`AdamW`]: Adam with decoupled weight decay — Keras 3's `keras.optimizers.AdamW`.
//!
//! The update is Adam's (see [`crate::Adam`]); before it, every parameter decays as Keras's base optimizer
//! decays it: `w ← w − w · weight_decay · lr`. `weight_decay` is required (Keras's default 0.004); slots as Adam's:
//! `momentum`, `velocity`, and `velocity_hat` with amsgrad. Keras 3's default name is `adam_w`.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{AdamWConfig, Optimizer};
//!
//! let mut opt = AdamWConfig::default().with_learning_rate(0.1).with_weight_decay(0.5).build()?;
//! let mut w: ArrayD<f32> = arr1(&[1.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&arr1(&[3.0f32]).into_dyn()])?;
//! // decay: 1 − 1 · 0.5 · 0.1 = 0.95; then Adam's first step moves it by about lr.
//! assert!((w[0] - 0.85).abs() < 1e-5);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::adam::{AdamConfig, adam_rule};
use crate::base::{BaseConfig, check_decay_rate, check_epsilon};
use crate::error::{OptimError, Result};
use crate::macros::optimizer;
use crate::optimizer_config::OptimizerConfig;
use crate::slots::SlotStore;
use serde_json::Value;

/// Hyper-parameters of [`AdamW`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamWConfig {
    /// Base options; the learning rate defaults to `0.001` and `weight_decay` to `Some(0.004)` (required).
    pub base: BaseConfig,
    /// Decay rate of the first-moment estimates, in `[0, 1)`. Defaults to `0.9`.
    pub beta_1: f64,
    /// Decay rate of the second-moment estimates, in `[0, 1)`. Defaults to `0.999`.
    pub beta_2: f64,
    /// Small constant (> 0) added to `sqrt(velocity)`. Defaults to `1e-7`.
    pub epsilon: f64,
    /// Whether to apply the AMSGrad variant. Defaults to `false`.
    pub amsgrad: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        let mut base = BaseConfig::new(0.001);
        base.weight_decay = Some(0.004);
        AdamWConfig {
            base,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
        }
    }
}

impl AdamWConfig {
    /// Turns AMSGrad on or off.
    pub fn with_amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }

    /// The same hyper-parameters as an [`AdamConfig`] (whose rule AdamW shares).
    fn as_adam(&self) -> AdamConfig {
        AdamConfig {
            base: self.base.clone(),
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            amsgrad: self.amsgrad,
        }
    }
}

crate::macros::moment_builders!(AdamWConfig: beta_1, beta_2, epsilon);

optimizer! {
    /// The AdamW optimizer.
    AdamW {
        config: AdamWConfig,
        class_name: "AdamW",
        default_name: "adam_w",
    }
}

impl OptimizerConfig for AdamWConfig {
    fn check(&self) -> Result<()> {
        if self.base.weight_decay.is_none() {
            return Err(OptimError::InvalidArgument {
                optimizer: AdamW::CLASS_NAME,
                argument: "weight_decay",
                expected: "a float (AdamW requires it)",
                value: "None".into(),
            });
        }
        check_decay_rate(AdamW::CLASS_NAME, "beta_1", self.beta_1)?;
        check_decay_rate(AdamW::CLASS_NAME, "beta_2", self.beta_2)?;
        check_epsilon(AdamW::CLASS_NAME, self.epsilon)
    }

    fn slots(&self) -> SlotStore {
        self.as_adam().slots()
    }

    fn update_step(&self, iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        adam_rule(&self.as_adam(), iterations, AdamW::CLASS_NAME)
    }

    fn keras_entries(&self) -> Vec<(&'static str, Value)> {
        self.as_adam().keras_entries()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::Optimizer;

    #[test]
    fn weight_decay_is_required_and_defaults_to_keras_value() {
        let mut config = AdamWConfig::default();
        assert_eq!(config.base.weight_decay, Some(0.004));
        config.base.weight_decay = None;
        let err = config.build().unwrap_err();
        assert!(
            err.to_string().contains("Received: weight_decay=None"),
            "{err}"
        );
        assert_eq!(AdamW::default().config()["name"], "adam_w");
    }
}
