//! The layers' weight and activity regularization penalties in the training loss, as Keras 3's
//! `compute_loss` adds `model.losses` to the compiled loss.

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

/// `loss` plus a forward pass's activity penalties ([`Network::forward_outputs_regularized`]), when any. Each
/// shard of a batch adds its own samples' share (the penalties are divided by the whole batch's size), so the
/// shards' sum is the whole batch's penalty.
pub(crate) fn add_activity(loss: Tensor, activity: Option<Tensor>) -> Result<Tensor> {
    match activity {
        Some(penalty) => Ok(loss.add(&penalty)?),
        None => Ok(loss),
    }
}
