//! Reverse-mode automatic differentiation: backward rules, the topological walk and accumulated gradients.

use crate::error::{Result, TensorError};
use crate::tensor::{Tensor, TensorId};
use crate::variable::Variable;
use ndarray::{ArrayD, IxDyn};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

/// What a backward rule sees: the op's inputs, its output values and the gradient flowing into the output.
pub struct BackwardCtx<'a> {
    /// The op's inputs, in the order the op received them.
    pub inputs: &'a [Tensor],
    /// The op's output values.
    pub output: &'a ArrayD<f32>,
    /// d loss / d output.
    pub grad: &'a ArrayD<f32>,
}

type BackwardFn = Box<dyn Fn(&BackwardCtx<'_>) -> Result<Vec<Option<ArrayD<f32>>>> + Send + Sync>;

/// How a tensor was made: the op, its inputs and the rule mapping the output gradient to input gradients
/// (one entry per input; `None` where no gradient flows, e.g. integer indices).
pub struct Node {
    op: &'static str,
    inputs: Vec<Tensor>,
    backward: BackwardFn,
}

impl Node {
    /// A node for `op` over `inputs` with the given backward rule.
    pub fn new(
        op: &'static str,
        inputs: Vec<Tensor>,
        backward: impl Fn(&BackwardCtx<'_>) -> Result<Vec<Option<ArrayD<f32>>>> + Send + Sync + 'static,
    ) -> Node {
        Node {
            op,
            inputs,
            backward: Box::new(backward),
        }
    }

    /// The op's name.
    pub fn op_name(&self) -> &'static str {
        self.op
    }
}

thread_local! {
    /// While [`Tensor::backward_with_lookup_squares`] runs on this thread: for every gathered table, the sum over
    /// its lookups of each lookup's squared gradient row.
    static LOOKUP_SQUARES: RefCell<Option<HashMap<TensorId, ArrayD<f32>>>> = const { RefCell::new(None) };
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
    /// Tensors in the last graph walked on this thread: a training loop walks graphs of one size, so the
    /// walk's containers are sized once instead of growing step after step.
    static GRAPH_SIZE_HINT: Cell<usize> = const { Cell::new(0) };
}

/// Whether operations on this thread record backward rules.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Runs `f` with gradient recording switched off on this thread (inference mode): no graph is built.
///
/// ```
/// use rkeras_tensor::{no_grad, Variable};
/// let w = Variable::new("w", ndarray::ArrayD::ones(ndarray::IxDyn(&[2])));
/// let y = no_grad(|| w.tensor().exp())?;
/// assert!(!y.requires_grad());
/// # Ok::<(), rkeras_tensor::TensorError>(())
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GRAD_ENABLED.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GRAD_ENABLED.with(|g| g.replace(false)));
    f()
}

/// Whether the running backward pass records per-lookup squared gradients (see
/// [`Tensor::backward_with_lookup_squares`]).
pub(crate) fn lookup_squares_wanted() -> bool {
    LOOKUP_SQUARES.with(|s| s.borrow().is_some())
}

/// Adds a gathered table's per-lookup squared gradients (`Σₖ gₖ²` per row, the table's shape) to the running
/// backward pass's record; nothing happens outside [`Tensor::backward_with_lookup_squares`].
pub(crate) fn add_lookup_squares(table: TensorId, squares: ArrayD<f32>) -> Result<()> {
    LOOKUP_SQUARES.with(|s| match s.borrow_mut().as_mut() {
        Some(record) => accumulate(record, table, squares, "gather"),
        None => {
            crate::buffer_pool::give_array(squares);
            Ok(())
        }
    })
}

/// Gradients of a scalar with respect to the graph's leaves (variables and [`Tensor::leaf`] inputs).
#[derive(Debug, Default)]
pub struct Gradients {
    grads: HashMap<TensorId, ArrayD<f32>>,
    lookup_squares: HashMap<TensorId, ArrayD<f32>>,
}

