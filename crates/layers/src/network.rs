//! [`Network`]: a directed acyclic graph of layer calls from inputs to outputs (Keras's functional model
//! without compile/fit), run batch by batch.

mod activity;
mod flattened_dense;
mod masks;
mod pooled_convolution;
mod sole_readers;

use crate::error::{LayersError, Result, format_shape};
use crate::layer::{CallContext, LayerId, LayerRef};
use crate::symbolic::SymbolicTensor;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use rkeras_tensor::{Tensor, Variable};

/// One output of a forward pass.
#[derive(Debug, Clone)]
pub struct NetworkOutput {
    /// The output values.
    pub output: Tensor,
    /// When the output layer ends in a softmax and logits were asked for: its input (the logits).
    pub logits: Option<Tensor>,
    /// The output's timestep mask (`[batch, time]`, Keras's `_keras_mask`), when the graph carries one to it.
    pub mask: Option<Tensor>,
}

/// A graph of layer calls, in the order Keras lists and runs them.
#[derive(Clone)]
pub struct Network {
    inputs: Vec<SymbolicTensor>,
    outputs: Vec<SymbolicTensor>,
    /// Layer calls in execution order (every node after the nodes it reads).
    nodes: Vec<SymbolicTensor>,
    /// Distinct layers in Keras's `model.layers` order (by decreasing depth, then discovery order).
    layers: Vec<LayerRef>,
    /// Whether the graph is a Keras `Sequential` model (one input, a chain of single-input layers), saved as
    /// one.
    sequential: bool,
}

impl Network {
    /// A graph from `inputs` to `outputs`. Every output must be computable from the listed inputs alone.
    pub fn new(inputs: &[SymbolicTensor], outputs: &[SymbolicTensor]) -> Result<Network> {
        if inputs.is_empty() || outputs.is_empty() {
            return Err(LayersError::Graph(
                "a model needs at least one input and one output".into(),
            ));
        }
        for (i, input) in inputs.iter().enumerate() {
            if !input.is_input() {
                return Err(LayersError::Graph(format!(
                    "model input {i} is the output of layer `{}`, not an Input",
                    input.layer().name()
                )));
            }
        }
        let input_ids: HashSet<u64> = inputs.iter().map(SymbolicTensor::node_id).collect();
        // Keras's _build_map: DFS from the outputs; post-order gives an execution order, pre-order the layer index.
        let mut finished: HashSet<u64> = HashSet::new();
        let mut nodes: Vec<SymbolicTensor> = Vec::new();
        let mut layer_index: HashMap<LayerId, usize> = HashMap::new();
        for output in outputs {
            visit(
                output,
                &input_ids,
                &mut finished,
                &mut nodes,
                &mut layer_index,
            )?;
        }
        // Keras's map_graph: depths from the outputs (0) back to the inputs.
        let mut node_depth: HashMap<u64, usize> = HashMap::new();
        let mut layer_depth: HashMap<LayerId, usize> = HashMap::new();
        for node in nodes.iter().rev() {
            let mut depth = *node_depth.entry(node.node_id()).or_insert(0);
            let id = node.layer().core().id();
            depth = depth.max(layer_depth.get(&id).copied().unwrap_or(0));
            layer_depth.insert(id, depth);
            node_depth.insert(node.node_id(), depth);
            for parent in node.inputs() {
                let previous = node_depth.get(&parent.node_id()).copied().unwrap_or(0);
                node_depth.insert(parent.node_id(), previous.max(depth + 1));
            }
        }
        let mut by_layer: HashMap<LayerId, LayerRef> = HashMap::new();
        for node in &nodes {
            by_layer
                .entry(node.layer().core().id())
                .or_insert_with(|| node.layer().clone());
        }
        for input in inputs {
            let id = input.layer().core().id();
            if let std::collections::hash_map::Entry::Vacant(slot) = by_layer.entry(id) {
                // An input no output depends on: Keras keeps it, at depth 0, first.
                slot.insert(input.layer().clone());
                layer_depth.insert(id, 0);
                layer_index.insert(id, 0);
            }
        }
        let mut ordered: Vec<(usize, usize, LayerId)> = layer_depth
            .iter()
            .map(|(&id, &depth)| (depth, layer_index.get(&id).copied().unwrap_or(0), id))
            .collect();
        ordered.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let layers = ordered
            .into_iter()
            .filter_map(|(_, _, id)| by_layer.get(&id).cloned())
            .collect();
        Ok(Network {
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            nodes,
            layers,
            sequential: false,
        })
    }

