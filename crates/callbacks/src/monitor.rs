//! The monitor logic shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau (Keras's `MonitorCallback`):
//! which key to watch, whether it should go down or up, and what counts as an improvement.
//!
//! - `mode` is `"auto"`, `"min"` or `"max"`; anything else warns ("mode 'x' is unknown, fallback to auto mode")
//!   and falls back to auto.
//! - `auto` strips a leading `val_`; `loss` (and `…_loss`) is minimised, the metrics Keras marks "up" (accuracy,
//!   auc, precision, recall, …) are maximised, the ones it marks "down" (mse, mae, crossentropies, …) minimised;
//!   any other name is [`CallbackError::UnknownDirection`].
//! - `min_delta` is used as its absolute value: an improvement is `current + min_delta < best` (min) or
//!   `current − min_delta > best` (max); anything improves on "no best yet" (`None`, also after a NaN or infinite
//!   first value). As in Keras, the shift is computed in f64 (Python floats) and the comparison in float32
//!   (`ops.less`/`ops.greater` on float32 tensors): a gain equal to `min_delta` in float32 is no improvement.
//!
//! The callbacks' own `with_monitor`, `with_mode` and `with_min_delta` builders are generated here too, so
//! that the three check and store these arguments the same way.
//!
//! ```
//! use rkeras_callbacks::monitor::{Direction, Mode, Monitor};
//! let mut monitor = Monitor::new("EarlyStopping", "val_accuracy", Mode::Auto, -0.01);
//! assert_eq!(monitor.resolve_direction().unwrap(), Direction::Maximize);
//! assert!(monitor.is_improvement(0.92, Some(0.90)));
//! assert!(!monitor.is_improvement(0.905, Some(0.90))); // within |min_delta|
//! assert!(monitor.is_improvement(0.1, None));
//! ```

use crate::console;
use crate::control::RunParams;
use crate::error::{CallbackError, Result};
use crate::logs::Logs;

/// How the monitored value should move, as the user asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Inferred from the monitored name.
    #[default]
    Auto,
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

impl Mode {
    /// Reads Keras's mode string; an unknown one warns and gives [`Mode::Auto`], as Keras does.
    pub fn parse(callback: &str, mode: &str) -> Mode {
        match mode {
            "auto" => Mode::Auto,
            "min" => Mode::Min,
            "max" => Mode::Max,
            other => {
                console::warn(&format!(
                    "{callback} mode '{other}' is unknown, fallback to auto mode."
                ));
                Mode::Auto
            }
        }
    }
}

/// Which way is better, once resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Direction {
    /// Lower is better (`loss`).
    Minimize,
    /// Higher is better (`accuracy`).
    Maximize,
}

/// Metrics Keras marks `_direction = "up"`.
const UP: &[&str] = &[
    "accuracy",
    "acc",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "auc",
    "precision",
    "recall",
    "f1_score",
    "fbeta_score",
    "r2_score",
    "iou",
    "mean_iou",
    "binary_iou",
    "one_hot_iou",
    "one_hot_mean_iou",
    "true_positives",
    "true_negatives",
    "precision_at_recall",
    "recall_at_precision",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
    "cosine_similarity",
    "pearson_correlation",
    "concordance_correlation",
];

/// Metrics Keras marks `_direction = "down"` (and losses used as metrics).
const DOWN: &[&str] = &[
    "mse",
    "mean_squared_error",
    "mae",
    "mean_absolute_error",
    "mape",
    "mean_absolute_percentage_error",
    "msle",
    "mean_squared_logarithmic_error",
    "rmse",
    "root_mean_squared_error",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "poisson",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "logcosh",
    "log_cosh_error",
    "huber",
    "false_positives",
    "false_negatives",
];

/// The direction Keras's `mode="auto"` picks for a monitored key, or `None` when it cannot tell.
///
/// Beyond Keras's table, multi-output names ending in `_loss` are minimised and ones ending in `_accuracy` /
/// `_acc` maximised.
pub fn infer_direction(monitor: &str) -> Option<Direction> {
    let name = monitor.strip_prefix("val_").unwrap_or(monitor);
    if name == "loss" || name.ends_with("_loss") {
        Some(Direction::Minimize)
    } else if UP.contains(&name) || name.ends_with("_accuracy") || name.ends_with("_acc") {
        Some(Direction::Maximize)
    } else if DOWN.contains(&name) {
        Some(Direction::Minimize)
    } else {
        None
    }
}

