//! Test support: a [`MockControl`] that stands in for the model, and [`simulate_fit`], a minimal `fit` loop that
//! feeds prepared logs through a callback's hooks in Keras's order. With them a callback is tested without a
//! model, the way its metric sequences would drive it.
//!
//! ```
//! use rkeras_callbacks::testing::{logs, simulate_fit, MockControl};
//! use rkeras_callbacks::{EarlyStopping, RunParams};
//! let mut early = EarlyStopping::new().with_monitor("loss").with_patience(1);
//! let mut ctl = MockControl::new(0.01);
//! let epochs = [logs(&[("loss", 1.0)]), logs(&[("loss", 1.0)]), logs(&[("loss", 0.5)])];
//! let run = simulate_fit(&mut early, &mut ctl, &RunParams::default(), &epochs).unwrap();
//! assert_eq!(run, [0, 1], "no improvement at epoch 1 with patience 1: stop");
//! assert_eq!(early.stopped_epoch(), Some(1));
//! ```

use crate::callback::Callback;
use crate::control::{RunParams, TrainerControl};
use crate::error::{CallbackError, Result};
use crate::logs::{Logs, LogsExt};
use ndarray::ArrayD;
use std::path::{Path, PathBuf};

/// One call to [`TrainerControl::save`].
#[derive(Debug, Clone, PartialEq)]
pub struct SaveRecord {
    /// Where the model was saved.
    pub path: PathBuf,
    /// Whether only the weights were saved.
    pub weights_only: bool,
    /// The weights at the time of saving.
    pub weights: Vec<ArrayD<f32>>,
}

/// A stand-in for the model under training that records what callbacks do to it.
///
/// `save` and `save_backup` write small JSON files at the given path (unless `write_files` is false), so that
/// directory handling is exercised for real; `restore_backup` reads them back (weights, rate and epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct MockControl {
    /// The stop flag.
    pub stop: bool,
    /// The current learning rate.
    pub lr: f64,
    /// Every rate passed to `set_learning_rate`, in order.
    pub lr_history: Vec<f64>,
    /// The model's weights.
    pub weights: Vec<ArrayD<f32>>,
    /// How many times `set_weights` replaced them.
    pub set_weights_calls: usize,
    /// Every `save`, in order.
    pub saves: Vec<SaveRecord>,
    /// Every `save_backup` as (path, epoch), in order.
    pub backups: Vec<(PathBuf, usize)>,
    /// Every `restore_backup` path, in order.
    pub restores: Vec<PathBuf>,
    /// The epoch set by `set_initial_epoch`, if any.
    pub initial_epoch: Option<usize>,
    /// Whether `save` / `save_backup` write files.
    pub write_files: bool,
    /// When set, `save` fails with this message (to test error propagation).
    pub fail_saves: Option<String>,
    /// When set, rates are stored in single precision, as Keras's float32 `learning_rate` variable stores them.
    pub f32_rate: bool,
}

impl MockControl {
    /// A model with one weight `[0.0]` and the given learning rate.
    pub fn new(lr: f64) -> Self {
        Self {
            stop: false,
            lr,
            lr_history: Vec::new(),
            weights: vec![ArrayD::zeros(ndarray::IxDyn(&[1]))],
            set_weights_calls: 0,
            saves: Vec::new(),
            backups: Vec::new(),
            restores: Vec::new(),
            initial_epoch: None,
            write_files: true,
            fail_saves: None,
            f32_rate: false,
        }
    }

    /// Sets every weight to `value` (to tell epochs apart: `ctl.set_marker(epoch as f32)`).
    pub fn set_marker(&mut self, value: f32) {
        for w in &mut self.weights {
            w.fill(value);
        }
    }

    /// The first element of the first weight (the marker set by [`MockControl::set_marker`]).
    pub fn marker(&self) -> f32 {
        self.weights
            .first()
            .and_then(|w| w.iter().next().copied())
            .unwrap_or(f32::NAN)
    }

    fn write(&self, path: &Path, value: serde_json::Value) -> Result<()> {
        if !self.write_files {
            return Ok(());
        }
        std::fs::write(path, value.to_string())
            .map_err(|e| CallbackError::Model(format!("cannot write {}: {e}", path.display())))
    }
}

