//! [`Tensor`]: an immutable n-dimensional f32 array that remembers how it was made.
//!
//! A tensor is a cheap handle (an `Arc`): cloning it shares the data. An operation on tensors that require
//! gradients records a backward rule (a [`crate::backprop::Node`]) in its output; [`Tensor::backward`] walks
//! those records and takes them apart as it goes: once a node's rule has run, the node's saved values and its
//! hold on its inputs are released, so an activation is freed as soon as the backward pass is past it (unless
//! the caller still holds the tensor). A graph is walked once: a second `backward` through it is an error
//! ([`crate::TensorError::GraphReleased`]); run the forward pass again instead.

use crate::backprop::{self, Node};
use crate::error::{Result, TensorError};
use ndarray::{ArrayD, IxDyn};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A process-unique identifier of a tensor or variable; gradients are keyed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    /// A fresh identifier.
    pub fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

static LIVE_TENSORS: AtomicUsize = AtomicUsize::new(0);

pub(crate) struct TensorInner {
    pub(crate) id: TensorId,
    pub(crate) data: Arc<ArrayD<f32>>,
    pub(crate) requires_grad: bool,
    /// The name of the op that made the tensor (`None` for constants, leaves and variables); kept after
    /// `backward` has taken the node apart.
    pub(crate) op: Option<&'static str>,
    /// The backward rule and the inputs; `backward` takes it out once it has run, releasing what it saved.
    /// Shared with the handles [`Tensor::without_values`] makes.
    node: Arc<Mutex<Option<Node>>>,
    /// A handle without values ([`Tensor::without_values`]): the shape of the values it does not hold.
    released_shape: Option<Box<[usize]>>,
}

impl TensorInner {
    /// The node slot, locked (a poisoned lock still holds a valid `Option`).
    pub(crate) fn node(&self) -> MutexGuard<'_, Option<Node>> {
        self.node
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the node out, dropping the graph behind this tensor once the caller drops it.
    pub(crate) fn take_node(&self) -> Option<Node> {
        self.node().take()
    }
}

impl Drop for TensorInner {
    fn drop(&mut self) {
        LIVE_TENSORS.fetch_sub(1, Ordering::Relaxed);
        // The last owner of the values hands the buffer back for the next step's arrays.
        if let Some(values) = Arc::get_mut(&mut self.data) {
            crate::buffer_pool::give_array(std::mem::take(values));
        }
    }
}

/// An n-dimensional f32 tensor with reverse-mode automatic differentiation.
///
/// ```
/// use rkeras_tensor::{Tensor, Variable};
/// let w = Variable::new("w", ndarray::arr1(&[2.0f32, 3.0]).into_dyn());
/// let x = Tensor::from_vec(&[2], vec![4.0, 5.0])?;
/// // loss = sum(w * x) → d loss / d w = x
/// let loss = w.tensor().mul(&x)?.sum_all()?;
/// assert_eq!(loss.to_scalar()?, 23.0);
/// let grads = loss.backward()?;
/// assert_eq!(grads.get_var(&w).unwrap().as_slice().unwrap(), &[4.0, 5.0]);
/// # Ok::<(), rkeras_tensor::TensorError>(())
/// ```
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorInner>);

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tensor")
            .field("shape", &self.shape())
            .field("requires_grad", &self.requires_grad())
            .field("op", &self.0.op)
            .finish()
    }
}

impl Tensor {
    pub(crate) fn from_parts(
        id: TensorId,
        data: Arc<ArrayD<f32>>,
        requires_grad: bool,
        node: Option<Node>,
    ) -> Tensor {
        LIVE_TENSORS.fetch_add(1, Ordering::Relaxed);
        Tensor(Arc::new(TensorInner {
            id,
            data,
            requires_grad,
            op: node.as_ref().map(Node::op_name),
            node: Arc::new(Mutex::new(node)),
            released_shape: None,
        }))
    }

    /// A handle to this tensor's place in the graph (its id and its node, shared) without its values, for an
    /// op whose backward rule never reads this input's values: the values can then be freed as soon as the
    /// caller drops the tensor, while the backward pass still reaches the node behind it. The tensor itself
    /// (a clone) when its values are needed after all: a constant, leaf or variable, or a tensor whose own
    /// rule reads its output ([`Node::output_unread`]). The handle's [`Tensor::data`] is an empty array;
    /// [`Tensor::shape`] is the tensor's.
    pub(crate) fn without_values(&self) -> Tensor {
        let unread = self.0.node().as_ref().is_some_and(|n| !n.reads_output());
        if !unread {
            return self.clone();
        }
        LIVE_TENSORS.fetch_add(1, Ordering::Relaxed);
        Tensor(Arc::new(TensorInner {
            id: self.0.id,
            data: Arc::new(ArrayD::zeros(IxDyn(&[0]))),
            requires_grad: self.0.requires_grad,
            op: self.0.op,
            node: Arc::clone(&self.0.node),
            released_shape: Some(self.shape().into()),
        }))
    }