/// Checks that `key` is one of the keys the run will log (when the run says which it logs); the error lists them.
pub fn check_key(callback: &'static str, key: &str, params: &RunParams) -> Result<()> {
    if params.log_keys.is_empty() || params.log_keys.iter().any(|k| k == key) {
        Ok(())
    } else {
        Err(CallbackError::UnknownKey {
            callback,
            key: key.to_string(),
            available: params.log_keys.clone(),
        })
    }
}

/// A monitored key with its mode and `min_delta`.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    callback: &'static str,
    key: String,
    mode: Mode,
    min_delta: f64,
    direction: Option<Direction>,
}

impl Monitor {
    /// A monitor for `key`; `min_delta` is stored as its absolute value.
    pub fn new(callback: &'static str, key: &str, mode: Mode, min_delta: f64) -> Self {
        Self {
            callback,
            key: key.to_string(),
            mode,
            min_delta: min_delta.abs(),
            direction: None,
        }
    }

    /// The monitored key (`val_loss`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The mode asked for.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// `|min_delta|`.
    pub fn min_delta(&self) -> f64 {
        self.min_delta
    }

    /// Changes the key (the direction is resolved again).
    pub fn set_key(&mut self, key: &str) {
        self.key = key.to_string();
        self.direction = None;
    }

    /// Changes the mode (the direction is resolved again).
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        self.direction = None;
    }

    /// Changes `min_delta` (its absolute value is kept).
    pub fn set_min_delta(&mut self, min_delta: f64) {
        self.min_delta = min_delta.abs();
    }

    /// Resolves and remembers the direction; `mode="auto"` on a name it cannot read is an error that asks for
    /// `mode="min"` or `mode="max"`.
    pub fn resolve_direction(&mut self) -> Result<Direction> {
        let direction = match self.mode {
            Mode::Min => Direction::Minimize,
            Mode::Max => Direction::Maximize,
            Mode::Auto => {
                infer_direction(&self.key).ok_or_else(|| CallbackError::UnknownDirection {
                    callback: self.callback,
                    monitor: self.key.clone(),
                })?
            }
        };
        self.direction = Some(direction);
        Ok(direction)
    }

    /// The resolved direction; resolves it first if needed.
    pub fn direction(&mut self) -> Result<Direction> {
        match self.direction {
            Some(d) => Ok(d),
            None => self.resolve_direction(),
        }
    }

    /// Checks the key against the run's log keys and resolves the direction: what `on_train_begin` does.
    pub fn prepare(&mut self, params: &RunParams) -> Result<Direction> {
        check_key(self.callback, &self.key, params)?;
        self.resolve_direction()
    }

    /// Whether `current` improves on `reference` by more than `min_delta`; anything improves on `None`.
    /// Minimising is assumed before the direction is resolved.
    ///
    /// Keras's `monitor_op(current - min_delta, reference)`: the shift in f64, the comparison in float32, so
    /// values that differ only below float32's precision are equal, and NaN improves on nothing.
    pub fn is_improvement(&self, current: f64, reference: Option<f64>) -> bool {
        let Some(reference) = reference else {
            return true;
        };
        let reference = reference as f32;
        match self.direction {
            Some(Direction::Maximize) => ((current - self.min_delta) as f32) > reference,
            _ => ((current + self.min_delta) as f32) < reference,
        }
    }

    /// The monitored value in `logs`, if logged.
    pub fn current(&self, logs: &Logs) -> Option<f64> {
        logs.get(&self.key).copied()
    }

    /// Sets the mode from Keras's mode string; an unknown one warns and gives [`Mode::Auto`] ([`Mode::parse`]).
    pub(crate) fn set_mode_str(&mut self, mode: &str) {
        self.set_mode(Mode::parse(self.callback, mode));
    }

    /// Sets `min_delta` (its absolute value is kept); a non-finite value is an error that changes nothing.
    pub(crate) fn set_finite_min_delta(&mut self, min_delta: f64) -> Result<()> {
        if !min_delta.is_finite() {
            return Err(CallbackError::InvalidArgument {
                callback: self.callback,
                argument: "min_delta",
                reason: format!("expected a finite number, received {min_delta}"),
            });
        }
        self.set_min_delta(min_delta);
        Ok(())
    }

    /// Checks a value the monitored metric is to be compared with (EarlyStopping's `baseline`, ModelCheckpoint's
    /// `initial_value_threshold`): any number, infinities included, but not NaN.
    pub(crate) fn check_threshold(&self, argument: &'static str, value: f64) -> Result<f64> {
        if value.is_nan() {
            return Err(CallbackError::InvalidArgument {
                callback: self.callback,
                argument,
                reason: "expected a number, received NaN".to_string(),
            });
        }
        Ok(value)
    }

    /// The monitored value in `logs`; when it is not logged, warns through `missing` (once per run) with
    /// `message(key, available)`, `available` being Keras's comma-joined list of the logged keys.
    pub(crate) fn current_or_warn(
        &self,
        logs: &Logs,
        missing: &mut WarnOnce,
        message: impl FnOnce(&str, &str) -> String,
    ) -> Option<f64> {
        let current = self.current(logs);
        if current.is_none() {
            missing.warn(|| message(&self.key, &joined_keys(logs)));
        }
        current
    }
}

