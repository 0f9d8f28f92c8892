//! [`Ftrl`]: Follow The Regularized Leader — Keras 3's `keras.optimizers.Ftrl`.
//!
//! Update rule, in f32 as Keras computes it (`g` the clipped gradient, `p = −learning_rate_power`):
//! - `l2 = l2_regularization_strength + beta / (2·lr)`
//! - `n' = accumulator + g²`
//! - `linear ← linear + g + 2·l2_shrinkage·w − (n'^p − accumulator^p) / lr · w`
//! - `quadratic = n'^p / lr + 2·l2`
//! - `w ← (clip(linear, −l1, l1) − linear) / quadratic`; `accumulator ← n'`
//!
//! Slots, in Keras's order: `accumulator` (starting at `initial_accumulator_value`), `linear`. A row gradient's
//! squares are taken per lookup, as TensorFlow does.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{FtrlConfig, Optimizer};
//!
//! let mut opt = FtrlConfig::default().with_learning_rate(0.1).build()?;
//! let mut w: ArrayD<f32> = arr1(&[0.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&arr1(&[1.0f32]).into_dyn()])?;
//! // n' = 1.1, linear = 1, quadratic = sqrt(1.1) / 0.1: w = −1 / quadratic
//! assert!((f64::from(w[0]) + 0.1 / 1.1f64.sqrt()).abs() < 1e-6);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::base::{BaseConfig, check};
use crate::elementwise::for_each_2;
use crate::error::Result;
use crate::macros::optimizer;
use crate::optimizer_config::{OptimizerConfig, unexpected_slots};
use crate::slots::SlotStore;
use serde_json::{Value, json};

/// Hyper-parameters of [`Ftrl`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct FtrlConfig {
    /// Base options; the learning rate defaults to `0.001`.
    pub base: BaseConfig,
    /// How the rate decreases during training, ≤ 0. Defaults to `-0.5`.
    pub learning_rate_power: f64,
    /// Starting value of the accumulators, ≥ 0. Defaults to `0.1`.
    pub initial_accumulator_value: f64,
    /// L1 regularization strength, ≥ 0. Defaults to `0`.
    pub l1_regularization_strength: f64,
    /// L2 regularization strength, ≥ 0. Defaults to `0`.
    pub l2_regularization_strength: f64,
    /// L2 shrinkage regularization strength (on the gradient), ≥ 0. Defaults to `0`.
    pub l2_shrinkage_regularization_strength: f64,
    /// The FTRL-proximal `beta`. Defaults to `0`.
    pub beta: f64,
}

impl Default for FtrlConfig {
    fn default() -> Self {
        FtrlConfig {
            base: BaseConfig::new(0.001),
            learning_rate_power: -0.5,
            initial_accumulator_value: 0.1,
            l1_regularization_strength: 0.0,
            l2_regularization_strength: 0.0,
            l2_shrinkage_regularization_strength: 0.0,
            beta: 0.0,
        }
    }
}

impl FtrlConfig {
    /// Sets `learning_rate_power` (≤ 0).
    pub fn with_learning_rate_power(mut self, value: f64) -> Self {
        self.learning_rate_power = value;
        self
    }

    /// Sets `initial_accumulator_value` (≥ 0).
    pub fn with_initial_accumulator_value(mut self, value: f64) -> Self {
        self.initial_accumulator_value = value;
        self
    }

    /// Sets `l1_regularization_strength` (≥ 0).
    pub fn with_l1_regularization_strength(mut self, value: f64) -> Self {
        self.l1_regularization_strength = value;
        self
    }

    /// Sets `l2_regularization_strength` (≥ 0).
    pub fn with_l2_regularization_strength(mut self, value: f64) -> Self {
        self.l2_regularization_strength = value;
        self
    }

    /// Sets `l2_shrinkage_regularization_strength` (≥ 0).
    pub fn with_l2_shrinkage_regularization_strength(mut self, value: f64) -> Self {
        self.l2_shrinkage_regularization_strength = value;
        self
    }

    /// Sets `beta`.
    pub fn with_beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }
}

optimizer! {
    /// The FTRL optimizer.
    Ftrl {
        config: FtrlConfig,
        class_name: "Ftrl",
        default_name: "ftrl",
    }
}

impl OptimizerConfig for FtrlConfig {
    fn check(&self) -> Result<()> {
        let positive_or_zero = "a float >= 0 (positive or zero)";
        for (argument, value) in [
            ("initial_accumulator_value", self.initial_accumulator_value),
            (
                "l1_regularization_strength",
                self.l1_regularization_strength,
            ),
            (
                "l2_regularization_strength",
                self.l2_regularization_strength,
            ),
            (
                "l2_shrinkage_regularization_strength",
                self.l2_shrinkage_regularization_strength,
            ),
        ] {
            check(
                Ftrl::CLASS_NAME,
                argument,
                value,
                value >= 0.0,
                positive_or_zero,
            )?;
        }
        check(
            Ftrl::CLASS_NAME,
            "learning_rate_power",
            self.learning_rate_power,
            self.learning_rate_power <= 0.0,
            "a float <= 0 (negative or zero)",
        )
    }

    fn slots(&self) -> SlotStore {
        SlotStore::new(
            vec!["accumulator", "linear"],
            vec![self.initial_accumulator_value as f32, 0.0],
            &[],
        )
    }

    fn update_step(&self, _iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        let lr = self.base.learning_rate as f32;
        let power = (-self.learning_rate_power) as f32;
        let l2 = self.l2_regularization_strength as f32 + self.beta as f32 / (2.0 * lr);
        let shrinkage = (2.0 * self.l2_shrinkage_regularization_strength) as f32;
        let l1 = self.l1_regularization_strength as f32;
        move |param, grad, squares, slots| {
            let [accum, linear] = slots else {
                return Err(unexpected_slots(Ftrl::CLASS_NAME));
            };
            for_each_2(
                param,
                &grad,
                squares.as_ref(),
                accum,
                linear,
                |w, g, g2, accum, linear| {
                    let grad_to_use = g + shrinkage * *w;
                    let new_accum = *accum + g2;
                    *linear +=
                        grad_to_use - ((new_accum.powf(power) - accum.powf(power)) / lr) * *w;
                    let quadratic = new_accum.powf(power) / lr + 2.0 * l2;
                    let clipped = linear.clamp(-l1, l1);
                    *w = (clipped - *linear) / quadratic;
                    *accum = new_accum;
                },
            );
            Ok(())
        }
    }

    fn keras_entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("learning_rate_power", json!(self.learning_rate_power)),
            (
                "initial_accumulator_value",
                json!(self.initial_accumulator_value),
            ),
            (
                "l1_regularization_strength",
                json!(self.l1_regularization_strength),
            ),
            (
                "l2_regularization_strength",
                json!(self.l2_regularization_strength),
            ),
            (
                "l2_shrinkage_regularization_strength",
                json!(self.l2_shrinkage_regularization_strength),
            ),
            ("beta", json!(self.beta)),
        ]
    }
}
