//! `EarlyStopping`: stops training when a monitored metric has stopped improving.
//!
//! Keras 3's rules, epoch by epoch (epochs 0-based): a missing monitor warns once and is skipped, as are epochs
//! before `start_from_epoch`. With `restore_best_weights`, the first monitored epoch's weights are kept as the
//! best. Then `wait += 1`; on an improvement the value, epoch (and weights) become the best and `wait` is reset
//! unless a `baseline` is set and not beaten; otherwise training stops once `wait >= patience` (never at epoch 0).
//! At the end of training the best weights are put back when `restore_best_weights` is set, even if training was
//! not stopped early.
//!
//! `patience` and `start_from_epoch` are `usize`: negative values cannot be expressed.
//!
//! ```
//! use rkeras_callbacks::testing::{logs, simulate_fit, MockControl};
//! use rkeras_callbacks::{EarlyStopping, RunParams};
//! let mut early = EarlyStopping::new().with_monitor("loss").with_patience(3);
//! let epochs: Vec<_> = [1.0, 0.9, 0.95, 0.95, 0.95, 0.5].iter().map(|&l| logs(&[("loss", l)])).collect();
//! let ran = simulate_fit(&mut early, &mut MockControl::new(0.01), &RunParams::default(), &epochs).unwrap();
//! assert_eq!(ran.len(), 5, "three epochs without improvement after epoch 1: stops at epoch 4");
//! assert_eq!(early.stopped_epoch(), Some(4));
//! assert_eq!(early.best_epoch(), 1);
//! ```

use crate::callback::Callback;
use crate::console;
use crate::control::{RunParams, TrainerControl};
use crate::error::Result;
use crate::logs::Logs;
use crate::monitor::{Mode, Monitor, WarnOnce, monitor_builders};
use crate::state::{from_state, json_float, to_state};
use ndarray::ArrayD;

const NAME: &str = "EarlyStopping";

/// The counters a resumed run needs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct State {
    wait: usize,
    stopped_epoch: usize,
    #[serde(with = "json_float::option")]
    best: Option<f64>,
    best_epoch: usize,
}

/// Keras's `EarlyStopping(monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
/// restore_best_weights=False, start_from_epoch=0)`.
pub struct EarlyStopping {
    monitor: Monitor,
    patience: usize,
    verbose: u8,
    baseline: Option<f64>,
    restore_best_weights: bool,
    start_from_epoch: usize,
    state: State,
    best_weights: Option<Vec<ArrayD<f32>>>,
    missing: WarnOnce,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self::new()
    }
}

impl EarlyStopping {
    /// Keras's defaults: monitor `val_loss`, `min_delta` 0, patience 0, mode auto.
    pub fn new() -> Self {
        Self {
            monitor: Monitor::new(NAME, "val_loss", Mode::Auto, 0.0),
            patience: 0,
            verbose: 0,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            state: State {
                wait: 0,
                stopped_epoch: 0,
                best: None,
                best_epoch: 0,
            },
            best_weights: None,
            missing: WarnOnce::default(),
        }
    }

    monitor_builders!(
        monitor_doc: "The key to monitor. Defaults to `\"val_loss\"`.",
        verbose_doc: "0 silent, 1 prints when stopping and restoring. Defaults to 0.",
        min_delta_default: "0",
    );

    /// Epochs without improvement after which training stops. Defaults to 0.
    pub fn with_patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// A value the monitor must beat for `wait` to be reset. Defaults to none. A NaN is an error.
    pub fn with_baseline(mut self, baseline: f64) -> Result<Self> {
        self.baseline = Some(self.monitor.check_threshold("baseline", baseline)?);
        Ok(self)
    }

    /// Puts back the best epoch's weights at the end of training. Defaults to false.
    pub fn with_restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// Epochs to wait before monitoring starts (a warm-up). Defaults to 0.
    pub fn with_start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }

    /// The 0-based epoch at which training was stopped, `None` if it was not (Keras's `stopped_epoch`, where 0
    /// means "not stopped").
    pub fn stopped_epoch(&self) -> Option<usize> {
        (self.state.stopped_epoch > 0).then_some(self.state.stopped_epoch)
    }

    /// Epochs since the last improvement that reset it.
    pub fn wait(&self) -> usize {
        self.state.wait
    }

    /// The best monitored value so far, if any.
    pub fn best(&self) -> Option<f64> {
        self.state.best
    }

    /// The 0-based epoch of the best value (0 before any).
    pub fn best_epoch(&self) -> usize {
        self.state.best_epoch
    }

    /// The monitor settings.
    pub fn monitor(&self) -> &Monitor {
        &self.monitor
    }
}