impl TrainerControl for MockControl {
    fn stop_training(&self) -> bool {
        self.stop
    }
    fn set_stop_training(&mut self, stop: bool) {
        self.stop = stop;
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.lr = if self.f32_rate {
            f64::from(lr as f32)
        } else {
            lr
        };
        self.lr_history.push(lr);
        Ok(())
    }
    fn get_weights(&self) -> Vec<ArrayD<f32>> {
        self.weights.clone()
    }
    fn set_weights(&mut self, weights: &[ArrayD<f32>]) -> Result<()> {
        let shapes = |ws: &[ArrayD<f32>]| ws.iter().map(|w| w.shape().to_vec()).collect::<Vec<_>>();
        if shapes(weights) != shapes(&self.weights) {
            return Err(CallbackError::Model(format!(
                "set_weights: expected shapes {:?}, received {:?}",
                shapes(&self.weights),
                shapes(weights)
            )));
        }
        self.weights = weights.to_vec();
        self.set_weights_calls += 1;
        Ok(())
    }
    fn save(&mut self, path: &Path, weights_only: bool) -> Result<()> {
        if let Some(message) = &self.fail_saves {
            return Err(CallbackError::Model(message.clone()));
        }
        self.write(
            path,
            serde_json::json!({ "weights_only": weights_only, "weights": self.weights }),
        )?;
        self.saves.push(SaveRecord {
            path: path.to_path_buf(),
            weights_only,
            weights: self.weights.clone(),
        });
        Ok(())
    }
    fn save_backup(&mut self, path: &Path, epoch: usize) -> Result<()> {
        self.write(
            path,
            serde_json::json!({ "epoch": epoch, "lr": self.lr, "weights": self.weights }),
        )?;
        self.backups.push((path.to_path_buf(), epoch));
        Ok(())
    }
    fn restore_backup(&mut self, path: &Path) -> Result<usize> {
        #[derive(serde::Deserialize)]
        struct Backup {
            epoch: usize,
            lr: f64,
            weights: Vec<ArrayD<f32>>,
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            CallbackError::Model(format!("cannot read backup {}: {e}", path.display()))
        })?;
        let backup: Backup = serde_json::from_str(&text)
            .map_err(|e| CallbackError::Model(format!("corrupt backup {}: {e}", path.display())))?;
        self.weights = backup.weights;
        self.lr = backup.lr;
        self.restores.push(path.to_path_buf());
        Ok(backup.epoch)
    }
    fn set_initial_epoch(&mut self, epoch: usize) {
        self.initial_epoch = Some(epoch);
    }
}

/// Builds logs from pairs, in order.
pub fn logs(pairs: &[(&str, f64)]) -> Logs {
    let mut out = Logs::new();
    for (key, value) in pairs {
        out.set(key, *value);
    }
    out
}

/// Runs a minimal `fit` over `epoch_logs` (one entry per epoch, indexed by the absolute epoch) in Keras's order:
/// `set_params`, `on_train_begin`, then from the initial epoch (0, or what the callback set through
/// `set_initial_epoch`) for each epoch `on_epoch_begin`, `params.steps` training batches
/// (`on_train_batch_begin` / `on_train_batch_end` with the epoch's non-`val_` logs), `on_epoch_end`, and a stop
/// check after every batch and epoch; finally `on_train_end` with the last epoch's logs. Before each epoch the
/// mock's weights are marked with the epoch index ([`MockControl::set_marker`]).
///
/// `params.epochs` is taken as `epoch_logs.len()` when it is 0. Returns the epochs that ran. An error from a hook
/// ends the run at once, without `on_train_end`, as `fit` does.
pub fn simulate_fit(
    callback: &mut dyn Callback,
    ctl: &mut MockControl,
    params: &RunParams,
    epoch_logs: &[Logs],
) -> Result<Vec<usize>> {
    let mut params = params.clone();
    if params.epochs == 0 {
        params.epochs = epoch_logs.len();
    }
    ctl.stop = false;
    ctl.initial_epoch = None;
    callback.set_params(&params);
    callback.on_train_begin(&params, ctl)?;
    let start = ctl.initial_epoch.unwrap_or(0);
    let mut ran = Vec::new();
    let mut last = Logs::new();
    for (epoch, epoch_log) in epoch_logs
        .iter()
        .enumerate()
        .take(params.epochs)
        .skip(start)
    {
        ctl.set_marker(epoch as f32);
        callback.on_epoch_begin(epoch, ctl)?;
        let mut logs = epoch_log.clone();
        let batch_logs: Logs = logs
            .iter()
            .filter(|(k, _)| !k.starts_with("val_"))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for batch in 0..params.steps {
            callback.on_train_batch_begin(batch, ctl)?;
            callback.on_train_batch_end(batch, &batch_logs, ctl)?;
            if ctl.stop {
                break;
            }
        }
        callback.on_epoch_end(epoch, &mut logs, ctl)?;
        ran.push(epoch);
        last = logs;
        if ctl.stop {
            break;
        }
    }
    callback.on_train_end(&last, ctl)?;
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_round_trip_through_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        let mut a = MockControl::new(0.5);
        a.set_marker(3.0);
        a.save_backup(&path, 4).unwrap();
        let mut b = MockControl::new(0.1);
        assert_eq!(b.restore_backup(&path).unwrap(), 4);
        assert_eq!((b.marker(), b.lr), (3.0, 0.5));
    }

    #[test]
    fn set_weights_checks_shapes() {
        let mut ctl = MockControl::new(0.1);
        assert!(
            ctl.set_weights(&[ArrayD::zeros(ndarray::IxDyn(&[2]))])
                .is_err()
        );
        assert_eq!(ctl.set_weights_calls, 0);
    }
}
