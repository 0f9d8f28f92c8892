//! [`TrainingLoop`]: what one `fit` holds — the model (behind the callbacks' control), the callback list and
//! the epoch's running means — and the steps of the loop that do not depend on where batches come from (arrays
//! or a data source).

use crate::compile::Compiled;
use crate::control::FitControl;
use crate::error::Result;
use crate::evaluate_pass::{TestBatches, test_pass};
use crate::fit_config::FitConfig;
use crate::model::Model;
use crate::resume_state::ResumeState;
use crate::saving;
use crate::train_step::{EpochMeans, Shard, StepResult, train_step};
use rand::rngs::StdRng;
use rkeras_callbacks::{Callback, CallbackList, History, Logs, RunParams};

/// One `fit` run: set up by [`TrainingLoop::begin`] (`set_params`, `on_train_begin`, a restored backup), then
/// driven epoch by epoch, and closed by [`TrainingLoop::finish`] (`on_train_end`, the History).
pub(crate) struct TrainingLoop<'m, 'c> {
    pub(crate) ctl: FitControl<'m>,
    callbacks: CallbackList<'c>,
    shard_count: usize,
    means: EpochMeans,
    /// The last finished epoch's logs, for `on_train_end`.
    last_logs: Logs,
    /// Across ranks: this rank dropped a step because another rank stopped training, and so met the other
    /// ranks' first agreement at the end of the epoch there.
    stop_met: bool,
}

