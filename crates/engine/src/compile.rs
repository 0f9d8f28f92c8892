//! `compile(optimizer, loss, metrics)`: optimizer by name or instance, loss by name or custom, metrics by name.

use crate::compile_config::CompileConfig;
use crate::error::Result;
use crate::losses::Loss;
use crate::model::Model;
use crate::output_task::OutputTask;
use rkeras_optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Ftrl, Lion, Nadam, Optimizer, RMSprop, SGD,
    optimizer_from_name,
};

/// What `compile` stored.
pub(crate) struct Compiled {
    pub(crate) optimizer: Box<dyn Optimizer>,
    /// One entry per model output, in output order.
    pub(crate) outputs: Vec<OutputTask>,
    /// The arguments as given (saved as Keras's `training_config` / `compile_config`).
    pub(crate) config: CompileConfig,
    pub(crate) profile: crate::profile::StepProfile,
    /// The dropout stream of `train_on_batch`, continued from call to call (that of `fit`'s first epoch with
    /// seed 0).
    pub(crate) batch_rng: rand::rngs::StdRng,
    /// The processes a running `fit` trains with ([`crate::FitConfig::collective`]); `None` alone.
    pub(crate) collective: Option<std::sync::Arc<dyn crate::Collective>>,
    /// The training steps run across ranks since `fit` began (named in a failed step's error).
    pub(crate) collective_steps: u64,
    /// Whether the running `fit` steps the optimizer block by block across ranks
    /// ([`crate::collective::ShardedStep`]), and this rank's optimizer over its blocks once made.
    pub(crate) shard_optimizer: bool,
    pub(crate) block_optimizer: Option<crate::collective::BlockOptimizer>,
}

impl Compiled {
    /// Whether the step needs a softmax output's logits (any output's loss fuses them).
    pub(crate) fn wants_logits(&self) -> bool {
        self.outputs.iter().any(|o| o.loss.wants_logits())
    }
}

/// Anything `compile` takes as an optimizer: a Keras name (`"rmsprop"`, with Keras's defaults) or an instance.
pub trait IntoOptimizer {
    /// The boxed optimizer.
    fn into_optimizer(self) -> Result<Box<dyn Optimizer>>;
}

impl IntoOptimizer for &str {
    fn into_optimizer(self) -> Result<Box<dyn Optimizer>> {
        Ok(optimizer_from_name(self)?)
    }
}

impl IntoOptimizer for Box<dyn Optimizer> {
    fn into_optimizer(self) -> Result<Box<dyn Optimizer>> {
        Ok(self)
    }
}

macro_rules! into_optimizer {
    ($($t:ty),*) => {$(
        impl IntoOptimizer for $t {
            fn into_optimizer(self) -> Result<Box<dyn Optimizer>> {
                Ok(Box::new(self))
            }
        }
    )*};
}
into_optimizer!(
    SGD, RMSprop, Adam, Adagrad, Adadelta, AdamW, Nadam, Adamax, Lion, Ftrl
);

/// Anything `compile` takes as a loss: a Keras name or a [`Loss`].
pub trait IntoLoss {
    /// The loss.
    fn into_loss(self) -> Result<Loss>;
}

impl IntoLoss for &str {
    fn into_loss(self) -> Result<Loss> {
        Loss::from_name(self)
    }
}

impl IntoLoss for Loss {
    fn into_loss(self) -> Result<Loss> {
        Ok(self)
    }
}

impl Model {
    /// Configures training (Keras's `compile`). `metrics` may hold `"accuracy"` (or Keras 2's `"acc"`, logged
    /// under that name, so `val_acc` works), `"categorical_accuracy"`, …; `"loss"` is always logged.
    ///
    /// ```
    /// use rkeras_engine::Model;
    /// use rkeras_layers::{Dense, Input, LayerCall};
    /// let x = Input::new(&[4]);
    /// let mut model = Model::new(&[x.clone()], &Dense::new(3).with_activation("softmax")?.call(&x)?)?;
    /// model.compile("rmsprop", "sparse_categorical_crossentropy", &["accuracy"])?;
    /// assert!(model.compile("rmsprop", "sparse_crossentropy", &[]).is_err()); // lists the valid losses
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn compile(
        &mut self,
        optimizer: impl IntoOptimizer,
        loss: impl IntoLoss,
        metrics: &[&str],
    ) -> Result<()> {
        let optimizer = optimizer.into_optimizer()?;
        let loss = loss.into_loss()?;
        self.compile_with(optimizer, CompileConfig::new(loss).metrics(metrics))
    }

    /// Configures training with a loss, `loss_weights` and metrics per output (Keras's `compile` for models
    /// with several outputs; see [`CompileConfig`]). Everything that could not be trained is an error here:
    /// a wrong number of losses, weights or metric lists, an output name the model does not have, a metric
    /// that does not fit its output's targets.
    pub fn compile_with(
        &mut self,
        optimizer: impl IntoOptimizer,
        config: CompileConfig,
    ) -> Result<()> {
        let optimizer = optimizer.into_optimizer()?;
        let outputs = crate::output_task::resolve(&self.network, &config)?;
        self.compiled = Some(Compiled {
            optimizer,
            outputs,
            config,
            profile: Default::default(),
            batch_rng: crate::fit::epoch_rng(0, 0, crate::fit::DROPOUT_STREAM),
            collective: None,
            collective_steps: 0,
            shard_optimizer: false,
            block_optimizer: None,
        });
        Ok(())
    }

    /// The names logged by training: `loss` then the metrics, as given to `compile`; with several outputs,
    /// Keras 3's `loss`, each `<output>_loss`, then each `<output>_<metric>`.
    pub fn metrics_names(&self) -> Vec<String> {
        match &self.compiled {
            Some(c) => crate::output_task::log_names(&c.outputs),
            None => vec!["loss".to_string()],
        }
    }
}
