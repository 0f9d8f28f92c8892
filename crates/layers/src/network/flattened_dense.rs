//! A flatten and the dense layer after it, run as one op: when only a dense call reads a `Flatten` call's
//! output (not a model output, without activity regularizers or a mask, and not an output whose logits are
//! wanted), the dense layer reads the flatten's input in place as `[batch, features]`
//! ([`crate::Layer::forward_flattened`]), so no flattened copy of the batch is made or held for the backward
//! pass. Values and gradients are those of the two calls in sequence.

use super::Network;
use crate::error::Result;
use crate::symbolic::SymbolicTensor;
use foldhash::{HashMap, HashSet};
use rkeras_tensor::Tensor;

impl Network {
    /// Runs the dense call reading a flatten call `node`'s output alone (`readers`: [`Network::sole_readers`]),
    /// on the flatten's input, when both layers can: the dense call's node id and output. `logits_wanted`: the
    /// calls whose logits the caller wants (they run apart, through [`crate::Layer::forward_logits`]).
    pub(super) fn run_flattened(
        node: &SymbolicTensor,
        readers: &HashMap<u64, &SymbolicTensor>,
        logits_wanted: &HashSet<u64>,
        (args, masks): (&[Tensor], &[Option<Tensor>]),
    ) -> Result<Option<(u64, Tensor)>> {
        let layer = node.layer();
        let Some(reader) = readers.get(&node.node_id()) else {
            return Ok(None);
        };
        if !layer.flattens()
            || logits_wanted.contains(&reader.node_id())
            || reader.call_output_count() != 1
            || args.len() != 1
            || args.iter().any(|a| a.ndim() < 2)
            || masks.iter().any(Option::is_some)
            || layer.activity_regularizer().is_some()
            || reader.layer().activity_regularizer().is_some()
        {
            return Ok(None);
        }
        Ok(reader
            .layer()
            .forward_flattened(args)?
            .map(|output| (reader.node_id(), output)))
    }
}
