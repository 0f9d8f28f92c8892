//! One training step (forward, loss, backward, optimizer update) and one evaluation step.

use crate::compile::Compiled;
use crate::error::{EngineError, Result};
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rayon::prelude::*;
use rkeras_layers::{CallContext, Network, NetworkOutput};
use rkeras_tensor::{Gradient, Tensor, no_grad};
use std::sync::Arc;
use std::time::Instant;

/// What a step measured: the batch's reduced loss, and its targets and predictions for the metrics.
pub(crate) struct StepResult {
    pub(crate) loss: f64,
    pub(crate) y: Arc<ArrayD<f32>>,
    pub(crate) predictions: Arc<ArrayD<f32>>,
    pub(crate) batch: usize,
}

/// A shard's (or a whole batch's) share of the reduced batch loss: `Σ wᵢ·lossᵢ / divisor`, the divisor the
/// loss's reduction gives for the whole batch (`batch` for Keras's `sum_over_batch_size`).
fn weighted_loss(
    task: &Task<'_>,
    y: &Tensor,
    out: &NetworkOutput,
    weights: Option<&Tensor>,
    divisor: f64,
) -> Result<Tensor> {
    let per_sample = task.loss.per_sample(y, out)?;
    let weighted = match weights {
        Some(w) => per_sample.mul(w)?,
        None => per_sample,
    };
    let scale = if divisor > 0.0 {
        1.0 / divisor as f32
    } else {
        0.0
    };
    Ok(weighted.sum_all()?.mul_scalar(scale)?)
}

/// The divisor of a batch made of `parts` (targets and weights), `batch` samples in all.
fn batch_divisor(
    network: &Network,
    task: &Task<'_>,
    parts: &[(&ndarray::ArrayD<f32>, Option<&ndarray::ArrayD<f32>>)],
    batch: usize,
) -> f64 {
    // Loss values per sample: the output's positions besides the class axis.
    let per_sample: usize = network
        .outputs()
        .first()
        .map(|o| {
            let shape = o.shape();
            shape[..shape.len().saturating_sub(1)].iter().product()
        })
        .unwrap_or(1);
    task.loss
        .batch_divisor(parts, batch, batch * per_sample.max(1))
}

/// What a step needs from the compiled model besides the optimizer (which stays on the calling thread).
pub(crate) struct Task<'a> {
    loss: &'a crate::losses::Loss,
}

impl<'a> Task<'a> {
    pub(crate) fn of(compiled: &'a Compiled) -> Self {
        Task {
            loss: &compiled.loss,
        }
    }
}

/// One slice of a training batch. A batch is split into shards that run forward and backward in parallel
/// (data parallelism across cores, for batches too small to split inside a product); their gradients are summed
/// in shard order, so results depend on the shard count ([`crate::FitConfig::shards`]), never on the number of
/// threads.
pub(crate) struct Shard {
    pub(crate) inputs: Vec<Tensor>,
    pub(crate) y: Tensor,
    pub(crate) weights: Option<Tensor>,
}

/// The fewest samples a shard gets: a batch of `n` samples is split into at most `n / 8` shards.
const MIN_SHARD_SAMPLES: usize = 8;

/// Splits a batch's sample indices into at most `shards` slices of equal size (the last one smaller), none
/// under [`MIN_SHARD_SAMPLES`] samples unless the batch is.
pub(crate) fn shard_indices(indices: &[usize], shards: usize) -> Vec<&[usize]> {
    let count = shards.min(indices.len() / MIN_SHARD_SAMPLES).max(1);
    if count == 1 {
        return vec![indices];
    }
    indices.chunks(indices.len().div_ceil(count)).collect()
}

struct ShardResult {
    loss: f64,
    predictions: Arc<ArrayD<f32>>,
    grads: Option<rkeras_tensor::Gradients>,
    forward: std::time::Duration,
    backward: std::time::Duration,
}

fn shard_pass(
    network: &Network,
    task: &Task<'_>,
    shard: &Shard,
    divisor: f64,
    seed: u64,
) -> Result<ShardResult> {
    let started = Instant::now();
    let mut rng = <StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let mut ctx = CallContext {
        training: true,
        rng: &mut rng,
    };
    let outputs = network.forward_outputs(&shard.inputs, &mut ctx, task.loss.wants_logits())?;
    let out = single_output(outputs)?;
    let loss = weighted_loss(task, &shard.y, &out, shard.weights.as_ref(), divisor)?;
    let loss_value = f64::from(loss.to_scalar()?);
    let predictions = out.output.data_arc();
    drop(out);
    let forward = started.elapsed();
    let grads = if loss_value.is_finite() {
        Some(loss.backward()?)
    } else {
        None
    };
    Ok(ShardResult {
        loss: loss_value,
        predictions,
        grads,
        forward,
        backward: started.elapsed() - forward,
    })
}

