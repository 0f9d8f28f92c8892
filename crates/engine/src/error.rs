//! The engine crate's error type.

use rkeras_callbacks::CallbackError;
use rkeras_layers::LayersError;
use rkeras_optim::OptimError;
use rkeras_tensor::TensorError;

/// Errors of compile, fit, evaluate, predict and saving.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An argument of compile/fit/evaluate/predict outside its valid range; names the argument.
    #[error("invalid `{argument}`: {reason}")]
    InvalidArgument {
        /// The argument (`batch_size`, `validation_split`, `x[1]`, …).
        argument: String,
        /// What is wrong, echoing the value received.
        reason: String,
    },
    /// A name (loss, metric, optimizer) that rkeras does not know.
    #[error("unknown {kind} `{name}`; valid: {}", valid.join(", "))]
    UnknownName {
        /// What kind of name.
        kind: &'static str,
        /// The name received.
        name: String,
        /// The valid names.
        valid: Vec<String>,
    },
    /// `fit`/`evaluate` before `compile`.
    #[error(
        "the model must be compiled before {0}: call `compile(optimizer, loss, metrics)` first"
    )]
    NotCompiled(&'static str),
    /// A data-parallel run across processes failed: a rank stopped, errored or disagreed (names the rank).
    #[error("distributed training: {0}")]
    Distributed(String),
    /// A training step across ranks that one rank could not complete (it could not read what another rank
    /// sent, or found the ranks disagreeing), or an error one rank alone met outside the exchanges (in one of
    /// its callbacks after `on_train_begin`): every rank returns this same error, naming that rank and the step
    /// (the number of training steps of this `fit` before it).
    #[error("distributed training: rank {rank} failed at step {step}: {reason}")]
    StepFailed {
        /// The rank that found the problem.
        rank: usize,
        /// The step, counted from 0 at the start of `fit`.
        step: u64,
        /// What it found.
        reason: String,
    },
    /// Another rank stopped training (its `stop_training`) after the step this rank began: the step is dropped,
    /// and every rank ends the epoch after the same batch. `fit` stops on seeing it and never returns it.
    #[error("distributed training: rank {rank} stopped training")]
    StoppedElsewhere {
        /// The first rank that stopped.
        rank: usize,
    },
    /// A layer or graph error.
    #[error(transparent)]
    Layers(#[from] LayersError),
    /// A tensor error outside any layer (in the loss, say).
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// An optimizer error.
    #[error(transparent)]
    Optim(#[from] OptimError),
    /// A callback error.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// A saving or loading error.
    #[error(transparent)]
    Io(#[from] rkeras_io::IoError),
    /// A file that holds something other than what was asked for (another architecture, a missing layer, …).
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What does not match.
        reason: String,
    },
    /// A backup whose resume state (the `rkeras_state` group) is missing a field, has a field of the wrong
    /// type, or lacks an array its counts promise.
    #[error("{path}: not a valid backup: {reason}")]
    ResumeState {
        /// The backup file.
        path: String,
        /// The field or array at fault.
        reason: String,
    },
}

/// The engine crate's result type.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// Builds an [`EngineError::InvalidArgument`].
    pub fn invalid(argument: impl Into<String>, reason: impl Into<String>) -> Self {
        EngineError::InvalidArgument {
            argument: argument.into(),
            reason: reason.into(),
        }
    }
}
