//! `evaluate` and `predict`: batch by batch, in inference mode (dropout off, no graph), with callbacks, over
//! arrays or a data source.

use crate::control::RunControl;
use crate::data::{check_arrays, check_batch_size};
use crate::error::{EngineError, Result};
use crate::evaluate_pass::{TestBatches, batch_inputs, batch_ranges, test_pass};
use crate::inputs::AsInputs;
use crate::model::Model;
use crate::run_config::{EvaluateConfig, PredictConfig};
use crate::source::DataSource;
use crate::source::loader::{Pass, RAN_OUT, read_pass};
use crate::targets::AsTargets;
use ndarray::{ArrayD, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use rkeras_callbacks::{Callback, CallbackList, Logs, RunParams};
use rkeras_layers::{CallContext, Network};
use rkeras_tensor::{Tensor, no_grad};

/// The list Keras's `evaluate`/`predict` build (no History), after `set_params`.
fn run_callbacks<'c>(config: &mut EvaluateConfig<'c>, steps: usize) -> CallbackList<'c> {
    let user: Vec<Box<dyn Callback + 'c>> = config
        .callbacks
        .drain(..)
        .map(|c| Box::new(c) as Box<dyn Callback + 'c>)
        .collect();
    let mut list = CallbackList::for_run(user, config.verbose);
    list.set_params(&RunParams {
        epochs: 1,
        steps,
        verbose: config.verbose,
        log_keys: Vec::new(),
    });
    list
}

impl Model {
    /// Loss and metrics on `(x, y)` (Keras's `evaluate(..., return_dict=True)`): `{"loss": …, "accuracy": …}`,
    /// each the mean over all samples. Silent and without callbacks; see [`Model::evaluate_with`].
    /// `y` is an array, or one array per output (see [`crate::AsTargets`]).
    pub fn evaluate<Y: AsTargets + ?Sized>(
        &self,
        x: &[ArrayD<f32>],
        y: &Y,
        batch_size: usize,
    ) -> Result<Logs> {
        self.evaluate_with(
            x,
            y,
            EvaluateConfig::new().batch_size(batch_size).verbose(0),
        )
    }

    /// Keras's `evaluate(x, y, batch_size, verbose, callbacks, return_dict=True)`: the callbacks get
    /// `set_params`, `on_test_begin`, `on_test_batch_begin`/`_end` for each batch (batch logs are running
    /// means) and `on_test_end`, in Keras's order.
    pub fn evaluate_with<Y: AsTargets + ?Sized>(
        &self,
        x: &[ArrayD<f32>],
        y: &Y,
        mut config: EvaluateConfig<'_>,
    ) -> Result<Logs> {
        let ys = crate::validate::model_targets(self, x, &y.target_list(), "x", "evaluate")?;
        let n = ys.first().map_or(0, |y| y.shape()[0]);
        check_batch_size(config.batch_size)?;
        let steps = n.div_ceil(config.batch_size);
        let mut callbacks = run_callbacks(&mut config, steps);
        let mut ctl = RunControl {
            model: self,
            stop: false,
        };
        let batches = TestBatches::Arrays {
            x: x.input_list(),
            ys: &ys,
            batch_size: config.batch_size,
        };
        test_pass(&mut ctl, &mut callbacks, batches)
    }

    /// [`Model::evaluate_with`] over a [`DataSource`] (read on a background thread); `config.steps` limits
    /// the batches read.
    pub fn evaluate_source(
        &self,
        mut source: DataSource<'_>,
        mut config: EvaluateConfig<'_>,
    ) -> Result<Logs> {
        self.compiled("evaluate")?;
        let steps = config.steps.or(source.batches()).unwrap_or(0);
        let mut callbacks = run_callbacks(&mut config, steps);
        let mut ctl = RunControl {
            model: self,
            stop: false,
        };
        let batches = TestBatches::Source {
            source: &mut source,
            steps: config.steps,
            queue: config.max_queue_size,
        };
        test_pass(&mut ctl, &mut callbacks, batches)
    }

    /// The model's (first) output for every sample, computed `batch_size` samples at a time.
    pub fn predict(&self, x: &[ArrayD<f32>], batch_size: usize) -> Result<ArrayD<f32>> {
        first(self.predict_outputs(x, batch_size)?)
    }

    /// Every output of the model for every sample.
    pub fn predict_outputs(
        &self,
        x: &[ArrayD<f32>],
        batch_size: usize,
    ) -> Result<Vec<ArrayD<f32>>> {
        self.predict_with(x, PredictConfig::new().batch_size(batch_size).verbose(0))
    }