    /// The same graph marked as a Keras `Sequential` model: its config is written as Keras's `Sequential`,
    /// and its `model.layers` (and so its weight-store paths) leave out the input layer, as Keras's do.
    /// A graph that is not a chain from one input to one output is an error.
    pub fn into_sequential(mut self) -> Result<Network> {
        let chain = self.inputs.len() == 1
            && self.outputs.len() == 1
            && self.nodes.iter().all(|n| n.inputs().len() <= 1);
        if !chain {
            return Err(LayersError::Graph(
                "a Sequential model is a chain of single-input layers from one input to one output"
                    .into(),
            ));
        }
        self.sequential = true;
        Ok(self)
    }

    /// Whether the graph is a Keras `Sequential` model ([`Network::into_sequential`]).
    pub fn is_sequential(&self) -> bool {
        self.sequential
    }

    /// Keras's `model.layers`: [`Network::layers`] without the input layer for a `Sequential` model.
    pub fn keras_layers(&self) -> &[LayerRef] {
        match self.layers.split_first() {
            Some((first, rest)) if self.sequential && first.class_name() == "InputLayer" => rest,
            _ => &self.layers,
        }
    }

    /// The model's inputs.
    pub fn inputs(&self) -> &[SymbolicTensor] {
        &self.inputs
    }

    /// The model's outputs.
    pub fn outputs(&self) -> &[SymbolicTensor] {
        &self.outputs
    }

    /// The layer calls in execution order.
    pub fn nodes(&self) -> &[SymbolicTensor] {
        &self.nodes
    }

    /// The distinct layers, in Keras's order (input layers included).
    pub fn layers(&self) -> &[LayerRef] {
        &self.layers
    }

    /// Whether every layer can be written to a file: the first layer that cannot (a [`crate::Lambda`]
    /// without a registration) is [`crate::LayersError::NotSerializable`], saying why.
    pub fn check_serializable(&self) -> Result<()> {
        self.layers.iter().try_for_each(|l| l.check_serializable())
    }

    /// A layer by name.
    pub fn layer(&self, name: &str) -> Option<&LayerRef> {
        self.layers.iter().find(|l| l.name() == name)
    }

    /// Every weight, layer by layer in Keras's order (a shared layer's weights appear once).
    pub fn weights(&self) -> Vec<Variable> {
        self.layers.iter().flat_map(|l| l.weights()).collect()
    }

    /// The weights the optimizer updates.
    pub fn trainable_weights(&self) -> Vec<Variable> {
        self.weights()
            .into_iter()
            .filter(Variable::trainable)
            .collect()
    }

    /// The sum of every trainable weight's regularization penalty (Keras's weight part of `model.losses`), layer
    /// by layer in Keras's order; `None` when no layer has a weight regularizer. The gradient flows through it.
    pub fn regularization_loss(&self) -> Result<Option<Tensor>> {
        let mut total: Option<Tensor> = None;
        for layer in &self.layers {
            let regularizers = layer.weight_regularizers();
            if regularizers.is_empty() {
                continue;
            }
            let weights = layer.weights();
            for (index, regularizer) in regularizers {
                let Some(weight) = weights.get(index).filter(|w| w.trainable()) else {
                    continue;
                };
                let penalty = regularizer.penalty(&weight.tensor()).map_err(|source| {
                    crate::LayersError::Tensor {
                        layer: layer.name().to_string(),
                        source,
                    }
                })?;
                total = Some(match total {
                    None => penalty,
                    Some(t) => t
                        .add(&penalty)
                        .map_err(|source| crate::LayersError::Tensor {
                            layer: layer.name().to_string(),
                            source,
                        })?,
                });
            }
        }
        Ok(total)
    }

