//! rkeras-engine: `Model::compile` / `fit` / `evaluate` / `predict`, `Sequential`, and saving.
//!
//! Data flows one way: arrays → batches ([`FitConfig`]) → the layer graph's forward pass → the loss →
//! backward → the optimizer step → callbacks.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod collective;
pub mod compile;
pub mod compile_config;
mod control;
mod data;
pub mod error;
mod evaluate;
mod evaluate_pass;
mod fit;
pub mod fit_config;
mod fit_source;
pub mod inputs;
mod keras3_format;
mod keras3_vars;
mod labels;
mod legacy_config;
pub mod losses;
pub mod metrics;
pub mod model;
pub mod models;
mod on_batch;
mod output_mask;
mod output_task;
pub mod profile;
mod regularization;
mod resume_state;
pub mod run_config;
pub mod saving;
pub mod sequential;
pub mod source;
mod targets;
mod train_step;
mod training_config;
mod training_loop;
mod validate;

pub use collective::Collective;
pub use compile::{IntoLoss, IntoOptimizer};
pub use compile_config::{CompileConfig, LossArg, MetricArg, PerOutput};
pub use error::{EngineError, Result};
pub use fit_config::FitConfig;
pub use inputs::{AsInputs, ByteArray, InputArray, IntoInputs};
pub use losses::Loss;
pub use metrics::{Metric, StatefulMetric};
pub use model::Model;
pub use output_mask::apply_mask;
pub use profile::StepProfile;
pub use rkeras_callbacks::{History, Logs};
pub use run_config::{EvaluateConfig, PredictConfig};
pub use saving::load_model;
pub use sequential::Sequential;
pub use targets::{AsTargets, IntoTargets};
