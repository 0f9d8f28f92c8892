//! What a callback may do to the training run: the boundary between callbacks and the model.
//!
//! Callbacks never see the model type itself, only this trait, so that each callback can be tested against a
//! mock (see [`crate::testing::MockControl`]).

use crate::error::Result;
use ndarray::ArrayD;
use std::path::Path;

/// What the training loop tells callbacks about the run (Keras's `callback.params`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunParams {
    /// The index one past the last epoch (`fit(epochs=…)`).
    pub epochs: usize,
    /// Training batches per epoch.
    pub steps: usize,
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    pub verbose: u8,
    /// Every key the epoch logs can hold: `loss`, the compiled metrics, their `val_` twins when validation is
    /// configured, and `learning_rate`.
    pub log_keys: Vec<String>,
}

/// The model and optimizer under training, as callbacks see them.
pub trait TrainerControl {
    /// Whether training has been asked to stop.
    fn stop_training(&self) -> bool;
    /// Asks the training loop to stop after the current batch.
    fn set_stop_training(&mut self, stop: bool);
    /// The optimizer's current learning rate.
    fn learning_rate(&self) -> f64;
    /// Sets the optimizer's learning rate (applies from the next batch).
    fn set_learning_rate(&mut self, lr: f64) -> Result<()>;
    /// A copy of every weight of the model, in the model's order.
    fn get_weights(&self) -> Vec<ArrayD<f32>>;
    /// Replaces every weight of the model; shapes must match [`TrainerControl::get_weights`].
    fn set_weights(&mut self, weights: &[ArrayD<f32>]) -> Result<()>;
    /// Saves the whole model (architecture, weights, optimizer state), or only the weights, to `path`
    /// atomically: a failure leaves any previous file at `path` intact.
    fn save(&mut self, path: &Path, weights_only: bool) -> Result<()>;
    /// Saves everything a resumed run needs (model, optimizer, RNG state, the epoch reached) to `path`,
    /// atomically like [`TrainerControl::save`], overwriting any previous backup there.
    ///
    /// `epoch` is the number of epochs completed, i.e. the 0-based epoch a resumed run starts at: `e + 1` for a
    /// backup taken at the end of epoch `e`, `e` for one taken during epoch `e` (`save_freq=N`), as Keras's
    /// `training_metadata.json` records it. The model side stores it and hands it back unchanged.
    fn save_backup(&mut self, path: &Path, epoch: usize) -> Result<()>;
    /// Restores a backup written by [`TrainerControl::save_backup`]; returns the `epoch` it was saved with.
    fn restore_backup(&mut self, path: &Path) -> Result<usize>;
    /// Makes the training loop start at `epoch` (used when a backup is restored in `on_train_begin`); the loop
    /// reads it after every callback's `on_train_begin` has run.
    fn set_initial_epoch(&mut self, epoch: usize);
    /// The names of the weights [`TrainerControl::get_weights`] returns, as `{model}/{layer}/{weight}` (Keras's
    /// weight paths, used for TensorBoard's histogram tags); empty when unknown.
    fn weight_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// The model's config as Keras's JSON (`model.to_json()`, TensorBoard's graph); `None` when unknown.
    fn model_config(&self) -> Option<String> {
        None
    }
}
