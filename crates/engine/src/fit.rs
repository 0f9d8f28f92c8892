//! `fit`: the epoch loop with validation, shuffling, sample weights and callbacks.

use crate::control::FitControl;
use crate::data::{check_arrays, check_batch_size, mix_seed, row_range, take_rows};
use crate::error::{EngineError, Result};
use crate::fit_config::FitConfig;
use crate::model::Model;
use crate::resume_state::ResumeState;
use crate::saving;
use crate::train_step::{EpochMeans, Shard, shard_indices, train_step};
use ndarray::{Array1, ArrayD, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rkeras_callbacks::console::Carried;
use rkeras_callbacks::{Callback, CallbackList, History, Logs, RunParams};
use rkeras_tensor::Tensor;

/// Runs `f` on a worker of rayon's global pool (in place when already on one), carrying the calling thread's
/// `console::capture` state there and back, so that what the callbacks print is recorded as if `fit` ran here.
fn in_worker<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let carried = Carried::take();
    let (result, carried) = rayon::scope(move |_| carried.run(f));
    carried.restore();
    result
}

/// RNG streams: every epoch's shuffle and dropout come from `(seed, epoch)`, so a run resumed at any epoch
/// continues exactly as an uninterrupted one.
const SHUFFLE_STREAM: u64 = 1;
const DROPOUT_STREAM: u64 = 2;

pub(crate) fn epoch_rng(seed: u64, epoch: usize, stream: u64) -> StdRng {
    StdRng::seed_from_u64(mix_seed(mix_seed(seed, stream), epoch as u64))
}

/// Training data after the validation split.
struct Split {
    x: Vec<ArrayD<f32>>,
    y: ArrayD<f32>,
    weights: Option<Array1<f32>>,
    validation: Option<(Vec<ArrayD<f32>>, ArrayD<f32>)>,
}

fn split(
    model: &Model,
    x: &[ArrayD<f32>],
    y: &ArrayD<f32>,
    config: &mut FitConfig<'_>,
) -> Result<Split> {
    let n = check_arrays(&model.network, x, Some(y), "x")?;
    let mut weights = sample_weights(y, config, n)?;
    if let Some((vx, vy)) = config.validation_data.take() {
        check_arrays(&model.network, &vx, Some(&vy), "validation_data.x")?;
        return Ok(Split {
            x: x.to_vec(),
            y: y.clone(),
            weights,
            validation: Some((vx, vy)),
        });
    }
    let v = config.validation_split;
    if !(0.0..1.0).contains(&v) || v.is_nan() {
        return Err(EngineError::invalid(
            "validation_split",
            format!("expected a value in [0, 1), received {v}"),
        ));
    }
    if v == 0.0 {
        return Ok(Split {
            x: x.to_vec(),
            y: y.clone(),
            weights,
            validation: None,
        });
    }
    // Keras: the first floor(n·(1−v)) samples train, the LAST ones validate, split before any shuffling.
    let train = (n as f64 * (1.0 - v)).floor() as usize;
    if train == 0 || train == n {
        return Err(EngineError::invalid(
            "validation_split",
            format!(
                "{v} of {n} samples leaves {train} for training and {} for validation; both must be non-empty",
                n - train
            ),
        ));
    }
    let head = |a: &ArrayD<f32>| row_range(a, 0, train);
    let tail = |a: &ArrayD<f32>| row_range(a, train, n);
    if let Some(w) = weights.as_mut() {
        *w = w.slice(ndarray::s![..train]).to_owned();
    }
    Ok(Split {
        x: x.iter().map(head).collect(),
        y: head(y),
        weights,
        validation: Some((x.iter().map(tail).collect(), tail(y))),
    })
}

/// Per-sample loss weights from `sample_weight` and `class_weight` (multiplied when both are given).
fn sample_weights(
    y: &ArrayD<f32>,
    config: &FitConfig<'_>,
    n: usize,
) -> Result<Option<Array1<f32>>> {
    let mut weights: Option<Array1<f32>> = None;
    if let Some(w) = &config.sample_weight {
        if w.len() != n {
            return Err(EngineError::invalid(
                "sample_weight",
                format!("{} weights for {n} samples", w.len()),
            ));
        }
        if let Some(bad) = w.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(EngineError::invalid(
                "sample_weight",
                format!("weights must be finite and >= 0, received {bad}"),
            ));
        }
        weights = Some(w.clone());
    }
    if let Some(class_weight) = &config.class_weight {
        let classes: Vec<usize> = if y.ndim() >= 2 && y.shape()[y.ndim() - 1] > 1 {
            y.lanes(Axis(y.ndim() - 1))
                .into_iter()
                .map(|lane| {
                    lane.iter()
                        .enumerate()
                        .fold(0, |best, (i, &v)| if v > lane[best] { i } else { best })
                })
                .collect()
        } else {
            y.iter().map(|&v| v as usize).collect()
        };
        let mut w = weights.unwrap_or_else(|| Array1::ones(n));
        for (wi, class) in w.iter_mut().zip(classes) {
            *wi *= class_weight.get(&class).copied().unwrap_or(1.0);
        }
        weights = Some(w);
    }
    Ok(weights)
}

/// Every key the epoch logs can hold.
fn log_keys(model: &Model, validates: bool) -> Vec<String> {
    let mut keys = model.metrics_names();
    if validates {
        let val: Vec<String> = keys.iter().map(|k| format!("val_{k}")).collect();
        keys.extend(val);
    }
    keys.push("learning_rate".to_string());
    keys
}

