//! `fit`: the epoch loop with validation, shuffling, sample weights and callbacks.

use crate::data::{check_arrays, check_batch_size, mix_seed, take_rows};
use crate::error::{EngineError, Result};
use crate::evaluate_pass::TestBatches;
use crate::fit_config::FitConfig;
use crate::inputs::{AsInputs, InputArray, InputRef, Samples};
use crate::model::Model;
use crate::targets::AsTargets;
use crate::train_step::{Shard, shard_indices};
use crate::training_loop::TrainingLoop;
use ndarray::{Array1, ArrayD, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rkeras_callbacks::console::Carried;
use rkeras_callbacks::{History, RunParams};
use rkeras_tensor::Tensor;

/// Runs `f` on a worker of rayon's global pool (in place when already on one), carrying the calling thread's
/// `console::capture` state there and back, so that what the callbacks print is recorded as if `fit` ran here.
pub(crate) fn in_worker<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let carried = Carried::take();
    let (result, carried) = rayon::scope(move |_| carried.run(f));
    carried.restore();
    result
}

/// RNG streams: every epoch's shuffle and dropout come from `(seed, epoch)`, so a run resumed at any epoch
/// continues exactly as an uninterrupted one.
pub(crate) const SHUFFLE_STREAM: u64 = 1;
pub(crate) const DROPOUT_STREAM: u64 = 2;

pub(crate) fn epoch_rng(seed: u64, epoch: usize, stream: u64) -> StdRng {
    StdRng::seed_from_u64(mix_seed(mix_seed(seed, stream), epoch as u64))
}

/// The training inputs after the validation split.
enum TrainInputs<'x> {
    /// The caller's inputs themselves (no copy of a whole dataset).
    Given(Vec<InputRef<'x>>),
    /// The first rows, cut by `validation_split`.
    Cut(Vec<InputArray>),
}

impl TrainInputs<'_> {
    fn list(&self) -> Vec<InputRef<'_>> {
        match self {
            TrainInputs::Given(x) => x.clone(),
            TrainInputs::Cut(x) => x.input_list(),
        }
    }
}

/// Training data after the validation split.
struct Split<'x> {
    /// The caller's inputs themselves unless `validation_split` cuts them.
    x: TrainInputs<'x>,
    /// One target array per output.
    ys: Vec<ArrayD<f32>>,
    weights: Option<Array1<f32>>,
    validation: Option<crate::fit_config::ValidationData>,
}

