//! The functional API's symbolic tensors: `Input::new(&[68])`, `layer.call(&x)?`, shapes inferred as the graph
//! is built.

use crate::error::{LayersError, Result};
use crate::input_layer::InputLayer;
use crate::layer::{Layer, LayerRef, Shape};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    static INIT_RNG: RefCell<StdRng> = RefCell::new(StdRng::seed_from_u64(DEFAULT_SEED));
}

/// The seed weight initialisation uses until [`set_random_seed`] is called.
pub const DEFAULT_SEED: u64 = 1337;

/// Seeds weight initialisation on this thread (Keras's `keras.utils.set_random_seed`): building the same
/// model after the same seed gives the same initial weights.
pub fn set_random_seed(seed: u64) {
    INIT_RNG.with(|rng| *rng.borrow_mut() = StdRng::seed_from_u64(seed));
}

pub(crate) fn with_init_rng<R>(f: impl FnOnce(&mut StdRng) -> R) -> R {
    INIT_RNG.with(|rng| f(&mut rng.borrow_mut()))
}

pub(crate) struct NodeInner {
    pub(crate) id: u64,
    pub(crate) layer: LayerRef,
    pub(crate) inputs: Vec<SymbolicTensor>,
    /// The shapes of the call's outputs (one per tensor the layer returns).
    pub(crate) shapes: Vec<Shape>,
    pub(crate) call_index: usize,
}

/// The output of a layer call in a graph under construction (Keras's `KerasTensor`): it knows its shape and
/// where it came from (the layer call, Keras's node, and which of the call's outputs it is, Keras's tensor
/// index), but holds no data.
#[derive(Clone)]
pub struct SymbolicTensor {
    node: Arc<NodeInner>,
    index: usize,
}

impl std::fmt::Debug for SymbolicTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SymbolicTensor({} {}, shape {})",
            self.node.layer.class_name(),
            self.node.layer.name(),
            crate::error::format_shape(self.shape())
        )
    }
}

impl SymbolicTensor {
    /// The shape without the batch axis.
    pub fn shape(&self) -> &[usize] {
        self.node
            .shapes
            .get(self.index)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The layer that produced it.
    pub fn layer(&self) -> &LayerRef {
        &self.node.layer
    }

    /// The tensors the layer was called on.
    pub fn inputs(&self) -> &[SymbolicTensor] {
        &self.node.inputs
    }

    /// Which call of its layer produced it (Keras's node index).
    pub fn call_index(&self) -> usize {
        self.node.call_index
    }

    /// Which of its call's outputs it is (Keras's tensor index: 0 for the output, 1… for a recurrent layer's
    /// states with `return_state`).
    pub fn tensor_index(&self) -> usize {
        self.index
    }

    /// How many tensors its layer call returned.
    pub fn call_output_count(&self) -> usize {
        self.node.shapes.len()
    }

    /// The identity of the layer call (shared by all outputs of one call).
    pub(crate) fn node_id(&self) -> u64 {
        self.node.id
    }

    pub(crate) fn is_input(&self) -> bool {
        self.node.inputs.is_empty()
    }
}

/// Applies `layer` to symbolic inputs: builds its weights on the first call, checks and infers the shape.
/// A layer returning several tensors (a recurrent layer with `return_state`) is an error naming it: use
/// [`apply_all`].
pub fn apply(layer: LayerRef, inputs: &[SymbolicTensor]) -> Result<SymbolicTensor> {
    let mut outputs = apply_all(layer.clone(), inputs)?;
    match outputs.len() {
        1 => outputs.pop().ok_or_else(|| unreachable_graph(&layer)),
        n => Err(LayersError::Graph(format!(
            "layer `{}` ({}) returns {n} tensors (return_state): call it with `call_outputs`",
            layer.name(),
            layer.class_name()
        ))),
    }
}

fn unreachable_graph(layer: &LayerRef) -> LayersError {
    LayersError::Graph(format!("layer `{}` returned no tensor", layer.name()))
}

/// Applies `layer` to symbolic inputs and returns every tensor the call produces (Keras's list of outputs:
/// `[output, *states]` for a recurrent layer with `return_state`, one tensor for every other layer).
pub fn apply_all(layer: LayerRef, inputs: &[SymbolicTensor]) -> Result<Vec<SymbolicTensor>> {
    let shapes: Vec<Shape> = inputs.iter().map(|t| t.shape().to_vec()).collect();
    if inputs.is_empty() {
        return Err(LayersError::Graph(format!(
            "layer `{}` called on no inputs",
            layer.name()
        )));
    }
    for input in inputs {
        crate::size::check_sample(input.layer().as_ref(), "shape", "output", input.shape())?;
    }
    let core = layer.core();
    core.build_with(|| with_init_rng(|rng| layer.build(&shapes, rng)))?;
    let output_shapes = layer.output_shapes(&shapes)?;
    if output_shapes.is_empty() {
        return Err(unreachable_graph(&layer));
    }
    for shape in &output_shapes {
        crate::size::check_sample(layer.as_ref(), "output shape", "output", shape)?;
    }
    Ok(new_node(layer, inputs.to_vec(), output_shapes))
}

pub(crate) fn new_node(
    layer: LayerRef,
    inputs: Vec<SymbolicTensor>,
    shapes: Vec<Shape>,
) -> Vec<SymbolicTensor> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let call_index = layer.core().next_call_index();
    let count = shapes.len();
    let node = Arc::new(NodeInner {
        id: NEXT.fetch_add(1, Ordering::Relaxed),
        layer,
        inputs,
        shapes,
        call_index,
    });
    (0..count)
        .map(|index| SymbolicTensor {
            node: node.clone(),
            index,
        })
        .collect()
}

