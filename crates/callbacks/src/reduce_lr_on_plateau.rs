//! `ReduceLROnPlateau`: lowers the learning rate when a monitored metric has stopped improving.
//!
//! Keras's rules at every epoch end: the current rate is written into the logs as `learning_rate` (Keras 2 wrote
//! `lr`). If the monitor is missing, warn once and do nothing else. In cooldown, the counter drops by one and
//! `wait` is reset. An improvement becomes the best and resets `wait` (the first monitored value always does,
//! even a NaN or an infinity: Keras's `best` starts at `None`); otherwise, out of cooldown, `wait += 1` and
//! once `wait >= patience` a rate above `min_lr` becomes `max(rate · factor, min_lr)`, followed by `cooldown`
//! epochs of cooldown. Rates are compared with `min_lr` in single precision, as Keras's float32 variable does, so
//! a rate already at `min_lr` is not "reduced" again.
//!
//! `patience` and `cooldown` are `usize`: negative values cannot be expressed.
//!
//! ```
//! use rkeras_callbacks::testing::{logs, simulate_fit, MockControl};
//! use rkeras_callbacks::{ReduceLROnPlateau, RunParams};
//! let mut reduce = ReduceLROnPlateau::new().with_factor(0.5).unwrap().with_patience(2);
//! let mut ctl = MockControl::new(0.1);
//! let flat = vec![logs(&[("val_loss", 1.0)]); 5];
//! simulate_fit(&mut reduce, &mut ctl, &RunParams::default(), &flat).unwrap();
//! assert_eq!(ctl.lr_history, [0.05, 0.025], "halved after epochs 2 and 4");
//! ```

use crate::callback::Callback;
use crate::console;
use crate::control::{RunParams, TrainerControl};
use crate::error::{CallbackError, Result};
use crate::logs::{Logs, LogsExt};
use crate::monitor::{Mode, Monitor, WarnOnce, monitor_builders};
use crate::pyformat::repr_f64;
use crate::state::{from_state, json_float, to_state};

const NAME: &str = "ReduceLROnPlateau";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct State {
    #[serde(with = "json_float::option")]
    best: Option<f64>,
    wait: usize,
    cooldown_counter: usize,
}

/// Keras's `ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
/// min_delta=1e-4, cooldown=0, min_lr=0.0)`.
pub struct ReduceLROnPlateau {
    monitor: Monitor,
    factor: f64,
    patience: usize,
    verbose: u8,
    cooldown: usize,
    min_lr: f64,
    state: State,
    missing: WarnOnce,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        Self::new()
    }
}

fn invalid(argument: &'static str, reason: String) -> CallbackError {
    CallbackError::InvalidArgument {
        callback: NAME,
        argument,
        reason,
    }
}

impl ReduceLROnPlateau {
    /// Keras's defaults: monitor `val_loss`, factor 0.1, patience 10, `min_delta` 1e-4, cooldown 0, `min_lr` 0.
    pub fn new() -> Self {
        Self {
            monitor: Monitor::new(NAME, "val_loss", Mode::Auto, 1e-4),
            factor: 0.1,
            patience: 10,
            verbose: 0,
            cooldown: 0,
            min_lr: 0.0,
            state: State {
                best: None,
                wait: 0,
                cooldown_counter: 0,
            },
            missing: WarnOnce::default(),
        }
    }

    monitor_builders!(
        monitor_doc: "The key to monitor. Defaults to `\"val_loss\"`.",
        verbose_doc: "0 silent, 1 prints each reduction. Defaults to 0.",
        min_delta_default: "1e-4",
    );

    /// `new_lr = lr · factor`; must be in (0, 1) (Keras rejects `factor >= 1`). Defaults to 0.1.
    pub fn with_factor(mut self, factor: f64) -> Result<Self> {
        if factor >= 1.0 {
            return Err(invalid(
                "factor",
                format!("ReduceLROnPlateau does not support a factor >= 1.0, received {factor}"),
            ));
        }
        if factor.is_nan() || factor <= 0.0 {
            return Err(invalid(
                "factor",
                format!("expected a factor in (0, 1), received {factor}"),
            ));
        }
        self.factor = factor;
        Ok(self)
    }

    /// Epochs without improvement before the rate is reduced. Defaults to 10.
    pub fn with_patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Keras 2's name for [`ReduceLROnPlateau::with_min_delta`].
    pub fn with_epsilon(self, epsilon: f64) -> Result<Self> {
        self.with_min_delta(epsilon)
    }

