//! [`Adadelta`]: per-coordinate steps from running averages of squared gradients and squared updates — Keras 3's
//! `keras.optimizers.Adadelta`.
//!
//! Update rule, in f32 as Keras computes it (`g` the clipped gradient, `lr` the learning rate):
//! - `accumulated_grad ← rho·accumulated_grad + (1 − rho)·g²`
//! - `delta = −sqrt(accumulated_delta_var + epsilon)·g / sqrt(accumulated_grad + epsilon)`
//! - `accumulated_delta_var ← rho·accumulated_delta_var + (1 − rho)·delta²`
//! - `w ← w + lr·delta`
//!
//! Slots, in Keras's order: `accumulated_grad`, `accumulated_delta_var`. Keras 3's defaults: learning rate
//! 0.001, rho 0.95, epsilon 1e-7 (Keras 2's classic MNIST script used learning rate 1.0).
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{AdadeltaConfig, Optimizer};
//!
//! let mut opt = AdadeltaConfig::default().with_learning_rate(1.0).build()?;
//! let mut w: ArrayD<f32> = arr1(&[1.0f32]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&arr1(&[2.0f32]).into_dyn()])?;
//! // accumulated_grad = 0.05 · 4 = 0.2; delta = −sqrt(1e-7) · 2 / sqrt(0.2 + 1e-7)
//! let delta = -(1e-7f64).sqrt() * 2.0 / (0.2f64 + 1e-7).sqrt();
//! assert!((f64::from(w[0]) - (1.0 + delta)).abs() < 1e-6);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::adadelta_kernel::{self, Coefficients};
use crate::base::{BaseConfig, check_decay_rate, check_epsilon};
use crate::elementwise::for_each_2;
use crate::error::Result;
use crate::macros::optimizer;
use crate::optimizer_config::{OptimizerConfig, unexpected_slots};
use crate::slots::SlotStore;
use serde_json::{Value, json};

/// Hyper-parameters of [`Adadelta`], with Keras 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AdadeltaConfig {
    /// Base options; the learning rate defaults to `0.001`.
    pub base: BaseConfig,
    /// Decay rate of both running averages, in `[0, 1)`. Defaults to `0.95`.
    pub rho: f64,
    /// Small constant (> 0) inside both square roots. Defaults to `1e-7`.
    pub epsilon: f64,
}

impl Default for AdadeltaConfig {
    fn default() -> Self {
        AdadeltaConfig {
            base: BaseConfig::new(0.001),
            rho: 0.95,
            epsilon: 1e-7,
        }
    }
}

impl AdadeltaConfig {
    /// Sets `rho` (in `[0, 1)`).
    pub fn with_rho(mut self, rho: f64) -> Self {
        self.rho = rho;
        self
    }

    /// Sets epsilon (> 0).
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }
}

optimizer! {
    /// The Adadelta optimizer.
    Adadelta {
        config: AdadeltaConfig,
        class_name: "Adadelta",
        default_name: "adadelta",
    }
}

impl OptimizerConfig for AdadeltaConfig {
    fn check(&self) -> Result<()> {
        check_decay_rate(Adadelta::CLASS_NAME, "rho", self.rho)?;
        check_epsilon(Adadelta::CLASS_NAME, self.epsilon)
    }

    fn slots(&self) -> SlotStore {
        // Keras 2 named them `accum_grad` and `accum_var`.
        let aliases = &[
            ("accum_grad", "accumulated_grad"),
            ("accum_var", "accumulated_delta_var"),
        ];
        SlotStore::new(
            vec!["accumulated_grad", "accumulated_delta_var"],
            vec![0.0, 0.0],
            aliases,
        )
    }

