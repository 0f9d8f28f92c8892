//! The model as callbacks see it during `fit` ([`TrainerControl`]).

use crate::model::Model;
use crate::resume_state::ResumeState;
use crate::saving;
use ndarray::ArrayD;
use rkeras_callbacks::{CallbackError, TrainerControl};
use std::path::{Path, PathBuf};

/// `fit`'s side of the callback boundary: the model plus the run's flags.
pub(crate) struct FitControl<'m> {
    pub(crate) model: &'m mut Model,
    pub(crate) stop: bool,
    pub(crate) initial_epoch: Option<usize>,
    /// A backup a callback asked for; written by `fit` once every callback has run, with their states.
    pub(crate) pending_backup: Option<(PathBuf, usize)>,
    /// Callback states read from a restored backup, applied after `on_train_begin`.
    pub(crate) restored: Option<ResumeState>,
    pub(crate) seed: u64,
}

fn model_error(e: impl std::fmt::Display) -> CallbackError {
    CallbackError::Model(e.to_string())
}

impl TrainerControl for FitControl<'_> {
    fn stop_training(&self) -> bool {
        self.stop
    }

    fn set_stop_training(&mut self, stop: bool) {
        self.stop = stop;
    }

    fn learning_rate(&self) -> f64 {
        self.model.learning_rate().unwrap_or(0.0)
    }

    fn set_learning_rate(&mut self, lr: f64) -> rkeras_callbacks::Result<()> {
        self.model.set_learning_rate(lr).map_err(model_error)
    }

    fn get_weights(&self) -> Vec<ArrayD<f32>> {
        self.model.get_weights()
    }

    fn set_weights(&mut self, weights: &[ArrayD<f32>]) -> rkeras_callbacks::Result<()> {
        self.model.set_weights(weights).map_err(model_error)
    }

    fn save(&mut self, path: &Path, weights_only: bool) -> rkeras_callbacks::Result<()> {
        let result = if weights_only {
            self.model.save_weights(path)
        } else {
            self.model.save(path)
        };
        result.map_err(model_error)
    }

    fn save_backup(&mut self, path: &Path, epoch: usize) -> rkeras_callbacks::Result<()> {
        self.pending_backup = Some((path.to_path_buf(), epoch));
        Ok(())
    }

    fn restore_backup(&mut self, path: &Path) -> rkeras_callbacks::Result<usize> {
        let state = saving::restore_backup(self.model, path).map_err(model_error)?;
        let epoch = state.epoch;
        self.seed = state.seed;
        self.restored = Some(state);
        Ok(epoch)
    }

    fn set_initial_epoch(&mut self, epoch: usize) {
        self.initial_epoch = Some(epoch);
    }
}
