//! rkeras-callbacks: Keras's callbacks with Keras's exact semantics.
//!
//! `fit` talks only to a [`CallbackList`]; each callback acts on the run through [`TrainerControl`], so every
//! callback can be tested against [`testing::MockControl`] without a model.
//!
//! | Keras | here |
//! |---|---|
//! | `EarlyStopping`, `ReduceLROnPlateau`, `ModelCheckpoint` | share [`monitor::Monitor`] (Keras's `MonitorCallback`) |
//! | `LearningRateScheduler`, `TerminateOnNaN`, `CSVLogger`, `LambdaCallback`, `BackupAndRestore` | one file each |
//! | `TensorBoard` | [`tensorboard`]: event writer, record framing, summaries |
//! | `History`, `ProgbarLogger` | added by [`CallbackList::for_fit`] |
//!
//! ```
//! use rkeras_callbacks::testing::{logs, simulate_fit, MockControl};
//! use rkeras_callbacks::{Callback, CallbackList, EarlyStopping, RunParams};
//! let mut list = CallbackList::for_fit(vec![Box::new(EarlyStopping::new()) as Box<dyn Callback>], 0);
//! let epochs = vec![logs(&[("loss", 1.0), ("val_loss", 0.5)]); 10];
//! let ran = simulate_fit(&mut list, &mut MockControl::new(0.01), &RunParams::default(), &epochs).unwrap();
//! assert_eq!(ran, [0, 1], "patience 0: the first flat epoch stops training");
//! assert_eq!(list.history().unwrap().get("val_loss").unwrap().len(), 2);
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod backup_and_restore;
pub mod callback;
pub mod callback_list;
pub mod console;
pub mod control;
pub mod csv_logger;
pub mod early_stopping;
pub mod error;
mod fs_check;
pub mod history;
#[cfg(test)]
mod keras_edges;
pub mod lambda_callback;
pub mod learning_rate_scheduler;
pub mod logs;
pub mod model_checkpoint;
pub mod monitor;
pub mod progbar_logger;
pub mod progress_format;
pub mod pyformat;
pub mod reduce_lr_on_plateau;
pub mod save_freq;
mod state;
pub mod template;
pub mod tensorboard;
pub mod terminate_on_nan;
pub mod testing;

pub use backup_and_restore::BackupAndRestore;
pub use callback::Callback;
pub use callback_list::CallbackList;
pub use control::{RunParams, TrainerControl};
pub use csv_logger::CSVLogger;
pub use early_stopping::EarlyStopping;
pub use error::{CallbackError, Result};
pub use history::History;
pub use lambda_callback::LambdaCallback;
pub use learning_rate_scheduler::LearningRateScheduler;
pub use logs::{Logs, LogsExt};
pub use model_checkpoint::ModelCheckpoint;
pub use monitor::{Direction, Mode, Monitor};
pub use progbar_logger::ProgbarLogger;
pub use reduce_lr_on_plateau::ReduceLROnPlateau;
pub use save_freq::SaveFreq;
pub use tensorboard::TensorBoard;
pub use terminate_on_nan::TerminateOnNaN;