impl Callback for EarlyStopping {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_train_begin(&mut self, params: &RunParams, _ctl: &mut dyn TrainerControl) -> Result<()> {
        // One instance may serve several fits: reset everything.
        self.state = State {
            wait: 0,
            stopped_epoch: 0,
            best: None,
            best_epoch: 0,
        };
        self.best_weights = None;
        self.missing.reset();
        self.monitor.prepare(params)?;
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        self.monitor.direction()?;
        let Some(current) = self.monitor.current_or_warn(logs, &mut self.missing, |key, available| {
            format!(
                "Early stopping conditioned on metric `{key}` which is not available. Available metrics are: \
                 {available}"
            )
        }) else {
            return Ok(());
        };
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(ctl.get_weights());
            self.state.best_epoch = epoch;
        }
        self.state.wait += 1;
        if self.monitor.is_improvement(current, self.state.best) {
            self.state.best = Some(current);
            self.state.best_epoch = epoch;
            if self.restore_best_weights {
                self.best_weights = Some(ctl.get_weights());
            }
            if self.baseline.is_none() || self.monitor.is_improvement(current, self.baseline) {
                self.state.wait = 0;
            }
            return Ok(());
        }
        if self.state.wait >= self.patience && epoch > 0 {
            self.state.stopped_epoch = epoch;
            ctl.set_stop_training(true);
        }
        Ok(())
    }

    fn on_train_end(&mut self, _logs: &Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
        if self.state.stopped_epoch > 0 && self.verbose > 0 {
            console::print_msg(&format!(
                "Epoch {}: early stopping",
                self.state.stopped_epoch + 1
            ));
        }
        if self.restore_best_weights {
            if let Some(weights) = &self.best_weights {
                if self.verbose > 0 {
                    console::print_msg(&format!(
                        "Restoring model weights from the end of the best epoch: {}.",
                        self.state.best_epoch + 1
                    ));
                }
                ctl.set_weights(weights)?;
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

    fn state_weights(&self) -> Option<Vec<ArrayD<f32>>> {
        self.best_weights.clone()
    }

    fn load_state_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        self.best_weights = Some(weights);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CallbackError;
    use crate::testing::{MockControl, logs, simulate_fit};

    fn run(early: &mut EarlyStopping, values: &[f64]) -> (Vec<usize>, MockControl) {
        let epochs: Vec<_> = values
            .iter()
            .map(|&v| logs(&[("loss", 1.0), ("val_loss", v)]))
            .collect();
        let mut ctl = MockControl::new(0.01);
        let ran = simulate_fit(early, &mut ctl, &RunParams::default(), &epochs).unwrap();
        (ran, ctl)
    }

    /// Burn-style table: (val_loss per epoch, configure, expected epochs run, expected stopped_epoch, why).
    type Row = (
        &'static [f64],
        fn(EarlyStopping) -> EarlyStopping,
        usize,
        Option<usize>,
        &'static str,
    );

    #[test]
    fn decides_as_keras_on_edge_cases() {
        // Keras 3.15's epochs run and stopped epoch, from scripts/keras_callback_edges.py.
        for case in crate::keras_edges::cases(NAME) {
            case.check_arguments(&[
                "monitor",
                "min_delta",
                "patience",
                "baseline",
                "start_from_epoch",
                "mode",
            ]);
            let mut early = EarlyStopping::new().with_monitor(&case.key);
            if let Some(d) = case.float("min_delta") {
                early = early.with_min_delta(d).unwrap();
            }
            if let Some(p) = case.count("patience") {
                early = early.with_patience(p);
            }
            if let Some(b) = case.float("baseline") {
                early = early.with_baseline(b).unwrap();
            }
            if let Some(s) = case.count("start_from_epoch") {
                early = early.with_start_from_epoch(s);
            }
            if let Some(m) = case.text("mode") {
                early = early.with_mode(m);
            }
            let replay = crate::keras_edges::replay(&mut early, &case);
            let want_run = case.expected["epochs_run"].as_u64().unwrap() as usize;
            let want_stop = case.expected["stopped_epoch"].as_u64().map(|e| e as usize);
            assert_eq!(
                (replay.epochs_run, early.stopped_epoch()),
                (want_run, want_stop),
                "{}: {:?}",
                case.name,
                case.values
            );
        }
    }

    #[test]
    fn stopping_table() {
        let rows: &[Row] = &[
            (
                &[1.0, 2.0, 3.0],
                |e| e,
                2,
                Some(1),
                "patience 0: the first non-improving epoch stops",
            ),
            (
                &[1.0, 0.9, 0.8, 0.7],
                |e| e,
                4,
                None,
                "always improving never stops",
            ),
            (
                &[1.0, 1.0, 1.0, 1.0],
                |e| e.with_patience(2),
                3,
                Some(2),
                "equal is not better: stops after 2 flat",
            ),
            (
                &[1.0, 1.1, 0.9, 1.2, 1.3, 1.4],
                |e| e.with_patience(2),
                5,
                Some(4),
                "an improvement resets wait",
            ),
            (
                &[1.0, 0.95, 0.92, 0.9],
                |e| e.with_min_delta(0.1).unwrap(),
                2,
                Some(1),
                "0.95 is within min_delta",
            ),
            (
                &[1.0, 0.95, 0.92, 0.9],
                |e| e.with_min_delta(-0.1).unwrap(),
                2,
                Some(1),
                "min_delta is |min_delta|",
            ),
            (
                &[1.0, 0.5, 0.6],
                |e| e.with_mode("max"),
                2,
                Some(1),
                "mode max: a drop is no improvement",
            ),
            (
                &[1.0, 2.0, 3.0, 4.0],
                |e| e.with_mode("max"),
                4,
                None,
                "mode max: rising keeps going",
            ),
            (
                &[5.0, 6.0, 7.0, 8.0],
                |e| e.with_start_from_epoch(3),
                4,
                None,
                "warm-up epochs are not monitored",
            ),
            (
                &[5.0, 6.0, 7.0, 8.0, 9.0],
                |e| e.with_start_from_epoch(3),
                5,
                Some(4),
                "monitoring starts at epoch 3",
            ),
            (
                &[2.0, 1.5, 1.6, 1.7],
                |e| e.with_baseline(1.0).unwrap().with_patience(2),
                3,
                Some(2),
                "improvements that miss the baseline do not reset wait",
            ),
            (
                &[2.0, 1.5, 1.6, 1.7],
                |e| e.with_patience(2),
                4,
                Some(3),
                "the same values without a baseline",
            ),
            (
                &[2.0, 1.5, 1.2, 1.1],
                |e| e.with_baseline(1.0).unwrap().with_patience(2),
                4,
                None,
                "an improving epoch never stops, even above the baseline",
            ),
            (
                &[2.0, 0.9, 0.8, 0.7],
                |e| e.with_baseline(1.0).unwrap().with_patience(2),
                4,
                None,
                "beating the baseline resets wait",
            ),
            (
                &[2.0, 3.0, 3.0],
                |e| e.with_baseline(1.0).unwrap(),
                2,
                Some(1),
                "baseline with patience 0",
            ),
            (
                &[1.0],
                |e| e.with_baseline(0.5).unwrap(),
                1,
                None,
                "never stops at epoch 0",
            ),
        ];
        for (values, configure, want_ran, want_stopped, why) in rows {
            let mut early = configure(EarlyStopping::new());
            let (ran, ctl) = run(&mut early, values);
            assert_eq!(ran.len(), *want_ran, "{why}");
            assert_eq!(early.stopped_epoch(), *want_stopped, "{why}");
            assert_eq!(ctl.stop, want_stopped.is_some(), "{why}");
        }
    }

    #[test]
    fn restores_the_best_epoch_weights() {
        // (val_loss per epoch, patience, expected best epoch, why); weights carry the epoch index as a marker.
        let rows: &[(&[f64], usize, usize, &str)] = &[
            (
                &[1.0, 0.5, 0.7, 0.8],
                2,
                1,
                "stopped at epoch 3, best was epoch 1",
            ),
            (
                &[1.0, 0.9, 0.8],
                5,
                2,
                "not stopped: the last (best) epoch is restored too",
            ),
            (
                &[0.5, 0.9, 0.8, 0.7],
                10,
                0,
                "not stopped, best at epoch 0: restored at the end anyway",
            ),
        ];
        for (values, patience, best, why) in rows {
            let mut early = EarlyStopping::new()
                .with_patience(*patience)
                .with_restore_best_weights(true);
            let (_, ctl) = run(&mut early, values);
            assert_eq!(ctl.marker(), *best as f32, "{why}");
            assert_eq!(ctl.set_weights_calls, 1, "{why}");
            assert_eq!(early.best_epoch(), *best, "{why}");
        }
        // Without the option the last weights stay.
        let mut early = EarlyStopping::new().with_patience(1);
        let (_, ctl) = run(&mut early, &[1.0, 0.5, 0.7, 0.8]);
        assert_eq!(
            (ctl.marker(), ctl.set_weights_calls),
            (2.0, 0),
            "stopped at epoch 2 with its own weights"
        );
    }

    #[test]
    fn baseline_never_beaten_restores_the_best_of_the_patience_window() {
        // Keras: "If no epoch improves on baseline, training will run for patience epochs and restore weights
        // from the best epoch in that set."
        let mut early = EarlyStopping::new()
            .with_baseline(0.1)
            .unwrap()
            .with_patience(3)
            .with_restore_best_weights(true);
        let (ran, ctl) = run(&mut early, &[0.9, 0.7, 0.8, 0.75, 0.6]);
        assert_eq!(ran, [0, 1, 2]);
        assert_eq!(ctl.marker(), 1.0);
    }

    #[test]
    fn verbose_messages_match_keras() {
        let mut early = EarlyStopping::new()
            .with_patience(1)
            .with_verbose(1)
            .with_restore_best_weights(true);
        let (_, said) = console::capture(|| run(&mut early, &[1.0, 0.5, 0.7, 0.8]));
        assert_eq!(
            said.messages,
            [
                "Epoch 3: early stopping",
                "Restoring model weights from the end of the best epoch: 2."
            ]
        );
    }

    #[test]
    fn missing_monitor_warns_once_and_never_stops() {
        let mut early = EarlyStopping::new().with_monitor("val_loss");
        let epochs = vec![logs(&[("loss", 1.0)]); 4];
        let mut ctl = MockControl::new(0.1);
        let (ran, said) =
            console::capture(|| simulate_fit(&mut early, &mut ctl, &RunParams::default(), &epochs));
        assert_eq!(ran.unwrap().len(), 4);
        assert_eq!(
            said.warnings,
            [
                "Early stopping conditioned on metric `val_loss` which is not available. Available metrics are: loss"
            ]
        );
    }

    #[test]
    fn misspelt_monitor_fails_before_training() {
        let params = RunParams {
            log_keys: vec!["loss".into(), "val_accuracy".into()],
            ..RunParams::default()
        };
        let mut early = EarlyStopping::new().with_monitor("val_acc");
        let err = early
            .on_train_begin(&params, &mut MockControl::new(0.1))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("valid keys are: loss, val_accuracy"),
            "{err}"
        );
        let mut early = EarlyStopping::new().with_monitor("custom");
        let params = RunParams {
            log_keys: vec!["custom".into()],
            ..RunParams::default()
        };
        let err = early
            .on_train_begin(&params, &mut MockControl::new(0.1))
            .unwrap_err();
        assert!(matches!(err, CallbackError::UnknownDirection { .. }));
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(EarlyStopping::new().with_min_delta(f64::NAN).is_err());
        assert!(EarlyStopping::new().with_baseline(f64::NAN).is_err());
    }

    #[test]
    fn one_instance_serves_several_fits() {
        let mut early = EarlyStopping::new().with_patience(1);
        let (first, _) = run(&mut early, &[0.1, 0.2, 0.3]);
        assert_eq!(first, [0, 1]);
        // A fresh run with worse values must not compare against the first run's best.
        let (second, _) = run(&mut early, &[5.0, 4.0, 3.0]);
        assert_eq!(second, [0, 1, 2]);
        assert_eq!(early.stopped_epoch(), None);
    }

    #[test]
    fn state_round_trip_continues_exactly() {
        let values = [1.0, 0.8, 0.9, 0.95, 0.85, 0.99, 0.97];
        let epochs: Vec<_> = values.iter().map(|&v| logs(&[("val_loss", v)])).collect();
        let make = || {
            EarlyStopping::new()
                .with_patience(3)
                .with_restore_best_weights(true)
        };
        // Uninterrupted reference run.
        let mut whole = make();
        let mut ctl = MockControl::new(0.1);
        let ran = simulate_fit(&mut whole, &mut ctl, &RunParams::default(), &epochs).unwrap();
        // Interrupted after epoch 2, then resumed into a fresh instance.
        let mut first = make();
        let mut ctl1 = MockControl::new(0.1);
        simulate_fit(
            &mut first,
            &mut ctl1,
            &RunParams {
                epochs: 3,
                ..RunParams::default()
            },
            &epochs,
        )
        .unwrap();
        let (state, weights) = (first.state().unwrap(), first.state_weights().unwrap());
        let mut resumed = make();
        let mut ctl2 = MockControl::new(0.1);
        resumed
            .on_train_begin(&RunParams::default(), &mut ctl2)
            .unwrap();
        resumed.load_state(&state).unwrap();
        resumed.load_state_weights(weights).unwrap();
        let mut last = Vec::new();
        for (epoch, epoch_logs) in epochs.iter().enumerate().skip(3) {
            ctl2.set_marker(epoch as f32);
            resumed
                .on_epoch_end(epoch, &mut epoch_logs.clone(), &mut ctl2)
                .unwrap();
            last.push(epoch);
            if ctl2.stop {
                break;
            }
        }
        resumed.on_train_end(&Logs::new(), &mut ctl2).unwrap();
        assert_eq!(
            ran.last(),
            last.last(),
            "the resumed run stops at the same epoch"
        );
        assert_eq!(resumed.stopped_epoch(), whole.stopped_epoch());
        assert_eq!(resumed.best(), whole.best());
        assert_eq!(
            ctl2.marker(),
            ctl.marker(),
            "the same best weights are restored"
        );
    }
}
