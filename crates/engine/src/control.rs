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

/// What an evaluation pass needs from its caller: the model to run and the control handed to the callbacks.
pub(crate) trait Host: TrainerControl {
    /// The model under evaluation.
    fn model(&self) -> &Model;
}

impl Host for FitControl<'_> {
    fn model(&self) -> &Model {
        self.model
    }
}

/// `evaluate`'s and `predict`'s side of the callback boundary: the model is shared, so callbacks may read and
/// set weights and save, but not change the learning rate or take backups (which belong to `fit`).
pub(crate) struct RunControl<'m> {
    pub(crate) model: &'m Model,
    pub(crate) stop: bool,
}

impl Host for RunControl<'_> {
    fn model(&self) -> &Model {
        self.model
    }
}

fn outside_fit(what: &str) -> CallbackError {
    CallbackError::Model(format!("{what} is only available during `fit`"))
}

/// `{model}/{layer}/{weight}` for every weight, in [`Model::get_weights`]'s order.
fn weight_names(model: &Model) -> Vec<String> {
    model
        .network()
        .layers()
        .iter()
        .flat_map(|layer| {
            layer
                .weights()
                .iter()
                .map(|w| format!("{}/{}/{}", model.name(), layer.name(), w.name()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The model's config as Keras's `to_json()` lays it out.
fn model_config(model: &Model) -> Option<String> {
    let mut config = model.network().to_config(model.name());
    if let Some(object) = config.as_object_mut() {
        object.insert("module".into(), "keras".into());
    }
    Some(config.to_string())
}

impl TrainerControl for RunControl<'_> {
    fn stop_training(&self) -> bool {
        self.stop
    }

    fn set_stop_training(&mut self, stop: bool) {
        self.stop = stop;
    }

    fn learning_rate(&self) -> f64 {
        self.model.learning_rate().unwrap_or(0.0)
    }

    fn set_learning_rate(&mut self, _lr: f64) -> rkeras_callbacks::Result<()> {
        Err(outside_fit("setting the learning rate"))
    }

    fn get_weights(&self) -> Vec<ArrayD<f32>> {
        self.model.get_weights()
    }

    fn set_weights(&mut self, weights: &[ArrayD<f32>]) -> rkeras_callbacks::Result<()> {
        self.model.set_weights(weights).map_err(model_error)
    }

    fn save(&mut self, path: &Path, weights_only: bool) -> rkeras_callbacks::Result<()> {
        save_model(self.model, path, weights_only)
    }

    fn save_backup(&mut self, _path: &Path, _epoch: usize) -> rkeras_callbacks::Result<()> {
        Err(outside_fit("a backup"))
    }

    fn restore_backup(&mut self, _path: &Path) -> rkeras_callbacks::Result<usize> {
        Err(outside_fit("restoring a backup"))
    }

    fn set_initial_epoch(&mut self, _epoch: usize) {}

    fn weight_names(&self) -> Vec<String> {
        weight_names(self.model)
    }

    fn model_config(&self) -> Option<String> {
        model_config(self.model)
    }
}

/// Saves the whole model or only its weights, for a callback.
fn save_model(model: &Model, path: &Path, weights_only: bool) -> rkeras_callbacks::Result<()> {
    let result = if weights_only {
        model.save_weights(path)
    } else {
        model.save(path)
    };
    result.map_err(model_error)
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
        save_model(self.model, path, weights_only)
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

    fn weight_names(&self) -> Vec<String> {
        weight_names(self.model)
    }

    fn model_config(&self) -> Option<String> {
        model_config(self.model)
    }
}
