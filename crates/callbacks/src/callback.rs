//! The [`Callback`] trait: Keras's hooks, each with an empty default.

use crate::control::{RunParams, TrainerControl};
use crate::error::Result;
use crate::logs::Logs;

/// A hook into `fit`, `evaluate` and `predict`. Every method has an empty default; implement the ones you need.
///
/// Epoch and batch indices are 0-based, as Keras passes them; printed messages and filepath templates use
/// `epoch + 1`. `on_train_begin` must reset all state so that one instance can serve several `fit` calls.
#[allow(unused_variables)]
pub trait Callback: Send {
    /// The callback's class name, for messages (`EarlyStopping`).
    fn name(&self) -> &'static str;

    /// Receives the run's parameters before `fit`, `evaluate` or `predict` starts (Keras's `set_params`); each
    /// calls it once, first. `fit` also passes them to [`Callback::on_train_begin`].
    fn set_params(&mut self, params: &RunParams) {}

    /// Called once before the first epoch. Check arguments against `params.log_keys` here.
    fn on_train_begin(&mut self, params: &RunParams, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called once after the last epoch, with the last epoch's logs.
    fn on_train_end(&mut self, logs: &Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called at the start of every epoch.
    fn on_epoch_begin(&mut self, epoch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called at the end of every epoch with the epoch's training and validation metrics; a callback may add
    /// keys (`learning_rate`).
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        Ok(())
    }
    /// Called before every training batch.
    fn on_train_batch_begin(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called after every training batch with the running means of the epoch's metrics so far.
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        Ok(())
    }
    /// Called before an evaluation pass (`evaluate`, or validation inside `fit`).
    fn on_test_begin(&mut self, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called after an evaluation pass with its metrics (without the `val_` prefix).
    fn on_test_end(&mut self, logs: &Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called before every evaluation batch.
    fn on_test_batch_begin(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called after every evaluation batch with the running means of the pass's metrics so far.
    fn on_test_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        ctl: &mut dyn TrainerControl,
    ) -> Result<()> {
        Ok(())
    }
    /// Called before `predict`.
    fn on_predict_begin(&mut self, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called after `predict`.
    fn on_predict_end(&mut self, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called before every `predict` batch.
    fn on_predict_batch_begin(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }
    /// Called after every `predict` batch.
    fn on_predict_batch_end(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
        Ok(())
    }

    /// The callback's state for a resumed run (EarlyStopping's wait and best, …), as JSON; `None` when it has none.
    fn state(&self) -> Option<serde_json::Value> {
        None
    }
    /// Restores a state returned by [`Callback::state`].
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        Ok(())
    }
    /// Weights the callback holds (EarlyStopping's best weights), saved alongside its state.
    fn state_weights(&self) -> Option<Vec<ndarray::ArrayD<f32>>> {
        None
    }
    /// Whether the callback saves the model or a backup in the middle of an epoch (a `save_freq` in batches):
    /// training across ranks then keeps the whole optimizer state on every rank after every step.
    fn saves_within_epoch(&self) -> bool {
        false
    }
    /// Restores weights returned by [`Callback::state_weights`].
    fn load_state_weights(&mut self, weights: Vec<ndarray::ArrayD<f32>>) -> Result<()> {
        Ok(())
    }
}

/// Implements [`Callback`] for a pointer type by forwarding every method to the callback it points to.
macro_rules! forward_callback {
    ($($pointer:tt)*) => {
        impl<C: Callback + ?Sized> Callback for $($pointer)* {
            fn name(&self) -> &'static str {
                (**self).name()
            }
            fn set_params(&mut self, params: &RunParams) {
                (**self).set_params(params)
            }
            fn on_train_begin(&mut self, params: &RunParams, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_train_begin(params, ctl)
            }
            fn on_train_end(&mut self, logs: &Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_train_end(logs, ctl)
            }
            fn on_epoch_begin(&mut self, epoch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_epoch_begin(epoch, ctl)
            }
            fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_epoch_end(epoch, logs, ctl)
            }
            fn on_train_batch_begin(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_train_batch_begin(batch, ctl)
            }
            fn on_train_batch_end(&mut self, batch: usize, logs: &Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_train_batch_end(batch, logs, ctl)
            }
            fn on_test_begin(&mut self, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_test_begin(ctl)
            }
            fn on_test_end(&mut self, logs: &Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_test_end(logs, ctl)
            }
            fn on_test_batch_begin(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_test_batch_begin(batch, ctl)
            }
            fn on_test_batch_end(&mut self, batch: usize, logs: &Logs, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_test_batch_end(batch, logs, ctl)
            }
            fn on_predict_begin(&mut self, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_predict_begin(ctl)
            }
            fn on_predict_end(&mut self, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_predict_end(ctl)
            }
            fn on_predict_batch_begin(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_predict_batch_begin(batch, ctl)
            }
            fn on_predict_batch_end(&mut self, batch: usize, ctl: &mut dyn TrainerControl) -> Result<()> {
                (**self).on_predict_batch_end(batch, ctl)
            }
            fn state(&self) -> Option<serde_json::Value> {
                (**self).state()
            }
            fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
                (**self).load_state(state)
            }
            fn state_weights(&self) -> Option<Vec<ndarray::ArrayD<f32>>> {
                (**self).state_weights()
            }
            fn saves_within_epoch(&self) -> bool {
                (**self).saves_within_epoch()
            }
            fn load_state_weights(&mut self, weights: Vec<ndarray::ArrayD<f32>>) -> Result<()> {
                (**self).load_state_weights(weights)
            }
        }
    };
}

// A borrowed callback can join a `CallbackList` and be inspected after `fit` (`list.push(&mut early_stopping)`);
// a boxed one can be passed wherever a callback is expected.
forward_callback!(&mut C);
forward_callback!(Box<C>);
