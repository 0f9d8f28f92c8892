//! `evaluate` and `predict`: batch by batch, in inference mode (dropout off, no graph recorded).

use crate::data::{check_arrays, check_batch_size, row_range};
use crate::error::{EngineError, Result};
use crate::model::Model;
use crate::train_step::{EpochMeans, Task, test_step};
use ndarray::{ArrayD, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use rkeras_callbacks::Logs;
use rkeras_layers::CallContext;
use rkeras_tensor::{Tensor, no_grad};

impl Model {
    /// Loss and metrics on `(x, y)` (Keras's `evaluate(..., return_dict=True)`): `{"loss": …, "accuracy": …}`,
    /// each the mean over all samples.
    pub fn evaluate(&self, x: &[ArrayD<f32>], y: &ArrayD<f32>, batch_size: usize) -> Result<Logs> {
        check_arrays(&self.network, x, Some(y), "x")?;
        let y = crate::validate::targets(&self.network, &self.compiled("evaluate")?.loss, y, "y")?;
        self.evaluate_logs(x, &y, batch_size)
    }

    pub(crate) fn evaluate_logs(
        &self,
        x: &[ArrayD<f32>],
        y: &ArrayD<f32>,
        batch_size: usize,
    ) -> Result<Logs> {
        let compiled = self.compiled("evaluate")?;
        check_batch_size(batch_size)?;
        let n = y.shape().first().copied().unwrap_or(0);
        let task = Task::of(compiled);
        let network = &self.network;
        // Batches are independent in inference mode: they run in parallel, and their sums are added in batch
        // order, so the result does not depend on the number of threads.
        let steps: Vec<_> = batch_ranges(n, batch_size)
            .par_iter()
            .map(|&(start, end)| {
                let inputs = batch_inputs(x, start, end);
                let targets = Tensor::new(row_range(y, start, end));
                let mut rng = StdRng::seed_from_u64(0);
                test_step(network, &task, &inputs, &targets, None, &mut rng)
            })
            .collect::<Result<_>>()?;
        let mut means = EpochMeans::default();
        for step in &steps {
            means.add(step);
        }
        Ok(means.logs(compiled))
    }

    /// The model's (first) output for every sample, computed `batch_size` samples at a time.
    pub fn predict(&self, x: &[ArrayD<f32>], batch_size: usize) -> Result<ArrayD<f32>> {
        self.predict_outputs(x, batch_size)?
            .into_iter()
            .next()
            .ok_or_else(|| EngineError::invalid("x", "the model has no outputs"))
    }

    /// Every output of the model for every sample.
    pub fn predict_outputs(
        &self,
        x: &[ArrayD<f32>],
        batch_size: usize,
    ) -> Result<Vec<ArrayD<f32>>> {
        let n = check_arrays(&self.network, x, None, "x")?;
        check_batch_size(batch_size)?;
        let network = &self.network;
        // Batches run in parallel; their outputs are joined in batch order.
        let batches: Vec<Vec<Tensor>> = batch_ranges(n, batch_size)
            .par_iter()
            .map(|&(start, end)| {
                let inputs = batch_inputs(x, start, end);
                no_grad(|| {
                    let mut rng = StdRng::seed_from_u64(0);
                    let mut ctx = CallContext {
                        training: false,
                        rng: &mut rng,
                    };
                    network.forward(&inputs, &mut ctx)
                })
            })
            .collect::<std::result::Result<_, _>>()?;
        let mut parts: Vec<Vec<Tensor>> = vec![Vec::new(); network.outputs().len()];
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

/// The `[start, end)` sample ranges of consecutive batches of `batch_size` over `n` samples.
fn batch_ranges(n: usize, batch_size: usize) -> Vec<(usize, usize)> {
    (0..n)
        .step_by(batch_size)
        .map(|start| (start, (start + batch_size).min(n)))
        .collect()
}

/// Rows `start..end` of every input array, as tensors.
fn batch_inputs(x: &[ArrayD<f32>], start: usize, end: usize) -> Vec<Tensor> {
    x.iter()
        .map(|a| Tensor::new(row_range(a, start, end)))
        .collect()
}
