//! One training step (forward, loss, backward, optimizer update) and one evaluation step.

use crate::compile::Compiled;
use crate::error::{EngineError, Result};
use crate::profile::StepTiming;
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rkeras_layers::{CallContext, Network, NetworkOutput};
use rkeras_tensor::{Gradient, Tensor, no_grad};
use std::sync::Arc;
use std::time::Instant;

/// What a step measured: the batch's reduced (weighted total) loss, each output's own reduced loss, and each
/// output's targets and predictions for its metrics (outputs in order); for a training step also its phases'
/// timings and the spent gradient buffers, which the training loop hands to the profile and the buffer pool.
pub(crate) struct StepResult {
    pub(crate) loss: f64,
    pub(crate) output_losses: Vec<f64>,
    pub(crate) ys: Vec<Arc<ArrayD<f32>>>,
    pub(crate) predictions: Vec<Arc<ArrayD<f32>>>,
    /// Each output's timestep mask, when it has one (the sample weights of its metrics).
    pub(crate) masks: Vec<Option<Arc<ArrayD<f32>>>>,
    /// With several shards (or ranks), each shard's metric states, merged in shard order instead of updating
    /// the metrics with `ys` and `predictions` (then empty).
    pub(crate) metric_states: Option<Vec<MetricStates>>,
    pub(crate) batch: usize,
    pub(crate) timing: StepTiming,
    pub(crate) spent_gradients: Vec<ArrayD<f32>>,
}