/// Runs one gradient step over the shards of a batch of `batch` samples. A batch whose loss is not finite
/// updates nothing (the weights keep their last finite values), so that `TerminateOnNaN` stops training before
/// a checkpoint can store broken weights.
pub(crate) fn train_step(
    network: &Network,
    compiled: &mut Compiled,
    shards: &[Shard],
    batch: usize,
    rng: &mut StdRng,
) -> Result<StepResult> {
    let seeds: Vec<u64> = shards
        .iter()
        .map(|_| rand::RngCore::next_u64(rng))
        .collect();
    let parallel_started = Instant::now();
    let results: Vec<Result<ShardResult>> = {
        let compiled = &Task::of(compiled);
        let parts: Vec<_> = shards
            .iter()
            .map(|s| (s.y.data(), s.weights.as_ref().map(Tensor::data)))
            .collect();
        let divisor = batch_divisor(network, compiled, &parts, batch);
        match shards {
            [one] => vec![shard_pass(network, compiled, one, divisor, seeds[0])],
            _ => shards
                .par_iter()
                .zip(&seeds)
                .map(|(s, &seed)| shard_pass(network, compiled, s, divisor, seed))
                .collect(),
        }
    };
    let parallel_wall = parallel_started.elapsed();
    let results = results.into_iter().collect::<Result<Vec<_>>>()?;
    let loss_value: f64 = results.iter().map(|r| r.loss).sum();
    let (y, predictions) = match (shards, results.as_slice()) {
        ([one], [r]) => (one.y.data_arc(), r.predictions.clone()),
        _ => (
            Arc::new(concatenate(shards.iter().map(|s| s.y.data()))?),
            Arc::new(concatenate(results.iter().map(|r| &*r.predictions))?),
        ),
    };
    compiled.profile.add_step(
        parallel_wall,
        results.iter().map(|r| (r.forward, r.backward)),
    );
    let all_grads: Option<Vec<rkeras_tensor::Gradients>> =
        results.into_iter().map(|r| r.grads).collect();
    if let (true, Some(mut all_grads)) = (loss_value.is_finite(), all_grads) {
        let started = Instant::now();
        let variables = network.trainable_weights();
        let mut grads: Vec<Gradient> = Vec::with_capacity(variables.len());
        for v in &variables {
            // The first shard's gradient becomes the sum; the others are added to it in shard order. An
            // embedding table's gradient stays rows (ids, values and per-lookup squares).
            let total = sum_in_order(all_grads.iter_mut().map(|g| g.remove_gradient_var(v)))?;
            grads.push(total.unwrap_or_else(|| {
                Gradient::Dense(ndarray::ArrayD::zeros(ndarray::IxDyn(&v.shape())))
            }));
        }
        drop(all_grads);
        let grad_refs: Vec<rkeras_tensor::GradientRef<'_>> =
            grads.iter().map(Gradient::as_ref).collect();
        // Update every weight in place (the graphs are gone, so no copy is made).
        let mut guards: Vec<_> = variables.iter().map(|v| v.write()).collect();
        let mut value_refs: Vec<&mut ndarray::ArrayD<f32>> =
            guards.iter_mut().map(|g| &mut **g).collect();
        compiled.optimizer.apply(&mut value_refs, &grad_refs)?;
        drop(value_refs);
        drop(guards);
        drop(grad_refs);
        recycle(grads.into_iter().filter_map(|grad| match grad {
            Gradient::Dense(grad) => Some(grad),
            _ => None,
        }));
        compiled.profile.optimizer += started.elapsed();
    }
    Ok(StepResult {
        loss: loss_value,
        y,
        predictions,
        batch,
    })
}

/// The shards' arrays joined back into the batch, along the sample axis.
fn concatenate<'a>(parts: impl Iterator<Item = &'a ArrayD<f32>>) -> Result<ArrayD<f32>> {
    let views: Vec<_> = parts.map(|a| a.view()).collect();
    ndarray::concatenate(ndarray::Axis(0), &views)
        .map_err(|e| EngineError::invalid("y", e.to_string()))
}

/// Returns a step's gradient buffers to the buffer pool, for the next step's backward pass.
fn recycle(buffers: impl Iterator<Item = ndarray::ArrayD<f32>>) {
    buffers.for_each(rkeras_tensor::buffer_pool::give_array);
}

