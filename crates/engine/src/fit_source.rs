//! `fit_source`: the epoch loop over a [`DataSource`] read on a background thread.

use crate::data::batch_tensors;
use crate::error::{EngineError, Result};
use crate::evaluate_pass::TestBatches;
use crate::fit::{
    DROPOUT_STREAM, SHUFFLE_STREAM, check_loop_arguments, epoch_rng, in_worker, log_keys,
};
use crate::fit_config::FitConfig;
use crate::model::Model;
use crate::source::loader::{Pass, RAN_OUT, read_pass};
use crate::source::{Batch, DataSource};
use crate::train_step::{Shard, shard_indices};
use crate::training_loop::TrainingLoop;
use rkeras_callbacks::{History, RunParams};
use rkeras_tensor::Tensor;

/// Arguments that only apply to arrays.
fn check_source_arguments(config: &FitConfig<'_>) -> Result<()> {
    let array_only = [
        ("validation_split", config.validation_split != 0.0),
        ("validation_data", config.validation_data.is_some()),
        ("sample_weight", config.sample_weight.is_some()),
        ("class_weight", config.class_weight.is_some()),
    ];
    if let Some((name, _)) = array_only.iter().find(|(_, given)| *given) {
        return Err(EngineError::invalid(
            *name,
            "only supported with arrays; a data source gives its own batches (and sample weights), and \
             validates on `validation_source`",
        ));
    }
    if config.steps_per_epoch == Some(0) || config.validation_steps == Some(0) {
        return Err(EngineError::invalid(
            "steps_per_epoch",
            "expected a positive integer, received 0",
        ));
    }
    Ok(())
}

/// A batch's rows split into `count` shards (consecutive rows, as [`shard_indices`] splits a batch of arrays).
fn shards(batch: Batch, model: &Model, count: usize) -> Result<(Vec<Shard>, usize)> {
    let (inputs, ys, weights) = batch_tensors(model, batch)?;
    let n = ys
        .first()
        .and_then(|y| y.shape().first().copied())
        .unwrap_or(0);
    let rows: Vec<usize> = (0..n).collect();
    let parts = shard_indices(&rows, count);
    if parts.len() == 1 {
        return Ok((
            vec![Shard {
                inputs,
                ys,
                weights,
            }],
            n,
        ));
    }
    let take = |t: &Tensor, part: &[usize]| Tensor::new(crate::data::take_rows(t.data(), part));
    let shards = parts
        .iter()
        .map(|part| Shard {
            inputs: inputs.iter().map(|t| take(t, part)).collect(),
            ys: ys.iter().map(|y| take(y, part)).collect(),
            weights: weights.as_ref().map(|w| take(w, part)),
        })
        .collect();
    Ok((shards, n))
}

impl Model {
    /// Trains the model on a [`DataSource`] (Keras's `fit` given a generator or a `PyDataset`). The source is
    /// read on a background thread, `config.max_queue_size` batches ahead of training; `steps_per_epoch`,
    /// `validation_source` and `validation_steps` apply, the array-only arguments (`validation_split`,
    /// `validation_data`, `sample_weight`, `class_weight`) are errors. An error from the source stops
    /// training with the source's message (`on_train_end` is not called, as after any error).
    ///
    /// ```
    /// use rkeras_engine::source::{Batch, DataSource};
    /// use rkeras_engine::{FitConfig, Model};
    /// use rkeras_layers::{Dense, Input, LayerCall};
    /// let x = Input::new(&[1]);
    /// let mut model = Model::new(&[x.clone()], &Dense::new(1).call(&x)?)?;
    /// model.compile("sgd", "mse", &[])?;
    /// let batches = (0..4).map(|i| {
    ///     let x = ndarray::arr2(&[[i as f32]]).into_dyn();
    ///     Ok(Batch::new(vec![x.clone()], x * 2.0))
    /// });
    /// let history = model.fit_source(DataSource::generator(batches), FitConfig::new().verbose(0).steps_per_epoch(2).epochs(2))?;
    /// assert_eq!(history.get("loss").unwrap().len(), 2);
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn fit_source(
        &mut self,
        mut source: DataSource<'_>,
        config: FitConfig<'_>,
    ) -> Result<History> {
        in_worker(|| self.fit_source_on_current_thread(&mut source, config))
    }

    fn fit_source_on_current_thread(
        &mut self,
        source: &mut DataSource<'_>,
        mut config: FitConfig<'_>,
    ) -> Result<History> {
        self.compiled("fit")?;
        let shard_count = check_loop_arguments(&config)?;
        check_source_arguments(&config)?;
        let mut validation = config.validation_source.take();
        let params = RunParams {
            epochs: config.epochs,
            steps: config.steps_per_epoch.or(source.batches()).unwrap_or(0),
            verbose: config.verbose,
            log_keys: log_keys(self, validation.is_some()),
        };
        let (mut run, start) = TrainingLoop::begin(self, &mut config, &params, shard_count)?;
        for epoch in start..config.epochs {
            run.begin_epoch(epoch)?;
            let mut shuffle_rng = epoch_rng(run.seed(), epoch, SHUFFLE_STREAM);
            let mut dropout_rng = epoch_rng(run.seed(), epoch, DROPOUT_STREAM);
            let pass = Pass {
                steps: config.steps_per_epoch,
                shuffle: config.shuffle.then_some(&mut shuffle_rng),
                queue: config.max_queue_size,
            };
            let (batches, end) = read_pass(source, pass, |batches| {
                let mut count = 0;
                for (index, batch) in batches.enumerate() {
                    let batch = batch?;
                    run.begin_batch(index)?;
                    count += 1;
                    let (shards, samples) = shards(batch, run.ctl.model, run.shards_per_batch())?;
                    if run.train_batch(index, &shards, samples, &mut dropout_rng)? {
                        break;
                    }
                }
                Ok(count)
            })?;
            if end.ran_out {
                rkeras_callbacks::console::warn(RAN_OUT);
                if batches == 0 {
                    // Nothing was trained this epoch: there are no logs to end it with.
                    run.stop();
                    break;
                }
            }
            let validation = validation.as_mut().map(|source| {
                let (steps, queue) = (config.validation_steps, config.max_queue_size);
                let batches = TestBatches::Source {
                    source,
                    steps,
                    queue,
                };
                (batches, config.validation_freq)
            });
            if run.end_epoch(epoch, validation)? {
                break;
            }
        }
        run.finish()
    }
}
