//! [`NestedModel`]: a model used as a layer inside another model (Keras's `outer = Sequential([inner, …])` or
//! `x = inner(inputs)`), the common form of transfer learning.

use crate::error::{LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, shape_error};
use crate::network::Network;
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// A [`Network`] called as a layer: its weights are the inner layers' (shared with the inner model, in
/// Keras's order), its forward pass runs the inner graph (gradients flow through it as through any layer),
/// masks pass in and out as Keras passes them, and it is saved as Keras saves a nested `Sequential` or
/// `Functional` model.
///
/// # Shapes
/// - inputs: the inner model's inputs, `[batch, ...input shape]` each
/// - outputs: the inner model's outputs
///
/// ```
/// use rkeras_layers::{Dense, Input, LayerCall, NestedModel, Network};
/// let x = Input::new(&[4]);
/// let inner = Network::new(&[x.clone()], &[Dense::new(3).call(&x)?])?.into_sequential()?;
/// let block = NestedModel::new(inner, "backbone");
/// let inputs = Input::new(&[4]);
/// let outputs = Dense::new(2).call(&block.call(&inputs)?)?;
/// let outer = Network::new(&[inputs], &[outputs])?;
/// assert_eq!(outer.layers()[1].class_name(), "Sequential");
/// assert_eq!(outer.weights().len(), 4, "the inner kernel and bias, then the outer ones");
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Clone)]
pub struct NestedModel {
    core: LayerCore,
    network: Network,
    /// Keras's `trainable` and the inner weights that were trainable when the model was frozen, shared by the
    /// clones of the layer.
    freeze: Arc<Mutex<Freeze>>,
}

#[derive(Default)]
struct Freeze {
    frozen: bool,
    thawed: Vec<Variable>,
}

impl NestedModel {
    /// The model `network` as a layer named `name`.
    pub fn new(network: Network, name: &str) -> Self {
        NestedModel {
            core: LayerCore::named(name),
            network,
            freeze: Arc::default(),
        }
    }

    /// Keras's `model.trainable = trainable`: false freezes every inner weight (the optimizer skips them), saves
    /// every inner layer with `trainable: false` and runs every inner BatchNormalization in inference mode, as
    /// Keras 3 does; true undoes exactly that (the inner layers keep their own flags). It changes the inner
    /// model's layers and variables, which the two models share.
    pub fn with_trainable(self, trainable: bool) -> Self {
        self.set_trainable(trainable);
        self
    }

    /// [`NestedModel::with_trainable`] on a layer already in a model (Keras's `backbone.trainable = True` before
    /// fine-tuning); every clone of the layer sees the change.
    pub fn set_trainable(&self, trainable: bool) {
        let mut freeze = self.freeze.lock().unwrap_or_else(|p| p.into_inner());
        if trainable != freeze.frozen {
            return;
        }
        freeze.frozen = !trainable;
        if trainable {
            freeze.thawed.drain(..).for_each(|w| w.set_trainable(true));
        } else {
            freeze.thawed = self
                .network
                .weights()
                .into_iter()
                .filter(Variable::trainable)
                .collect();
            freeze.thawed.iter().for_each(|w| w.set_trainable(false));
        }
        mark_frozen(&self.network, !trainable);
    }

    /// Keras's `trainable` of the model.
    pub fn trainable(&self) -> bool {
        !self.freeze.lock().unwrap_or_else(|p| p.into_inner()).frozen
    }

    /// The inner model's graph.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Rebuilds a nested model from Keras's entry (`class` `Sequential`, `Functional` or `Model`, and its
    /// `config` with `name`, `layers`, `trainable`).
    pub fn from_config(class: &str, config: &Value) -> Result<Self> {
        let name = config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(if class == "Sequential" {
                "sequential"
            } else {
                "functional"
            });
        let network =
            Network::from_config(&serde_json::json!({"class_name": class, "config": config}))?;
        let trainable = match config.get("trainable") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(LayersError::Config(format!(
                    "{class} `{name}`: `trainable` must be a boolean, received {other}"
                )));
            }
        };
        let model = NestedModel::new(network, name);
        Ok(if trainable {
            model
        } else {
            model.with_trainable(false)
        })
    }

    /// Indexed items of every inner layer (regularizers, constraints), with indices shifted to this layer's
    /// weight list.
    fn shifted<T>(&self, items: impl Fn(&dyn Layer) -> Vec<(usize, T)>) -> Vec<(usize, T)> {
        let mut offset = 0;
        let mut out = Vec::new();
        for layer in self.network.layers() {
            out.extend(
                items(layer.as_ref())
                    .into_iter()
                    .map(|(i, item)| (i + offset, item)),
            );
            offset += layer.weights().len();
        }
        out
    }
}

