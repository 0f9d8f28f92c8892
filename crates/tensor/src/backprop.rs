//! Reverse-mode automatic differentiation: backward rules, the topological walk and accumulated gradients.

use crate::error::{Result, TensorError};
use crate::gradient::Gradient;
use crate::tensor::{Tensor, TensorId};
use crate::variable::Variable;
use ndarray::{ArrayD, IxDyn};
// The tape's maps are keyed by tensor ids, hashed once per op and lookup: foldhash instead of SipHash.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::cell::Cell;

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
type OwnedBackwardFn =
    Box<dyn Fn(&[Tensor], ArrayD<f32>) -> Result<Vec<Option<ArrayD<f32>>>> + Send + Sync>;

/// A backward rule: dense input gradients (almost every op), [`Gradient`]s that may hold rows (a lookup), or
/// dense input gradients made from the output gradient itself, which the rule owns (a reshape).
enum Backward {
    Dense(DenseBackwardFn),
    Gradients(BackwardFn),
    Owned(OwnedBackwardFn),
}

/// How a tensor was made: the op, its inputs and the rule mapping the output gradient to input gradients
/// (one entry per input; `None` where no gradient flows, e.g. integer indices).
pub struct Node {
    op: &'static str,
    inputs: Vec<Tensor>,
    backward: Backward,
    /// Whether the rule reads [`BackwardCtx::output`]; when it does not, an op whose own rule does not read
    /// this node's output may hold it without its values ([`Tensor::without_values`]).
    reads_output: bool,
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
            reads_output: true,
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
            reads_output: true,
        }
    }

    /// A node whose backward rule takes the output gradient by value (with the op's inputs) and may return
    /// its buffer as an input gradient, as a reshape does: no copy, and no second buffer of its size.
    pub fn passing_gradient(
        op: &'static str,
        inputs: Vec<Tensor>,
        backward: impl Fn(&[Tensor], ArrayD<f32>) -> Result<Vec<Option<ArrayD<f32>>>>
        + Send
        + Sync
        + 'static,
    ) -> Node {
        Node {
            op,
            inputs,
            backward: Backward::Owned(Box::new(backward)),
            reads_output: false,
        }
    }

    /// Declares that the rule never reads [`BackwardCtx::output`] (it gets an empty array once the output's
    /// values are gone), so that the output's values can be freed before the backward pass.
    pub fn output_unread(mut self) -> Node {
        self.reads_output = false;
        self
    }

    /// Whether the rule reads [`BackwardCtx::output`].
    pub fn reads_output(&self) -> bool {
        self.reads_output
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
    /// dropped as soon as they have been propagated, and the graph is taken apart as the walk goes: once a
    /// node's rule has run, what it saved (its inputs' handles, masks, copies) is released, so each
    /// activation is freed as soon as no rule still to run needs it. The graph can therefore be walked only
    /// once: a second `backward` reaching it returns [`TensorError::GraphReleased`].
    ///
    /// ```
    /// use rkeras_tensor::{TensorError, Variable};
    /// let w = Variable::new("w", ndarray::arr1(&[2.0f32, 3.0]).into_dyn());
    /// let loss = w.tensor().exp()?.sum_all()?;
    /// let grads = loss.backward()?;
    /// assert!(grads.get_var(&w).is_some());
    /// assert!(matches!(loss.backward(), Err(TensorError::GraphReleased { op: "sum" })));
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
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
        let mut order = topological_order(self)?;
        let leaves = order.iter().filter(|t| t.0.op.is_none()).count();
        store.grads.reserve(leaves);
        let mut pending: HashMap<TensorId, Gradient> = HashMap::with_capacity(order.len());
        pending.insert(
            self.id(),
            Gradient::Dense(ArrayD::ones(IxDyn(self.shape()))),
        );
        // Outputs before inputs; each tensor (and, with its node, its hold on its inputs) is dropped once
        // its rule has run.
        while let Some(tensor) = order.pop() {
            let grad = pending.remove(&tensor.id());
            let Some(op) = tensor.0.op else {
                if let Some(grad) = grad {
                    accumulate(&mut store.grads, tensor.id(), grad, "backward")?;
                }
                continue;
            };
            let node = tensor
                .0
                .take_node()
                .ok_or(TensorError::GraphReleased { op })?;
            let Some(grad) = grad else {
                continue;
            };
            propagate(&node, &tensor, grad.into_dense()?, &mut pending)?;
        }
        Ok(store)
    }
}

/// Runs `node`'s rule on the gradient `grad` of its output `tensor`, adding the input gradients to `pending`.
fn propagate(
    node: &Node,
    tensor: &Tensor,
    grad: ArrayD<f32>,
    pending: &mut HashMap<TensorId, Gradient>,
) -> Result<()> {
    let ctx = |grad| BackwardCtx {
        inputs: &node.inputs,
        output: tensor.data(),
        grad,
    };
    let input_grads = match &node.backward {
        Backward::Owned(rule) => dense(rule(&node.inputs, grad)?),
        Backward::Dense(rule) => {
            let input_grads = dense(rule(&ctx(&grad))?);
            crate::buffer_pool::give_array(grad);
            input_grads
        }
        Backward::Gradients(rule) => {
            let input_grads = rule(&ctx(&grad))?;
            crate::buffer_pool::give_array(grad);
            input_grads
        }
    };
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
        if !input_grad.as_ref().has_shape(input.shape()) {
            return Err(TensorError::Internal {
                op: node.op,
                reason: format!(
                    "gradient shape {:?} for input shape {:?}",
                    input_grad.shape(),
                    input.shape()
                ),
            });
        }
        accumulate(pending, input.id(), input_grad, node.op)?;
    }
    Ok(())
}

