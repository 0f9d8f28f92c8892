//! One training step (forward, loss, backward, optimizer update) and one evaluation step.

use crate::compile::Compiled;
use crate::error::{EngineError, Result};
use rand::rngs::StdRng;
use rayon::prelude::*;
use rkeras_layers::{CallContext, Network, NetworkOutput};
use rkeras_tensor::{Gradient, Tensor, no_grad};
use std::time::Instant;

/// What a step measured: the batch's mean (weighted total) loss, each output's own mean loss, and each
/// metric's sum over the batch (outputs in order, each output's metrics in order).
pub(crate) struct StepResult {
    pub(crate) loss: f64,
    pub(crate) output_losses: Vec<f64>,
    pub(crate) metric_sums: Vec<f64>,
    pub(crate) batch: usize,
}

/// A shard's (or a whole batch's) share of each output's weighted batch mean, `Σ wᵢ·lossᵢ / batch` (Keras's
/// `sum_over_batch_size`), and of the total: the losses times their loss weights, summed (a single output
/// without a weight is its loss as it is).
fn weighted_losses(
    task: &Task<'_>,
    ys: &[Tensor],
    outs: &[NetworkOutput],
    weights: Option<&Tensor>,
    batch: usize,
) -> Result<(Tensor, Vec<f64>)> {
    let mut total: Option<Tensor> = None;
    let mut parts = Vec::with_capacity(task.outputs.len());
    for ((output, y), out) in task.outputs.iter().zip(ys).zip(outs) {
        let per_sample = output.loss.per_sample(y, out)?;
        let weighted = match weights {
            Some(w) => per_sample.mul(w)?,
            None => per_sample,
        };
        let loss = weighted.sum_all()?.mul_scalar(1.0 / batch.max(1) as f32)?;
        parts.push(f64::from(loss.to_scalar()?));
        let scaled = match output.weight {
            Some(w) => loss.mul_scalar(w)?,
            None => loss,
        };
        total = Some(match total {
            Some(t) => t.add(&scaled)?,
            None => scaled,
        });
    }
    let total = total.ok_or_else(|| EngineError::invalid("y", "the model has no outputs"))?;
    Ok((total, parts))
}

/// Each metric's sum over the samples of `ys` (outputs in order).
fn metric_sums(task: &Task<'_>, ys: &[Tensor], outs: &[NetworkOutput]) -> Result<Vec<f64>> {
    let mut sums = Vec::new();
    for ((output, y), out) in task.outputs.iter().zip(ys).zip(outs) {
        for m in &output.metrics {
            sums.push(m.batch_sum(y.data(), out.output.data())?);
        }
    }
    Ok(sums)
}

/// What a step needs from the compiled model besides the optimizer (which stays on the calling thread).
pub(crate) struct Task<'a> {
    outputs: &'a [crate::output_task::OutputTask],
    wants_logits: bool,
}

impl<'a> Task<'a> {
    pub(crate) fn of(compiled: &'a Compiled) -> Self {
        Task {
            outputs: &compiled.outputs,
            wants_logits: compiled.wants_logits(),
        }
    }
}

/// One slice of a training batch. A batch is split into shards that run forward and backward in parallel
/// (data parallelism across cores, for batches too small to split inside a product); their gradients are summed
/// in shard order, so results depend on the shard count ([`crate::FitConfig::shards`]), never on the number of
/// threads.
pub(crate) struct Shard {
    pub(crate) inputs: Vec<Tensor>,
    /// One target per output.
    pub(crate) ys: Vec<Tensor>,
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
    output_losses: Vec<f64>,
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
    let outs = network.forward_outputs(&shard.inputs, &mut ctx, task.wants_logits)?;
    check_outputs(&outs, &shard.ys)?;
    let (loss, output_losses) =
        weighted_losses(task, &shard.ys, &outs, shard.weights.as_ref(), batch)?;
    let loss_value = f64::from(loss.to_scalar()?);
    let metric_sums = metric_sums(task, &shard.ys, &outs)?;
    drop(outs);
    let forward = started.elapsed();
    let grads = if loss_value.is_finite() {
        Some(loss.backward()?)
    } else {
        None
    };
    Ok(ShardResult {
        loss: loss_value,
        output_losses,
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
    let sums = add_up(results.iter().map(|r| r.metric_sums.as_slice()));
    let output_losses = add_up(results.iter().map(|r| r.output_losses.as_slice()));
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
        output_losses,
        metric_sums: sums,
        batch,
    })
}

