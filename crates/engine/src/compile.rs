//! `compile(optimizer, loss, metrics)`: optimizer by name or instance, loss by name or custom, metrics by name.

use crate::error::{EngineError, Result};
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::model::Model;
use rkeras_optim::{Adagrad, Adam, Optimizer, RMSprop, SGD, optimizer_from_name};

/// What `compile` stored.
pub(crate) struct Compiled {
    pub(crate) optimizer: Box<dyn Optimizer>,
    pub(crate) loss: Loss,
    pub(crate) metrics: Vec<Metric>,
    pub(crate) profile: crate::profile::StepProfile,
    /// The dropout stream of `train_on_batch`, continued from call to call (that of `fit`'s first epoch with
    /// seed 0).
    pub(crate) batch_rng: rand::rngs::StdRng,
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
into_optimizer!(SGD, RMSprop, Adam, Adagrad);

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
        let width = self
            .network
            .outputs()
            .first()
            .and_then(|o| o.shape().last().copied())
            .unwrap_or(1);
        let mut resolved: Vec<Metric> = Vec::new();
        for &name in metrics {
            if name == "loss" {
                continue;
            }
            let metric = Metric::resolve(name, &loss, width)?;
            if resolved.iter().any(|m| m.name == metric.name) {
                return Err(EngineError::invalid(
                    "metrics",
                    format!("`{name}` is listed twice"),
                ));
            }
            resolved.push(metric);
        }
        self.compiled = Some(Compiled {
            optimizer,
            loss,
            metrics: resolved,
            profile: Default::default(),
            batch_rng: crate::fit::epoch_rng(0, 0, crate::fit::DROPOUT_STREAM),
        });
        Ok(())
    }

    /// The names logged by training: `loss` then the metrics, as given to `compile`.
    pub fn metrics_names(&self) -> Vec<String> {
        let mut names = vec!["loss".to_string()];
        if let Some(c) = &self.compiled {
            names.extend(c.metrics.iter().map(|m| m.name.clone()));
        }
        names
    }
}