impl Drop for Gradients {
    /// Hands the gradient buffers back to this thread's [`crate::buffer_pool`].
    fn drop(&mut self) {
        for (_, grad) in self.grads.drain().chain(self.lookup_squares.drain()) {
            crate::buffer_pool::give_array(grad);
        }
    }
}

impl Gradients {
    /// The gradient of a leaf tensor.
    pub fn get(&self, tensor: &Tensor) -> Option<&ArrayD<f32>> {
        self.grads.get(&tensor.id())
    }

    /// The gradient of a variable (the sum over every use of it).
    pub fn get_var(&self, var: &Variable) -> Option<&ArrayD<f32>> {
        self.grads.get(&var.id())
    }

    /// The gradient stored under an id.
    pub fn get_id(&self, id: TensorId) -> Option<&ArrayD<f32>> {
        self.grads.get(&id)
    }

    /// Takes a gradient out of the store.
    pub fn remove_var(&mut self, var: &Variable) -> Option<ArrayD<f32>> {
        self.grads.remove(&var.id())
    }

    /// For a variable looked up by [`Tensor::gather_rows`] (an embedding table), the sum over its lookups of
    /// each lookup's squared gradient row, when recorded by [`Tensor::backward_with_lookup_squares`]. Where a
    /// row was looked up once per batch it equals the gradient's square; where the lookups' gradients cancel,
    /// it is larger.
    pub fn lookup_squares_var(&self, var: &Variable) -> Option<&ArrayD<f32>> {
        self.lookup_squares.get(&var.id())
    }

    /// Takes a variable's per-lookup squared gradients out of the store.
    pub fn remove_lookup_squares_var(&mut self, var: &Variable) -> Option<ArrayD<f32>> {
        self.lookup_squares.remove(&var.id())
    }

    /// How many leaves received a gradient.
    pub fn len(&self) -> usize {
        self.grads.len()
    }

    /// Whether no leaf received a gradient.
    pub fn is_empty(&self) -> bool {
        self.grads.is_empty()
    }
}

impl Tensor {
    /// A graph leaf that requires gradients (an input to differentiate with respect to).
    pub fn leaf(data: ArrayD<f32>) -> Tensor {
        Tensor::from_parts(TensorId::fresh(), std::sync::Arc::new(data), true, None)
    }

