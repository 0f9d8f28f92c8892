//! Which call alone reads another call's output: where two calls may run as one op (a convolution with the
//! max pooling after it, a flatten with the dense layer after it).

use super::Network;
use crate::symbolic::SymbolicTensor;
use std::collections::{HashMap, HashSet};

impl Network {
    /// For each call whose output one call alone reads and that is not a model output: that reading call, by
    /// the first call's node id.
    pub(super) fn sole_readers(&self) -> HashMap<u64, &SymbolicTensor> {
        let mut readers: HashMap<u64, Vec<&SymbolicTensor>> = HashMap::new();
        for node in &self.nodes {
            for input in node.inputs() {
                readers.entry(input.node_id()).or_default().push(node);
            }
        }
        let outputs: HashSet<u64> = self.outputs.iter().map(SymbolicTensor::node_id).collect();
        readers
            .into_iter()
            .filter_map(|(id, readers)| match readers[..] {
                [reader] if !outputs.contains(&id) && reader.inputs().len() == 1 => {
                    Some((id, reader))
                }
                _ => None,
            })
            .collect()
    }
}