    /// Keras's `predict(x, batch_size, verbose, callbacks)`: every output for every sample; the callbacks get
    /// `set_params`, `on_predict_begin`, `on_predict_batch_begin`/`_end` for each batch and `on_predict_end`.
    pub fn predict_with(
        &self,
        x: &[ArrayD<f32>],
        mut config: PredictConfig<'_>,
    ) -> Result<Vec<ArrayD<f32>>> {
        let n = check_arrays(&self.network, x, None, "x")?;
        check_batch_size(config.batch_size)?;
        let ranges = batch_ranges(n, config.batch_size);
        let mut callbacks = run_callbacks(&mut config, ranges.len());
        let mut ctl = RunControl {
            model: self,
            stop: false,
        };
        callbacks.on_predict_begin(&mut ctl)?;
        // Batches run in parallel (one after the other with a stateful layer, which carries states from batch
        // to batch); their outputs are joined in batch order, and the hooks fire batch by batch.
        let network = &self.network;
        let run =
            |&(start, end): &(usize, usize)| forward_batch(network, &batch_inputs(x, start, end));
        let batches: Vec<Vec<Tensor>> = if network.is_stateful() {
            ranges.iter().map(run).collect::<Result<_>>()?
        } else {
            ranges.par_iter().map(run).collect::<Result<_>>()?
        };
        for batch in 0..batches.len() {
            callbacks.on_predict_batch_begin(batch, &mut ctl)?;
            callbacks.on_predict_batch_end(batch, &mut ctl)?;
        }
        let outputs = self.join_outputs(batches)?;
        callbacks.on_predict_end(&mut ctl)?;
        Ok(outputs)
    }

    /// [`Model::predict_with`] over a [`DataSource`] whose batches hold inputs (targets, if any, are
    /// ignored); `config.steps` limits the batches read.
    pub fn predict_source(
        &self,
        mut source: DataSource<'_>,
        mut config: PredictConfig<'_>,
    ) -> Result<Vec<ArrayD<f32>>> {
        let steps = config.steps.or(source.batches()).unwrap_or(0);
        let mut callbacks = run_callbacks(&mut config, steps);
        let mut ctl = RunControl {
            model: self,
            stop: false,
        };
        callbacks.on_predict_begin(&mut ctl)?;
        let pass = Pass {
            steps: config.steps,
            shuffle: None,
            queue: config.max_queue_size,
        };
        let (batches, end) = read_pass(&mut source, pass, |batches| {
            let mut outputs = Vec::new();
            for (index, batch) in batches.enumerate() {
                callbacks.on_predict_batch_begin(index, &mut ctl)?;
                let batch = batch?;
                check_arrays(&self.network, &batch.x, None, "x")?;
                let inputs: Vec<Tensor> = batch.x.into_iter().map(Tensor::new).collect();
                outputs.push(forward_batch(&self.network, &inputs)?);
                callbacks.on_predict_batch_end(index, &mut ctl)?;
            }
            Ok(outputs)
        })?;
        if end.ran_out {
            rkeras_callbacks::console::warn(RAN_OUT);
        }
        let outputs = self.join_outputs(batches)?;
        callbacks.on_predict_end(&mut ctl)?;
        Ok(outputs)
    }

    /// The model's first output on one batch (Keras's `predict_on_batch`): no callbacks, no batching.
    pub fn predict_on_batch(&self, x: &[ArrayD<f32>]) -> Result<ArrayD<f32>> {
        check_arrays(&self.network, x, None, "x")?;
        let inputs: Vec<Tensor> = x.iter().map(|a| Tensor::new(a.clone())).collect();
        first(self.join_outputs(vec![forward_batch(&self.network, &inputs)?])?)
    }

    /// Every output of the model on one batch (Keras's `predict_on_batch` for several outputs).
    pub fn predict_on_batch_outputs(&self, x: &[ArrayD<f32>]) -> Result<Vec<ArrayD<f32>>> {
        check_arrays(&self.network, x, None, "x")?;
        let inputs: Vec<Tensor> = x.iter().map(|a| Tensor::new(a.clone())).collect();
        self.join_outputs(vec![forward_batch(&self.network, &inputs)?])
    }

    /// Per-batch outputs joined into one array per output.
    fn join_outputs(&self, batches: Vec<Vec<Tensor>>) -> Result<Vec<ArrayD<f32>>> {
        let mut parts: Vec<Vec<Tensor>> = vec![Vec::new(); self.network.outputs().len()];
        for outputs in batches {
            for (part, out) in parts.iter_mut().zip(outputs) {
                part.push(out);
            }
        }
        parts
            .into_iter()
            .map(|chunks| {
                let views: Vec<_> = chunks.iter().map(|c| c.data().view()).collect();
                ndarray::concatenate(Axis(0), &views)
                    .map_err(|e| EngineError::invalid("x", e.to_string()))
            })
            .collect()
    }
}

/// Every output on one batch of inputs, in inference mode.
fn forward_batch(network: &Network, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
    no_grad(|| {
        let mut rng = StdRng::seed_from_u64(0);
        let mut ctx = CallContext {
            training: false,
            rng: &mut rng,
        };
        Ok(network.forward(inputs, &mut ctx)?)
    })
}

fn first(outputs: Vec<ArrayD<f32>>) -> Result<ArrayD<f32>> {
    outputs
        .into_iter()
        .next()
        .ok_or_else(|| EngineError::invalid("x", "the model has no outputs"))
}