/// Calling a layer object on symbolic tensors. Calling one object twice shares its weights, as in Keras.
pub trait LayerCall {
    /// Calls the layer on one input.
    fn call(&self, input: &SymbolicTensor) -> Result<SymbolicTensor>;
    /// Calls the layer on several inputs (`Add`, `Dot`, `Concatenate`, …).
    fn call_many(&self, inputs: &[SymbolicTensor]) -> Result<SymbolicTensor>;
    /// Calls the layer on one or several inputs and returns every output, as Keras's call returns a list:
    /// `[output, h, c]` for an `LSTM` with `return_state`.
    ///
    /// ```
    /// use rkeras_layers::{Input, LayerCall, LSTM};
    /// let [output, h, c] = <[_; 3]>::try_from(
    ///     LSTM::new(4).with_return_state(true).call_outputs(&[Input::new(&[5, 3])])?,
    /// )
    /// .expect("three tensors");
    /// assert_eq!((output.shape(), h.shape(), c.shape()), (&[4][..], &[4][..], &[4][..]));
    /// assert_eq!((h.tensor_index(), c.tensor_index()), (1, 2));
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    fn call_outputs(&self, inputs: &[SymbolicTensor]) -> Result<Vec<SymbolicTensor>>;
}

impl<L: Layer + Clone> LayerCall for L {
    fn call(&self, input: &SymbolicTensor) -> Result<SymbolicTensor> {
        apply(Arc::new(self.clone()), std::slice::from_ref(input))
    }

    fn call_many(&self, inputs: &[SymbolicTensor]) -> Result<SymbolicTensor> {
        apply(Arc::new(self.clone()), inputs)
    }

    fn call_outputs(&self, inputs: &[SymbolicTensor]) -> Result<Vec<SymbolicTensor>> {
        apply_all(Arc::new(self.clone()), inputs)
    }
}

/// A model input (Keras's `keras.Input(shape)`); the shape excludes the batch axis.
pub struct Input;

impl Input {
    /// A new input of `shape` with an automatic name (`input_layer`, `input_layer_1`, …).
    ///
    /// ```
    /// use rkeras_layers::{Input, Dense, LayerCall};
    /// let x = Input::new(&[20]);
    /// let y = Dense::new(8).call(&x)?;
    /// assert_eq!(y.shape(), &[8]);
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new(shape: &[usize]) -> SymbolicTensor {
        Self::from_layer(InputLayer::new(shape))
    }

    /// A new input with an explicit name.
    pub fn named(shape: &[usize], name: &str) -> SymbolicTensor {
        Self::from_layer(InputLayer::named(shape, name))
    }

    pub(crate) fn from_layer(layer: InputLayer) -> SymbolicTensor {
        let shape = layer.shape().to_vec();
        let mut tensors = new_node(Arc::new(layer), Vec::new(), vec![shape]);
        tensors.swap_remove(0)
    }
}