fn split<'x>(
    model: &Model,
    x: Vec<InputRef<'x>>,
    ys: Vec<ArrayD<f32>>,
    config: &mut FitConfig<'_>,
) -> Result<Split<'x>> {
    let n = check_arrays(&model.network, &x, ys.first(), "x")?;
    let mut weights = match ys.first() {
        Some(y) => sample_weights(y, config, n)?,
        None => None,
    };
    if let Some((vx, vys)) = config.validation_data.take() {
        check_arrays(&model.network, &vx, vys.first(), "validation_data.x")?;
        return Ok(Split {
            x: TrainInputs::Given(x),
            ys,
            weights,
            validation: Some((vx, vys)),
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
            x: TrainInputs::Given(x),
            ys,
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
    let head = |a: &ArrayD<f32>| crate::data::row_range(a, 0, train);
    let tail = |a: &ArrayD<f32>| crate::data::row_range(a, train, n);
    if let Some(w) = weights.as_mut() {
        *w = w.slice(ndarray::s![..train]).to_owned();
    }
    Ok(Split {
        x: TrainInputs::Cut(x.iter().map(|a| a.rows(0, train)).collect()),
        ys: ys.iter().map(head).collect(),
        weights,
        validation: Some((
            x.iter().map(|a| a.rows(train, n)).collect(),
            ys.iter().map(tail).collect(),
        )),
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
        crate::data::check_sample_weight(w, n)?;
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
pub(crate) fn log_keys(model: &Model, validates: bool) -> Vec<String> {
    let mut keys = model.metrics_names();
    if let Some(c) = &model.compiled {
        keys.extend(crate::output_task::element_names(&c.outputs));
    }
    if validates {
        let val: Vec<String> = keys.iter().map(|k| format!("val_{k}")).collect();
        keys.extend(val);
    }
    keys.push("learning_rate".to_string());
    keys
}

impl Model {
    /// Trains the model (Keras's `fit`): `x` holds one array per model input (`[samples, ...]`: f32 values, or
    /// bytes made f32 one batch at a time, see [`crate::inputs`]), `y` the targets: an array, or one array per
    /// output in output order (see [`crate::AsTargets`]). Returns the per-epoch [`History`]. A wrong number of
    /// target arrays, or targets that do not fit their output's loss, are errors before any callback runs,
    /// naming the output.
    pub fn fit<X: AsInputs + ?Sized, Y: AsTargets + ?Sized>(
        &mut self,
        x: &X,
        y: &Y,
        config: FitConfig<'_>,
    ) -> Result<History> {
        let (x, y) = (x.input_list(), y.target_list());
        // The loop runs on a worker of rayon's pool: each batch's two shards then run on this worker and one
        // other, instead of the calling thread handing both to the pool and sleeping until they finish.
        in_worker(|| self.fit_on_current_thread(x, &y, config))
    }

    fn fit_on_current_thread(
        &mut self,
        x: Vec<InputRef<'_>>,
        y: &[&ArrayD<f32>],
        mut config: FitConfig<'_>,
    ) -> Result<History> {
        self.compiled("fit")?;
        check_batch_size(config.batch_size)?;
        let shard_count = check_loop_arguments(&config)?;
        let ys = crate::validate::fit_arguments(self, &x, y, &mut config)?;
        let data = split(self, x, ys, &mut config)?;
        let train_x = data.x.list();
        let n = data.ys.first().map_or(0, |y| y.shape()[0]);
        let params = RunParams {
            epochs: config.epochs,
            steps: n.div_ceil(config.batch_size),
            verbose: config.verbose,
            log_keys: log_keys(self, data.validation.is_some()),
        };
        let (mut run, start) = TrainingLoop::begin(self, &mut config, &params, shard_count)?;
        for epoch in start..config.epochs {
            run.begin_epoch(epoch)?;
            let mut order: Vec<usize> = (0..n).collect();
            if config.shuffle {
                order.shuffle(&mut epoch_rng(run.seed(), epoch, SHUFFLE_STREAM));
            }
            let mut dropout_rng = epoch_rng(run.seed(), epoch, DROPOUT_STREAM);
            for (batch, indices) in order.chunks(config.batch_size).enumerate() {
                run.begin_batch(batch)?;
                let shards: Vec<Shard> = shard_indices(indices, run.shards_per_batch())
                    .into_iter()
                    .map(|part| Shard {
                        inputs: train_x
                            .iter()
                            .map(|a| Tensor::new(a.rows_f32(part)))
                            .collect(),
                        ys: data
                            .ys
                            .iter()
                            .map(|y| Tensor::new(take_rows(y, part)))
                            .collect(),
                        weights: data
                            .weights
                            .as_ref()
                            .map(|w| Tensor::new(w.select(Axis(0), part).into_dyn())),
                    })
                    .collect();
                if run.train_batch(batch, &shards, indices.len(), &mut dropout_rng)? {
                    break;
                }
            }
            let validation = data.validation.as_ref().map(|(x, ys)| {
                let batch_size = config.batch_size;
                let x = x.input_list();
                (
                    TestBatches::Arrays { x, ys, batch_size },
                    config.validation_freq,
                )
            });
            if run.end_epoch(epoch, validation)? {
                break;
            }
        }
        run.finish()
    }
}

/// Checks `validation_freq` and the shard count; returns the shard count.
pub(crate) fn check_loop_arguments(config: &FitConfig<'_>) -> Result<usize> {
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
    Ok(shard_count)
}