    /// Applies every trainable weight's constraint to its values (Keras's `variable.assign(constraint(variable))`
    /// after the optimizer's update), layer by layer.
    pub fn apply_constraints(&self) -> Result<()> {
        for layer in &self.layers {
            let constraints = layer.weight_constraints();
            if constraints.is_empty() {
                continue;
            }
            let weights = layer.weights();
            for (index, constraint) in constraints {
                if let Some(weight) = weights.get(index).filter(|w| w.trainable()) {
                    constraint.apply(&mut weight.write()).map_err(|e| {
                        crate::LayersError::Config(format!("layer `{}`: {e}", layer.name()))
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Whether a layer computes batch statistics in training ([`crate::Layer::uses_batch_statistics`]): the
    /// engine then runs each training batch as one piece instead of in parallel shards. So does a layer whose
    /// activity penalty compares the batch's samples (an orthogonal `activity_regularizer`).
    pub fn uses_batch_statistics(&self) -> bool {
        self.layers.iter().any(|l| l.uses_batch_statistics())
            || self.has_batch_wide_activity_penalty()
    }

    /// Whether a layer carries states from call to call ([`crate::Layer::is_stateful`]).
    pub fn is_stateful(&self) -> bool {
        self.layers.iter().any(|l| l.is_stateful())
    }

    /// Clears the carried states of every stateful layer ([`crate::Layer::reset_states`], Keras's
    /// `model.reset_states()`).
    pub fn reset_states(&self) {
        self.layers.iter().for_each(|l| l.reset_states());
    }

    /// The number of scalars in all weights.
    pub fn count_params(&self) -> usize {
        self.weights().iter().map(|w| w.value().len()).sum()
    }

    /// Runs the graph on one batch per input (`[batch, ...input shape]`).
    pub fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Vec<Tensor>> {
        Ok(self
            .forward_outputs(inputs, ctx, false)?
            .into_iter()
            .map(|o| o.output)
            .collect())
    }

    /// Runs the graph; with `want_logits`, an output layer that ends in a softmax also returns its logits.
    pub fn forward_outputs(
        &self,
        inputs: &[Tensor],
        ctx: &mut CallContext<'_>,
        want_logits: bool,
    ) -> Result<Vec<NetworkOutput>> {
        self.forward_outputs_masked(inputs, &[], ctx, want_logits)
    }

    /// [`Network::forward_outputs`] with a timestep mask per input (`None`, or a missing entry, for an input
    /// without one), as Keras passes a mask into a model called as a layer.
    pub fn forward_outputs_masked(
        &self,
        inputs: &[Tensor],
        input_masks: &[Option<Tensor>],
        ctx: &mut CallContext<'_>,
        want_logits: bool,
    ) -> Result<Vec<NetworkOutput>> {
        self.run(inputs, input_masks, ctx, want_logits, None)
    }

    /// The forward pass, adding every layer's activity penalty to `activity` when given.
    fn run(
        &self,
        inputs: &[Tensor],
        input_masks: &[Option<Tensor>],
        ctx: &mut CallContext<'_>,
        want_logits: bool,
        mut activity: Option<&mut activity::ActivityPenalty>,
    ) -> Result<Vec<NetworkOutput>> {
        if inputs.len() != self.inputs.len() {
            return Err(LayersError::Graph(format!(
                "the model has {} input(s), received {}",
                self.inputs.len(),
                inputs.len()
            )));
        }
        let batch = inputs
            .first()
            .map(|t| t.shape().first().copied().unwrap_or(0))
            .unwrap_or(0);
        // Every layer call's outputs, by call (one tensor for most layers, several with `return_state`).
        let mut values: HashMap<u64, Vec<Tensor>> = HashMap::with_capacity(self.nodes.len());
        for (i, (symbolic, tensor)) in self.inputs.iter().zip(inputs).enumerate() {
            let expected_rank = symbolic.shape().len() + 1;
            if tensor.ndim() != expected_rank
                || &tensor.shape()[1..] != symbolic.shape()
                || tensor.shape()[0] != batch
            {
                return Err(LayersError::Graph(format!(
                    "input {i} (`{}`) expects shape {} with {batch} samples, received {:?}",
                    symbolic.layer().name(),
                    format_shape(symbolic.shape()),
                    tensor.shape()
                )));
            }
            values.insert(symbolic.node_id(), vec![tensor.clone()]);
        }
        let output_ids: HashSet<u64> = self.outputs.iter().map(SymbolicTensor::node_id).collect();
        let mut logits: HashMap<u64, Tensor> = HashMap::new();
        // Every call's output masks (one per output; Keras's `_keras_mask`), for calls that have one.
        let mut masks: HashMap<u64, Vec<Option<Tensor>>> = HashMap::new();
        for (symbolic, mask) in self.inputs.iter().zip(input_masks) {
            if let Some(mask) = mask {
                masks.insert(symbolic.node_id(), vec![Some(mask.clone())]);
            }
        }
        let sole_readers = self.sole_readers();
        let pooling_readers = Network::pooling_readers(&sole_readers);
        let logits_wanted = if want_logits {
            output_ids.clone()
        } else {
            HashSet::new()
        };
        for node in &self.nodes {
            if values.contains_key(&node.node_id()) {
                continue;
            }
            let args: Vec<Tensor> = node
                .inputs()
                .iter()
                .map(|p| {
                    value_of(&values, p).ok_or_else(|| {
                        LayersError::Graph(format!(
                            "input `{}` of the model was not fed",
                            p.layer().name()
                        ))
                    })
                })
                .collect::<Result<_>>()?;
            let layer = node.layer();
            let arg_masks: Vec<Option<Tensor>> =
                node.inputs().iter().map(|p| mask_of(&masks, p)).collect();
            if let Some(inner) = layer.nested_network() {
                // A model used as a layer runs its own graph, masks and logits included.
                let wants = want_logits && output_ids.contains(&node.node_id());
                let outputs = inner.run(&args, &arg_masks, ctx, wants, activity.as_deref_mut())?;
                if outputs.iter().any(|o| o.mask.is_some()) {
                    masks.insert(
                        node.node_id(),
                        outputs.iter().map(|o| o.mask.clone()).collect(),
                    );
                }
                if let Some(first) = outputs.first() {
                    if let Some(z) = first.logits.as_ref().filter(|_| outputs.len() == 1) {
                        logits.insert(node.node_id(), z.clone());
                    }
                }
                values.insert(
                    node.node_id(),
                    outputs.into_iter().map(|o| o.output).collect(),
                );
                continue;
            }
            let pooled = Network::run_pooled(node, &pooling_readers, (&args, &arg_masks), ctx)?;
            if let Some((pool, output)) = pooled {
                values.insert(pool, vec![output]);
                continue;
            }
            let flattened =
                Network::run_flattened(node, &sole_readers, &logits_wanted, (&args, &arg_masks))?;
            if let Some((dense, output)) = flattened {
                values.insert(dense, vec![output]);
                continue;
            }
            insert_masks(
                &mut masks,
                node.node_id(),
                layer.compute_masks(&args, &arg_masks)?,
            );
            if arg_masks.iter().any(Option::is_some) {
                if let Some(outputs) = layer.forward_masked(&args, &arg_masks, ctx)? {
                    if outputs.len() != node.call_output_count() {
                        return Err(LayersError::Graph(format!(
                            "layer `{}` ({}) returned {} tensors with a mask, its output shapes promised {}",
                            layer.name(),
                            layer.class_name(),
                            outputs.len(),
                            node.call_output_count()
                        )));
                    }
                    values.insert(node.node_id(), outputs);
                    continue;
                }
            }
            let single = node.call_output_count() == 1;
            let output = if single && want_logits && output_ids.contains(&node.node_id()) {
                match layer.forward_logits(&args, ctx)? {
                    Some(z) => {
                        let y = z.softmax(-1).map_err(|source| LayersError::Tensor {
                            layer: layer.name().to_string(),
                            source,
                        })?;
                        logits.insert(node.node_id(), z);
                        y
                    }
                    None => layer.forward(&args, ctx)?,
                }
            } else if single {
                layer.forward(&args, ctx)?
            } else {
                let outputs = layer.forward_all(&args, ctx)?;
                if outputs.len() != node.call_output_count() {
                    return Err(LayersError::Graph(format!(
                        "layer `{}` ({}) returned {} tensors, its output shapes promised {}",
                        layer.name(),
                        layer.class_name(),
                        outputs.len(),
                        node.call_output_count()
                    )));
                }
                values.insert(node.node_id(), outputs);
                continue;
            };
            values.insert(node.node_id(), vec![output]);
        }
        if let Some(activity) = activity {
            for node in &self.nodes {
                let layer = node.layer();
                let regularizer = layer
                    .activity_regularizer()
                    .filter(|_| layer.nested_network().is_none());
                if let (Some(regularizer), Some(outputs)) =
                    (regularizer, values.get(&node.node_id()))
                {
                    activity.add(layer.as_ref(), regularizer, outputs)?;
                }
            }
        }
        self.outputs
            .iter()
            .map(|o| {
                let output = value_of(&values, o).ok_or_else(|| {
                    LayersError::Graph(format!("output `{}` was not computed", o.layer().name()))
                })?;
                Ok(NetworkOutput {
                    output,
                    logits: logits.get(&o.node_id()).cloned(),
                    mask: mask_of(&masks, o),
                })
            })
            .collect()
    }
}

/// The value of one symbolic tensor: its call's output at its tensor index.
fn value_of(values: &HashMap<u64, Vec<Tensor>>, tensor: &SymbolicTensor) -> Option<Tensor> {
    values
        .get(&tensor.node_id())
        .and_then(|outputs| outputs.get(tensor.tensor_index()))
        .cloned()
}

/// The mask of one symbolic tensor: its call's mask at its tensor index.
fn mask_of(masks: &HashMap<u64, Vec<Option<Tensor>>>, tensor: &SymbolicTensor) -> Option<Tensor> {
    masks
        .get(&tensor.node_id())
        .and_then(|call| call.get(tensor.tensor_index()))
        .cloned()
        .flatten()
}

/// Records a call's output masks ([`crate::Layer::compute_masks`]) when any output has one.
fn insert_masks(
    masks: &mut HashMap<u64, Vec<Option<Tensor>>>,
    node_id: u64,
    call: Vec<Option<Tensor>>,
) {
    if call.iter().any(Option::is_some) {
        masks.insert(node_id, call);
    }
}

fn visit(
    tensor: &SymbolicTensor,
    input_ids: &HashSet<u64>,
    finished: &mut HashSet<u64>,
    order: &mut Vec<SymbolicTensor>,
    layer_index: &mut HashMap<LayerId, usize>,
) -> Result<()> {
    // Iterative DFS (deep graphs must not overflow the stack): (node, children visited?)
    let mut stack: Vec<(SymbolicTensor, bool)> = vec![(tensor.clone(), false)];
    while let Some((node, expanded)) = stack.pop() {
        if expanded {
            if finished.insert(node.node_id()) {
                order.push(node);
            }
            continue;
        }
        if finished.contains(&node.node_id()) {
            continue;
        }
        let next = layer_index.len();
        layer_index.entry(node.layer().core().id()).or_insert(next);
        stack.push((node.clone(), true));
        if node.is_input() {
            if !input_ids.contains(&node.node_id()) {
                return Err(LayersError::Graph(format!(
                    "the outputs depend on input `{}`, which is not among the model's inputs",
                    node.layer().name()
                )));
            }
            continue;
        }
        for parent in node.inputs().iter().rev() {
            if !finished.contains(&parent.node_id()) {
                stack.push((parent.clone(), false));
            }
        }
    }
    Ok(())
}