/// The element-wise sums of the shards' values, in shard order.
fn add_up<'v>(parts: impl Iterator<Item = &'v [f64]>) -> Vec<f64> {
    let mut sums: Vec<f64> = Vec::new();
    for part in parts {
        if sums.len() < part.len() {
            sums.resize(part.len(), 0.0);
        }
        for (total, v) in sums.iter_mut().zip(part) {
            *total += v;
        }
    }
    sums
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
    ys: &[Tensor],
    weights: Option<&Tensor>,
    rng: &mut StdRng,
) -> Result<StepResult> {
    no_grad(|| {
        let mut ctx = CallContext {
            training: false,
            rng,
        };
        let outs = network.forward_outputs(inputs, &mut ctx, task.wants_logits)?;
        check_outputs(&outs, ys)?;
        let batch = ys
            .first()
            .and_then(|y| y.shape().first().copied())
            .unwrap_or(0);
        let (loss, output_losses) = weighted_losses(task, ys, &outs, weights, batch)?;
        let loss = f64::from(loss.to_scalar()?);
        let metric_sums = metric_sums(task, ys, &outs)?;
        Ok(StepResult {
            loss,
            output_losses,
            metric_sums,
            batch,
        })
    })
}

/// One target per output (checked where fit/evaluate start; this guards the step itself).
fn check_outputs(outs: &[NetworkOutput], ys: &[Tensor]) -> Result<()> {
    if outs.len() != ys.len() {
        return Err(EngineError::invalid(
            "y",
            format!(
                "the model has {} output(s), received {} target array(s)",
                outs.len(),
                ys.len()
            ),
        ));
    }
    Ok(())
}

/// Running means of the loss and metrics over an epoch, each batch weighted by its size.
#[derive(Debug, Default, Clone)]
pub(crate) struct EpochMeans {
    loss_sum: f64,
    output_loss_sums: Vec<f64>,
    metric_sums: Vec<f64>,
    samples: usize,
}

impl EpochMeans {
    pub(crate) fn add(&mut self, step: &StepResult) {
        self.loss_sum += step.loss * step.batch as f64;
        if self.output_loss_sums.len() < step.output_losses.len() {
            self.output_loss_sums.resize(step.output_losses.len(), 0.0);
        }
        for (sum, v) in self.output_loss_sums.iter_mut().zip(&step.output_losses) {
            *sum += v * step.batch as f64;
        }
        if self.metric_sums.len() < step.metric_sums.len() {
            self.metric_sums.resize(step.metric_sums.len(), 0.0);
        }
        for (sum, v) in self.metric_sums.iter_mut().zip(&step.metric_sums) {
            *sum += v;
        }
        self.samples += step.batch;
    }

    /// `loss` then each metric under its name; with several outputs, Keras 3's `loss`, `<output>_loss` for
    /// each output, then `<output>_<metric>` (see [`crate::output_task::log_names`]).
    pub(crate) fn logs(&self, compiled: &Compiled) -> rkeras_callbacks::Logs {
        let n = self.samples.max(1) as f64;
        let names = crate::output_task::log_names(&compiled.outputs);
        let output_losses: &[f64] = if compiled.outputs.len() > 1 {
            &self.output_loss_sums
        } else {
            &[]
        };
        let values = std::iter::once(self.loss_sum)
            .chain(output_losses.iter().copied())
            .chain(self.metric_sums.iter().copied())
            .map(|sum| sum / n);
        let mut logs = rkeras_callbacks::Logs::new();
        for (name, value) in names.into_iter().zip(values) {
            logs.insert(name, value);
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
