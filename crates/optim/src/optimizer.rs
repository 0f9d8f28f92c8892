//! The [`Optimizer`] trait, and the state every optimizer exposes for saving and restoring.
//!
//! An optimizer updates plain `ndarray` parameters in place from gradients of the same shapes. It keeps its slots
//! (Keras's optimizer variables: momentum, velocity, …) per parameter *position*: `params[i]` always pairs with
//! the slots of index `i`, so the caller passes the same list of parameters, in the same order, at every step.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{optimizer_from_name, Optimizer};
//!
//! let mut opt = optimizer_from_name("sgd")?; // Keras's SGD defaults: learning_rate 0.01
//! let mut w: ArrayD<f32> = arr1(&[1.0f32, 2.0]).into_dyn();
//! let g: ArrayD<f32> = arr1(&[10.0f32, -10.0]).into_dyn();
//! opt.apply_gradients(&mut [&mut w], &[&g])?;
//! assert_eq!(w, arr1(&[0.9f32, 2.1]).into_dyn()); // w - 0.01 * g
//! assert_eq!(opt.iterations(), 1);
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::error::Result;
use ndarray::ArrayD;
use rkeras_tensor::GradientRef;
use serde::{Deserialize, Serialize};

/// A gradient-descent optimizer over a fixed list of `f32` parameters.
pub trait Optimizer: Send + std::fmt::Debug {
    /// Keras's class name: `"SGD"`, `"RMSprop"`, `"Adam"`, `"Adagrad"`.
    fn class_name(&self) -> &'static str;

    /// The optimizer's name, the prefix of its variables' paths (Keras 3: `"rm_sprop"` for a default RMSprop).
    fn name(&self) -> &str;

    /// The current learning rate, in float32 precision (Keras's learning rate is a float32 variable).
    fn learning_rate(&self) -> f64;

    /// The learning-rate schedule, when the optimizer was built with one instead of a fixed rate; then
    /// [`Optimizer::learning_rate`] is the schedule's value at the next step.
    fn schedule(&self) -> Option<&crate::schedules::LearningRateSchedule>;

    /// Sets the learning rate used from the next step on, rounded to float32 as Keras's variable holds it. A
    /// negative or NaN rate, or one infinite in float32, is an error and leaves the rate unchanged; so is any rate
    /// when the optimizer has a schedule ([`crate::OptimError::LearningRateNotSettable`], Keras's `TypeError`).
    fn set_learning_rate(&mut self, learning_rate: f64) -> Result<()>;

    /// Number of update steps applied so far (Keras's `iterations`).
    fn iterations(&self) -> u64;

    /// One update step over all parameters: `params[i]` is updated from `grads[i]`, with the slots of index `i`.
    ///
    /// Every shape is checked before anything changes: the two lists must have the same length, `grads[i]` the
    /// shape of `params[i]`, and (once slots exist) the same number of parameters with the same shapes as at the
    /// first step. Slots are created at the first step. The iteration count increments once per call; as in Keras,
    /// an empty list is a no-op that does not count as a step.
    fn apply_gradients(
        &mut self,
        params: &mut [&mut ArrayD<f32>],
        grads: &[&ArrayD<f32>],
    ) -> Result<()>;