    /// Epochs to wait after a reduction before counting again. Defaults to 0.
    pub fn with_cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The lowest rate; must be a number ≥ 0. Defaults to 0.
    pub fn with_min_lr(mut self, min_lr: f64) -> Result<Self> {
        if min_lr.is_nan() || min_lr < 0.0 {
            return Err(invalid(
                "min_lr",
                format!("expected a number >= 0, received {min_lr}"),
            ));
        }
        self.min_lr = min_lr;
        Ok(self)
    }

    /// The best monitored value of this run (`None` before any, as Keras's `best`; a NaN or infinite first
    /// value is kept as the best).
    pub fn best(&self) -> Option<f64> {
        self.state.best
    }

    /// Epochs since the last improvement or reduction.
    pub fn wait(&self) -> usize {
        self.state.wait
    }

    /// Epochs of cooldown left.
    pub fn cooldown_counter(&self) -> usize {
        self.state.cooldown_counter
    }
}

impl Callback for ReduceLROnPlateau {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_train_begin(&mut self, params: &RunParams, _ctl: &mut dyn TrainerControl) -> Result<()> {
        self.missing.reset();
        self.monitor.prepare(params)?;
        self.state = State {
            best: None,
            wait: 0,
            cooldown_counter: 0,
        };
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        self.monitor.direction()?;
        logs.set("learning_rate", ctl.learning_rate());
        let Some(current) = self.monitor.current_or_warn(logs, &mut self.missing, |key, available| {
            format!(
                "Learning rate reduction is conditioned on metric `{key}` which is not available. Available \
                 metrics are: {available}."
            )
        }) else {
            return Ok(());
        };
        if self.state.cooldown_counter > 0 {
            self.state.cooldown_counter -= 1;
            self.state.wait = 0;
        }
        if self.monitor.is_improvement(current, self.state.best) {
            self.state.best = Some(current);
            self.state.wait = 0;
        } else if self.state.cooldown_counter == 0 {
            self.state.wait += 1;
            if self.state.wait >= self.patience {
                let old_lr = ctl.learning_rate();
                // Keras compares its float32 rate with np.float32(min_lr).
                if (old_lr as f32) > (self.min_lr as f32) {
                    let new_lr = (old_lr * self.factor).max(self.min_lr);
                    ctl.set_learning_rate(new_lr)?;
                    if self.verbose > 0 {
                        console::print_msg(&format!(
                            "Epoch {}: ReduceLROnPlateau reducing learning rate to {}.",
                            epoch + 1,
                            repr_f64(new_lr)
                        ));
                    }
                    self.state.cooldown_counter = self.cooldown;
                    self.state.wait = 0;
                }
            }
        }
        Ok(())
    }