impl Model {
    /// Trains the model (Keras's `fit`): `x` holds one array per model input (`[samples, ...]`), `y` the
    /// targets. Returns the per-epoch [`History`].
    pub fn fit(
        &mut self,
        x: &[ArrayD<f32>],
        y: &ArrayD<f32>,
        config: FitConfig<'_>,
    ) -> Result<History> {
        // The loop runs on a worker of rayon's pool: each batch's two shards then run on this worker and one
        // other, instead of the calling thread handing both to the pool and sleeping until they finish.
        in_worker(|| self.fit_on_current_thread(x, y, config))
    }

    fn fit_on_current_thread(
        &mut self,
        x: &[ArrayD<f32>],
        y: &ArrayD<f32>,
        mut config: FitConfig<'_>,
    ) -> Result<History> {
        self.compiled("fit")?;
        check_batch_size(config.batch_size)?;
        if config.validation_freq == 0 {
            return Err(EngineError::invalid(
                "validation_freq",
                "expected a positive integer, received 0",
            ));
        }
        let shard_count = config.shard_count();
        if shard_count == 0 {
            return Err(EngineError::invalid(
                "shards",
                "expected a positive integer, received 0",
            ));
        }
        let y = crate::validate::fit_arguments(self, x, y, &mut config)?;
        let data = split(self, x, &y, &mut config)?;
        let n = data.y.shape()[0];
        let steps = n.div_ceil(config.batch_size);
        let params = RunParams {
            epochs: config.epochs,
            steps,
            verbose: config.verbose,
            log_keys: log_keys(self, data.validation.is_some()),
        };
        let user: Vec<Box<dyn Callback + '_>> = config
            .callbacks
            .drain(..)
            .map(|c| Box::new(c) as Box<dyn Callback + '_>)
            .collect();
        let mut callbacks = CallbackList::for_fit(user, config.verbose);
        let mut ctl = FitControl {
            model: self,
            stop: false,
            initial_epoch: None,
            pending_backup: None,
            restored: None,
            seed: config.seed,
        };
        callbacks.on_train_begin(&params, &mut ctl)?;
        if let Some(state) = ctl.restored.take() {
            callbacks.load_states(&state.callback_states)?;
            callbacks.load_weight_states(state.callback_weights)?;
        }
        let start = ctl.initial_epoch.unwrap_or(config.initial_epoch);
        let mut last_logs = Logs::new();
        for epoch in start..config.epochs {
            callbacks.on_epoch_begin(epoch, &mut ctl)?;
            let mut order: Vec<usize> = (0..n).collect();
            if config.shuffle {
                order.shuffle(&mut epoch_rng(ctl.seed, epoch, SHUFFLE_STREAM));
            }
            let mut dropout_rng = epoch_rng(ctl.seed, epoch, DROPOUT_STREAM);
            let mut means = EpochMeans::default();
            for (batch, indices) in order.chunks(config.batch_size).enumerate() {
                callbacks.on_train_batch_begin(batch, &mut ctl)?;
                // Batch statistics (BatchNormalization) need the whole batch in one forward pass.
                let parts = if ctl.model.network.uses_batch_statistics() {
                    vec![indices]
                } else {
                    shard_indices(indices, shard_count)
                };
                let shards: Vec<Shard> = parts
                    .into_iter()
                    .map(|part| Shard {
                        inputs: data
                            .x
                            .iter()
                            .map(|a| Tensor::new(take_rows(a, part)))
                            .collect(),
                        y: Tensor::new(take_rows(&data.y, part)),
                        weights: data
                            .weights
                            .as_ref()
                            .map(|w| Tensor::new(w.select(Axis(0), part).into_dyn())),
                    })
                    .collect();
                let compiled = ctl
                    .model
                    .compiled
                    .as_mut()
                    .ok_or(EngineError::NotCompiled("fit"))?;
                let step = train_step(
                    &ctl.model.network,
                    compiled,
                    &shards,
                    indices.len(),
                    &mut dropout_rng,
                )?;
                means.add(&step);
                let compiled = ctl.model.compiled("fit")?;
                let batch_logs = means.logs(compiled);
                callbacks.on_train_batch_end(batch, &batch_logs, &mut ctl)?;
                write_pending_backup(&mut ctl, &callbacks)?;
                if ctl.stop {
                    break;
                }
            }
            let mut logs = means.logs(ctl.model.compiled("fit")?);
            if let Some((vx, vy)) = &data.validation {
                if (epoch + 1) % config.validation_freq == 0 {
                    callbacks.on_test_begin(&mut ctl)?;
                    let val = ctl.model.evaluate_logs(vx, vy, config.batch_size)?;
                    callbacks.on_test_end(&val, &mut ctl)?;
                    for (k, v) in val {
                        logs.insert(format!("val_{k}"), v);
                    }
                }
            }
            logs.insert(
                "learning_rate".to_string(),
                ctl.model.learning_rate().unwrap_or(0.0),
            );
            callbacks.on_epoch_end(epoch, &mut logs, &mut ctl)?;
            write_pending_backup(&mut ctl, &callbacks)?;
            last_logs = logs;
            if ctl.stop {
                break;
            }
        }
        callbacks.on_train_end(&last_logs, &mut ctl)?;
        Ok(callbacks.take_history().unwrap_or_default())
    }
}

fn write_pending_backup(ctl: &mut FitControl<'_>, callbacks: &CallbackList<'_>) -> Result<()> {
    if let Some((path, epoch)) = ctl.pending_backup.take() {
        let state = ResumeState {
            epoch,
            seed: ctl.seed,
            callback_states: callbacks.states(),
            callback_weights: callbacks.weight_states(),
        };
        saving::write_backup(ctl.model, &path, &state)?;
    }
    Ok(())
}
