//! A convolution ending in ReLU and the 2-D max pooling after it, run as one op: when only a `MaxPooling2D`
//! call reads a call's output (not a model output, without an activity regularizer or a mask), the layer may
//! run with that pooling ([`crate::Layer::forward_max_pooled`]), so the convolution's output and its gradient
//! are never held for the whole batch. Values and gradients are those of the two calls in sequence.

use super::Network;
use crate::error::Result;
use crate::layer::CallContext;
use crate::symbolic::SymbolicTensor;
use foldhash::HashMap;
use rkeras_tensor::Tensor;

impl Network {
    /// Of the [`Network::sole_readers`], those that are max pooling calls: for each call whose output one max
    /// pooling call alone reads (and is not a model output), that pooling call, by the first call's node id.
    pub(super) fn pooling_readers<'n>(
        sole_readers: &HashMap<u64, &'n SymbolicTensor>,
    ) -> HashMap<u64, &'n SymbolicTensor> {
        let mut readers = sole_readers.clone();
        readers.retain(|_, reader| reader.layer().max_pool2d_window().is_some());
        readers
    }

    /// Runs `node` on `args` together with the pooling call [`Network::pooling_readers`] lists for it, when
    /// the layer can: the pooling call's node id and output.
    pub(super) fn run_pooled(
        node: &SymbolicTensor,
        readers: &HashMap<u64, &SymbolicTensor>,
        (args, masks): (&[Tensor], &[Option<Tensor>]),
        ctx: &mut CallContext<'_>,
    ) -> Result<Option<(u64, Tensor)>> {
        let layer = node.layer();
        let Some(pool) = readers.get(&node.node_id()) else {
            return Ok(None);
        };
        let Some(window) = pool.layer().max_pool2d_window() else {
            return Ok(None);
        };
        if node.call_output_count() != 1
            || masks.iter().any(Option::is_some)
            || layer.activity_regularizer().is_some()
        {
            return Ok(None);
        }
        Ok(layer
            .forward_max_pooled(args, window, ctx)?
            .map(|pooled| (pool.node_id(), pooled)))
    }
}
