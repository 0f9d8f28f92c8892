//! The layers' weight regularization penalties in the training loss, as Keras 3's `compute_loss` adds
//! `model.losses` to the compiled loss.

use crate::error::Result;
use rkeras_layers::Network;
use rkeras_tensor::Tensor;

/// `loss` plus the network's weight penalties ([`Network::regularization_loss`]) when `penalize`; `loss`
/// unchanged otherwise or when no layer has a regularizer. A batch split into shards penalizes only its
/// first shard, so the penalty (and its gradient) counts once per batch, as Keras counts it once per step.
pub(crate) fn add_penalty(network: &Network, loss: Tensor, penalize: bool) -> Result<Tensor> {
    if !penalize {
        return Ok(loss);
    }
    match network.regularization_loss()? {
        Some(penalty) => Ok(loss.add(&penalty)?),
        None => Ok(loss),
    }
}