/// The builders of the arguments that EarlyStopping, ReduceLROnPlateau and ModelCheckpoint share, for a callback
/// with fields `monitor: Monitor` and `verbose: u8`: Keras's `MonitorCallback` arguments `with_monitor`
/// (documented by `monitor_doc`), `with_mode` and, when `min_delta_default` is given, `with_min_delta`; and
/// `with_verbose` (documented by `verbose_doc`).
macro_rules! monitor_builders {
    (
        monitor_doc: $monitor_doc:literal,
        verbose_doc: $verbose_doc:literal
        $(, min_delta_default: $min_delta_default:literal)? $(,)?
    ) => {
        #[doc = $monitor_doc]
        pub fn with_monitor(mut self, monitor: &str) -> Self {
            self.monitor.set_key(monitor);
            self
        }

        /// `"auto"`, `"min"` or `"max"`; anything else warns and means `"auto"`. Defaults to `"auto"`.
        pub fn with_mode(mut self, mode: &str) -> Self {
            self.monitor.set_mode_str(mode);
            self
        }

        $(
            #[doc = concat!(
                "The smallest change that counts as an improvement; its absolute value is used. Defaults to ",
                $min_delta_default,
                ". A non-finite value is an error."
            )]
            pub fn with_min_delta(mut self, min_delta: f64) -> $crate::error::Result<Self> {
                self.monitor.set_finite_min_delta(min_delta)?;
                Ok(self)
            }
        )?

        #[doc = $verbose_doc]
        pub fn with_verbose(mut self, verbose: u8) -> Self {
            self.verbose = verbose;
            self
        }
    };
}
pub(crate) use monitor_builders;

/// Emits a warning at most once per training run.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WarnOnce {
    warned: bool,
}

impl WarnOnce {
    /// Warns unless already warned since the last [`WarnOnce::reset`].
    pub(crate) fn warn(&mut self, message: impl FnOnce() -> String) {
        if !self.warned {
            self.warned = true;
            console::warn(&message());
        }
    }

    /// Allows the next warning.
    pub(crate) fn reset(&mut self) {
        self.warned = false;
    }
}