/// The sum of the given gradients in order (the first one reused as the total), or `None` when none is given.
fn sum_in_order(parts: impl Iterator<Item = Option<Gradient>>) -> Result<Option<Gradient>> {
    let mut total: Option<Gradient> = None;
    for part in parts.flatten() {
        match total.as_mut() {
            Some(t) => t.add(part)?,
            None => total = Some(part),
        }
    }
    Ok(total)
}

/// Runs one evaluation step (inference mode: no dropout, no graph).
pub(crate) fn test_step(
    network: &Network,
    task: &Task<'_>,
    inputs: &[Tensor],
    y: &Tensor,
    weights: Option<&Tensor>,
    rng: &mut StdRng,
) -> Result<StepResult> {
    no_grad(|| {
        let mut ctx = CallContext {
            training: false,
            rng,
        };
        let outputs = network.forward_outputs(inputs, &mut ctx, task.loss.wants_logits())?;
        let out = single_output(outputs)?;
        let batch = y.shape().first().copied().unwrap_or(0);
        let divisor = batch_divisor(
            network,
            task,
            &[(y.data(), weights.map(Tensor::data))],
            batch,
        );
        let loss = f64::from(weighted_loss(task, y, &out, weights, divisor)?.to_scalar()?);
        Ok(StepResult {
            loss,
            y: y.data_arc(),
            predictions: out.output.data_arc(),
            batch,
        })
    })
}

fn single_output(outputs: Vec<NetworkOutput>) -> Result<NetworkOutput> {
    let count = outputs.len();
    let mut iter = outputs.into_iter();
    match (iter.next(), count) {
        (Some(out), 1) => Ok(out),
        _ => Err(EngineError::invalid(
            "y",
            format!("training needs a single-output model; this one has {count} outputs"),
        )),
    }
}

/// The running mean of the loss over an epoch (each batch weighted by its size) and the pass's metric twins,
/// fresh copies of the compiled metrics updated batch by batch (Keras's per-epoch accumulation; `metrics` are
/// unweighted, as Keras's `metrics` argument is).
#[derive(Debug, Default, Clone)]
pub(crate) struct EpochMeans {
    loss_sum: f64,
    samples: usize,
    metrics: Vec<crate::metrics::Metric>,
}

impl EpochMeans {
    pub(crate) fn add(&mut self, step: &StepResult, compiled: &Compiled) -> Result<()> {
        self.loss_sum += step.loss * step.batch as f64;
        self.samples += step.batch;
        if self.metrics.len() != compiled.metrics.len() {
            self.metrics = compiled.metrics.iter().map(|m| m.fresh()).collect();
        }
        for metric in &mut self.metrics {
            metric.update_state(&step.y, &step.predictions, None)?;
        }
        Ok(())
    }

    /// `loss` then each metric under its name.
    pub(crate) fn logs(&self, compiled: &Compiled) -> rkeras_callbacks::Logs {
        let n = self.samples.max(1) as f64;
        let mut logs = rkeras_callbacks::Logs::new();
        logs.insert("loss".to_string(), self.loss_sum / n);
        if self.metrics.len() == compiled.metrics.len() {
            self.metrics.iter().for_each(|m| m.log_into(&mut logs, ""));
        } else {
            compiled
                .metrics
                .iter()
                .for_each(|m| m.fresh().log_into(&mut logs, ""));
        }
        logs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(n: usize, shards: usize) -> Vec<usize> {
        let indices: Vec<usize> = (0..n).collect();
        let parts = shard_indices(&indices, shards);
        assert_eq!(
            parts.concat(),
            indices,
            "the shards cover the batch in order"
        );
        parts.iter().map(|p| p.len()).collect()
    }

    #[test]
    fn batches_split_into_equal_shards_of_at_least_eight_samples() {
        assert_eq!(sizes(32, 1), [32]);
        assert_eq!(sizes(32, 2), [16, 16]);
        assert_eq!(sizes(32, 3), [11, 11, 10]);
        assert_eq!(sizes(32, 4), [8, 8, 8, 8]);
        assert_eq!(
            sizes(32, 5),
            [8, 8, 8, 8],
            "32 samples make at most 4 shards"
        );
        assert_eq!(sizes(15, 2), [15], "under 16 samples, no split in two");
        assert_eq!(sizes(16, 2), [8, 8]);
        assert_eq!(sizes(20, 3), [10, 10]);
        assert_eq!(sizes(3, 4), [3]);
    }
}
