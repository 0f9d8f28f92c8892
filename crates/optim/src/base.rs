//! What every optimizer shares: the base hyper-parameters of Keras's `BaseOptimizer` ([`BaseConfig`]), their
//! validation, and the step driver that checks shapes, creates slots, clips gradients, applies weight decay and
//! counts iterations around each optimizer's own update rule. The code every optimizer file repeats is generated
//! by the macros in `macros.rs`.
//!
//! ```
//! use rkeras_optim::{AdamConfig, OptimError};
//!
//! // Keras allows only one of clipnorm, clipvalue and global_clipnorm.
//! let err = AdamConfig::default().with_clipnorm(1.0).with_clipvalue(0.5).build().unwrap_err();
//! assert!(matches!(err, OptimError::ConflictingClipping { optimizer: "Adam", .. }));
//! ```

use crate::clipping::{self, Clipping};
use crate::error::{OptimError, Result};
use crate::optimizer::OptimizerState;
use crate::schedules::LearningRateSchedule;
use crate::slots::SlotStore;
use ndarray::{ArrayD, ArrayViewD, Axis};
use rayon::prelude::*;
use rkeras_tensor::{GradientRef, IndexedSlices};
use serde_json::{Map, Value, json};

/// The hyper-parameters of Keras's `BaseOptimizer` that rkeras implements.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseConfig {
    /// The optimizer's name, the prefix of its variables' paths. `None` uses Keras 3's default for the class
    /// (`"sgd"`, `"rm_sprop"`, `"adam"`, `"adagrad"`).
    pub name: Option<String>,
    /// The learning rate, finite (in float32) and ≥ 0. Keras holds it in a float32 variable: the optimizer
    /// uses, reports, saves and logs it rounded to float32 ([`BaseConfig::rate`]).
    pub learning_rate: f64,
    /// Decoupled weight decay: before each update, `w ← w − w · weight_decay · learning_rate`. Defaults to `None`.
    pub weight_decay: Option<f64>,
    /// Clips each gradient's L2 norm to this value (> 0). Defaults to `None`.
    pub clipnorm: Option<f64>,
    /// Clamps every gradient element to `[-clipvalue, clipvalue]` (> 0). Defaults to `None`.
    pub clipvalue: Option<f64>,
    /// Scales all gradients so that their global L2 norm is at most this value (> 0). Defaults to `None`.
    pub global_clipnorm: Option<f64>,
    /// Square a row gradient ([`rkeras_tensor::IndexedSlices`], an embedding table's) per lookup, as Keras's
    /// TensorFlow backend does (its gradient is one row per lookup, squared before the rows are summed into
    /// RMSprop's, Adam's, Adagrad's or Adadelta's second-moment slot); `false` squares the summed rows, as Keras's
    /// JAX backend does (its gradients are dense). Defaults to `true`. Not a Keras config key (Keras decides it by
    /// backend), so it is not saved with the optimizer's config.
    pub per_lookup_squares: bool,
    /// Update only the looked-up rows of a parameter with a row gradient, and only their slots, even where Keras
    /// updates every row (RMSprop's and Adam's moments decay at rows not looked up; SGD's momentum keeps moving
    /// them). An approximation that makes such a step cost the rows, not the table, as TensorFlow Addons'
    /// `LazyAdam`; weight decay still applies to every row. Defaults to `false`. Plain SGD and Adagrad update
    /// only the looked-up rows either way (it is exact for them). Not a Keras config key.
    pub lazy_rows: bool,
    /// A learning-rate schedule used instead of `learning_rate` (Keras's `learning_rate=schedule`): evaluated on
    /// the raw iteration count before each step. The rate is then not settable. Defaults to `None`.
    pub schedule: Option<LearningRateSchedule>,
    /// Keep an exponential moving average of the parameters (slot `average`), Keras's `use_ema`. Defaults to
    /// `false`.
    pub use_ema: bool,
    /// The EMA's momentum, in `[0, 1]`: `average ← m·average + (1 − m)·w` after each step (`m = 0` at the first
    /// one). Defaults to `0.99`.
    pub ema_momentum: f64,
    /// Every this many steps (≥ 1) the parameters are overwritten with their average. Defaults to `None`.
    pub ema_overwrite_frequency: Option<u64>,
    /// Accumulate gradients over this many calls (≥ 2; slot `gradient_accumulator`) and update with their mean at
    /// every `n`-th call, Keras's `gradient_accumulation_steps`. Defaults to `None`.
    pub gradient_accumulation_steps: Option<u64>,
}