    fn update_step(&self, _iterations: u64) -> impl crate::optimizer_config::UpdateStep {
        let lr = self.base.learning_rate as f32;
        let rho = self.rho as f32;
        // Keras computes `1 - rho` in Python (f64) and then casts it.
        let one_minus_rho = (1.0 - self.rho) as f32;
        let epsilon = self.epsilon as f32;
        move |param, grad, squares, slots| {
            let [acc_grad, acc_delta] = slots else {
                return Err(unexpected_slots(Adadelta::CLASS_NAME));
            };
            let c = Coefficients {
                learning_rate: lr,
                rho,
                one_minus_rho,
                epsilon,
            };
            let contiguous = (
                param.as_slice_mut(),
                grad.as_slice(),
                acc_grad.as_slice_mut(),
                acc_delta.as_slice_mut(),
            );
            match (squares.as_ref(), contiguous) {
                (None, (Some(w), Some(g), Some(ag), Some(ad))) => {
                    adadelta_kernel::update(w, g, ag, ad, c);
                }
                (None, _) => for_each_2(
                    param,
                    &grad,
                    None,
                    acc_grad,
                    acc_delta,
                    |w, g, _, ag, ad| adadelta_kernel::update_one(w, g, ag, ad, c),
                ),
                // A row gradient's per-lookup squares: Keras/TensorFlow's `delta` is per lookup too
                // (`deltaₖ = −sqrt(ad + ε)·gₖ / sqrt(ag + ε)`), so `Σₖ deltaₖ² = (ad + ε)·Σₖ gₖ² / (ag + ε)`.
                (Some(sq), _) => for_each_2(
                    param,
                    &grad,
                    Some(sq),
                    acc_grad,
                    acc_delta,
                    |w, g, g2, ag, ad| {
                        *ag = rho * *ag + one_minus_rho * g2;
                        let delta = -((*ad + epsilon).sqrt() * g) / (*ag + epsilon).sqrt();
                        let delta_squares = (*ad + epsilon) * g2 / (*ag + epsilon);
                        *ad = rho * *ad + one_minus_rho * delta_squares;
                        *w += lr * delta;
                    },
                ),
            }
            Ok(())
        }
    }

    fn keras_entries(&self) -> Vec<(&'static str, Value)> {
        vec![("rho", json!(self.rho)), ("epsilon", json!(self.epsilon))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::Optimizer;

    #[test]
    fn three_steps_match_keras() {
        // scripts/keras_adadelta_golden.py (Keras 3.15, TensorFlow): Adadelta(learning_rate=1.0) on
        // w = [1, −2, 0.5] with the gradients below.
        let mut opt = AdadeltaConfig::default()
            .with_learning_rate(1.0)
            .build()
            .unwrap();
        let mut w = ndarray::arr1(&[1.0f32, -2.0, 0.5]).into_dyn();
        let steps: [([f32; 3], [f64; 3]); 3] = [
            (
                [0.5, -0.25, 1.0],
                [0.9985858201980591, -1.998585820198059, 0.4985857903957367],
            ),
            (
                [-1.0, 0.75, 0.125],
                [1.000383734703064, -2.000488042831421, 0.49833136796951294],
            ),
            (
                [2.0, 0.5, -0.5],
                [0.9980359077453613, -2.001983165740967, 0.4992528259754181],
            ),
        ];
        for (g, want) in steps {
            let g = ndarray::arr1(&g).into_dyn();
            opt.apply_gradients(&mut [&mut w], &[&g]).unwrap();
            for (got, want) in w.iter().zip(want) {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-6,
                    "{got} vs Keras {want}"
                );
            }
        }
        let state = opt.state();
        let slot = |name: &str| {
            state
                .slots
                .iter()
                .find(|s| s.slot == name)
                .unwrap()
                .value
                .clone()
        };
        for (got, want) in slot("accumulated_grad").iter().zip([
            0.2587812542915344,
            0.042039062827825546,
            0.05836718529462814,
        ]) {
            assert!((f64::from(*got) - want).abs() < 1e-7);
        }
        for (got, want) in slot("accumulated_delta_var").iter().zip([
            5.193943479753216e-07,
            3.738732914371212e-07,
            1.357786914013559e-07,
        ]) {
            assert!((f64::from(*got) - want).abs() < 1e-11, "{got} vs {want}");
        }
    }

    #[test]
    fn defaults_and_config_follow_keras_3() {
        let config = Adadelta::default().config();
        assert_eq!(config["name"], "adadelta");
        // The rate is held in float32 as Keras's variable: Keras's config reads 0.0010000000474974513.
        assert_eq!(config["learning_rate"], f64::from(0.001f32));
        assert_eq!(config["rho"], 0.95);
        assert_eq!(config["epsilon"], 1e-7);
        assert_eq!(
            Adadelta::default().slot_names(),
            ["accumulated_grad", "accumulated_delta_var"]
        );
        assert!(AdadeltaConfig::default().with_rho(1.0).build().is_err());
        assert!(AdadeltaConfig::default().with_epsilon(0.0).build().is_err());
    }
}
