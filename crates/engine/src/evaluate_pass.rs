//! One evaluation pass with Keras's hooks (`on_test_begin`, `on_test_batch_begin`/`_end` per batch,
//! `on_test_end`), over arrays or a data source; shared by `evaluate` and `fit`'s validation.

use crate::control::Host;
use crate::data::row_range;
use crate::error::Result;
use crate::inputs::{InputRef, Samples};
use crate::model::Model;
use crate::source::loader::{Pass, RAN_OUT, read_pass};
use crate::source::{Batch, DataSource};
use crate::train_step::{EpochMeans, StepResult, Task, test_step};
use ndarray::ArrayD;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use rkeras_callbacks::{Callback, CallbackList, Logs};
use rkeras_tensor::Tensor;

/// Where an evaluation pass reads its batches.
pub(crate) enum TestBatches<'d, 's> {
    /// `x` and the targets `ys` (already checked, one per output), `batch_size` samples at a time.
    Arrays {
        x: Vec<InputRef<'d>>,
        ys: &'d [ArrayD<f32>],
        batch_size: usize,
    },
    /// At most `steps` batches of a source (all of them when `None`), `queue` read ahead.
    Source {
        source: &'d mut DataSource<'s>,
        steps: Option<usize>,
        queue: usize,
    },
}

/// Runs one pass; returns its logs (`loss` then the metrics, means over all samples).
pub(crate) fn test_pass<H: Host>(
    host: &mut H,
    callbacks: &mut CallbackList<'_>,
    batches: TestBatches<'_, '_>,
) -> Result<Logs> {
    callbacks.on_test_begin(host)?;
    let mut means = EpochMeans::default();
    match batches {
        TestBatches::Arrays { x, ys, batch_size } => {
            // Batches are independent in inference mode: they run in parallel and their sums are added in batch
            // order (so the result does not depend on the thread count); the hooks then fire batch by batch.
            let steps = array_steps(host.model(), &x, ys, batch_size)?;
            for (batch, step) in steps.iter().enumerate() {
                callbacks.on_test_batch_begin(batch, host)?;
                let compiled = host.model().compiled("evaluate")?;
                means.add(step, compiled)?;
                let logs = means.logs(compiled);
                callbacks.on_test_batch_end(batch, &logs, host)?;
            }
        }
        TestBatches::Source {
            source,
            steps,
            queue,
        } => {
            let pass = Pass {
                steps,
                shuffle: None,
                queue,
            };
            let ((), end) = read_pass(source, pass, |batches| {
                for (index, batch) in batches.enumerate() {
                    callbacks.on_test_batch_begin(index, host)?;
                    let step = source_step(host.model(), batch?)?;
                    let compiled = host.model().compiled("evaluate")?;
                    means.add(&step, compiled)?;
                    let logs = means.logs(compiled);
                    callbacks.on_test_batch_end(index, &logs, host)?;
                }
                Ok(())
            })?;
            if end.ran_out {
                rkeras_callbacks::console::warn(RAN_OUT);
            }
        }
    }
    let logs = means.logs(host.model().compiled("evaluate")?);
    callbacks.on_test_end(&logs, host)?;
    Ok(logs)
}

/// Every batch's step over arrays, computed in parallel.
fn array_steps(
    model: &Model,
    x: &[InputRef<'_>],
    ys: &[ArrayD<f32>],
    batch_size: usize,
) -> Result<Vec<StepResult>> {
    let task = Task::of(model.compiled("evaluate")?);
    let n = ys
        .first()
        .and_then(|y| y.shape().first().copied())
        .unwrap_or(0);
    let (network, task) = (&model.network, &task);
    batch_ranges(n, batch_size)
        .par_iter()
        .map(|&(start, end)| {
            let inputs = batch_inputs(x, start, end);
            let targets: Vec<Tensor> = ys
                .iter()
                .map(|y| Tensor::new(row_range(y, start, end)))
                .collect();
            let mut rng = StdRng::seed_from_u64(0);
            test_step(network, task, &inputs, &targets, None, &mut rng)
        })
        .collect()
}

/// One evaluation step on a source's batch (its inputs and targets checked first).
pub(crate) fn source_step(model: &Model, batch: Batch) -> Result<StepResult> {
    let compiled = model.compiled("evaluate")?;
    let (inputs, ys, weights) = crate::data::batch_tensors(model, batch)?;
    let mut rng = StdRng::seed_from_u64(0);
    test_step(
        &model.network,
        &Task::of(compiled),
        &inputs,
        &ys,
        weights.as_ref(),
        &mut rng,
    )
}

/// The `[start, end)` sample ranges of consecutive batches of `batch_size` over `n` samples.
pub(crate) fn batch_ranges(n: usize, batch_size: usize) -> Vec<(usize, usize)> {
    (0..n)
        .step_by(batch_size)
        .map(|start| (start, (start + batch_size).min(n)))
        .collect()
}

/// Rows `start..end` of every input array, as tensors.
pub(crate) fn batch_inputs<A: Samples>(x: &[A], start: usize, end: usize) -> Vec<Tensor> {
    x.iter()
        .map(|a| Tensor::new(a.range_f32(start, end)))
        .collect()
}