impl<'m, 'c> TrainingLoop<'m, 'c> {
    /// Builds Keras's callback list around `user` and runs `set_params` and `on_train_begin`; returns the loop
    /// and the epoch to start at (a restored backup's, else `initial_epoch`).
    pub(crate) fn begin(
        model: &'m mut Model,
        config: &mut FitConfig<'c>,
        params: &RunParams,
        shard_count: usize,
    ) -> Result<(Self, usize)> {
        let collective = config.collective.clone();
        let shared = collective.clone();
        let rank = collective.as_ref().map_or(0, |c| c.rank());
        // Decided on the whole list, the same on every rank (rank 0 alone keeps the callbacks that save).
        let saves_within_epoch = config.callbacks.iter().any(|c| c.saves_within_epoch());
        let user: Vec<Box<dyn Callback + 'c>> = config
            .callbacks
            .drain(..)
            .filter(|c| rank == 0 || !crate::collective::rank_zero_only(c.name()))
            .map(|c| Box::new(c) as Box<dyn Callback + 'c>)
            .collect();
        let seed = config.seed;
        let verbose = if rank == 0 { params.verbose } else { 0 };
        let mut callbacks = CallbackList::for_fit(user, verbose);
        if let Some(compiled) = model.compiled.as_mut() {
            compiled.shard_optimizer = config.shard_optimizer
                && !saves_within_epoch
                && collective.as_ref().is_some_and(|c| c.ranks() > 1)
                && crate::collective::shardable(compiled.optimizer.as_ref());
            compiled.block_optimizer = None;
            compiled.collective = collective;
            compiled.collective_steps = 0;
        }
        let mut ctl = FitControl {
            model,
            stop: false,
            initial_epoch: None,
            pending_backup: None,
            restored: None,
            seed,
        };
        callbacks.set_params(params);
        let began = callbacks
            .on_train_begin(params, &mut ctl)
            .map_err(Into::into);
        // Across ranks: every rank started, and all hold rank 0's restored backup.
        crate::collective::begin_together(shared.as_deref(), began, &mut ctl, &callbacks.names())?;
        if let Some(state) = ctl.restored.take() {
            callbacks.load_states(&state.callback_states)?;
            callbacks.load_weight_states(state.callback_weights)?;
        }
        let start = ctl.initial_epoch.unwrap_or(config.initial_epoch);
        Ok((
            TrainingLoop {
                ctl,
                callbacks,
                shard_count,
                means: EpochMeans::default(),
                last_logs: Logs::new(),
                stop_met: false,
            },
            start,
        ))
    }

    /// The run's seed (a restored backup's).
    pub(crate) fn seed(&self) -> u64 {
        self.ctl.seed
    }

    /// Asks training to stop.
    pub(crate) fn stop(&mut self) {
        self.ctl.stop = true;
    }

    /// The shard count of a batch: one when a layer needs the whole batch's statistics in one pass.
    pub(crate) fn shards_per_batch(&self) -> usize {
        if self.ctl.model.network.uses_batch_statistics() {
            1
        } else {
            self.shard_count
        }
    }

    /// Starts an epoch: resets the running means and calls `on_epoch_begin`.
    pub(crate) fn begin_epoch(&mut self, epoch: usize) -> Result<()> {
        self.means = EpochMeans::default();
        let outcome = self.callbacks.on_epoch_begin(epoch, &mut self.ctl);
        self.shared(outcome.map_err(Into::into))
    }

    /// Calls `on_train_batch_begin`.
    pub(crate) fn begin_batch(&mut self, batch: usize) -> Result<()> {
        let outcome = self.callbacks.on_train_batch_begin(batch, &mut self.ctl);
        self.shared(outcome.map_err(Into::into))
    }

    /// Runs one training step on `shards` (a batch of `samples`), then `on_train_batch_end` with the running
    /// means and any backup a callback asked for. Returns whether training should stop.
    pub(crate) fn train_batch(
        &mut self,
        batch: usize,
        shards: &[Shard],
        samples: usize,
        dropout_rng: &mut StdRng,
    ) -> Result<bool> {
        let model = &mut *self.ctl.model;
        let compiled = model
            .compiled
            .as_mut()
            .ok_or(crate::EngineError::NotCompiled("fit"))?;
        let mut step = match train_step(&model.network, compiled, shards, samples, dropout_rng) {
            // Another rank stopped training after the last step: this step is dropped, and the epoch ends
            // here as on that rank.
            Err(crate::EngineError::StoppedElsewhere { .. }) => {
                compiled.collective_steps = compiled.collective_steps.saturating_sub(1);
                self.ctl.stop = true;
                self.stop_met = true;
                return Ok(true);
            }
            step => step?,
        };
        settle_step(compiled, &mut step);
        self.means.add(&step, compiled)?;
        let logs = self.means.logs(compiled);
        let mut outcome = self
            .callbacks
            .on_train_batch_end(batch, &logs, &mut self.ctl)
            .map_err(Into::into);
        if outcome.is_ok() {
            outcome = self.write_pending_backup();
        }
        self.shared(outcome)?;
        Ok(self.ctl.stop)
    }

    /// Ends an epoch: validates on `batches` (with `on_test_*` hooks) when `(epoch + 1) % freq == 0`, then the
    /// training means, `val_` metrics and `learning_rate` go to `on_epoch_end`, and a backup a callback asked
    /// for is written. Returns whether training should stop.
    pub(crate) fn end_epoch(
        &mut self,
        epoch: usize,
        validation: Option<(TestBatches<'_, '_>, usize)>,
    ) -> Result<bool> {
        // Across ranks: a failure one rank alone found in the epoch's last step stops every rank here.
        let compiled = self.ctl.model.compiled("fit")?;
        let (collective, step) = (compiled.collective.clone(), compiled.collective_steps);
        // A rank that stopped in the middle of the epoch sends its stop here (the others drop the step they
        // began, which is where they meet this agreement).
        if !std::mem::take(&mut self.stop_met) {
            crate::collective::agree(collective.as_deref(), step, Ok(()), self.ctl.stop)?;
        }
        // After sharded optimizer steps the model's optimizer gets the whole state back before the epoch's
        // callbacks, which may save it.
        crate::collective::gather_slots(self.ctl.model.compiled_mut("fit")?)?;
        let outcome = self.validate_and_end_epoch(epoch, validation);
        let stop = self.shared(outcome)?;
        // Across ranks: one rank's `stop_training` (a callback reading a value of its own, say) stops every
        // rank after this epoch.
        self.ctl.stop = crate::collective::agree(collective.as_deref(), step, Ok(()), stop)?;
        Ok(self.ctl.stop)
    }

    /// [`TrainingLoop::end_epoch`] after the ranks' agreement.
    fn validate_and_end_epoch(
        &mut self,
        epoch: usize,
        validation: Option<(TestBatches<'_, '_>, usize)>,
    ) -> Result<bool> {
        let validation = match validation {
            Some((batches, freq)) if (epoch + 1) % freq == 0 => {
                Some(test_pass(&mut self.ctl, &mut self.callbacks, batches)?)
            }
            _ => None,
        };
        let mut logs = self.means.logs(self.ctl.model.compiled("fit")?);
        for (k, v) in validation.into_iter().flatten() {
            logs.insert(format!("val_{k}"), v);
        }
        logs.insert(
            "learning_rate".to_string(),
            self.ctl.model.learning_rate().unwrap_or(0.0),
        );
        self.callbacks
            .on_epoch_end(epoch, &mut logs, &mut self.ctl)?;
        self.write_pending_backup()?;
        self.last_logs = logs;
        Ok(self.ctl.stop)
    }

    /// Calls `on_train_end` with the last epoch's logs and returns the History.
    pub(crate) fn finish(mut self) -> Result<History> {
        // Keras's `optimizer.finalize_variable_values(trainable_weights)` after the last epoch (EMA weights).
        let finalized = crate::train_step::finalize_optimizer(self.ctl.model);
        let (collective, step) = self.ctl.model.compiled.as_mut().map_or((None, 0), |c| {
            c.block_optimizer = None;
            (c.collective.take(), c.collective_steps)
        });
        let ended = finalized.and_then(|()| {
            self.callbacks
                .on_train_end(&self.last_logs, &mut self.ctl)
                .map_err(Into::into)
        });
        // Across ranks: the last agreement, so that an error in one rank's `on_train_end` (or its last
        // epoch's callbacks) reaches every rank.
        crate::collective::agree(collective.as_deref(), step, ended, false)?;
        Ok(self.callbacks.take_history().unwrap_or_default())
    }

    /// `outcome` of this rank's callbacks, which the other ranks learn of in their next exchange when it is an
    /// error (see `collective::share_outcome`).
    fn shared<T>(&self, outcome: Result<T>) -> Result<T> {
        let compiled = self.ctl.model.compiled.as_ref();
        let collective = compiled.and_then(|c| c.collective.as_deref());
        let step = compiled.map_or(0, |c| c.collective_steps);
        crate::collective::share_outcome(collective, step, outcome)
    }

    fn write_pending_backup(&mut self) -> Result<()> {
        let collective = self
            .ctl
            .model
            .compiled
            .as_ref()
            .and_then(|c| c.collective.as_deref());
        if !crate::collective::writes_files(collective) {
            self.ctl.pending_backup = None;
        }
        if let Some((path, epoch)) = self.ctl.pending_backup.take() {
            let state = ResumeState {
                epoch,
                seed: self.ctl.seed,
                callback_states: self.callbacks.states(),
                callback_weights: self.callbacks.weight_states(),
            };
            saving::write_backup(self.ctl.model, &path, &state)?;
        }
        Ok(())
    }
}

/// A training step's bookkeeping, kept out of its arithmetic: the phases' timings go to the profile and the
/// spent gradient buffers back to the buffer pool, for the next step's backward pass.
pub(crate) fn settle_step(compiled: &mut Compiled, step: &mut StepResult) {
    compiled.profile.record(&step.timing);
    std::mem::take(&mut step.spent_gradients)
        .into_iter()
        .for_each(rkeras_tensor::buffer_pool::give_array);
}