    fn state(&self) -> Option<serde_json::Value> {
        to_state(&self.state)
    }

    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        self.state = from_state(NAME, state)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MockControl, logs, simulate_fit};

    fn run(reduce: &mut ReduceLROnPlateau, lr: f64, values: &[f64]) -> MockControl {
        let epochs: Vec<_> = values
            .iter()
            .map(|&v| logs(&[("loss", 1.0), ("val_loss", v)]))
            .collect();
        let mut ctl = MockControl::new(lr);
        simulate_fit(reduce, &mut ctl, &RunParams::default(), &epochs).unwrap();
        ctl
    }

    type Row = (
        &'static [f64],
        fn(ReduceLROnPlateau) -> ReduceLROnPlateau,
        &'static [f64],
        &'static str,
    );

    #[test]
    fn reduction_table() {
        // (val_loss per epoch, configure, expected rates set (starting from 1.0), why)
        let rows: &[Row] = &[
            (
                &[1.0; 5],
                |r| r.with_patience(2),
                &[0.1, 0.010000000000000002],
                "flat: every 2 epochs after the first",
            ),
            (
                &[1.0, 0.9, 0.8, 0.7],
                |r| r.with_patience(1),
                &[],
                "always improving",
            ),
            (
                &[1.0, 1.0, 1.0],
                |r| r.with_patience(0),
                &[0.1, 0.010000000000000002],
                "patience 0: every non-improving epoch",
            ),
            (
                &[1.0; 5],
                |r| r.with_patience(1).with_factor(0.5).unwrap(),
                &[0.5, 0.25, 0.125, 0.0625],
                "factor 0.5",
            ),
            (
                &[1.0; 5],
                |r| r.with_patience(1),
                &[
                    0.1,
                    0.010000000000000002,
                    0.0010000000000000002,
                    0.00010000000000000003,
                ],
                "patience 1 without cooldown: every epoch after the first",
            ),
            (
                &[1.0; 5],
                |r| r.with_patience(1).with_cooldown(2),
                &[0.1, 0.010000000000000002],
                "cooldown 2: the epoch after a reduction is skipped, the one after counts again",
            ),
            (
                &[1.0; 6],
                |r| r.with_patience(1).with_min_lr(0.05).unwrap(),
                &[0.1, 0.05],
                "never below min_lr",
            ),
            (
                &[1.0, 0.99995, 0.99992],
                |r| r.with_patience(1),
                &[0.1, 0.010000000000000002],
                "changes under min_delta 1e-4 are no improvement",
            ),
            (
                &[1.0, 0.99995, 0.99992],
                |r| r.with_patience(1).with_min_delta(0.0).unwrap(),
                &[],
                "with min_delta 0 they are",
            ),
            (
                &[1.0, 0.99995, 0.99992],
                |r| r.with_patience(1).with_epsilon(0.0).unwrap(),
                &[],
                "epsilon is min_delta",
            ),
            (
                &[1.0, 1.5, 2.0],
                |r| r.with_patience(1).with_mode("max"),
                &[],
                "mode max: rising is improving",
            ),
            (
                &[1.0, 0.9, 0.8],
                |r| r.with_patience(1).with_monitor("loss"),
                &[0.1, 0.010000000000000002],
                "monitor loss (flat at 1.0) instead of the improving val_loss",
            ),
            (
                &[1.0, 0.5, 0.2],
                |r| r.with_patience(1).with_mode("max"),
                &[0.1, 0.010000000000000002],
                "mode max: falling is not",
            ),
        ];
        for (values, configure, want, why) in rows {
            let mut reduce = configure(ReduceLROnPlateau::new());
            let ctl = run(&mut reduce, 1.0, values);
            assert_eq!(ctl.lr_history, *want, "{why}");
        }
    }

    #[test]
    fn decides_as_keras_on_edge_cases() {
        // Keras 3.15's rate after every epoch, from scripts/keras_callback_edges.py (float32, as Keras stores it).
        for case in crate::keras_edges::cases(NAME) {
            case.check_arguments(&[
                "factor",
                "patience",
                "mode",
                "min_delta",
                "cooldown",
                "min_lr",
            ]);
            let mut reduce = ReduceLROnPlateau::new().with_monitor(&case.key);
            if let Some(f) = case.float("factor") {
                reduce = reduce.with_factor(f).unwrap();
            }
            if let Some(p) = case.count("patience") {
                reduce = reduce.with_patience(p);
            }
            if let Some(m) = case.text("mode") {
                reduce = reduce.with_mode(m);
            }
            if let Some(d) = case.float("min_delta") {
                reduce = reduce.with_min_delta(d).unwrap();
            }
            if let Some(c) = case.count("cooldown") {
                reduce = reduce.with_cooldown(c);
            }
            if let Some(m) = case.float("min_lr") {
                reduce = reduce.with_min_lr(m).unwrap();
            }
            let replay = crate::keras_edges::replay(&mut reduce, &case);
            let ours: Vec<f32> = replay.lr.iter().map(|&lr| lr as f32).collect();
            let keras: Vec<f32> = case.expected["lr"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| crate::keras_edges::float(v) as f32)
                .collect();
            assert_eq!(ours, keras, "{}: {:?}", case.name, case.values);
        }
    }

    #[test]
    fn cooldown_counts_exactly_as_keras() {
        // patience 1, cooldown 1, flat values, rate 1.0. Keras: e0 best; e1 wait 1 -> reduce, counter 1;
        // e2 in cooldown: counter 0, wait 0, then (no longer in cooldown) wait 1 -> reduce again.
        let mut reduce = ReduceLROnPlateau::new().with_patience(1).with_cooldown(1);
        let ctl = run(&mut reduce, 1.0, &[1.0, 1.0, 1.0]);
        assert_eq!(ctl.lr_history, [0.1, 0.010000000000000002]);
    }

    #[test]
    fn a_rate_equal_to_min_lr_in_single_precision_is_not_reduced() {
        // 1e-5 + 2e-21 differs from 1e-5 in f64 but not in f32: Keras's float32 comparison sees the rate at
        // min_lr and leaves it (no second "reducing" message at the same rate).
        let at_min = 1.0000000000000002e-5;
        assert!(at_min > 1e-5 && at_min as f32 == 1e-5_f32);
        let mut reduce = ReduceLROnPlateau::new()
            .with_patience(0)
            .with_min_lr(1e-5)
            .unwrap();
        let ctl = run(&mut reduce, at_min, &[1.0, 1.0, 1.0]);
        assert!(ctl.lr_history.is_empty());
    }

    #[test]
    fn writes_the_rate_used_this_epoch_into_the_logs() {
        let mut reduce = ReduceLROnPlateau::new().with_patience(0);
        let mut ctl = MockControl::new(0.5);
        let params = RunParams::default();
        reduce.on_train_begin(&params, &mut ctl).unwrap();
        let mut first = logs(&[("val_loss", 1.0)]);
        reduce.on_epoch_end(0, &mut first, &mut ctl).unwrap();
        let mut second = logs(&[("val_loss", 1.0)]);
        reduce.on_epoch_end(1, &mut second, &mut ctl).unwrap();
        assert_eq!(first.value("learning_rate"), Some(0.5));
        assert_eq!(
            second.value("learning_rate"),
            Some(0.5),
            "the rate before this epoch's reduction"
        );
        assert_eq!(ctl.lr, 0.05);
    }

    #[test]
    fn verbose_message_matches_keras() {
        let mut reduce = ReduceLROnPlateau::new().with_patience(1).with_verbose(1);
        let (_, said) = console::capture(|| run(&mut reduce, 0.001, &[1.0, 1.0]));
        assert_eq!(
            said.messages,
            ["Epoch 2: ReduceLROnPlateau reducing learning rate to 0.0001."]
        );
    }

    #[test]
    fn missing_monitor_warns_once_listing_keys() {
        let mut reduce = ReduceLROnPlateau::new().with_patience(0);
        let epochs = vec![logs(&[("loss", 1.0)]); 3];
        let mut ctl = MockControl::new(0.1);
        let (_, said) = console::capture(|| {
            simulate_fit(&mut reduce, &mut ctl, &RunParams::default(), &epochs).unwrap()
        });
        assert_eq!(
            said.warnings,
            [
                "Learning rate reduction is conditioned on metric `val_loss` which is not available. Available metrics \
              are: loss,learning_rate."
            ]
        );
        assert!(ctl.lr_history.is_empty());
    }

    #[test]
    fn bad_arguments_are_errors() {
        for factor in [1.0, 1.5, 0.0, -0.1, f64::NAN] {
            assert!(
                ReduceLROnPlateau::new().with_factor(factor).is_err(),
                "factor {factor}"
            );
        }
        let err = ReduceLROnPlateau::new()
            .with_factor(1.0)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("factor >= 1.0") && err.contains("received 1"),
            "{err}"
        );
        assert!(ReduceLROnPlateau::new().with_min_lr(-1e-5).is_err());
        assert!(
            ReduceLROnPlateau::new()
                .with_min_delta(f64::INFINITY)
                .is_err()
        );
        let params = RunParams {
            log_keys: vec!["loss".into(), "val_accuracy".into()],
            ..RunParams::default()
        };
        let err = ReduceLROnPlateau::new()
            .on_train_begin(&params, &mut MockControl::new(0.1))
            .unwrap_err();
        assert!(
            matches!(err, CallbackError::UnknownKey { .. }),
            "val_loss is not logged: {err}"
        );
    }

    #[test]
    fn one_instance_serves_several_fits_and_state_round_trips() {
        let mut reduce = ReduceLROnPlateau::new().with_patience(2).with_cooldown(1);
        run(&mut reduce, 1.0, &[0.1, 0.2, 0.3]);
        // A second fit starts from no best, wait 0: 5.0 is an improvement.
        let ctl = run(&mut reduce, 1.0, &[5.0, 4.0]);
        assert!(ctl.lr_history.is_empty());
        assert_eq!(reduce.best(), Some(4.0));

        let mut a = ReduceLROnPlateau::new().with_patience(2).with_cooldown(3);
        run(&mut a, 1.0, &[1.0, 1.0, 1.0, 1.0]);
        let saved = a.state().unwrap();
        let mut b = ReduceLROnPlateau::new().with_patience(2).with_cooldown(3);
        b.on_train_begin(&RunParams::default(), &mut MockControl::new(1.0))
            .unwrap();
        b.load_state(&saved).unwrap();
        assert_eq!(
            (b.best(), b.wait(), b.cooldown_counter()),
            (a.best(), a.wait(), a.cooldown_counter())
        );
        assert_eq!(
            (a.wait(), a.cooldown_counter()),
            (0, 2),
            "reduced at epoch 2, one cooldown epoch used"
        );
    }
}
