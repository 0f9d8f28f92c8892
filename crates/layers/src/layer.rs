//! The [`Layer`] trait and [`LayerCore`], the identity, name and weights every layer shares.

use crate::error::{LayersError, Result, format_shapes};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// A shape without the batch axis (`[68, 64]` for Keras's `(None, 68, 64)`).
pub type Shape = Vec<usize>;

/// A shared handle to a layer; the graph holds these.
pub type LayerRef = Arc<dyn Layer>;

/// What a layer sees when it runs.
pub struct CallContext<'a> {
    /// Training (dropout active) or inference.
    pub training: bool,
    /// The run's seeded RNG (dropout masks).
    pub rng: &'a mut StdRng,
}

/// A process-unique layer identity: clones of one layer object share it, and so share weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LayerId(u64);

thread_local! {
    static NAME_COUNTS: RefCell<HashMap<String, usize>> = RefCell::new(HashMap::new());
}

/// Keras's automatic layer names: `dense`, `dense_1`, `dense_2`, … per class (per thread).
pub fn unique_name(prefix: &str) -> String {
    NAME_COUNTS.with(|counts| {
        let mut counts = counts.borrow_mut();
        let n = counts.entry(prefix.to_string()).or_insert(0);
        let name = if *n == 0 {
            prefix.to_string()
        } else {
            format!("{prefix}_{n}")
        };
        *n += 1;
        name
    })
}

/// Resets the automatic layer names (Keras's `clear_session`).
pub fn reset_names() {
    NAME_COUNTS.with(|counts| counts.borrow_mut().clear());
}

/// Identity, name and weights of a layer. Cloning shares all three, which is how a layer object called on two
/// inputs shares its weights, as in Keras.
#[derive(Debug, Clone)]
pub struct LayerCore {
    id: LayerId,
    name: Arc<str>,
    weights: Arc<OnceLock<Vec<Variable>>>,
    calls: Arc<AtomicUsize>,
    frozen: Arc<AtomicBool>,
}

impl LayerCore {
    /// A core with an automatic name derived from `prefix` (`dense`, `dense_1`, …).
    pub fn new(prefix: &str) -> Self {
        Self::named(unique_name(prefix))
    }