impl BaseConfig {
    /// Base options with the given learning rate and nothing else set.
    pub fn new(learning_rate: f64) -> Self {
        BaseConfig {
            name: None,
            learning_rate,
            weight_decay: None,
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            per_lookup_squares: true,
            lazy_rows: false,
            schedule: None,
            use_ema: false,
            ema_momentum: 0.99,
            ema_overwrite_frequency: None,
            gradient_accumulation_steps: None,
        }
    }

    /// The learning rate used at the step that follows `iterations` raw steps: the schedule's value then, or the
    /// fixed rate in float32.
    pub fn rate_at(&self, iterations: u64) -> f64 {
        match &self.schedule {
            Some(schedule) => f64::from(schedule.value(iterations)),
            None => self.rate(),
        }
    }

    /// Keras's `optimizer.iterations` after `raw` calls: the number of real updates (`raw / steps` with gradient
    /// accumulation), the step count the update formulas and the EMA see.
    pub fn effective_iterations(&self, raw: u64) -> u64 {
        match self.gradient_accumulation_steps {
            Some(steps) if steps > 0 => raw / steps,
            _ => raw,
        }
    }

    /// The slots the base options add in front of the optimizer's own, in Keras's order: `average` (EMA), then
    /// `gradient_accumulator`.
    pub(crate) fn base_slots(&self) -> Vec<&'static str> {
        let mut slots = Vec::new();
        if self.use_ema {
            slots.push("average");
        }
        if self.gradient_accumulation_steps.is_some() {
            slots.push("gradient_accumulator");
        }
        slots
    }

    /// Checks every base option; `optimizer` names the class in errors.
    pub(crate) fn validate(&self, optimizer: &'static str) -> Result<()> {
        check_learning_rate(optimizer, self.learning_rate)?;
        if let Some(decay) = self.weight_decay {
            check(
                optimizer,
                "weight_decay",
                decay,
                finite_f32(decay) && decay >= 0.0,
                FINITE_NON_NEGATIVE,
            )?;
        }
        for (argument, value) in [
            ("clipnorm", self.clipnorm),
            ("clipvalue", self.clipvalue),
            ("global_clipnorm", self.global_clipnorm),
        ] {
            if let Some(v) = value {
                check(
                    optimizer,
                    argument,
                    v,
                    finite_f32(v) && v > 0.0,
                    FINITE_POSITIVE,
                )?;
            }
        }
        if self.use_ema && !(0.0..=1.0).contains(&self.ema_momentum) {
            return Err(OptimError::InvalidArgument {
                optimizer,
                argument: "ema_momentum",
                expected: "a float in the range [0, 1]",
                value: echo(self.ema_momentum),
            });
        }
        if self.ema_overwrite_frequency == Some(0) {
            return Err(OptimError::InvalidArgument {
                optimizer,
                argument: "ema_overwrite_frequency",
                expected: "an integer >= 1 or None",
                value: "0".into(),
            });
        }
        if let Some(steps) = self.gradient_accumulation_steps.filter(|s| *s < 2) {
            return Err(OptimError::InvalidArgument {
                optimizer,
                argument: "gradient_accumulation_steps",
                expected: "an integer >= 2",
                value: steps.to_string(),
            });
        }
        let set = [self.clipnorm, self.clipvalue, self.global_clipnorm]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if set > 1 {
            return Err(OptimError::ConflictingClipping {
                optimizer,
                clipnorm: self.clipnorm,
                clipvalue: self.clipvalue,
                global_clipnorm: self.global_clipnorm,
            });
        }
        Ok(())
    }

    /// The learning rate as Keras's float32 variable holds it: `learning_rate` rounded to `f32`.
    ///
    /// ```
    /// let base = rkeras_optim::BaseConfig::new(0.1);
    /// assert_eq!(base.rate(), f64::from(0.1f32));
    /// ```
    pub fn rate(&self) -> f64 {
        float32_rate(self.learning_rate)
    }

    /// The clipping a validated config asks for (at most one of the three options is set).
    pub(crate) fn clipping(&self) -> Clipping {
        if let Some(c) = self.clipnorm {
            Clipping::Norm(c as f32)
        } else if let Some(c) = self.global_clipnorm {
            Clipping::GlobalNorm(c as f32)
        } else if let Some(v) = self.clipvalue {
            Clipping::Value(v as f32)
        } else {
            Clipping::None
        }
    }

    /// The name, or `default_name` when none was given.
    pub(crate) fn name_or<'a>(&'a self, default_name: &'a str) -> &'a str {
        self.name.as_deref().unwrap_or(default_name)
    }

    /// Keras 3's base `get_config()` entries, in Keras's key order.
    pub(crate) fn keras_config(&self, default_name: &str) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("name".into(), json!(self.name_or(default_name)));
        let learning_rate = match &self.schedule {
            Some(schedule) => schedule.to_keras(),
            None => json!(self.rate()),
        };
        map.insert("learning_rate".into(), learning_rate);
        map.insert("weight_decay".into(), json!(self.weight_decay));
        map.insert("clipnorm".into(), json!(self.clipnorm));
        map.insert("global_clipnorm".into(), json!(self.global_clipnorm));
        map.insert("clipvalue".into(), json!(self.clipvalue));
        map.insert("use_ema".into(), json!(self.use_ema));
        map.insert("ema_momentum".into(), json!(self.ema_momentum));
        map.insert(
            "ema_overwrite_frequency".into(),
            json!(self.ema_overwrite_frequency),
        );
        map.insert("loss_scale_factor".into(), Value::Null);
        map.insert(
            "gradient_accumulation_steps".into(),
            json!(self.gradient_accumulation_steps),
        );
        map
    }
}

