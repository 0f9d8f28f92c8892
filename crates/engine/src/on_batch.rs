//! Batch-level calls (Keras's `train_on_batch`, `test_on_batch`): one step on one batch, no callbacks.

use crate::data::check_sample_weight;
use crate::error::{EngineError, Result};
use crate::fit::in_worker;
use crate::model::Model;
use crate::targets::AsTargets;
use crate::train_step::{EpochMeans, Shard, Task, shard_indices, test_step, train_step};
use crate::validate::model_targets;
use ndarray::{Array1, ArrayD, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_callbacks::Logs;
use rkeras_tensor::Tensor;

impl Model {
    /// One gradient step on one batch (Keras's `train_on_batch(x, y, sample_weight, return_dict=True)`):
    /// returns the batch's `loss` and metrics, measured before the update, in Keras's order (`logs.values()`
    /// is Keras's list). As in Keras 3 the metrics are reset first, so each call reports its batch alone.
    ///
    /// The arithmetic is that of one step of `fit` with the same shards: `k` calls on consecutive batches
    /// give the weights of one epoch of `fit(shuffle=false, seed=0)` over those batches, bit for bit (the
    /// dropout stream continues from call to call; `compile` restarts it).
    ///
    /// ```
    /// use rkeras_engine::Model;
    /// use rkeras_layers::{Dense, Input, LayerCall};
    /// let x = Input::new(&[1]);
    /// let mut model = Model::new(&[x.clone()], &Dense::new(1).with_bias(false).call(&x)?)?;
    /// model.compile(rkeras_optim::SGD::new(0.1)?, "mse", &[])?;
    /// model.set_weights(&[ndarray::arr2(&[[0.5f32]]).into_dyn()])?;
    /// let xs = ndarray::arr2(&[[1.0f32], [2.0]]).into_dyn();
    /// let ys = ndarray::arr2(&[[1.0f32], [2.0]]).into_dyn();
    /// let logs = model.train_on_batch(&[xs], &ys, None)?;
    /// // mean((0.5 - 1)^2, (1 - 2)^2) = 0.625; the gradient 2·mean((w·x − y)·x) = −2.5 moves w to 0.75.
    /// assert_eq!(logs["loss"], 0.625);
    /// assert_eq!(model.get_weights()[0][[0, 0]], 0.75);
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn train_on_batch<Y: AsTargets + ?Sized>(
        &mut self,
        x: &[ArrayD<f32>],
        y: &Y,
        sample_weight: Option<&Array1<f32>>,
    ) -> Result<Logs> {
        let y = y.target_list();
        in_worker(|| self.train_on_batch_here(x, &y, sample_weight))
    }

    fn train_on_batch_here(
        &mut self,
        x: &[ArrayD<f32>],
        y: &[&ArrayD<f32>],
        sample_weight: Option<&Array1<f32>>,
    ) -> Result<Logs> {
        let ys = model_targets(self, x, y, "x", "train_on_batch")?;
        let n = ys.first().map_or(0, |y| y.shape()[0]);
        if let Some(w) = sample_weight {
            check_sample_weight(w, n)?;
        }
        let count = if self.network.uses_batch_statistics() {
            1
        } else {
            rayon::current_num_threads()
        };
        let indices: Vec<usize> = (0..n).collect();
        let shards: Vec<Shard> = shard_indices(&indices, count)
            .into_iter()
            .map(|part| Shard {
                inputs: x
                    .iter()
                    .map(|a| Tensor::new(crate::data::take_rows(a, part)))
                    .collect(),
                ys: ys
                    .iter()
                    .map(|y| Tensor::new(crate::data::take_rows(y, part)))
                    .collect(),
                weights: sample_weight.map(|w| Tensor::new(w.select(Axis(0), part).into_dyn())),
            })
            .collect();
        let compiled = self
            .compiled
            .as_mut()
            .ok_or(EngineError::NotCompiled("train_on_batch"))?;
        let mut rng = std::mem::replace(&mut compiled.batch_rng, StdRng::seed_from_u64(0));
        let step = train_step(&self.network, compiled, &shards, n, &mut rng);
        compiled.batch_rng = rng;
        let mut step = step?;
        crate::training_loop::settle_step(compiled, &mut step);
        let mut means = EpochMeans::default();
        means.add(&step, compiled)?;
        Ok(means.logs(compiled))
    }

    /// Loss and metrics on one batch in inference mode (Keras's `test_on_batch(x, y, sample_weight,
    /// return_dict=True)`); the metrics are reset first, as in Keras 3.
    pub fn test_on_batch<Y: AsTargets + ?Sized>(
        &self,
        x: &[ArrayD<f32>],
        y: &Y,
        sample_weight: Option<&Array1<f32>>,
    ) -> Result<Logs> {
        let compiled = self.compiled("test_on_batch")?;
        let ys = model_targets(self, x, &y.target_list(), "x", "test_on_batch")?;
        let n = ys.first().map_or(0, |y| y.shape()[0]);
        if let Some(w) = sample_weight {
            check_sample_weight(w, n)?;
        }
        let inputs: Vec<Tensor> = x.iter().map(|a| Tensor::new(a.clone())).collect();
        let weights = sample_weight.map(|w| Tensor::new(w.clone().into_dyn()));
        let mut rng = StdRng::seed_from_u64(0);
        let step = test_step(
            &self.network,
            &Task::of(compiled),
            &inputs,
            &ys.into_iter().map(Tensor::new).collect::<Vec<_>>(),
            weights.as_ref(),
            &mut rng,
        )?;
        let mut means = EpochMeans::default();
        means.add(&step, compiled)?;
        Ok(means.logs(compiled))
    }
}
