//! `ModelCheckpoint`: saves the model (or its weights) at the end of every epoch, every N epochs, or every N
//! training batches, optionally only when the monitored metric improves.
//!
//! The filepath is a Python-style template filled with the 1-based `epoch` (and `batch` for batch-level saves)
//! and the logs: `weights.{epoch:02d}-{val_loss:.2f}.h5` (see [`crate::template`]); any file name is accepted
//! (Keras 2's `checkpoint.hdf5`). Saving goes through [`TrainerControl::save`]; missing parent directories are
//! created.
//!
//! Checked in `on_train_begin`, before any training time is spent: every placeholder is `epoch`, `batch` (only
//! with `save_freq=N`) or a key the run logs; with `save_best_only` the monitor is a logged key with a known
//! direction; the fixed part of the path is not an existing directory, and its directory can be created and
//! written to. A placeholder still missing from the logs at save time is an error listing the keys; with
//! `save_best_only`, a monitor missing at save time (validation skipped by `validation_freq`) warns once and
//! saves anyway, as Keras does.
//!
//! ```
//! use rkeras_callbacks::testing::{logs, simulate_fit, MockControl};
//! use rkeras_callbacks::{ModelCheckpoint, RunParams};
//! let dir = tempfile::tempdir().unwrap();
//! let template = dir.path().join("weights.{epoch:02d}-{val_loss:.2f}.h5");
//! let mut checkpoint = ModelCheckpoint::new(&template).unwrap().with_save_best_only(true);
//! let epochs = [logs(&[("val_loss", 0.5)]), logs(&[("val_loss", 0.6)]), logs(&[("val_loss", 0.4)])];
//! let mut ctl = MockControl::new(0.001);
//! simulate_fit(&mut checkpoint, &mut ctl, &RunParams::default(), &epochs).unwrap();
//! let saved: Vec<_> = ctl.saves.iter().map(|s| s.path.file_name().unwrap().to_str().unwrap()).collect();
//! assert_eq!(saved, ["weights.01-0.50.h5", "weights.03-0.40.h5"]);
//! ```

use crate::callback::Callback;
use crate::console;
use crate::control::{RunParams, TrainerControl};
use crate::error::{CallbackError, Result};
use crate::fs_check::{create_parent_dirs, ensure_writable_dir, reject_directory};
use crate::logs::Logs;
use crate::monitor::{Mode, Monitor, WarnOnce, monitor_builders};
use crate::pyformat::FormatSpec;
use crate::save_freq::{BatchCounter, SaveFreq};
use crate::state::{from_state, json_float, to_state};
use crate::template::FilepathTemplate;
use std::path::{Path, PathBuf};

const NAME: &str = "ModelCheckpoint";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct State {
    #[serde(with = "json_float::option")]
    best: Option<f64>,
    batches: BatchCounter,
    epochs_since_last_save: usize,
    current_epoch: usize,
}

/// Keras's `ModelCheckpoint(filepath, monitor="val_loss", verbose=0, save_best_only=False,
/// save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None)`, plus Keras 2's
/// `period`.
pub struct ModelCheckpoint {
    template: FilepathTemplate,
    monitor: Monitor,
    verbose: u8,
    save_best_only: bool,
    save_weights_only: bool,
    save_freq: SaveFreq,
    initial_value_threshold: Option<f64>,
    state: State,
    missing: WarnOnce,
}

fn invalid(argument: &'static str, reason: String) -> CallbackError {
    CallbackError::InvalidArgument {
        callback: NAME,
        argument,
        reason,
    }
}

impl ModelCheckpoint {
    /// A checkpoint writing to `filepath` (a template); a malformed template
    /// ([`CallbackError::InvalidTemplate`], naming the placeholder: a width or precision above 255 too, see
    /// [`crate::pyformat::MAX_WIDTH`]) or a non-UTF-8 path is an error.
    pub fn new(filepath: impl AsRef<Path>) -> Result<Self> {
        let path = filepath.as_ref();
        let source = path
            .to_str()
            .ok_or_else(|| invalid("filepath", format!("{} is not valid UTF-8", path.display())))?;
        let template =
            FilepathTemplate::parse(source).map_err(|e| CallbackError::InvalidTemplate {
                callback: NAME,
                template: source.to_string(),
                field: e.field,
                reason: e.reason,
            })?;
        Ok(Self {
            template,
            monitor: Monitor::new(NAME, "val_loss", Mode::Auto, 0.0),
            verbose: 0,
            save_best_only: false,
            save_weights_only: false,
            save_freq: SaveFreq::Epoch,
            initial_value_threshold: None,
            state: State {
                best: None,
                batches: BatchCounter::default(),
                epochs_since_last_save: 0,
                current_epoch: 0,
            },
            missing: WarnOnce::default(),
        })
    }

    monitor_builders!(
        monitor_doc: "The key to monitor for `save_best_only`. Defaults to `\"val_loss\"`.",
        verbose_doc: "0 silent, 1 prints a message at each save decision. Defaults to 0.",
    );