/// Marks every layer of `network` (with the layers wrappers hold, and the models nested in it except those
/// frozen themselves when unfreezing) as inside a frozen model or not.
fn mark_frozen(network: &Network, frozen: bool) {
    for layer in network.layers() {
        mark_layer_frozen(layer.as_ref(), frozen);
    }
}

/// Marks one layer of a frozen (or unfrozen) model, and what it holds.
fn mark_layer_frozen(layer: &dyn Layer, frozen: bool) {
    layer.core().set_frozen(frozen);
    for wrapped in layer.wrapped_layers() {
        mark_layer_frozen(wrapped, frozen);
    }
    if let Some(inner) = layer.nested_network()
        && (frozen || layer.config()["trainable"] != Value::Bool(false))
    {
        mark_frozen(inner, frozen);
    }
}

impl Layer for NestedModel {
    fn class_name(&self) -> &'static str {
        if self.network.is_sequential() {
            "Sequential"
        } else {
            "Functional"
        }
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        self.output_shapes(input_shapes)?
            .into_iter()
            .next()
            .ok_or_else(|| shape_error(self, "the inner model has no output", input_shapes))
    }

    fn output_shapes(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        let expected: Vec<&[usize]> = self.network.inputs().iter().map(|t| t.shape()).collect();
        let received: Vec<&[usize]> = input_shapes.iter().map(Vec::as_slice).collect();
        if expected != received {
            return Err(shape_error(
                self,
                format!("the inner model's inputs have shapes {expected:?}"),
                input_shapes,
            ));
        }
        Ok(self
            .network
            .outputs()
            .iter()
            .map(|t| t.shape().to_vec())
            .collect())
    }

    fn build(&self, _input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        // The inner layers were built with the inner model.
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor> {
        self.forward_all(inputs, ctx)?
            .into_iter()
            .next()
            .ok_or_else(|| LayersError::Graph(format!("model `{}` has no output", self.name())))
    }

    fn forward_all(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Vec<Tensor>> {
        self.network.forward(inputs, ctx)
    }

    fn config(&self) -> Value {
        let mut config = self
            .network
            .to_config(self.name())
            .get("config")
            .cloned()
            .unwrap_or(Value::Null);
        if let Some(map) = config.as_object_mut() {
            map.insert("trainable".into(), Value::Bool(self.trainable()));
        }
        config
    }

    fn uses_batch_statistics(&self) -> bool {
        self.network.uses_batch_statistics()
    }

    fn check_serializable(&self) -> Result<()> {
        self.network.check_serializable()
    }

    fn supports_masking(&self) -> bool {
        true
    }

    fn compute_mask(&self, inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
        Ok(self
            .compute_masks(inputs, masks)?
            .into_iter()
            .next()
            .flatten())
    }

    /// Every output's mask, as the inner graph computes it from the inputs and their masks (Keras 3's
    /// `Functional` call leaves each output with its own mask).
    fn compute_masks(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        self.network.output_masks_masked(inputs, masks)
    }

    fn mask_reads_values(&self) -> bool {
        self.network
            .layers()
            .iter()
            .any(|layer| layer.mask_reads_values())
    }

    fn forward_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        ctx: &mut CallContext<'_>,
    ) -> Result<Option<Vec<Tensor>>> {
        let outputs = self
            .network
            .forward_outputs_masked(inputs, masks, ctx, false)?;
        Ok(Some(outputs.into_iter().map(|o| o.output).collect()))
    }

    fn weight_regularizers(&self) -> Vec<(usize, crate::Regularizer)> {
        self.shifted(|layer| layer.weight_regularizers())
    }

    fn weight_constraints(&self) -> Vec<(usize, crate::Constraint)> {
        self.shifted(|layer| layer.weight_constraints())
    }

    fn nested_network(&self) -> Option<&Network> {
        Some(&self.network)
    }

    fn weights(&self) -> Vec<Variable> {
        self.network.weights()
    }
}