    /// A constant tensor (no gradient flows into it). An array of any memory layout is accepted (a transposed
    /// or column-major array is copied into row-major order, which every kernel reads).
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let rows = ndarray::arr2(&[[1.0f32, 2.0], [3.0, 4.0]]);
    /// let column_major = rows.t().to_owned().into_dyn(); // [[1, 3], [2, 4]], stored column by column
    /// let t = Tensor::new(column_major);
    /// assert_eq!(t.to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// assert_eq!(t.matmul(&Tensor::from_vec(&[2, 1], vec![1.0, 0.0])?)?.to_vec(), vec![1.0, 2.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn new(data: ArrayD<f32>) -> Tensor {
        Tensor::from_parts(TensorId::fresh(), Arc::new(row_major(data)), false, None)
    }

    /// A constant tensor from a shape and row-major values.
    pub fn from_vec(shape: &[usize], values: Vec<f32>) -> Result<Tensor> {
        let len = values.len();
        let data = ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| {
            TensorError::invalid_shape("from_vec", shape, format!("{len} values do not fill it"))
        })?;
        Ok(Tensor::new(data))
    }

    /// A constant scalar (shape `[]`).
    pub fn scalar(value: f32) -> Tensor {
        Tensor::new(ArrayD::from_elem(IxDyn(&[]), value))
    }

    /// A constant tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::new(ArrayD::zeros(IxDyn(shape)))
    }

    /// A constant tensor of ones.
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::new(ArrayD::ones(IxDyn(shape)))
    }

    /// The result of an operation: records `node` when gradients are enabled and an input requires them.
    pub(crate) fn from_op(
        data: ArrayD<f32>,
        node: impl FnOnce() -> Node,
        inputs_require_grad: bool,
    ) -> Tensor {
        if inputs_require_grad && backprop::is_grad_enabled() {
            Tensor::from_parts(TensorId::fresh(), Arc::new(data), true, Some(node()))
        } else {
            Tensor::new(data)
        }
    }

    /// The identifier gradients are keyed by.
    pub fn id(&self) -> TensorId {
        self.0.id
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match &self.0.released_shape {
            Some(shape) => shape,
            None => self.0.data.shape(),
        }
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match &self.0.released_shape {
            Some(shape) => shape.iter().product(),
            None => self.0.data.len(),
        }
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values.
    pub fn data(&self) -> &ArrayD<f32> {
        &self.0.data
    }

    /// The shared handle to the values (no copy).
    pub fn data_arc(&self) -> Arc<ArrayD<f32>> {
        Arc::clone(&self.0.data)
    }

    /// The values in row-major order.
    pub fn to_vec(&self) -> Vec<f32> {
        self.0.data.iter().copied().collect()
    }

    /// The single value of a one-element tensor.
    pub fn to_scalar(&self) -> Result<f32> {
        if self.len() != 1 {
            return Err(TensorError::invalid_shape(
                "to_scalar",
                self.shape(),
                "expected exactly one element",
            ));
        }
        self.0.data.iter().next().copied().ok_or_else(|| {
            TensorError::invalid_shape("to_scalar", self.shape(), "expected exactly one element")
        })
    }

    /// Whether gradients flow through this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad
    }

    /// The same values, cut from the graph (no gradient flows back through the result).
    pub fn detach(&self) -> Tensor {
        Tensor::from_parts(TensorId::fresh(), self.data_arc(), false, None)
    }

    /// The name of the operation that produced this tensor (`None` for constants and variables).
    pub fn op_name(&self) -> Option<&'static str> {
        self.0.op
    }

    /// How many tensors are alive in the process; used to test that graphs are freed.
    pub fn live_count() -> usize {
        LIVE_TENSORS.load(Ordering::Relaxed)
    }
}

impl From<ArrayD<f32>> for Tensor {
    fn from(data: ArrayD<f32>) -> Self {
        Tensor::new(data)
    }
}

/// `data` in row-major (standard) layout: unchanged when it already is, else copied.
pub(crate) fn row_major(data: ArrayD<f32>) -> ArrayD<f32> {
    if data.is_standard_layout() {
        data
    } else {
        data.as_standard_layout().into_owned()
    }
}