    /// Save only when the monitored value improves on the best so far. Defaults to false.
    pub fn with_save_best_only(mut self, save_best_only: bool) -> Self {
        self.save_best_only = save_best_only;
        self
    }

    /// Save only the weights instead of the whole model. Defaults to false.
    pub fn with_save_weights_only(mut self, save_weights_only: bool) -> Self {
        self.save_weights_only = save_weights_only;
        self
    }

    /// [`SaveFreq::Epoch`] (the default) or [`SaveFreq::Batches`]`(n)` with `n > 0`.
    pub fn with_save_freq(mut self, save_freq: SaveFreq) -> Result<Self> {
        self.save_freq = save_freq.validate().map_err(|e| invalid("save_freq", e))?;
        Ok(self)
    }

    /// Keras 2's `period=n`: save at the end of every `n`-th epoch (`n > 0`).
    pub fn with_period(mut self, period: usize) -> Result<Self> {
        self.save_freq = SaveFreq::epochs(period).map_err(|e| invalid("period", e))?;
        Ok(self)
    }

    /// The starting "best" value for `save_best_only`. Defaults to none: the first monitored value is saved,
    /// whatever it is (even NaN or infinite). A NaN is an error.
    pub fn with_initial_value_threshold(mut self, threshold: f64) -> Result<Self> {
        self.initial_value_threshold = Some(
            self.monitor
                .check_threshold("initial_value_threshold", threshold)?,
        );
        Ok(self)
    }

    /// The filepath template as given.
    pub fn filepath(&self) -> &str {
        self.template.source()
    }

    /// The best monitored value saved so far (the threshold, or `None`, before any).
    pub fn best(&self) -> Option<f64> {
        self.state.best
    }

    /// Checks every placeholder against the keys the run logs.
    fn check_placeholders(&self, params: &RunParams) -> Result<()> {
        let batch_level = matches!(self.save_freq, SaveFreq::Batches(_));
        for key in self.template.placeholders() {
            if key == "epoch" || (key == "batch" && batch_level) {
                continue;
            }
            if key == "batch" {
                return Err(invalid(
                    "filepath",
                    format!(
                        "\"{}\" uses {{batch}}, which is only filled with save_freq=N (batch-level saves)",
                        self.filepath()
                    ),
                ));
            }
            if params.log_keys.is_empty() {
                continue;
            }
            let mut available = vec!["epoch".to_string()];
            if batch_level {
                // Batch logs hold the training metrics only.
                available.push("batch".to_string());
                available.extend(
                    params
                        .log_keys
                        .iter()
                        .filter(|k| !k.starts_with("val_") && *k != "learning_rate")
                        .cloned(),
                );
            } else {
                available.extend(params.log_keys.iter().cloned());
            }
            if !available.iter().any(|k| k == key) {
                return Err(CallbackError::UnknownKey {
                    callback: NAME,
                    key: key.to_string(),
                    available,
                });
            }
        }
        Ok(())
    }

    /// Checks the fixed part of the path: not a directory, and its directory writable.
    fn check_path(&self) -> Result<()> {
        let prefix = self.template.constant_prefix();
        let dir = if self.template.is_constant() {
            reject_directory(NAME, Path::new(&prefix))?;
            Path::new(&prefix)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        } else {
            match prefix.rfind(std::path::is_separator) {
                Some(i) => PathBuf::from(&prefix[..i.max(1)]),
                None => PathBuf::new(),
            }
        };
        ensure_writable_dir(NAME, &dir)
    }

    /// Keras's `_save_model`: formats the path, decides, saves.
    fn save_model(
        &mut self,
        epoch: usize,
        batch: Option<usize>,
        logs: &Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        let path = self
            .template
            .render(epoch + 1, batch.map(|b| b + 1), logs)
            .map_err(|missing| CallbackError::TemplateKey {
                callback: NAME,
                template: self.filepath().to_string(),
                key: missing.key,
                available: missing.available,
            })?;
        if !self.should_save(epoch, logs, &path)? {
            return Ok(());
        }
        let path = PathBuf::from(path);
        reject_directory(NAME, &path)?;
        create_parent_dirs(NAME, &path)?;
        ctl.save(&path, self.save_weights_only)?;
        if self.verbose > 0 {
            console::print_msg(&format!(
                "Epoch {}: finished saving model to {}",
                epoch + 1,
                path.display()
            ));
        }
        Ok(())
    }

