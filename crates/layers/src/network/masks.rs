//! The output masks of a batch without the forward pass: only the layers whose masks read values (an
//! `Embedding` with `mask_zero`, `Masking`) and the layers before them run, so that a training step can count
//! a whole batch's kept timesteps before its shards run forward.

use super::{Network, insert_masks, mask_of, value_of};
use crate::error::{LayersError, Result};
use crate::layer::CallContext;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, no_grad};

impl Network {
    /// Each output's timestep mask for `inputs` (as [`Network::forward_outputs`] gives it in
    /// [`crate::NetworkOutput::mask`]), computed without running the layers whose values no mask reads.
    /// Layers run in inference mode, outside any graph.
    pub fn output_masks(&self, inputs: &[Tensor]) -> Result<Vec<Option<Tensor>>> {
        self.output_masks_masked(inputs, &[])
    }

    /// [`Network::output_masks`] with the inputs' own masks (`None`, or missing at the end, for an input
    /// without one), as a model used as a layer receives them.
    pub fn output_masks_masked(
        &self,
        inputs: &[Tensor],
        input_masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        if inputs.len() != self.inputs.len() {
            return Err(LayersError::Graph(format!(
                "the model has {} input(s), received {}",
                self.inputs.len(),
                inputs.len()
            )));
        }
        // Without input masks and without a layer whose mask reads values no call makes a mask (every call
        // would be skipped below): no output has one.
        if input_masks.iter().all(Option::is_none)
            && !self.nodes.iter().any(|n| n.layer().mask_reads_values())
        {
            return Ok(vec![None; self.outputs.len()]);
        }
        // The calls whose values a mask reads, and every call before them.
        let mut needed: HashSet<u64> = HashSet::new();
        for node in self.nodes.iter().rev() {
            if node.layer().mask_reads_values() || needed.contains(&node.node_id()) {
                needed.extend(node.inputs().iter().map(|p| p.node_id()));
            }
        }
        let mut values: HashMap<u64, Vec<Tensor>> = self
            .inputs
            .iter()
            .zip(inputs)
            .map(|(symbolic, tensor)| (symbolic.node_id(), vec![tensor.clone()]))
            .collect();
        let mut masks: HashMap<u64, Vec<Option<Tensor>>> = HashMap::new();
        for (symbolic, mask) in self.inputs.iter().zip(input_masks) {
            insert_masks(&mut masks, symbolic.node_id(), vec![mask.clone()]);
        }
        let mut rng = StdRng::seed_from_u64(0);
        let mut ctx = CallContext {
            training: false,
            rng: &mut rng,
        };
        no_grad(|| {
            for node in &self.nodes {
                if values.contains_key(&node.node_id()) {
                    continue;
                }
                let layer = node.layer();
                let arg_masks: Vec<Option<Tensor>> =
                    node.inputs().iter().map(|p| mask_of(&masks, p)).collect();
                let reads = layer.mask_reads_values();
                let wanted = needed.contains(&node.node_id());
                if !reads && !wanted && arg_masks.iter().all(Option::is_none) {
                    continue;
                }
                let args: Vec<Tensor> = if reads || wanted {
                    node.inputs()
                        .iter()
                        .map(|p| {
                            value_of(&values, p).ok_or_else(|| {
                                LayersError::Graph(format!(
                                    "input `{}` of the model was not fed",
                                    p.layer().name()
                                ))
                            })
                        })
                        .collect::<Result<_>>()?
                } else {
                    // Empty batches of the inputs' shapes: enough for a mask read from shapes (Concatenate).
                    node.inputs()
                        .iter()
                        .map(|p| {
                            let shape: Vec<usize> = std::iter::once(0)
                                .chain(p.shape().iter().copied())
                                .collect();
                            Tensor::zeros(&shape)
                        })
                        .collect()
                };
                insert_masks(
                    &mut masks,
                    node.node_id(),
                    layer.compute_masks(&args, &arg_masks)?,
                );
                if wanted {
                    let outputs = match layer.forward_masked(&args, &arg_masks, &mut ctx)? {
                        Some(outputs) => outputs,
                        None if node.call_output_count() == 1 => {
                            vec![layer.forward(&args, &mut ctx)?]
                        }
                        None => layer.forward_all(&args, &mut ctx)?,
                    };
                    values.insert(node.node_id(), outputs);
                }
            }
            Ok(self.outputs.iter().map(|o| mask_of(&masks, o)).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Dense, Embedding, Input, LSTM, LayerCall, Masking, Network};
    use rkeras_tensor::Tensor;

    /// `network`'s output masks for `batch`, as `output_masks` and as the forward pass give them.
    fn both_masks(network: &Network, batch: Tensor) -> (Vec<Option<Tensor>>, Vec<Option<Tensor>>) {
        let masks = network.output_masks(std::slice::from_ref(&batch)).unwrap();
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
        let mut ctx = crate::CallContext {
            training: false,
            rng: &mut rng,
        };
        let outs = network.forward_outputs(&[batch], &mut ctx, false).unwrap();
        (masks, outs.into_iter().map(|o| o.mask).collect())
    }

    #[test]
    fn output_masks_equal_the_forward_pass_masks() {
        let ids = Input::new(&[4]);
        let x = Embedding::new(6, 3)
            .with_mask_zero(true)
            .call(&ids)
            .unwrap();
        let x = LSTM::new(2).with_return_sequences(true).call(&x).unwrap();
        let x = Dense::new(3).call(&x).unwrap();
        let x = Masking::new(0.0).call(&x).unwrap();
        let network = Network::new(&[ids], &[x]).unwrap();
        let batch =
            Tensor::from_vec(&[2, 4], vec![0.0, 1.0, 2.0, 0.0, 3.0, 0.0, 0.0, 0.0]).unwrap();
        let (masks, forward) = both_masks(&network, batch);
        let expected = forward[0].as_ref().unwrap().data().clone();
        assert_eq!(masks[0].as_ref().unwrap().data(), &expected);
        assert_eq!(
            expected.iter().copied().collect::<Vec<_>>(),
            [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            "Masking reads the LSTM's outputs: zero only where the first step is padding"
        );
    }

    #[test]
    fn without_a_mask_making_layer_no_output_has_a_mask() {
        let ids = Input::new(&[4]);
        let x = Embedding::new(6, 3).call(&ids).unwrap();
        let x = LSTM::new(2).with_return_sequences(true).call(&x).unwrap();
        let network = Network::new(&[ids], &[x]).unwrap();
        let batch = Tensor::from_vec(&[1, 4], vec![0.0, 1.0, 2.0, 0.0]).unwrap();
        let (masks, forward) = both_masks(&network, batch);
        assert_eq!(masks.len(), 1);
        assert!(masks[0].is_none() && forward[0].is_none());
    }
}
