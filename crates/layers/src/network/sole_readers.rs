//! Which call alone reads another call's output: where two calls may run as one op (a convolution with the
//! max pooling after it, a flatten with the dense layer after it).

use super::Network;
use crate::symbolic::SymbolicTensor;
use foldhash::{HashMap, HashMapExt};

impl Network {
    /// For each call whose output one call alone reads and that is not a model output: that reading call, by
    /// the first call's node id.
    pub(super) fn sole_readers(&self) -> HashMap<u64, &SymbolicTensor> {
        // Per node id: how many times calls read its output, and the last call that did.
        let mut readers: HashMap<u64, (usize, &SymbolicTensor)> =
            HashMap::with_capacity(self.nodes.len());
        for node in &self.nodes {
            for input in node.inputs() {
                readers
                    .entry(input.node_id())
                    .and_modify(|(count, reader)| {
                        *count += 1;
                        *reader = node;
                    })
                    .or_insert((1, node));
            }
        }
        readers
            .into_iter()
            .filter_map(|(id, (count, reader))| {
                let output = self.outputs.iter().any(|o| o.node_id() == id);
                (count == 1 && !output && reader.inputs().len() == 1).then_some((id, reader))
            })
            .collect()
    }
}
