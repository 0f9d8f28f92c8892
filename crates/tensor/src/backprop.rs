//! Reverse-mode automatic differentiation: backward rules, the topological walk and accumulated gradients.

use crate::error::{Result, TensorError};
use crate::gradient::Gradient;
use crate::tensor::{Tensor, TensorId};
use crate::variable::Variable;
use ndarray::{ArrayD, IxDyn};
use std::cell::Cell;
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

type DenseBackwardFn =
    Box<dyn Fn(&BackwardCtx<'_>) -> Result<Vec<Option<ArrayD<f32>>>> + Send + Sync>;
type BackwardFn = Box<dyn Fn(&BackwardCtx<'_>) -> Result<Vec<Option<Gradient>>> + Send + Sync>;

/// A backward rule: dense input gradients (almost every op), or [`Gradient`]s that may hold rows (a lookup).
enum Backward {
    Dense(DenseBackwardFn),
    Gradients(BackwardFn),
}

/// How a tensor was made: the op, its inputs and the rule mapping the output gradient to input gradients
/// (one entry per input; `None` where no gradient flows, e.g. integer indices).
pub struct Node {
    op: &'static str,
    inputs: Vec<Tensor>,
    backward: Backward,
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
            backward: Backward::Dense(Box::new(backward)),
        }
    }

    /// A node whose backward rule may give an input a row gradient ([`Gradient::Rows`], as a lookup gives its
    /// table). A row gradient reaching a tensor that is not a leaf is made dense before its own rule runs.
    pub fn with_gradients(
        op: &'static str,
        inputs: Vec<Tensor>,
        backward: impl Fn(&BackwardCtx<'_>) -> Result<Vec<Option<Gradient>>> + Send + Sync + 'static,
    ) -> Node {
        Node {
            op,
            inputs,
            backward: Backward::Gradients(Box::new(backward)),
        }
    }

    /// The op's name.
    pub fn op_name(&self) -> &'static str {
        self.op
    }
}

thread_local! {
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

/// Gradients of a scalar with respect to the graph's leaves (variables and [`Tensor::leaf`] inputs). A table read
/// only by [`Tensor::gather_rows`] receives a row gradient ([`Gradient::Rows`]); every other leaf a dense one.
#[derive(Debug, Default)]
pub struct Gradients {
    grads: HashMap<TensorId, Gradient>,
}

impl Drop for Gradients {
    /// Hands the dense gradient buffers back to this thread's [`crate::buffer_pool`].
    fn drop(&mut self) {
        for (_, grad) in self.grads.drain() {
            if let Gradient::Dense(grad) = grad {
                crate::buffer_pool::give_array(grad);
            }
        }
    }
}

impl Gradients {
    /// The dense gradient of a leaf tensor; `None` when it received none or a row gradient
    /// ([`Gradients::gradient`] gives both forms).
    pub fn get(&self, tensor: &Tensor) -> Option<&ArrayD<f32>> {
        self.get_id(tensor.id())
    }

    /// The dense gradient of a variable (the sum over every use of it); `None` when it received none or a row
    /// gradient ([`Gradients::gradient_var`] gives both forms, [`Gradients::dense_var`] always a dense one).
    pub fn get_var(&self, var: &Variable) -> Option<&ArrayD<f32>> {
        self.get_id(var.id())
    }

    /// The dense gradient stored under an id (see [`Gradients::get`]).
    pub fn get_id(&self, id: TensorId) -> Option<&ArrayD<f32>> {
        match self.grads.get(&id) {
            Some(Gradient::Dense(g)) => Some(g),
            _ => None,
        }
    }

    /// The gradient of a leaf tensor, dense or rows.
    pub fn gradient(&self, tensor: &Tensor) -> Option<&Gradient> {
        self.grads.get(&tensor.id())
    }

    /// The gradient of a variable, dense or rows.
    pub fn gradient_var(&self, var: &Variable) -> Option<&Gradient> {
        self.grads.get(&var.id())
    }

    /// The gradient of a variable in dense form (a row gradient scattered into zeros).
    pub fn dense_var(&self, var: &Variable) -> Result<Option<ArrayD<f32>>> {
        self.grads
            .get(&var.id())
            .map(|g| g.clone().into_dense())
            .transpose()
    }

    /// Takes a variable's gradient out of the store, in dense form.
    pub fn remove_var(&mut self, var: &Variable) -> Result<Option<ArrayD<f32>>> {
        self.grads
            .remove(&var.id())
            .map(Gradient::into_dense)
            .transpose()
    }

    /// Takes a variable's gradient out of the store, dense or rows.
    pub fn remove_gradient_var(&mut self, var: &Variable) -> Option<Gradient> {
        self.grads.remove(&var.id())
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
        let mut pending: HashMap<TensorId, Gradient> = HashMap::with_capacity(order.len());
        pending.insert(
            self.id(),
            Gradient::Dense(ArrayD::ones(IxDyn(self.shape()))),
        );
        for tensor in order.iter().rev() {
            let Some(grad) = pending.remove(&tensor.id()) else {
                continue;
            };
            let Some(node) = tensor.0.node.as_ref() else {
                accumulate(&mut store.grads, tensor.id(), grad, "backward")?;
                continue;
            };
            let grad = grad.into_dense()?;
            let ctx = BackwardCtx {
                inputs: &node.inputs,
                output: tensor.data(),
                grad: &grad,
            };
            let input_grads = match &node.backward {
                Backward::Dense(rule) => rule(&ctx)?
                    .into_iter()
                    .map(|g| g.map(Gradient::Dense))
                    .collect(),
                Backward::Gradients(rule) => rule(&ctx)?,
            };
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
    store: &mut HashMap<TensorId, Gradient>,
    id: TensorId,
    grad: Gradient,
    op: &'static str,
) -> Result<()> {
    match store.get_mut(&id) {
        Some(existing) => {
            if existing.shape() != grad.shape() {
                return Err(TensorError::shape_mismatch(
                    op,
                    &existing.shape(),
                    &grad.shape(),
                ));
            }
            existing.add(grad)?;
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