    /// [`Optimizer::apply_gradients`] with gradients that may hold rows ([`GradientRef::Rows`], an embedding
    /// table's [`rkeras_tensor::IndexedSlices`]), as Keras's `optimizer.apply` takes TensorFlow's IndexedSlices.
    ///
    /// A row gradient is used with Keras/TensorFlow's arithmetic: where the update squares the gradient
    /// (RMSprop's `velocity`, Adam's `v`, Adagrad's `accumulator`, Adadelta's `accumulated_grad`) each lookup's
    /// row is squared before the rows are summed ([`BaseConfig::per_lookup_squares`](crate::BaseConfig) `false`
    /// squares the summed rows, as Keras/JAX does), and every row of the parameter follows the dense update
    /// (RMSprop's and Adam's moments decay everywhere, as in Keras). Only the rows looked up are touched where
    /// that gives exactly the dense result (plain SGD, Adagrad; neither with weight decay), or where asked for with
    /// [`BaseConfig::lazy_rows`](crate::BaseConfig) (an approximation, as TensorFlow Addons' `LazyAdam`). With
    /// gradient clipping a row gradient is made dense first and its summed rows are squared.
    ///
    /// ```
    /// use ndarray::{arr2, ArrayD};
    /// use rkeras_optim::{AdagradConfig, GradientRef, Optimizer};
    /// use rkeras_tensor::IndexedSlices;
    ///
    /// let mut opt = AdagradConfig::default().with_learning_rate(0.1).build()?;
    /// let mut table: ArrayD<f32> = arr2(&[[1.0f32], [2.0], [3.0]]).into_dyn();
    /// // Row 2 looked up twice, with gradients 3 and −1.
    /// let rows = IndexedSlices::from_lookups(3, 1, &[2, 2], &[3.0, -1.0])?;
    /// opt.apply(&mut [&mut table], &[GradientRef::Rows(&rows)])?;
    /// // accumulator = 0.1 + 3² + 1² (per lookup); w = 3 − 0.1 · 2 / sqrt(10.1 + 1e-7)
    /// assert!((f64::from(table[[2, 0]]) - (3.0 - 0.2 / (10.1f64 + 1e-7).sqrt())).abs() < 1e-6);
    /// assert_eq!(table[[0, 0]], 1.0); // rows not looked up are unchanged
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn apply(&mut self, params: &mut [&mut ArrayD<f32>], grads: &[GradientRef<'_>]) -> Result<()>;

    /// Keras's `get_config()`: the hyper-parameters under Keras 3's keys, e.g.
    /// `{"name": "rm_sprop", "learning_rate": 0.001, …, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": false}`.
    fn config(&self) -> serde_json::Value;

    /// The slots kept for every parameter, in Keras's creation order (e.g. `["velocity", "momentum"]` for an
    /// RMSprop with momentum). Empty for plain SGD.
    fn slot_names(&self) -> Vec<&'static str>;

    /// A copy of the iteration count, learning rate and slots. Before the first step there are no slots yet.
    fn state(&self) -> OptimizerState;

    /// Replaces the iteration count, the learning rate (when the state has one) and all slots.
    ///
    /// The whole state is validated first (known slot names, every slot present for every parameter index
    /// `0..n`, one shape per parameter; if the optimizer already holds slots, the same count and shapes), so a bad
    /// state is an error that changes nothing. Shapes against the parameters themselves are checked at the next
    /// [`Optimizer::apply_gradients`]. A state without slots resets the optimizer to "not built": fresh slots are
    /// created at the next step. Keras 2's slot names (`rms`, `mg`, `m`, `v`, `vhat`) are accepted as aliases.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()>;

    /// Keras's `finalize_variable_values`, called at the end of `fit`: with `use_ema`, every parameter takes its
    /// moving average; otherwise nothing changes. `params` is the list the optimizer was stepping.
    fn finalize_variable_values(&mut self, params: &mut [&mut ArrayD<f32>]) -> Result<()>;

    /// Keras's `exclude_from_weight_decay(var_names=...)`: a parameter whose name matches one of the patterns
    /// (joined as one regular expression, searched anywhere in the name) gets no weight decay. The names come from
    /// [`Optimizer::name_variables`]; in training they are `{layer}/{weight}` (`dense/bias`), the names Keras's
    /// TensorFlow backend matches. An empty list excludes nothing. Only before the first step (Keras's
    /// `ValueError` once the optimizer is built); an invalid pattern is an error.
    ///
    /// ```
    /// use ndarray::{arr1, ArrayD};
    /// use rkeras_optim::{Optimizer, SGDConfig};
    ///
    /// let mut opt = SGDConfig::default().with_learning_rate(0.1).with_weight_decay(0.5).build()?;
    /// opt.exclude_from_weight_decay(&["bias"])?;
    /// opt.name_variables(&["dense/kernel", "dense/bias"]);
    /// let (mut k, mut b): (ArrayD<f32>, ArrayD<f32>) = (arr1(&[1.0f32]).into_dyn(), arr1(&[1.0f32]).into_dyn());
    /// let g: ArrayD<f32> = arr1(&[0.0f32]).into_dyn();
    /// opt.apply_gradients(&mut [&mut k, &mut b], &[&g, &g])?;
    /// assert_eq!((k[0], b[0]), (0.95, 1.0)); // only the kernel decays: 1 − 1 · 0.5 · 0.1
    /// assert!(opt.exclude_from_weight_decay(&["kernel"]).is_err()); // built now
    /// # Ok::<(), rkeras_optim::OptimError>(())
    /// ```
    fn exclude_from_weight_decay(&mut self, var_names: &[&str]) -> Result<()>;

    /// The patterns set by [`Optimizer::exclude_from_weight_decay`]; empty when nothing is excluded.
    fn weight_decay_exclusions(&self) -> &[String];

    /// Names the parameters by position (paths such as `dense/bias`, or plain names), for
    /// [`Optimizer::exclude_from_weight_decay`]; the same list at every step costs only a comparison.
    fn name_variables(&mut self, names: &[&str]);

    /// Keras's full `exclude_from_weight_decay(var_list=..., var_names=...)`: the variables of `var_list` (by
    /// identity, as Keras's variable keys) and the parameters whose name matches a pattern of `var_names` get no
    /// weight decay. Each call replaces both lists, as in Keras; only before the first step.
    ///
    /// ```
    /// use ndarray::{arr1, ArrayD};
    /// use rkeras_optim::{Optimizer, SGDConfig};
    /// use rkeras_tensor::Variable;
    ///
    /// let kernel = Variable::new("kernel", arr1(&[1.0f32]).into_dyn());
    /// let bias = Variable::new("bias", arr1(&[1.0f32]).into_dyn());
    /// let mut opt = SGDConfig::default().with_learning_rate(0.1).with_weight_decay(0.5).build()?;
    /// opt.exclude_from_weight_decay_with(&[kernel.clone()], &[])?;
    /// opt.identify_variables(&["dense/kernel", "dense/bias"], &[kernel.id(), bias.id()]);
    /// let (mut k, mut b): (ArrayD<f32>, ArrayD<f32>) = (arr1(&[1.0f32]).into_dyn(), arr1(&[1.0f32]).into_dyn());
    /// let g: ArrayD<f32> = arr1(&[0.0f32]).into_dyn();
    /// opt.apply_gradients(&mut [&mut k, &mut b], &[&g, &g])?;
    /// assert_eq!((k[0], b[0]), (1.0, 0.95)); // only the bias decays
    /// # Ok::<(), rkeras_optim::OptimError>(())
    /// ```
    fn exclude_from_weight_decay_with(
        &mut self,
        var_list: &[rkeras_tensor::Variable],
        var_names: &[&str],
    ) -> Result<()>;

    /// Whether [`Optimizer::exclude_from_weight_decay_with`] (or the names-only form) excludes anything.
    fn excludes_from_weight_decay(&self) -> bool;

    /// Names and identifies the parameters by position, for the exclusions by variable and by name.
    fn identify_variables(&mut self, names: &[&str], ids: &[rkeras_tensor::TensorId]);

    /// A boxed copy, hyper-parameters and state included.
    fn clone_box(&self) -> Box<dyn Optimizer>;
}

impl Clone for Box<dyn Optimizer> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Everything an optimizer needs to continue a run exactly: iteration count, learning rate and slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Update steps applied so far (Keras's `iteration` variable, int64).
    pub iterations: u64,
    /// The learning rate (Keras's `learning_rate` variable, float32 in Keras). `None` when loading keeps the
    /// optimizer's current rate (Keras 2 files do not store it).
    pub learning_rate: Option<f64>,
    /// The slots, in Keras's variable order: slot by slot (in [`Optimizer::slot_names`] order), and within one slot,
    /// parameter by parameter.
    pub slots: Vec<SlotArray>,
}

/// One optimizer slot of one parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotArray {
    /// Position of the parameter in the list passed to [`Optimizer::apply_gradients`].
    pub param_index: usize,
    /// Keras 3's slot name: `"momentum"`, `"velocity"`, `"average_gradient"`, `"velocity_hat"`, `"accumulator"`.
    pub slot: String,
    /// The slot's value, of the parameter's shape.
    pub value: ArrayD<f32>,
}

/// Keras 3's path of an optimizer slot variable: `{optimizer_name}/{param_path with "/" → "_"}_{slot}`.
///
/// Keras names a slot after the variable it shadows (`add_variable_from_reference`) inside the optimizer's name
/// scope, so the velocity of `dense/kernel` in a default RMSprop is `rm_sprop/dense_kernel_velocity`.
///
/// ```
/// assert_eq!(rkeras_optim::keras_slot_path("rm_sprop", "dense/kernel", "velocity"), "rm_sprop/dense_kernel_velocity");
/// ```
pub fn keras_slot_path(optimizer_name: &str, param_path: &str, slot: &str) -> String {
    format!("{optimizer_name}/{}_{slot}", param_path.replace('/', "_"))
}

/// The paths of all of an optimizer's variables in Keras 3's order (`optimizer.variables`): `{name}/iteration`,
/// `{name}/learning_rate`, then every slot in [`Optimizer::slot_names`] order, each over all parameters.
///
/// This is the order of Keras's `optimizer_weights` in an `.h5` file, and the order of
/// [`OptimizerState::slots`] after the first two.
///
/// ```
/// use rkeras_optim::{keras_variable_paths, RMSprop};
/// let opt = RMSprop::default();
/// let paths = keras_variable_paths(&opt, &["dense/kernel", "dense/bias"]);
/// assert_eq!(paths, ["rm_sprop/iteration", "rm_sprop/learning_rate",
///                    "rm_sprop/dense_kernel_velocity", "rm_sprop/dense_bias_velocity"]);
/// ```
pub fn keras_variable_paths(optimizer: &dyn Optimizer, param_paths: &[&str]) -> Vec<String> {
    let name = optimizer.name();
    let mut paths = vec![format!("{name}/iteration"), format!("{name}/learning_rate")];
    for slot in optimizer.slot_names() {
        paths.extend(
            param_paths
                .iter()
                .map(|path| keras_slot_path(name, path, slot)),
        );
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_path_replaces_every_slash() {
        assert_eq!(
            keras_slot_path("adam", "lstm/lstm_cell/kernel", "momentum"),
            "adam/lstm_lstm_cell_kernel_momentum"
        );
    }

    #[test]
    fn state_serializes_and_deserializes() {
        let state = OptimizerState {
            iterations: 3,
            learning_rate: Some(0.5),
            slots: vec![SlotArray {
                param_index: 0,
                slot: "velocity".into(),
                value: ndarray::arr1(&[1.0f32, 2.0]).into_dyn(),
            }],
        };
        let json = serde_json::to_string(&state).unwrap();
        let back: OptimizerState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
    }
}