/// Keras's list of available metrics in its missing-monitor warnings (`loss,val_loss`).
fn joined_keys(logs: &Logs) -> String {
    logs.keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_mode_direction_table() {
        // Keras 3: strip `val_`; loss -> min; metrics with direction "up" -> max; "down" -> min.
        let rows: &[(&str, Option<Direction>, &str)] = &[
            ("loss", Some(Direction::Minimize), "loss is minimised"),
            ("val_loss", Some(Direction::Minimize), "val_ is stripped"),
            ("accuracy", Some(Direction::Maximize), "accuracy goes up"),
            (
                "val_accuracy",
                Some(Direction::Maximize),
                "val_accuracy goes up",
            ),
            (
                "acc",
                Some(Direction::Maximize),
                "Keras names the 'acc' metric acc",
            ),
            ("val_auc", Some(Direction::Maximize), "auc goes up"),
            ("precision", Some(Direction::Maximize), "precision goes up"),
            ("recall", Some(Direction::Maximize), "recall goes up"),
            ("f1_score", Some(Direction::Maximize), "f1 goes up"),
            ("val_mse", Some(Direction::Minimize), "mse goes down"),
            ("mae", Some(Direction::Minimize), "mae goes down"),
            ("hinge", Some(Direction::Minimize), "hinge goes down"),
            (
                "sparse_categorical_crossentropy",
                Some(Direction::Minimize),
                "crossentropy goes down",
            ),
            (
                "val_output_1_loss",
                Some(Direction::Minimize),
                "per-output losses go down",
            ),
            (
                "output_1_accuracy",
                Some(Direction::Maximize),
                "per-output accuracies go up",
            ),
            ("custom_score", None, "unknown names need an explicit mode"),
            ("learning_rate", None, "the rate has no better direction"),
        ];
        for (name, want, why) in rows {
            assert_eq!(infer_direction(name), *want, "{name}: {why}");
        }
    }

    #[test]
    fn unknown_direction_is_an_error_asking_for_min_or_max() {
        let mut m = Monitor::new("EarlyStopping", "custom_score", Mode::Auto, 0.0);
        let err = m.resolve_direction().unwrap_err();
        assert!(matches!(err, CallbackError::UnknownDirection { .. }));
        let text = err.to_string();
        assert!(
            text.contains("custom_score") && text.contains("\"min\"") && text.contains("\"max\""),
            "{text}"
        );
        // An explicit mode always resolves.
        let mut m = Monitor::new("EarlyStopping", "custom_score", Mode::Max, 0.0);
        assert_eq!(m.resolve_direction().unwrap(), Direction::Maximize);
    }

    #[test]
    fn unknown_mode_warns_and_falls_back_to_auto() {
        let (mode, said) = console::capture(|| Mode::parse("EarlyStopping", "maximum"));
        assert_eq!(mode, Mode::Auto);
        assert_eq!(
            said.warnings,
            ["EarlyStopping mode 'maximum' is unknown, fallback to auto mode."]
        );
        let (mode, said) = console::capture(|| Mode::parse("EarlyStopping", "max"));
        assert_eq!(mode, Mode::Max);
        assert!(said.warnings.is_empty());
    }

    #[test]
    fn improvement_uses_the_absolute_min_delta() {
        // (direction, min_delta, current, reference, improvement?, why)
        type Row = (Mode, f64, f64, Option<f64>, bool, &'static str);
        let rows: &[Row] = &[
            (Mode::Min, 0.0, 0.5, Some(0.6), true, "lower is better"),
            (
                Mode::Min,
                0.0,
                0.6,
                Some(0.6),
                false,
                "equal is no improvement",
            ),
            (
                Mode::Min,
                0.1,
                0.55,
                Some(0.6),
                false,
                "0.55 is not below 0.6 - 0.1",
            ),
            (Mode::Min, 0.1, 0.45, Some(0.6), true, "0.45 < 0.5"),
            (
                Mode::Min,
                -0.1,
                0.55,
                Some(0.6),
                false,
                "a negative min_delta acts as its absolute value",
            ),
            (Mode::Max, 0.0, 0.7, Some(0.6), true, "higher is better"),
            (
                Mode::Max,
                0.05,
                0.64,
                Some(0.6),
                false,
                "0.64 is not above 0.65",
            ),
            (Mode::Max, -0.05, 0.66, Some(0.6), true, "0.66 > 0.65"),
            (
                Mode::Max,
                0.0,
                f64::NEG_INFINITY,
                None,
                true,
                "anything improves on no best",
            ),
            (
                Mode::Min,
                0.0,
                f64::NAN,
                Some(0.6),
                false,
                "NaN never improves on a number",
            ),
            (
                Mode::Min,
                0.0,
                0.5,
                Some(f64::NAN),
                false,
                "nothing improves on a NaN best",
            ),
            (
                Mode::Min,
                0.1,
                0.7,
                Some(0.8),
                false,
                "0.7 + 0.1 is 0.8 in float32 (f64 says 0.7999999999999999 < 0.8)",
            ),
            (
                Mode::Max,
                0.1,
                0.6,
                Some(0.5),
                false,
                "0.6 - 0.1 is 0.5 in float32",
            ),
            (
                Mode::Min,
                0.0,
                0.99999999,
                Some(1.0),
                false,
                "0.99999999 rounds to 1.0 in float32",
            ),
            (
                Mode::Min,
                0.0,
                0.9999999,
                Some(1.0),
                true,
                "0.9999999 does not",
            ),
            (
                Mode::Min,
                1e-4,
                0.9999,
                Some(1.0),
                false,
                "a fall of exactly min_delta 1e-4 is a tie in float32",
            ),
        ];
        for (mode, delta, current, reference, want, why) in rows {
            let mut m = Monitor::new("Test", "custom", *mode, *delta);
            m.resolve_direction().unwrap();
            assert_eq!(m.is_improvement(*current, *reference), *want, "{why}");
        }
    }

    #[test]
    fn key_check_lists_the_valid_keys() {
        let params = RunParams {
            log_keys: vec![
                "loss".into(),
                "accuracy".into(),
                "val_loss".into(),
                "val_accuracy".into(),
            ],
            ..RunParams::default()
        };
        let err = check_key("EarlyStopping", "val_acc", &params).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`val_acc`") && text.contains("loss, accuracy, val_loss, val_accuracy"),
            "{text}"
        );
        assert!(check_key("EarlyStopping", "val_accuracy", &params).is_ok());
        assert!(
            check_key("EarlyStopping", "anything", &RunParams::default()).is_ok(),
            "no keys known: no check"
        );
    }

    #[test]
    fn argument_checks_name_the_callback_and_echo_the_value() {
        let mut m = Monitor::new("EarlyStopping", "val_loss", Mode::Auto, 0.25);
        let err = m.set_finite_min_delta(f64::NAN).unwrap_err();
        assert_eq!(
            err.to_string(),
            "EarlyStopping: invalid `min_delta`: expected a finite number, received NaN"
        );
        assert!(m.set_finite_min_delta(f64::INFINITY).is_err());
        assert_eq!(m.min_delta(), 0.25, "a rejected min_delta changes nothing");
        m.set_finite_min_delta(-0.5).unwrap();
        assert_eq!(m.min_delta(), 0.5, "the absolute value is kept");

        let err = m.check_threshold("baseline", f64::NAN).unwrap_err();
        assert_eq!(
            err.to_string(),
            "EarlyStopping: invalid `baseline`: expected a number, received NaN"
        );
        assert_eq!(
            m.check_threshold("baseline", f64::NEG_INFINITY).unwrap(),
            f64::NEG_INFINITY
        );
    }

    #[test]
    fn a_missing_monitor_warns_once_per_run_with_the_logged_keys() {
        let m = Monitor::new("T", "val_loss", Mode::Auto, 0.0);
        let mut missing = WarnOnce::default();
        let without = crate::testing::logs(&[("loss", 1.0), ("accuracy", 0.5)]);
        let with = crate::testing::logs(&[("loss", 1.0), ("val_loss", 0.75)]);
        let message = |key: &str, available: &str| format!("`{key}` missing; have {available}");
        let (values, said) = console::capture(|| {
            [
                m.current_or_warn(&without, &mut missing, message),
                m.current_or_warn(&with, &mut missing, message),
                m.current_or_warn(&without, &mut missing, message),
            ]
        });
        assert_eq!(values, [None, Some(0.75), None]);
        assert_eq!(said.warnings, ["`val_loss` missing; have loss,accuracy"]);
        missing.reset();
        let (_, said) = console::capture(|| m.current_or_warn(&without, &mut missing, message));
        assert_eq!(said.warnings.len(), 1, "a new run warns again");
    }
}