/// Whether `value` is finite once rounded to float32, the precision every update computes in (1e39 is finite in
/// f64 but infinite in f32, and would turn every weight into NaN).
pub(crate) fn finite_f32(value: f64) -> bool {
    value.is_finite() && (value as f32).is_finite()
}

/// What a finite, non-negative float argument must be.
pub(crate) const FINITE_NON_NEGATIVE: &str =
    "a finite float >= 0 (at most 3.4028235e38, float32's largest)";
/// What a finite, positive float argument must be.
pub(crate) const FINITE_POSITIVE: &str =
    "a finite float > 0 (at most 3.4028235e38, float32's largest)";

/// An [`OptimError::InvalidArgument`] unless `valid`.
pub(crate) fn check(
    optimizer: &'static str,
    argument: &'static str,
    value: f64,
    valid: bool,
    expected: &'static str,
) -> Result<()> {
    if valid {
        Ok(())
    } else {
        Err(OptimError::InvalidArgument {
            optimizer,
            argument,
            expected,
            value: echo(value),
        })
    }
}

/// `value` as written back in errors: plain digits, or exponent form when very large or small (`1e39`).
fn echo(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude.is_finite() && magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// `learning_rate` rounded to float32, the precision of Keras's learning-rate variable: every rate set on an
/// optimizer (built, set by a callback, loaded) is held in this precision, so that a saved and restored rate is
/// the same number.
pub(crate) fn float32_rate(learning_rate: f64) -> f64 {
    f64::from(learning_rate as f32)
}

/// A learning rate must be ≥ 0 and finite in float32.
pub(crate) fn check_learning_rate(optimizer: &'static str, learning_rate: f64) -> Result<()> {
    check(
        optimizer,
        "learning_rate",
        learning_rate,
        finite_f32(learning_rate) && learning_rate >= 0.0,
        FINITE_NON_NEGATIVE,
    )
}

/// A decay factor (`rho`, `beta_1`, `beta_2`) must lie in `[0, 1)`.
pub(crate) fn check_decay_rate(
    optimizer: &'static str,
    argument: &'static str,
    value: f64,
) -> Result<()> {
    check(
        optimizer,
        argument,
        value,
        (0.0..1.0).contains(&value),
        "a float in [0, 1)",
    )
}

/// A momentum must lie in `[0, 1]`.
pub(crate) fn check_momentum(optimizer: &'static str, momentum: f64) -> Result<()> {
    check(
        optimizer,
        "momentum",
        momentum,
        (0.0..=1.0).contains(&momentum),
        "a float in [0, 1]",
    )
}

/// An epsilon must be > 0 and finite in float32.
pub(crate) fn check_epsilon(optimizer: &'static str, epsilon: f64) -> Result<()> {
    check(
        optimizer,
        "epsilon",
        epsilon,
        finite_f32(epsilon) && epsilon > 0.0,
        FINITE_POSITIVE,
    )
}

/// Parameters (elements, summed over all parameters) from which an update step spreads the parameters over
/// rayon's threads.
const PARALLEL_UPDATE_ELEMENTS: usize = 16_384;

/// The mutable part every optimizer shares: iteration count, slots and the clipping scratch buffer.
#[derive(Debug, Clone)]
pub(crate) struct BaseState {
    /// Update steps applied so far.
    pub(crate) iterations: u64,
    /// The per-parameter slots.
    pub(crate) slots: SlotStore,
    /// Reused buffer for clipped gradients.
    scratch: Vec<f32>,
    /// The parameters `exclude_from_weight_decay` keeps from weight decay.
    pub(crate) decay_exclusions: crate::weight_decay::DecayExclusions,
}

impl BaseState {
    /// A fresh state whose slots (not yet created) are `slots`.
    pub(crate) fn new(slots: SlotStore) -> Self {
        BaseState {
            iterations: 0,
            slots,
            scratch: Vec::new(),
            decay_exclusions: Default::default(),
        }
    }

    /// One update step: checks every shape, creates the slots at the first step, then for each parameter clips its
    /// gradient, applies weight decay and calls `update(param, gradient, squares, slots)`; finally counts the
    /// step. A row gradient updates only its rows (and their slots) when `exact_rows` says that a zero gradient
    /// changes nothing (and no weight decay is set) or when [`BaseConfig::lazy_rows`] asks for it; otherwise it is
    /// made dense, with its per-lookup squares as `squares` when [`BaseConfig::per_lookup_squares`] is set and
    /// no clipping changes the gradient.
    pub(crate) fn step<F>(
        &mut self,
        optimizer: &'static str,
        base: &BaseConfig,
        params: &mut [&mut ArrayD<f32>],
        grads: &[GradientRef<'_>],
        exact_rows: bool,
        update: F,
    ) -> Result<()>
    where
        F: crate::optimizer_config::UpdateStep,
    {
        if params.len() != grads.len() {
            return Err(OptimError::CountMismatch {
                optimizer,
                params: params.len(),
                grads: grads.len(),
            });
        }
        if params.is_empty() {
            return Ok(());
        }
        for (index, (param, grad)) in params.iter().zip(grads).enumerate() {
            if !grad.has_shape(param.shape()) {
                return Err(OptimError::GradientShapeMismatch {
                    optimizer,
                    index,
                    param: param.shape().to_vec(),
                    grad: grad.shape(),
                });
            }
        }
        self.slots.check_params(optimizer, params)?;
        self.slots.ensure_built(params);

        let lead = base.base_slots().len();
        match base.gradient_accumulation_steps {
            Some(steps) => self.accumulate(optimizer, base, params, grads, steps, lead, &update)?,
            None => self.update_all(optimizer, base, params, grads, exact_rows, lead, &update)?,
        }
        if base.use_ema {
            self.update_moving_average(optimizer, base, params)?;
        }
        self.iterations += 1;
        Ok(())
    }

    /// Keras's gradient accumulation: every call adds its (dense) gradients to the `gradient_accumulator` slots;
    /// every `steps`-th call updates with `(g + accumulated) / steps` (clipped, with weight decay) and resets them.
    #[allow(clippy::too_many_arguments)]
    fn accumulate<F>(
        &mut self,
        optimizer: &'static str,
        base: &BaseConfig,
        params: &mut [&mut ArrayD<f32>],
        grads: &[GradientRef<'_>],
        steps: u64,
        lead: usize,
        update: &F,
    ) -> Result<()>
    where
        F: crate::optimizer_config::UpdateStep,
    {
        let internal = |err: rkeras_tensor::TensorError| OptimError::Internal {
            optimizer,
            reason: format!("row gradient: {err}"),
        };
        let k = lead - 1;
        let is_update = (self.iterations + 1) % steps == 0;
        let slot_lists = self.slots.per_param_mut(optimizer)?;
        let mut averaged = Vec::with_capacity(grads.len());
        for (grad, slots) in grads.iter().zip(slot_lists.iter_mut()) {
            let dense = match grad {
                GradientRef::Dense(g) => std::borrow::Cow::Borrowed(*g),
                GradientRef::Rows(rows) => {
                    std::borrow::Cow::Owned(rows.to_dense().map_err(internal)?)
                }
            };
            let acc = slots.get_mut(k).ok_or(OptimError::Internal {
                optimizer,
                reason: "missing gradient accumulator".into(),
            })?;
            if is_update {
                let divisor = steps as f32;
                averaged.push(
                    ndarray::Zip::from(&*dense)
                        .and(&*acc)
                        .map_collect(|&g, &a| (g + a) / divisor),
                );
                acc.fill(0.0);
            } else {
                ndarray::Zip::from(acc)
                    .and(&*dense)
                    .for_each(|a, &g| *a += g);
            }
        }
        if is_update {
            let refs: Vec<GradientRef<'_>> = averaged.iter().map(GradientRef::Dense).collect();
            self.update_all(optimizer, base, params, &refs, false, lead, update)?;
        }
        Ok(())
    }

    /// Keras's `_update_model_variables_moving_average`, then the periodic overwrite of the parameters with
    /// their average (`ema_overwrite_frequency`).
    fn update_moving_average(
        &mut self,
        optimizer: &'static str,
        base: &BaseConfig,
        params: &mut [&mut ArrayD<f32>],
    ) -> Result<()> {
        let iterations = base.effective_iterations(self.iterations);
        let momentum = if iterations != 0 {
            base.ema_momentum as f32
        } else {
            0.0
        };
        let overwrite = base
            .ema_overwrite_frequency
            .is_some_and(|f| (iterations + 1) % f == 0);
        let slot_lists = self.slots.per_param_mut(optimizer)?;
        for (param, slots) in params.iter_mut().zip(slot_lists.iter_mut()) {
            let average = slots.first_mut().ok_or(OptimError::Internal {
                optimizer,
                reason: "missing moving average".into(),
            })?;
            ndarray::Zip::from(&mut *average)
                .and(&**param)
                .for_each(|a, &w| *a = momentum * *a + (1.0 - momentum) * w);
            if overwrite {
                param.assign(average);
            }
        }
        Ok(())
    }

    /// Keras's `finalize_variable_values`: with EMA, every parameter takes its moving average.
    pub(crate) fn finalize(
        &self,
        optimizer: &'static str,
        base: &BaseConfig,
        params: &mut [&mut ArrayD<f32>],
    ) -> Result<()> {
        if !base.use_ema {
            return Ok(());
        }
        let Some(per_param) = self.slots.built() else {
            return Ok(());
        };
        if per_param.len() != params.len() {
            return Err(OptimError::ParameterCountChanged {
                optimizer,
                expected: per_param.len(),
                received: params.len(),
            });
        }
        for (index, (param, slots)) in params.iter_mut().zip(per_param).enumerate() {
            match slots.first() {
                Some(average) if average.shape() == param.shape() => param.assign(average),
                _ => {
                    return Err(OptimError::SlotShapeMismatch {
                        optimizer,
                        index,
                        slot: "average".into(),
                        slot_shape: slots
                            .first()
                            .map(|a| a.shape().to_vec())
                            .unwrap_or_default(),
                        expected: param.shape().to_vec(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Clipping, weight decay and the optimizer's rule over every parameter; the optimizer's own slots follow the
    /// `lead` base slots.
    #[allow(clippy::too_many_arguments)]
    fn update_all<F>(
        &mut self,
        optimizer: &'static str,
        base: &BaseConfig,
        params: &mut [&mut ArrayD<f32>],
        grads: &[GradientRef<'_>],
        exact_rows: bool,
        lead: usize,
        update: &F,
    ) -> Result<()>
    where
        F: crate::optimizer_config::UpdateStep,
    {
        let clipping = base.clipping();
        let rows_alone = clipping == Clipping::None
            && (base.lazy_rows || (exact_rows && base.weight_decay.is_none()));
        let plans = grads
            .iter()
            .map(|grad| {
                Plan::of(
                    optimizer,
                    *grad,
                    rows_alone,
                    clipping,
                    base.per_lookup_squares,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let global_scale = match clipping {
            Clipping::GlobalNorm(clip) => {
                let dense: Vec<&ArrayD<f32>> = plans.iter().filter_map(Plan::dense).collect();
                clipping::global_norm_scale(&dense, clip)
            }
            _ => 1.0,
        };
        let learning_rate = base.learning_rate as f32;
        let weight_decay = base.weight_decay.map(|d| d as f32);
        let per_lookup_squares = base.per_lookup_squares;
        let decays: Vec<bool> = (0..params.len())
            .map(|i| weight_decay.is_some() && !self.decay_exclusions.excludes(i))
            .collect();
        let slot_lists = self.slots.per_param_mut(optimizer)?;
        // Weight decay, then the optimizer's rule, for one parameter (the same on both paths below).
        let decay_and_update = |param: &mut ArrayD<f32>,
                                grad: Option<ArrayViewD<'_, f32>>,
                                plan: &Plan<'_>,
                                slots: &mut [ArrayD<f32>],
                                decays: bool| {
            if let (Some(decay), true) = (weight_decay, decays) {
                param.mapv_inplace(|w| w - w * decay * learning_rate);
            }
            match (plan, grad) {
                (Plan::Rows(rows), _) => {
                    update_rows(optimizer, param, rows, per_lookup_squares, slots, update)
                }
                (Plan::Dense { squares, .. }, Some(grad)) => {
                    update(param, grad, squares.as_ref().map(|s| s.view()), slots)
                }
                (Plan::Dense { .. }, None) => Err(OptimError::Internal {
                    optimizer,
                    reason: "a dense plan without its gradient".into(),
                }),
            }
        };
        let elements: usize = params.iter().map(|p| p.len()).sum();
        if clipping == Clipping::None
            && elements >= PARALLEL_UPDATE_ELEMENTS
            && rayon::current_num_threads() > 1
        {
            // Parameters are updated independently, each by the same element-wise arithmetic as below, so
            // spreading them over threads changes no result.
            params
                .par_iter_mut()
                .zip(plans.par_iter())
                .zip(slot_lists.par_iter_mut())
                .zip(decays.par_iter())
                .try_for_each(|(((param, plan), slots), &decays)| {
                    let own = slots.get_mut(lead..).unwrap_or_default();
                    decay_and_update(param, plan.dense().map(|g| g.view()), plan, own, decays)
                })?;
            return Ok(());
        }
        let lists = params
            .iter_mut()
            .zip(&plans)
            .zip(slot_lists.iter_mut())
            .zip(decays);
        for (((param, plan), slots), decays) in lists {
            let grad = match plan.dense() {
                Some(grad) => Some(clipping::clipped_gradient(
                    optimizer,
                    grad,
                    clipping,
                    global_scale,
                    &mut self.scratch,
                )?),
                None => None,
            };
            let own = slots.get_mut(lead..).unwrap_or_default();
            decay_and_update(param, grad, plan, own, decays)?;
        }
        Ok(())
    }

    /// The iteration count, `learning_rate` and a copy of every slot.
    pub(crate) fn state(&self, learning_rate: Option<f64>) -> OptimizerState {
        OptimizerState {
            iterations: self.iterations,
            learning_rate,
            slots: self.slots.to_state(),
        }
    }

    /// Validates `state` completely, then replaces iterations and slots; returns the learning rate to set.
    pub(crate) fn load_state(
        &mut self,
        optimizer: &'static str,
        state: &OptimizerState,
    ) -> Result<Option<f64>> {
        if let Some(rate) = state.learning_rate {
            check_learning_rate(optimizer, rate)?;
        }
        let slots = self.slots.validated_from_state(optimizer, &state.slots)?;
        self.slots.replace(slots);
        self.iterations = state.iterations;
        Ok(state.learning_rate.map(float32_rate))
    }
}

/// How one parameter is updated. One per parameter for the length of a step, so the size of the dense variant
/// does not matter.
#[allow(clippy::large_enum_variant)]
enum Plan<'a> {
    /// By the dense rule: the gradient (borrowed, or a row gradient made dense) and, for a row gradient, its
    /// per-lookup squares in dense form.
    Dense {
        grad: std::borrow::Cow<'a, ArrayD<f32>>,
        squares: Option<ArrayD<f32>>,
    },
    /// Only at the rows of a row gradient.
    Rows(&'a IndexedSlices),
}

impl Drop for Plan<'_> {
    /// Hands a row gradient's dense forms back to the buffer pool, for the next step's (a table-sized buffer
    /// freed and allocated again every step costs its page faults and zeroing each time).
    fn drop(&mut self) {
        if let Plan::Dense { grad, squares } = self {
            if let std::borrow::Cow::Owned(dense) = grad {
                rkeras_tensor::buffer_pool::give_array(std::mem::take(dense));
            }
            if let Some(squares) = squares.take() {
                rkeras_tensor::buffer_pool::give_array(squares);
            }
        }
    }
}

impl<'a> Plan<'a> {
    fn of(
        optimizer: &'static str,
        grad: GradientRef<'a>,
        rows_alone: bool,
        clipping: Clipping,
        per_lookup_squares: bool,
    ) -> Result<Plan<'a>> {
        let internal = |err: rkeras_tensor::TensorError| OptimError::Internal {
            optimizer,
            reason: format!("row gradient: {err}"),
        };
        Ok(match grad {
            GradientRef::Dense(grad) => Plan::Dense {
                grad: std::borrow::Cow::Borrowed(grad),
                squares: None,
            },
            GradientRef::Rows(rows) if rows_alone => Plan::Rows(rows),
            GradientRef::Rows(rows) => Plan::Dense {
                grad: std::borrow::Cow::Owned(rows.to_dense().map_err(internal)?),
                // Per-lookup squares describe the unclipped gradient; with clipping, the clipped `g · g` is used.
                squares: if per_lookup_squares && clipping == Clipping::None {
                    Some(rows.squares_to_dense().map_err(internal)?)
                } else {
                    None
                },
            },
        })
    }

    fn dense(&self) -> Option<&ArrayD<f32>> {
        match self {
            Plan::Dense { grad, .. } => Some(grad),
            Plan::Rows(_) => None,
        }
    }
}

/// Runs `update` on the looked-up rows of `param` and of its slots only: the rows are copied out, updated by the
/// same element-wise rule as a dense step, and written back.
fn update_rows(
    optimizer: &'static str,
    param: &mut ArrayD<f32>,
    rows: &IndexedSlices,
    per_lookup_squares: bool,
    slots: &mut [ArrayD<f32>],
    update: &impl crate::optimizer_config::UpdateStep,
) -> Result<()> {
    let internal = |err: rkeras_tensor::TensorError| OptimError::Internal {
        optimizer,
        reason: format!("row gradient: {err}"),
    };
    let ids = rows.indices();
    let mut param_rows = param.select(Axis(0), ids);
    let mut slot_rows: Vec<ArrayD<f32>> = slots.iter().map(|s| s.select(Axis(0), ids)).collect();
    let squares = if per_lookup_squares {
        Some(rows.squares_view().map_err(internal)?)
    } else {
        None
    };
    update(
        &mut param_rows,
        rows.values_view().map_err(internal)?,
        squares,
        &mut slot_rows,
    )?;
    for (target, source) in
        std::iter::once((param, &param_rows)).chain(slots.iter_mut().zip(&slot_rows))
    {
        for (j, &id) in ids.iter().enumerate() {
            target
                .index_axis_mut(Axis(0), id)
                .assign(&source.index_axis(Axis(0), j));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_validation_names_the_argument_and_value() {
        let mut base = BaseConfig::new(-0.1);
        let err = base.validate("Adam").unwrap_err();
        assert_eq!(
            err,
            OptimError::InvalidArgument {
                optimizer: "Adam",
                argument: "learning_rate",
                expected: FINITE_NON_NEGATIVE,
                value: "-0.1".into()
            }
        );
        base.learning_rate = f64::NAN;
        assert!(base.validate("Adam").is_err());
        base.learning_rate = 0.0;
        assert!(base.validate("Adam").is_ok());
        base.weight_decay = Some(-0.5);
        assert!(matches!(
            base.validate("Adam"),
            Err(OptimError::InvalidArgument {
                argument: "weight_decay",
                ..
            })
        ));
        base.weight_decay = None;
        base.clipnorm = Some(0.0);
        assert!(matches!(
            base.validate("Adam"),
            Err(OptimError::InvalidArgument {
                argument: "clipnorm",
                ..
            })
        ));
        base.clipnorm = Some(1.0);
        base.global_clipnorm = Some(1.0);
        assert!(matches!(
            base.validate("Adam"),
            Err(OptimError::ConflictingClipping { .. })
        ));
    }

    #[test]
    fn base_keras_config_uses_keras_keys_in_order() {
        let config = BaseConfig::new(0.5).keras_config("adam");
        let keys: Vec<&str> = config.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "name",
                "learning_rate",
                "weight_decay",
                "clipnorm",
                "global_clipnorm",
                "clipvalue",
                "use_ema",
                "ema_momentum",
                "ema_overwrite_frequency",
                "loss_scale_factor",
                "gradient_accumulation_steps"
            ]
        );
        assert_eq!(config["name"], "adam");
        assert_eq!(config["learning_rate"], 0.5);
    }
}