/// Dense input gradients as [`Gradient`]s.
fn dense(grads: Vec<Option<ArrayD<f32>>>) -> Vec<Option<Gradient>> {
    grads.into_iter().map(|g| g.map(Gradient::Dense)).collect()
}

fn accumulate(
    store: &mut HashMap<TensorId, Gradient>,
    id: TensorId,
    grad: Gradient,
    op: &'static str,
) -> Result<()> {
    match store.get_mut(&id) {
        Some(existing) => {
            if !existing.same_shape(&grad) {
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

/// Tensors reachable from `root` through tensors that require gradients, inputs before outputs; an error if
/// an earlier backward pass released part of the graph.
fn topological_order(root: &Tensor) -> Result<Vec<Tensor>> {
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
        if let Some(op) = tensor.0.op {
            let node = tensor.0.node();
            let node = node.as_ref().ok_or(TensorError::GraphReleased { op })?;
            stack.push((tensor.clone(), true));
            for input in node.inputs.iter().rev() {
                if input.requires_grad() && !visited.contains(&input.id()) {
                    stack.push((input.clone(), false));
                }
            }
        } else {
            stack.push((tensor.clone(), true));
        }
    }
    GRAPH_SIZE_HINT.with(|h| h.set(order.len()));
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn weights() -> Variable {
        Variable::new("w", ndarray::arr1(&[0.5f32, -1.0, 2.0]).into_dyn())
    }

    #[test]
    fn backward_releases_each_activation_once_its_rule_has_run() -> Result<()> {
        let w = weights();
        let c = Tensor::from_vec(&[3], vec![2.0, 3.0, 4.0])?;
        let hidden = w.tensor().mul(&c)?;
        let activated = hidden.exp()?;
        let loss = activated.sum_all()?;
        let (hidden_node, activated_node) =
            (Arc::downgrade(&hidden.0), Arc::downgrade(&activated.0));
        let activated_values = Arc::downgrade(&activated.data_arc());
        drop((hidden, activated));
        // Before the backward pass the loss's graph keeps both activations and their values.
        assert!(hidden_node.upgrade().is_some() && activated_node.upgrade().is_some());
        assert!(activated_values.upgrade().is_some());
        let grads = loss.backward()?;
        // The loss is still alive, but nothing behind it is.
        assert!(hidden_node.upgrade().is_none());
        assert!(activated_node.upgrade().is_none());
        assert!(activated_values.upgrade().is_none());
        assert_eq!(loss.op_name(), Some("sum"));
        // d/dw sum(exp(w * c)) = c · exp(w * c)
        let expected: Vec<f32> = [(0.5f32, 2.0f32), (-1.0, 3.0), (2.0, 4.0)]
            .iter()
            .map(|&(w, c)| c * (w * c).exp())
            .collect();
        let got = grads
            .get_var(&w)
            .map(|g| g.iter().copied().collect::<Vec<_>>());
        assert_eq!(got, Some(expected));
        Ok(())
    }

    #[test]
    fn a_tensor_the_caller_holds_keeps_its_values_but_not_its_inputs() -> Result<()> {
        let w = weights();
        let hidden = w.tensor().exp()?;
        let output = hidden.mul(&hidden)?;
        let loss = output.sum_all()?;
        let hidden_node = Arc::downgrade(&hidden.0);
        drop(hidden);
        loss.backward()?;
        assert_eq!(output.to_vec().len(), 3);
        assert_eq!(output.op_name(), Some("mul"));
        assert!(hidden_node.upgrade().is_none());
        Ok(())
    }

    #[test]
    fn a_second_backward_through_a_released_graph_is_an_error() -> Result<()> {
        let w = weights();
        let shared = w.tensor().exp()?;
        let first = shared.sum_all()?;
        let second = shared.mul(&shared)?.sum_all()?;
        first.backward()?;
        assert_eq!(
            first.backward().err(),
            Some(TensorError::GraphReleased { op: "sum" })
        );
        // Another loss over the released part of the graph cannot be differentiated either.
        assert_eq!(
            second.backward().err(),
            Some(TensorError::GraphReleased { op: "exp" })
        );
        // A fresh forward pass can.
        let again = w.tensor().exp()?.sum_all()?.backward()?;
        assert!(again.get_var(&w).is_some());
        Ok(())
    }

    #[test]
    fn a_reshape_passes_its_output_gradient_back_in_the_input_shape() -> Result<()> {
        let x = Tensor::leaf(
            ndarray::Array::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f32).into_dyn(),
        );
        let c = Tensor::from_vec(&[3, 2], vec![1.0, -2.0, 3.0, -4.0, 5.0, -6.0])?;
        // x used twice: once through the reshape, once directly, so the reshaped gradient is accumulated.
        let loss = x.reshape(&[3, 2])?.mul(&c)?.sum_all()?.add(&x.sum_all()?)?;
        let grads = loss.backward()?;
        let g = grads
            .get(&x)
            .map(|g| (g.shape().to_vec(), g.iter().copied().collect::<Vec<_>>()));
        assert_eq!(g, Some((vec![2, 3], vec![2.0, -1.0, 4.0, -3.0, 6.0, -5.0])));
        Ok(())
    }
}