    /// [`Tensor::backward`], also recording for every table read by [`Tensor::gather_rows`] the sum over its
    /// lookups of each lookup's squared gradient row ([`Gradients::lookup_squares_var`]): what Keras's
    /// TensorFlow backend squares when an optimizer squares an embedding's gradient, which it keeps as one row
    /// per lookup.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, Variable};
    /// let table = Variable::new("table", ndarray::arr2(&[[1.0f32], [2.0]]).into_dyn());
    /// let ids = Tensor::from_vec(&[3], vec![1.0, 1.0, 0.0])?;
    /// let weights = Tensor::from_vec(&[3, 1], vec![3.0, -1.0, 5.0])?;
    /// // loss = 3·t₁ − t₁ + 5·t₀: row 1 is looked up twice, with gradients 3 and −1.
    /// let loss = table.tensor().gather_rows(&ids)?.mul(&weights)?.sum_all()?;
    /// let grads = loss.backward_with_lookup_squares()?;
    /// assert_eq!(grads.get_var(&table).unwrap().as_slice().unwrap(), &[5.0, 2.0]);
    /// assert_eq!(grads.lookup_squares_var(&table).unwrap().as_slice().unwrap(), &[25.0, 10.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn backward_with_lookup_squares(&self) -> Result<Gradients> {
        struct Restore(Option<HashMap<TensorId, ArrayD<f32>>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                LOOKUP_SQUARES.with(|s| *s.borrow_mut() = previous);
            }
        }
        let restore = Restore(LOOKUP_SQUARES.with(|s| s.replace(Some(HashMap::new()))));
        let mut grads = self.backward()?;
        grads.lookup_squares = LOOKUP_SQUARES
            .with(|s| s.borrow_mut().take())
            .unwrap_or_default();
        drop(restore);
        Ok(grads)
    }

    /// Back-propagates from this scalar: returns d self / d leaf for every leaf that requires gradients.
    ///
    /// Gradients accumulate: a tensor used twice receives both contributions. Intermediate gradients are
    /// dropped as soon as they have been propagated.
    pub fn backward(&self) -> Result<Gradients> {
        if self.len() != 1 {
            return Err(TensorError::BackwardOfNonScalar {
                shape: self.shape().to_vec(),
            });
        }
        let mut store = Gradients::default();
        if !self.requires_grad() {
            return Ok(store);
        }
        let order = topological_order(self);
        let leaves = order.iter().filter(|t| t.0.node.is_none()).count();
        store.grads.reserve(leaves);
        let mut pending: HashMap<TensorId, ArrayD<f32>> = HashMap::with_capacity(order.len());
        pending.insert(self.id(), ArrayD::ones(IxDyn(self.shape())));
        for tensor in order.iter().rev() {
            let Some(grad) = pending.remove(&tensor.id()) else {
                continue;
            };
            let Some(node) = tensor.0.node.as_ref() else {
                accumulate(&mut store.grads, tensor.id(), grad, "backward")?;
                continue;
            };
            let ctx = BackwardCtx {
                inputs: &node.inputs,
                output: tensor.data(),
                grad: &grad,
            };
            let input_grads = (node.backward)(&ctx)?;
            crate::buffer_pool::give_array(grad);
            if input_grads.len() != node.inputs.len() {
                return Err(TensorError::Internal {
                    op: node.op,
                    reason: format!(
                        "{} gradients for {} inputs",
                        input_grads.len(),
                        node.inputs.len()
                    ),
                });
            }
            for (input, input_grad) in node.inputs.iter().zip(input_grads) {
                let Some(input_grad) = input_grad else {
                    continue;
                };
                if !input.requires_grad() {
                    continue;
                }
                if input_grad.shape() != input.shape() {
                    return Err(TensorError::Internal {
                        op: node.op,
                        reason: format!(
                            "gradient shape {:?} for input shape {:?}",
                            input_grad.shape(),
                            input.shape()
                        ),
                    });
                }
                accumulate(&mut pending, input.id(), input_grad, node.op)?;
            }
        }
        Ok(store)
    }
}

fn accumulate(
    store: &mut HashMap<TensorId, ArrayD<f32>>,
    id: TensorId,
    grad: ArrayD<f32>,
    op: &'static str,
) -> Result<()> {
    match store.get_mut(&id) {
        Some(existing) => {
            if existing.shape() != grad.shape() {
                return Err(TensorError::shape_mismatch(
                    op,
                    existing.shape(),
                    grad.shape(),
                ));
            }
            *existing += &grad;
            crate::buffer_pool::give_array(grad);
        }
        None => {
            store.insert(id, grad);
        }
    }
    Ok(())
}

/// Tensors reachable from `root` through tensors that require gradients, inputs before outputs.
fn topological_order(root: &Tensor) -> Vec<Tensor> {
    let hint = GRAPH_SIZE_HINT.with(Cell::get);
    let mut order = Vec::with_capacity(hint);
    let mut visited: HashSet<TensorId> = HashSet::with_capacity(hint);
    // Iterative post-order DFS: (tensor, children pushed yet?)
    let mut stack: Vec<(Tensor, bool)> = Vec::with_capacity(2 * hint + 1);
    stack.push((root.clone(), false));
    while let Some((tensor, expanded)) = stack.pop() {
        if expanded {
            order.push(tensor);
            continue;
        }
        if !visited.insert(tensor.id()) {
            continue;
        }
        stack.push((tensor.clone(), true));
        if let Some(node) = tensor.0.node.as_ref() {
            for input in node.inputs.iter().rev() {
                if input.requires_grad() && !visited.contains(&input.id()) {
                    stack.push((input.clone(), false));
                }
            }
        }
    }
    GRAPH_SIZE_HINT.with(|h| h.set(order.len()));
    order
}
