//! [`Model`]: a layer graph plus what `compile` adds (optimizer, loss, metrics).

use crate::compile::Compiled;
use crate::error::{EngineError, Result};
use ndarray::ArrayD;
use rkeras_layers::{Network, SymbolicTensor};
use rkeras_tensor::Variable;

/// A Keras model: build it from inputs and outputs, `compile`, then `fit` / `evaluate` / `predict`.
///
/// ```
/// use rkeras_engine::{FitConfig, Model};
/// use rkeras_layers::{Dense, Input, LayerCall};
/// let x = Input::new(&[2]);
/// let y = Dense::new(1).call(&x)?;
/// let mut model = Model::new(&[x], &y)?;
/// model.compile("sgd", "mse", &[])?;
/// let xs = ndarray::arr2(&[[0.0f32, 1.0], [1.0, 0.0]]).into_dyn();
/// let ys = ndarray::arr2(&[[1.0f32], [2.0]]).into_dyn();
/// let history = model.fit(&[xs], &ys, FitConfig::new().epochs(3).verbose(0))?;
/// assert_eq!(history.get("loss").unwrap().len(), 3);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub struct Model {
    pub(crate) network: Network,
    pub(crate) name: String,
    pub(crate) compiled: Option<Compiled>,
}

impl Model {
    /// A model from its inputs to one output.
    pub fn new(inputs: &[SymbolicTensor], output: &SymbolicTensor) -> Result<Model> {
        Self::with_outputs(inputs, std::slice::from_ref(output))
    }

    /// A model with several outputs (fit trains single-output models; predict runs all).
    pub fn with_outputs(inputs: &[SymbolicTensor], outputs: &[SymbolicTensor]) -> Result<Model> {
        Ok(Model::from_network(Network::new(inputs, outputs)?))
    }

    /// A model around an existing graph.
    pub fn from_network(network: Network) -> Model {
        Model {
            network,
            name: "functional".to_string(),
            compiled: None,
        }
    }

    /// Sets the model's name (shown by `summary`, saved in the config).
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The model as a layer of another model (Keras's `outer = Sequential([inner, …])` or `inner(x)`), named
    /// as the model: the layer shares this model's weights, so training either trains both.
    ///
    /// ```
    /// use rkeras_engine::{Model, Sequential};
    /// use rkeras_layers::{Dense, Input, LayerCall};
    /// let inner = Sequential::new(&[4]).add(Dense::new(3))?.build()?.with_name("backbone");
    /// let x = Input::new(&[4]);
    /// let outer = Model::new(&[x.clone()], &Dense::new(2).call(&inner.as_layer().call(&x)?)?)?;
    /// assert_eq!(outer.count_params(), 4 * 3 + 3 + 3 * 2 + 2);
    /// assert!(outer.summary().contains("backbone (Sequential)"));
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn as_layer(&self) -> rkeras_layers::NestedModel {
        rkeras_layers::NestedModel::new(self.network.clone(), &self.name)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The layer graph.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Keras's summary table.
    pub fn summary(&self) -> String {
        self.network.summary(&self.name)
    }

    /// The number of scalars in all weights.
    pub fn count_params(&self) -> usize {
        self.network.count_params()
    }

    /// Every weight variable, in Keras's order.
    pub fn weights(&self) -> Vec<Variable> {
        self.network.weights()
    }

    /// A copy of every weight, in Keras's order (Keras's `get_weights()`).
    pub fn get_weights(&self) -> Vec<ArrayD<f32>> {
        self.network
            .weights()
            .iter()
            .map(|w| (*w.value()).clone())
            .collect()
    }

    /// Replaces every weight (Keras's `set_weights()`); counts and shapes are all checked before any changes.
    pub fn set_weights(&self, values: &[ArrayD<f32>]) -> Result<()> {
        let weights = self.network.weights();
        if weights.len() != values.len() {
            return Err(EngineError::invalid(
                "weights",
                format!(
                    "the model has {} weights, received {}",
                    weights.len(),
                    values.len()
                ),
            ));
        }
        for (i, (w, v)) in weights.iter().zip(values).enumerate() {
            if w.shape() != v.shape() {
                return Err(EngineError::invalid(
                    "weights",
                    format!(
                        "weight {i} (`{}`) has shape {:?}, received {:?}",
                        w.name(),
                        w.shape(),
                        v.shape()
                    ),
                ));
            }
        }
        for (w, v) in weights.iter().zip(values) {
            w.set_value(v.clone())?;
        }
        Ok(())
    }

    /// Cumulative forward / backward / optimizer time of the training steps since compile.
    pub fn step_profile(&self) -> Option<crate::profile::StepProfile> {
        self.compiled.as_ref().map(|c| c.profile)
    }

    /// Restarts the step profile.
    pub fn reset_step_profile(&mut self) {
        if let Some(c) = self.compiled.as_mut() {
            c.profile = Default::default();
        }
    }

    /// Whether `compile` has been called.
    pub fn is_compiled(&self) -> bool {
        self.compiled.is_some()
    }

    /// The optimizer's learning rate, once compiled.
    pub fn learning_rate(&self) -> Option<f64> {
        self.compiled.as_ref().map(|c| c.optimizer.learning_rate())
    }

    /// Sets the optimizer's learning rate.
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        let compiled = self
            .compiled
            .as_mut()
            .ok_or(EngineError::NotCompiled("set_learning_rate"))?;
        compiled.optimizer.set_learning_rate(lr)?;
        Ok(())
    }

    /// The compiled optimizer.
    pub fn optimizer(&self) -> Option<&dyn rkeras_optim::Optimizer> {
        self.compiled.as_ref().map(|c| c.optimizer.as_ref())
    }

    pub(crate) fn compiled(&self, what: &'static str) -> Result<&Compiled> {
        self.compiled.as_ref().ok_or(EngineError::NotCompiled(what))
    }

    pub(crate) fn compiled_mut(&mut self, what: &'static str) -> Result<&mut Compiled> {
        self.compiled.as_mut().ok_or(EngineError::NotCompiled(what))
    }
}