/// A shard's (or a whole batch's) share of each output's reduced batch loss, `Σ wᵢ·lossᵢ / divisor` (the
/// divisor the output's loss reduction gives for the whole batch: `batch` for Keras's `sum_over_batch_size`),
/// and of the total: the losses times their loss weights, summed (a single output without a weight is its loss
/// as it is).
fn weighted_losses(
    task: &Task<'_>,
    ys: &[Tensor],
    outs: &[NetworkOutput],
    weights: Option<&Tensor>,
    divisors: &[f64],
) -> Result<(Tensor, Vec<f64>)> {
    let mut total: Option<Tensor> = None;
    let mut parts = Vec::with_capacity(task.outputs.len());
    for (((output, y), out), &divisor) in task.outputs.iter().zip(ys).zip(outs).zip(divisors) {
        let per_sample = output.loss.per_sample(y, out)?;
        let weighted = match weights {
            Some(w) => per_sample.mul(w)?,
            None => per_sample,
        };
        let scale = if divisor > 0.0 {
            1.0 / divisor as f32
        } else {
            0.0
        };
        let loss = weighted.sum_all()?.mul_scalar(scale)?;
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

/// Each output's divisor for a batch of `batch` samples given as `parts` (per part: each output's targets,
/// and the sample weights).
fn batch_divisors(
    network: &Network,
    task: &Task<'_>,
    parts: &[DivisorPart<'_>],
    batch: usize,
) -> Vec<f64> {
    let shapes = network.outputs();
    task.outputs
        .iter()
        .enumerate()
        .map(|(i, output)| {
            // Loss values per sample: the output's positions besides the class axis.
            let per_sample: usize = shapes
                .get(i)
                .map(|o| {
                    let shape = o.shape();
                    shape[..shape.len().saturating_sub(1)].iter().product()
                })
                .unwrap_or(1);
            let own: Vec<crate::output_mask::MaskedPart<'_>> = parts
                .iter()
                .filter_map(|(ys, w, masks)| {
                    ys.get(i).map(|&y| (y, *w, masks.get(i).copied().flatten()))
                })
                .collect();
            output
                .loss
                .batch_divisor(&own, batch, batch * per_sample.max(1))
        })
        .collect()
}

/// A part of a batch as [`batch_divisors`] reads it: its targets (one per output), its sample weights, and
/// each output's timestep mask (so that a masked output divides by the whole batch's kept steps).
type DivisorPart<'t> = (
    Vec<&'t ArrayD<f32>>,
    Option<&'t ArrayD<f32>>,
    Vec<Option<&'t ArrayD<f32>>>,
);

/// The [`DivisorPart`] of `ys`, `weights` and the outputs' `masks`.
fn divisor_part<'t>(
    ys: &'t [Tensor],
    weights: Option<&'t Tensor>,
    masks: &'t [Option<Tensor>],
) -> DivisorPart<'t> {
    (
        ys.iter().map(Tensor::data).collect(),
        weights.map(Tensor::data),
        masks.iter().map(|m| m.as_ref().map(Tensor::data)).collect(),
    )
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

/// Each output's metrics' states ([`crate::metrics::Metric::state`]), outputs and metrics in order.
pub(crate) type MetricStates = Vec<Vec<Vec<f32>>>;

/// What one shard's forward and backward pass gave: its share of the losses, its predictions (or its metric
/// states, when the step merges them) and, when its loss is finite, one gradient per trainable weight (in
/// `trainable_weights` order; `None` for a weight the loss does not reach).
pub(crate) struct ShardResult {
    pub(crate) loss: f64,
    pub(crate) output_losses: Vec<f64>,
    pub(crate) predictions: Vec<Arc<ArrayD<f32>>>,
    pub(crate) metric_states: Option<MetricStates>,
    pub(crate) grads: Option<Vec<Option<Gradient>>>,
    pub(crate) forward: std::time::Duration,
    pub(crate) backward: std::time::Duration,
}

/// One shard's forward and backward pass, its gradients taken for `variables` (the network's trainable
/// weights); with `metric_masks` (the shard's output masks) its metric states instead of its predictions.
#[allow(clippy::too_many_arguments)]
fn shard_pass(
    network: &Network,
    variables: &[rkeras_tensor::Variable],
    task: &Task<'_>,
    shard: &Shard,
    divisors: &[f64],
    seed: u64,
    penalize: bool,
    batch: usize,
    metric_masks: Option<&[Option<Tensor>]>,
) -> Result<ShardResult> {
    let started = Instant::now();
    let mut rng = <StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let mut ctx = CallContext {
        training: true,
        rng: &mut rng,
    };
    let (outs, activity) =
        network.forward_outputs_regularized(&shard.inputs, &mut ctx, task.wants_logits, batch)?;
    check_outputs(&outs, &shard.ys)?;
    let (loss, output_losses) =
        weighted_losses(task, &shard.ys, &outs, shard.weights.as_ref(), divisors)?;
    let loss = crate::regularization::add_penalty(network, loss, penalize)?;
    let loss = crate::regularization::add_activity(loss, activity)?;
    let loss_value = f64::from(loss.to_scalar()?);
    let mut predictions: Vec<Arc<ArrayD<f32>>> = outs.iter().map(|o| o.output.data_arc()).collect();
    drop(outs);
    let metric_states = match metric_masks {
        Some(masks) => {
            let states = shard_metric_states(task, &shard.ys, &predictions, masks)?;
            predictions.clear();
            Some(states)
        }
        None => None,
    };
    let forward = started.elapsed();
    let grads = if loss_value.is_finite() {
        let mut grads = loss.backward()?;
        Some(
            variables
                .iter()
                .map(|v| grads.remove_gradient_var(v))
                .collect(),
        )
    } else {
        None
    };
    Ok(ShardResult {
        loss: loss_value,
        output_losses,
        predictions,
        metric_states,
        grads,
        forward,
        backward: started.elapsed() - forward,
    })
}

/// Each output's metrics, fresh, updated with a shard's targets and predictions (the output's mask as their
/// sample weights): their states, which the step merges in shard order.
fn shard_metric_states(
    task: &Task<'_>,
    ys: &[Tensor],
    predictions: &[Arc<ArrayD<f32>>],
    masks: &[Option<Tensor>],
) -> Result<MetricStates> {
    task.outputs
        .iter()
        .zip(ys)
        .zip(predictions)
        .enumerate()
        .map(|(i, ((output, y), prediction))| {
            let mask = masks.get(i).and_then(Option::as_ref).map(Tensor::data);
            output
                .metrics
                .iter()
                .map(|metric| {
                    let mut twin = metric.fresh();
                    twin.update_state(y.data(), prediction, mask)?;
                    twin.state().ok_or_else(|| {
                        EngineError::invalid(
                            "metrics",
                            format!("metric `{}` has no state to merge", metric.name),
                        )
                    })
                })
                .collect()
        })
        .collect()
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
    // Each shard's output masks, known before the shards run so that every shard divides by the whole
    // batch's kept steps.
    let masks: Vec<Vec<Option<Tensor>>> = shards
        .iter()
        .map(|s| network.output_masks(&s.inputs))
        .collect::<std::result::Result<_, _>>()?;
    // With several shards (or ranks) each shard updates fresh copies of the metrics and the step merges
    // their states in shard order, so that ranks send each other a few sums instead of predictions.
    let merge = (shards.len() > 1 || compiled.collective.is_some())
        && compiled
            .outputs
            .iter()
            .all(|o| o.metrics.iter().all(|m| m.state().is_some()));
    let variables = network.trainable_weights();
    let crate::collective::Shards {
        mut results,
        grads,
        updated,
    } = {
        let collective = compiled.collective.clone();
        let step = compiled.collective_steps;
        compiled.collective_steps += 1;
        let mut blocks = compiled.block_optimizer.take();
        let sharded = (compiled.shard_optimizer && collective.is_some()).then(|| {
            crate::collective::ShardedStep {
                blocks: &mut blocks,
                full: compiled.optimizer.as_ref(),
                weights: &variables,
            }
        });
        let task = &Task::of(compiled);
        let parts: Vec<_> = shards
            .iter()
            .zip(&masks)
            .map(|(s, m)| divisor_part(&s.ys, s.weights.as_ref(), m))
            .collect();
        let divisors = &batch_divisors(network, task, &parts, batch);
        // Every shard's result: computed here, or by the rank that owns it when training across processes.
        let outcome = crate::collective::run_shards(
            collective.as_deref(),
            step,
            shards.len(),
            |i| {
                shard_pass(
                    network,
                    &variables,
                    task,
                    &shards[i],
                    divisors,
                    seeds[i],
                    i == 0,
                    batch,
                    merge.then_some(&masks[i][..]),
                )
            },
            sharded,
        );
        compiled.block_optimizer = blocks;
        outcome?
    };
    let parallel_wall = parallel_started.elapsed();
    let loss_value: f64 = results.iter().map(|r| r.loss).sum();
    let output_losses = add_up(results.iter().map(|r| r.output_losses.as_slice()));
    let metric_states = merge.then(|| {
        results
            .iter_mut()
            .map(|r| r.metric_states.take().unwrap_or_default())
            .collect::<Vec<_>>()
    });
    let (ys, predictions) = match (shards, results.as_slice()) {
        _ if merge => (Vec::new(), Vec::new()),
        ([one], [r]) => (
            one.ys.iter().map(Tensor::data_arc).collect(),
            r.predictions.clone(),
        ),
        _ => {
            let outputs = compiled.outputs.len();
            let mut ys = Vec::with_capacity(outputs);
            let mut predictions = Vec::with_capacity(outputs);
            for i in 0..outputs {
                ys.push(Arc::new(concatenate(
                    shards.iter().filter_map(|s| s.ys.get(i).map(Tensor::data)),
                )?));
                predictions.push(Arc::new(concatenate(
                    results
                        .iter()
                        .filter_map(|r| r.predictions.get(i).map(|p| &**p)),
                )?));
            }
            (ys, predictions)
        }
    };
    let masks = join_masks(&masks, compiled.outputs.len())?;
    let mut timing = StepTiming {
        parallel_wall,
        shards: results.iter().map(|r| (r.forward, r.backward)).collect(),
        optimizer: Default::default(),
    };
    let mut spent_gradients = Vec::new();
    if updated {
        // The ranks stepped the optimizer block by block and gathered the updated weights.
        let started = Instant::now();
        network.apply_constraints()?;
        timing.optimizer = started.elapsed();
    }
    if let (true, Some(summed)) = (loss_value.is_finite(), grads) {
        let started = Instant::now();
        // The shards' gradients summed in shard order; an embedding table's gradient stays rows (ids, values
        // and per-lookup squares), a weight the loss does not reach gets zeros.
        let grads: Vec<Gradient> = variables
            .iter()
            .zip(summed.into_iter().chain(std::iter::repeat_with(|| None)))
            .map(|(v, g)| {
                g.unwrap_or_else(|| {
                    Gradient::Dense(ndarray::ArrayD::zeros(ndarray::IxDyn(&v.shape())))
                })
            })
            .collect();
        let grad_refs: Vec<rkeras_tensor::GradientRef<'_>> =
            grads.iter().map(Gradient::as_ref).collect();
        // Update every weight in place (the graphs are gone, so no copy is made).
        let mut guards: Vec<_> = variables.iter().map(|v| v.write()).collect();
        let mut value_refs: Vec<&mut ndarray::ArrayD<f32>> =
            guards.iter_mut().map(|g| &mut **g).collect();
        if compiled.optimizer.excludes_from_weight_decay() {
            // Keras's TensorFlow variable names: `{layer}/{weight}`, in `trainable_weights` order.
            let (paths, ids): (Vec<String>, Vec<rkeras_tensor::TensorId>) = network
                .layers()
                .iter()
                .flat_map(|layer| {
                    let layer_name = layer.name().to_string();
                    layer
                        .weights()
                        .into_iter()
                        .filter(|w| w.trainable())
                        .map(move |w| (format!("{layer_name}/{}", w.name()), w.id()))
                })
                .unzip();
            let names: Vec<&str> = paths.iter().map(String::as_str).collect();
            compiled.optimizer.identify_variables(&names, &ids);
        }
        compiled.optimizer.apply(&mut value_refs, &grad_refs)?;
        drop(value_refs);
        drop(guards);
        network.apply_constraints()?;
        drop(grad_refs);
        spent_gradients.extend(grads.into_iter().filter_map(|grad| match grad {
            Gradient::Dense(grad) => Some(grad),
            _ => None,
        }));
        timing.optimizer = started.elapsed();
    }
    Ok(StepResult {
        loss: loss_value,
        output_losses,
        ys,
        predictions,
        masks,
        metric_states,
        batch,
        timing,
        spent_gradients,
    })
}

/// Each output's mask over the whole batch: the shards' masks joined (`None` for an output without one).
fn join_masks(
    shard_masks: &[Vec<Option<Tensor>>],
    outputs: usize,
) -> Result<Vec<Option<Arc<ArrayD<f32>>>>> {
    (0..outputs)
        .map(|i| {
            let parts: Option<Vec<&ArrayD<f32>>> = shard_masks
                .iter()
                .map(|m| m.get(i).and_then(Option::as_ref).map(Tensor::data))
                .collect();
            match parts {
                Some(parts) if parts.len() == 1 => Ok(Some(Arc::new(parts[0].clone()))),
                Some(parts) => Ok(Some(Arc::new(concatenate(parts.into_iter())?))),
                None => Ok(None),
            }
        })
        .collect()
}

/// The shards' arrays joined back into the batch, along the sample axis.
fn concatenate<'a>(parts: impl Iterator<Item = &'a ArrayD<f32>>) -> Result<ArrayD<f32>> {
    let views: Vec<_> = parts.map(|a| a.view()).collect();
    ndarray::concatenate(ndarray::Axis(0), &views)
        .map_err(|e| EngineError::invalid("y", e.to_string()))
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
        let batch = ys
            .first()
            .and_then(|y| y.shape().first().copied())
            .unwrap_or(0);
        let (outs, activity) =
            network.forward_outputs_regularized(inputs, &mut ctx, task.wants_logits, batch)?;
        check_outputs(&outs, ys)?;
        let masks: Vec<Option<Tensor>> = outs.iter().map(|o| o.mask.clone()).collect();
        let divisors = batch_divisors(network, task, &[divisor_part(ys, weights, &masks)], batch);
        let (loss, output_losses) = weighted_losses(task, ys, &outs, weights, &divisors)?;
        let loss = crate::regularization::add_penalty(network, loss, true)?;
        let loss = crate::regularization::add_activity(loss, activity)?;
        let loss = f64::from(loss.to_scalar()?);
        Ok(StepResult {
            loss,
            output_losses,
            ys: ys.iter().map(Tensor::data_arc).collect(),
            predictions: outs.iter().map(|o| o.output.data_arc()).collect(),
            masks: masks
                .iter()
                .map(|m| m.as_ref().map(Tensor::data_arc))
                .collect(),
            metric_states: None,
            batch,
            timing: StepTiming::default(),
            spent_gradients: Vec::new(),
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

/// The running means of the loss and of each output's loss over an epoch (each batch weighted by its size), and
/// the pass's metric twins: fresh copies of each output's compiled metrics, updated batch by batch with that
/// output's targets and predictions (Keras's per-epoch accumulation; `metrics` are unweighted, as Keras's
/// `metrics` argument is).
#[derive(Debug, Default, Clone)]
pub(crate) struct EpochMeans {
    loss_sum: f64,
    output_loss_sums: Vec<f64>,
    samples: usize,
    metrics: Vec<Vec<crate::metrics::Metric>>,
}

impl EpochMeans {
    pub(crate) fn add(&mut self, step: &StepResult, compiled: &Compiled) -> Result<()> {
        self.loss_sum += step.loss * step.batch as f64;
        if self.output_loss_sums.len() < step.output_losses.len() {
            self.output_loss_sums.resize(step.output_losses.len(), 0.0);
        }
        for (sum, v) in self.output_loss_sums.iter_mut().zip(&step.output_losses) {
            *sum += v * step.batch as f64;
        }
        self.samples += step.batch;
        if !self.matches(compiled) {
            self.metrics = fresh_metrics(compiled);
        }
        if let Some(shards) = &step.metric_states {
            for shard in shards {
                for (metrics, states) in self.metrics.iter_mut().zip(shard) {
                    for (metric, state) in metrics.iter_mut().zip(states) {
                        metric.merge_state(state)?;
                    }
                }
            }
            return Ok(());
        }
        for (i, ((metrics, y), predictions)) in self
            .metrics
            .iter_mut()
            .zip(&step.ys)
            .zip(&step.predictions)
            .enumerate()
        {
            // Keras's metrics take an output's mask as their sample weights.
            let mask = step.masks.get(i).and_then(Option::as_deref);
            for metric in metrics {
                metric.update_state(y, predictions, mask)?;
            }
        }
        Ok(())
    }

    /// Whether the twins are those of `compiled`'s metrics.
    fn matches(&self, compiled: &Compiled) -> bool {
        self.metrics.len() == compiled.outputs.len()
            && self
                .metrics
                .iter()
                .zip(&compiled.outputs)
                .all(|(twins, output)| twins.len() == output.metrics.len())
    }

    /// `loss` then each metric under its name; with several outputs, Keras 3's `loss`, `<output>_loss` for
    /// each output, then `<output>_<metric>` (see [`crate::output_task::log_names`]).
    pub(crate) fn logs(&self, compiled: &Compiled) -> rkeras_callbacks::Logs {
        let n = self.samples.max(1) as f64;
        let mut logs = rkeras_callbacks::Logs::new();
        logs.insert("loss".to_string(), self.loss_sum / n);
        let several = compiled.outputs.len() > 1;
        if several {
            for (i, output) in compiled.outputs.iter().enumerate() {
                let sum = self.output_loss_sums.get(i).copied().unwrap_or(0.0);
                logs.insert(format!("{}_loss", output.name), sum / n);
            }
        }
        let fresh;
        let metrics = if self.matches(compiled) {
            &self.metrics
        } else {
            fresh = fresh_metrics(compiled);
            &fresh
        };
        for (output, twins) in compiled.outputs.iter().zip(metrics) {
            let prefix = if several {
                format!("{}_", output.name)
            } else {
                String::new()
            };
            twins.iter().for_each(|m| m.log_into(&mut logs, &prefix));
        }
        logs
    }
}

/// Reset copies of each output's compiled metrics.
fn fresh_metrics(compiled: &Compiled) -> Vec<Vec<crate::metrics::Metric>> {
    compiled
        .outputs
        .iter()
        .map(|o| o.metrics.iter().map(|m| m.fresh()).collect())
        .collect()
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
