//! One training step (forward, loss, backward, optimizer update) and one evaluation step.

use crate::compile::Compiled;
use crate::error::{EngineError, Result};
use rand::rngs::StdRng;
use rayon::prelude::*;
use rkeras_layers::{CallContext, Network, NetworkOutput};
use rkeras_tensor::{Gradient, Tensor, no_grad};
use std::time::Instant;

/// What a step measured: the batch's mean loss and each metric's sum over the batch.
pub(crate) struct StepResult {
    pub(crate) loss: f64,
    pub(crate) metric_sums: Vec<f64>,
    pub(crate) batch: usize,
}

/// A shard's (or a whole batch's) share of the weighted batch mean: `Σ wᵢ·lossᵢ / batch` (Keras's
/// `sum_over_batch_size`).
fn weighted_loss(
    task: &Task<'_>,
    y: &Tensor,
    out: &NetworkOutput,
    weights: Option<&Tensor>,
    batch: usize,
) -> Result<Tensor> {
    let per_sample = task.loss.per_sample(y, out)?;
    let weighted = match weights {
        Some(w) => per_sample.mul(w)?,
        None => per_sample,
    };
    Ok(weighted.sum_all()?.mul_scalar(1.0 / batch.max(1) as f32)?)
}

/// Each metric's sum over the samples of `y`.
fn metric_sums(task: &Task<'_>, y: &Tensor, out: &NetworkOutput) -> Result<Vec<f64>> {
    task.metrics
        .iter()
        .map(|m| m.batch_sum(y.data(), out.output.data()))
        .collect()
}

/// What a step needs from the compiled model besides the optimizer (which stays on the calling thread).
pub(crate) struct Task<'a> {
    loss: &'a crate::loss::Loss,
    metrics: &'a [crate::metric::Metric],
}

impl<'a> Task<'a> {
    pub(crate) fn of(compiled: &'a Compiled) -> Self {
        Task {
            loss: &compiled.loss,
            metrics: &compiled.metrics,
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
    metric_sums: Vec<f64>,
    grads: Option<rkeras_tensor::Gradients>,
    forward: std::time::Duration,
    backward: std::time::Duration,
}

fn shard_pass(
    network: &Network,
    task: &Task<'_>,
    shard: &Shard,
    batch: usize,
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
    let loss = weighted_loss(task, &shard.y, &out, shard.weights.as_ref(), batch)?;
    let loss_value = f64::from(loss.to_scalar()?);
    let metric_sums = metric_sums(task, &shard.y, &out)?;
    drop(out);
    let forward = started.elapsed();
    let grads = if loss_value.is_finite() {
        Some(loss.backward()?)
    } else {
        None
    };
    Ok(ShardResult {
        loss: loss_value,
        metric_sums,
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
        match shards {
            [one] => vec![shard_pass(network, compiled, one, batch, seeds[0])],
            _ => shards
                .par_iter()
                .zip(&seeds)
                .map(|(s, &seed)| shard_pass(network, compiled, s, batch, seed))
                .collect(),
        }
    };
    let parallel_wall = parallel_started.elapsed();
    let results = results.into_iter().collect::<Result<Vec<_>>>()?;
    let loss_value: f64 = results.iter().map(|r| r.loss).sum();
    let mut sums = vec![0.0; compiled.metrics.len()];
    for r in &results {
        for (total, v) in sums.iter_mut().zip(&r.metric_sums) {
            *total += v;
        }
    }
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
        metric_sums: sums,
        batch,
    })
}

/// Keras's `optimizer.finalize_variable_values(model.trainable_weights)` at the end of `fit`: with `use_ema` the
/// trainable weights take their moving averages; otherwise nothing changes.
pub(crate) fn finalize_optimizer(model: &mut crate::model::Model) -> Result<()> {
    let Some(compiled) = model.compiled.as_mut() else {
        return Ok(());
    };
    let variables = model.network.trainable_weights();
    let mut guards: Vec<_> = variables.iter().map(|v| v.write()).collect();
    let mut value_refs: Vec<&mut ndarray::ArrayD<f32>> =
        guards.iter_mut().map(|g| &mut **g).collect();
    compiled
        .optimizer
        .finalize_variable_values(&mut value_refs)?;
    Ok(())
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
        let loss = f64::from(weighted_loss(task, y, &out, weights, batch)?.to_scalar()?);
        let metric_sums = metric_sums(task, y, &out)?;
        Ok(StepResult {
            loss,
            metric_sums,
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

/// Running means of the loss and metrics over an epoch, each batch weighted by its size.
#[derive(Debug, Default, Clone)]
pub(crate) struct EpochMeans {
    loss_sum: f64,
    metric_sums: Vec<f64>,
    samples: usize,
}

impl EpochMeans {
    pub(crate) fn add(&mut self, step: &StepResult) {
        self.loss_sum += step.loss * step.batch as f64;
        if self.metric_sums.len() < step.metric_sums.len() {
            self.metric_sums.resize(step.metric_sums.len(), 0.0);
        }
        for (sum, v) in self.metric_sums.iter_mut().zip(&step.metric_sums) {
            *sum += v;
        }
        self.samples += step.batch;
    }

    /// `loss` then each metric under its name.
    pub(crate) fn logs(&self, compiled: &Compiled) -> rkeras_callbacks::Logs {
        let n = self.samples.max(1) as f64;
        let mut logs = rkeras_callbacks::Logs::new();
        logs.insert("loss".to_string(), self.loss_sum / n);
        for (metric, sum) in compiled.metrics.iter().zip(&self.metric_sums) {
            logs.insert(metric.name.clone(), sum / n);
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