    /// A core with an explicit name.
    pub fn named(name: impl Into<String>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        LayerCore {
            id: LayerId(NEXT.fetch_add(1, Ordering::Relaxed)),
            name: Arc::from(name.into()),
            weights: Arc::new(OnceLock::new()),
            calls: Arc::new(AtomicUsize::new(0)),
            frozen: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Counts one more call of the layer in a graph; returns the call's index (Keras's node index).
    pub fn next_call_index(&self) -> usize {
        self.calls.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether a model holding the layer was frozen (Keras's `model.trainable = False` reaches every layer
    /// inside it): the layer then saves `trainable: false`, and a BatchNormalization runs in inference mode.
    pub fn frozen(&self) -> bool {
        self.frozen.load(Ordering::Relaxed)
    }

    /// Marks the layer as inside a frozen (or unfrozen) model; clones of the layer share the mark.
    pub fn set_frozen(&self, frozen: bool) {
        self.frozen.store(frozen, Ordering::Relaxed);
    }

    /// The identity.
    pub fn id(&self) -> LayerId {
        self.id
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The weights, once built (empty before).
    pub fn weights(&self) -> &[Variable] {
        self.weights.get().map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether the weights exist.
    pub fn is_built(&self) -> bool {
        self.weights.get().is_some()
    }

    /// Creates the weights with `make` unless they exist.
    pub fn build_with(&self, make: impl FnOnce() -> Result<Vec<Variable>>) -> Result<()> {
        if self.weights.get().is_none() {
            let weights = make()?;
            // A concurrent build of the same layer keeps the first set; both are equally valid.
            let _ = self.weights.set(weights);
        }
        Ok(())
    }

    /// The `index`-th weight as a graph leaf, or an error naming the layer when it is not built.
    pub fn weight(&self, index: usize) -> Result<Tensor> {
        self.weights()
            .get(index)
            .map(Variable::tensor)
            .ok_or_else(|| {
                LayersError::Graph(format!("layer `{}` is used before it was built", self.name))
            })
    }
}

/// A Keras layer. Implementations are cheap-to-clone handles holding a [`LayerCore`].
///
/// Shapes exclude the batch axis. [`Layer::output_shape`] validates the inputs and is called when the graph
/// is built, so a mismatch is reported before any data flows, naming the layer and the shapes.
pub trait Layer: Send + Sync + 'static {
    /// Keras's class name (`Dense`).
    fn class_name(&self) -> &'static str;
    /// The shared identity, name and weights.
    fn core(&self) -> &LayerCore;
    /// The output shape for these input shapes, or an error naming the layer and the shapes.
    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape>;
    /// Creates the weights for these input shapes, in Keras's order (`kernel`, `recurrent_kernel`, `bias`).
    /// Layers without weights return an empty list.
    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>>;
    /// Runs the layer on a batch.
    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor>;
    /// Keras's `get_config()` for this layer (without `name`'s uniqueness guarantees).
    fn config(&self) -> serde_json::Value;

    /// Whether the layer carries states from call to call (Keras's `stateful=True`): batches must then run one
    /// after the other, in order. Defaults to false.
    fn is_stateful(&self) -> bool {
        false
    }

    /// Clears the states a stateful layer carries from call to call (Keras's `reset_states`): the next call
    /// starts from zeros. Defaults to doing nothing.
    fn reset_states(&self) {}

    /// How a call's inputs appear in Keras's saved graph: `None` when all are positional (`args`), or
    /// `Some((keyword, n))` when the inputs from the `n`-th on are Keras's keyword argument `keyword` (a
    /// recurrent layer's `initial_state`, after its sequence). Defaults to `None`.
    fn keyword_inputs(&self) -> Option<(&'static str, usize)> {
        None
    }

    /// Keras's saved form of a call whose inputs are separate arguments and whose other call arguments are
    /// settings of the layer here (MultiHeadAttention's `query, value`, `key=`, `attention_mask=`,
    /// `use_causal_mask=`). `None` (the default) saves the call by [`Layer::keyword_inputs`].
    fn keras_call(&self) -> Option<crate::KerasCall> {
        None
    }

    /// The layer with the settings of a call Keras saved, read from the call's `kwargs` (which tensors it
    /// passes, its other arguments), or `None` (the default) when the layer keeps no call settings; an error
    /// names an argument rkeras cannot honour.
    fn with_call_kwargs(
        &self,
        kwargs: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Option<LayerRef>> {
        let _ = kwargs;
        Ok(None)
    }

    /// The shapes of every tensor a call returns. Most layers return one, [`Layer::output_shape`]; a layer
    /// returning a list in Keras (a recurrent layer with `return_state`: `[output, *states]`) returns them all,
    /// the first being [`Layer::output_shape`]'s.
    fn output_shapes(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        Ok(vec![self.output_shape(input_shapes)?])
    }

    /// Runs the layer on a batch and returns every output, in [`Layer::output_shapes`]'s order. Defaults to
    /// [`Layer::forward`]'s one output.
    fn forward_all(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Vec<Tensor>> {
        Ok(vec![self.forward(inputs, ctx)?])
    }

    /// When the layer ends in a softmax over the last axis: its output before that softmax (the logits), so a
    /// cross-entropy loss can use the fused, exact `softmax − target` gradient (as Keras's TensorFlow backend
    /// does). `None` otherwise.
    fn forward_logits(
        &self,
        inputs: &[Tensor],
        ctx: &mut CallContext<'_>,
    ) -> Result<Option<Tensor>> {
        let _ = (inputs, ctx);
        Ok(None)
    }

    /// When the layer is a 2-D max pooling: its window, strides and padding, so that a convolution ending in ReLU
    /// whose output only this layer reads can run with it as one op ([`Layer::forward_max_pooled`]). `None`
    /// (the default) otherwise.
    fn max_pool2d_window(&self) -> Option<crate::pooling::MaxPool2dWindow> {
        None
    }

    /// The layer followed by max pooling over `window`, as one op with the same values and gradients, when the
    /// layer can run so (a 2-D convolution ending in ReLU); `None` (the default) when it cannot.
    fn forward_max_pooled(
        &self,
        inputs: &[Tensor],
        window: crate::pooling::MaxPool2dWindow,
        ctx: &mut CallContext<'_>,
    ) -> Result<Option<Tensor>> {
        let _ = (inputs, window, ctx);
        Ok(None)
    }

    /// Whether the layer is a `Flatten` (each sample's axes merged in row-major order), so that a layer reading
    /// only its output can take the unflattened input instead ([`Layer::forward_flattened`]). Defaults to false.
    fn flattens(&self) -> bool {
        false
    }

    /// The layer applied to its input flattened to `[batch, features]`, with the same values and gradients as
    /// after a `Flatten`, when the layer can read the unflattened input in place (Dense); `None` (the default)
    /// when it cannot.
    fn forward_flattened(&self, inputs: &[Tensor]) -> Result<Option<Tensor>> {
        let _ = inputs;
        Ok(None)
    }

    /// Whether a training-mode forward pass computes statistics over the whole batch (BatchNormalization),
    /// so that the batch must not be split into shards that run separately. Defaults to false.
    ///
    /// Such a layer may also update its non-trainable weights (its *state*, e.g. moving averages) during a
    /// training-mode forward pass, by writing their values directly ([`Variable::update`]); the optimizer
    /// only ever sees trainable weights. Running the batch as one piece keeps those updates in one order.
    fn uses_batch_statistics(&self) -> bool {
        false
    }

    /// Keras's `registered_name` of a layer defined outside rkeras (`"package>Name"`), under which
    /// [`crate::register_layer`] rebuilds it when a saved model is loaded; `None` (the default) for built-in
    /// layers, and for custom layers registered under their class name.
    fn registered_name(&self) -> Option<String> {
        None
    }

    /// Whether the layer can be written to a file; an error saying why not otherwise (a [`crate::Lambda`]
    /// without a registration). Defaults to `Ok`.
    fn check_serializable(&self) -> Result<()> {
        Ok(())
    }

    /// Keras's `supports_masking`: whether the layer passes a timestep mask on (through
    /// [`Layer::compute_mask`]). A layer that does not and receives a mask drops it, as Keras 3 does (it warns
    /// that downstream layers will not see it). Defaults to false.
    fn supports_masking(&self) -> bool {
        false
    }

    /// Keras's `compute_mask`: the mask of the call's (first) output from its inputs and their masks (`None`
    /// for an input without one). Masks are `[batch, time]` of 1 (kept) and 0 (masked). Defaults to the first
    /// input's mask when [`Layer::supports_masking`], `None` otherwise.
    fn compute_mask(&self, inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
        let _ = inputs;
        Ok(if self.supports_masking() {
            masks.first().cloned().flatten()
        } else {
            None
        })
    }

    /// Keras's `compute_mask` for every output of the call, one mask per output (`None` for an output without
    /// one): a `Bidirectional` without a merge masks both directions' sequences. Defaults to
    /// [`Layer::compute_mask`] for the first output and none for the others.
    fn compute_masks(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![self.compute_mask(inputs, masks)?])
    }

    /// Whether [`Layer::compute_mask`] reads its inputs' values (an `Embedding` with `mask_zero`, `Masking`)
    /// rather than only their masks and the layer's settings. [`crate::Network::output_masks`] computes the
    /// values such a layer reads and passes the others empty batches (of the inputs' shapes). Defaults to
    /// false.
    fn mask_reads_values(&self) -> bool {
        false
    }

    /// Runs the layer with its inputs' masks (Keras's `mask` argument of `call`), returning every output as
    /// [`Layer::forward_all`] does; `Ok(None)` (the default) when the layer's outputs do not depend on masks,
    /// so that the plain forward pass runs.
    fn forward_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        ctx: &mut CallContext<'_>,
    ) -> Result<Option<Vec<Tensor>>> {
        let _ = (inputs, masks, ctx);
        Ok(None)
    }

    /// The regularizers and constraints of the layer's weights (Keras's `kernel_regularizer`,
    /// `bias_constraint`, …), when the layer takes them. Defaults to `None`.
    fn weight_rules(&self) -> Option<&crate::weight_rules::WeightRules> {
        None
    }

    /// The weight regularizers: `(weight index, regularizer)` pairs in weight order (Keras's
    /// `kernel_regularizer`, `bias_regularizer`, …). Defaults to [`Layer::weight_rules`]'s, matched to the
    /// weights by name.
    fn weight_regularizers(&self) -> Vec<(usize, crate::Regularizer)> {
        self.weight_rules()
            .map(|rules| rules.regularizers_for(self.core().weights()))
            .unwrap_or_default()
    }

    /// The weight constraints: `(weight index, constraint)` pairs applied after each optimizer update
    /// (Keras's `kernel_constraint`, `bias_constraint`, …). Defaults to [`Layer::weight_rules`]'s, matched to
    /// the weights by name.
    fn weight_constraints(&self) -> Vec<(usize, crate::Constraint)> {
        self.weight_rules()
            .map(|rules| rules.constraints_for(self.core().weights()))
            .unwrap_or_default()
    }

    /// The regularizer of the layer's outputs (Keras's `activity_regularizer`): [`crate::Network`] adds its
    /// penalty on each output of each call, divided by the batch size, to the loss. Defaults to
    /// [`Layer::weight_rules`]'s.
    fn activity_regularizer(&self) -> Option<crate::Regularizer> {
        self.weight_rules()
            .and_then(crate::weight_rules::WeightRules::activity_regularizer)
    }

    /// The layers a wrapper runs inside itself (`TimeDistributed`'s layer, `Bidirectional`'s two
    /// directions), which a frozen model freezes with it; none (the default) for every other layer.
    fn wrapped_layers(&self) -> Vec<&dyn Layer> {
        Vec::new()
    }

    /// The graph of a model used as a layer ([`crate::NestedModel`]), which the enclosing graph runs, saves and
    /// lists weights of through it; `None` (the default) for every other layer.
    fn nested_network(&self) -> Option<&crate::network::Network> {
        None
    }

    /// The layer's name.
    fn name(&self) -> &str {
        self.core().name()
    }
    /// The weights, in Keras's order (empty before the first call).
    fn weights(&self) -> Vec<Variable> {
        self.core().weights().to_vec()
    }
}

/// Builds a [`LayersError::Shape`] for `layer`.
pub fn shape_error(
    layer: &dyn Layer,
    reason: impl Into<String>,
    input_shapes: &[Shape],
) -> LayersError {
    LayersError::Shape {
        layer: layer.name().to_string(),
        class: layer.class_name(),
        reason: reason.into(),
        shapes: format_shapes(input_shapes),
    }
}

/// Checks that a layer received exactly `n` inputs.
pub fn expect_inputs(layer: &dyn Layer, input_shapes: &[Shape], n: usize) -> Result<()> {
    if input_shapes.len() != n {
        return Err(shape_error(
            layer,
            format!("expected {n} input(s), received {}", input_shapes.len()),
            input_shapes,
        ));
    }
    Ok(())
}