    /// Keras's `_should_save_model`, with its messages.
    fn should_save(&mut self, epoch: usize, logs: &Logs, path: &str) -> Result<bool> {
        let e = epoch + 1;
        if !self.save_best_only {
            if self.verbose > 0 {
                console::print_msg(&format!("Epoch {e}: saving model to {path}"));
            }
            return Ok(true);
        }
        let Some(current) = self
            .monitor
            .current_or_warn(logs, &mut self.missing, |key, _| {
                format!("Can save best model only with {key} available.")
            })
        else {
            return Ok(true);
        };
        self.monitor.direction()?;
        let five = FormatSpec::parse(".5f").map_err(|e| invalid("filepath", e))?;
        let fmt = |v: f64| five.format_float(v).unwrap_or_else(|_| v.to_string());
        let best = self.state.best;
        // Keras: `best_str = "None" if self.best is None else f"{self.best:.5f}"`.
        let best_str = best.map_or_else(|| "None".to_string(), fmt);
        if self.monitor.is_improvement(current, best) {
            if self.verbose > 0 {
                console::print_msg(&format!(
                    "Epoch {e}: {} improved from {} to {}, saving model to {path}",
                    self.monitor.key(),
                    best_str,
                    fmt(current)
                ));
            }
            self.state.best = Some(current);
            Ok(true)
        } else {
            if self.verbose > 0 {
                console::print_msg(&format!(
                    "Epoch {e}: {} did not improve from {best_str}",
                    self.monitor.key(),
                ));
            }
            Ok(false)
        }
    }
}

impl Callback for ModelCheckpoint {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_train_begin(&mut self, params: &RunParams, _ctl: &mut dyn TrainerControl) -> Result<()> {
        self.missing.reset();
        if self.save_best_only {
            self.monitor.prepare(params)?;
        }
        self.state = State {
            best: self.initial_value_threshold,
            batches: BatchCounter::default(),
            epochs_since_last_save: 0,
            current_epoch: 0,
        };
        self.check_placeholders(params)?;
        self.check_path()
    }

    fn on_epoch_begin(&mut self, epoch: usize, _ctl: &mut dyn TrainerControl) -> Result<()> {
        self.state.current_epoch = epoch;
        Ok(())
    }

    fn saves_within_epoch(&self) -> bool {
        matches!(self.save_freq, SaveFreq::Batches(_))
    }

    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        if let SaveFreq::Batches(every) = self.save_freq {
            if self.state.batches.should_save(batch, every) {
                self.save_model(self.state.current_epoch, Some(batch), logs, ctl)?;
            }
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        match self.save_freq {
            SaveFreq::Epoch => self.save_model(epoch, None, logs, ctl),
            SaveFreq::Epochs(every) => {
                self.state.epochs_since_last_save += 1;
                if self.state.epochs_since_last_save >= every {
                    self.state.epochs_since_last_save = 0;
                    self.save_model(epoch, None, logs, ctl)?;
                }
                Ok(())
            }
            SaveFreq::Batches(_) => Ok(()),
        }
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

    #[test]
    fn saves_within_an_epoch_only_with_a_save_freq_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoint = || ModelCheckpoint::new(dir.path().join("w.keras")).unwrap();
        assert!(!checkpoint().saves_within_epoch());
        let every_two = checkpoint().with_save_freq(SaveFreq::Epochs(2)).unwrap();
        assert!(!every_two.saves_within_epoch());
        let batches = checkpoint().with_save_freq(SaveFreq::Batches(5)).unwrap();
        assert!(batches.saves_within_epoch());
    }

    #[test]
    fn decides_as_keras_on_edge_cases() {
        // Keras 3.15's saved epochs and verbose lines under save_best_only, from scripts/keras_callback_edges.py.
        for case in crate::keras_edges::cases(NAME) {
            case.check_arguments(&["mode", "initial_value_threshold"]);
            let dir = tempfile::tempdir().unwrap();
            let mut checkpoint = ModelCheckpoint::new(dir.path().join("ck-{epoch:02d}.keras"))
                .unwrap()
                .with_monitor(&case.key)
                .with_save_best_only(true)
                .with_verbose(1);
            if let Some(m) = case.text("mode") {
                checkpoint = checkpoint.with_mode(m);
            }
            if let Some(t) = case.float("initial_value_threshold") {
                checkpoint = checkpoint.with_initial_value_threshold(t).unwrap();
            }
            let (replay, said) =
                console::capture(|| crate::keras_edges::replay(&mut checkpoint, &case));
            let saved: Vec<u64> = replay
                .ctl
                .saves
                .iter()
                .map(|s| {
                    // "ck-03.keras" is the save of the 0-based epoch 2.
                    let name = s.path.file_name().unwrap().to_str().unwrap();
                    name["ck-".len()..][..2].parse::<u64>().unwrap() - 1
                })
                .collect();
            let prefix = format!("{}{}", dir.path().display(), std::path::MAIN_SEPARATOR);
            let decisions: Vec<String> = said
                .messages
                .iter()
                .filter(|m| m.contains("improve"))
                .map(|m| m.replace(&prefix, ""))
                .collect();
            let want_saved: Vec<u64> = case.expected["saved"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            let want_messages: Vec<&str> = case.expected["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(saved, want_saved, "{}: {:?}", case.name, case.values);
            assert_eq!(decisions, want_messages, "{}", case.name);
        }
    }
}
