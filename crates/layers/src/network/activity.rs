//! Activity regularization: the penalty of each layer's `activity_regularizer` on its outputs, divided by the
//! batch size, as Keras 3's `Layer.__call__` adds it to `layer.losses` (and `compute_loss` to the loss).

use super::{Network, NetworkOutput};
use crate::error::{LayersError, Result};
use crate::layer::{CallContext, Layer};
use crate::regularizers::Regularizer;
use rkeras_tensor::Tensor;

/// The running sum of a forward pass's activity penalties, each divided by the batch size.
pub(crate) struct ActivityPenalty {
    batch: f32,
    total: Option<Tensor>,
}

impl ActivityPenalty {
    /// An empty sum for a batch of `batch` samples (the divisor of every penalty).
    fn new(batch: usize) -> Self {
        ActivityPenalty {
            batch: batch as f32,
            total: None,
        }
    }

    /// Adds `regularizer`'s penalty of each of `layer`'s `outputs` (Keras penalizes every tensor a call returns,
    /// the states of `return_state` included), divided by the batch size.
    pub(crate) fn add(
        &mut self,
        layer: &dyn Layer,
        regularizer: Regularizer,
        outputs: &[Tensor],
    ) -> Result<()> {
        let in_layer = |source| LayersError::Tensor {
            layer: layer.name().to_string(),
            source,
        };
        // Keras's `divide_no_nan`: an empty batch adds nothing.
        let scale = if self.batch > 0.0 {
            1.0 / self.batch
        } else {
            0.0
        };
        for output in outputs {
            let penalty = regularizer
                .penalty(output)
                .and_then(|p| p.mul_scalar(scale))
                .map_err(in_layer)?;
            self.total = Some(match self.total.take() {
                None => penalty,
                Some(total) => total.add(&penalty).map_err(in_layer)?,
            });
        }
        Ok(())
    }
}

impl Network {
    /// [`Network::forward_outputs`] that also returns the sum of every activity penalty (Keras's
    /// `activity_regularizer` of each layer, nested models included, on each of its outputs, divided by
    /// `batch`), or `None` when no layer has one. The gradient flows through it.
    ///
    /// `batch` is the whole batch's size: a batch split into shards passes the same `batch` to each shard, so
    /// that the shards' penalties (L1, L2 and L1L2 sum over samples) add up to the whole batch's.
    pub fn forward_outputs_regularized(
        &self,
        inputs: &[Tensor],
        ctx: &mut CallContext<'_>,
        want_logits: bool,
        batch: usize,
    ) -> Result<(Vec<NetworkOutput>, Option<Tensor>)> {
        let mut penalty = ActivityPenalty::new(batch);
        let outputs = self.run(inputs, &[], ctx, want_logits, Some(&mut penalty))?;
        Ok((outputs, penalty.total))
    }

    /// Whether a layer's activity penalty does not add up over the samples of a batch (an orthogonal
    /// regularizer compares the samples with each other), so that the batch must run as one piece.
    pub(crate) fn has_batch_wide_activity_penalty(&self) -> bool {
        self.layers.iter().any(|l| {
            matches!(
                l.activity_regularizer(),
                Some(Regularizer::Orthogonal { .. })
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{CallContext, Dense, Input, Layer, LayerCall, Network, Regularizer};
    use rand::SeedableRng;
    use rkeras_tensor::Tensor;

    #[test]
    fn penalizes_each_output_divided_by_the_batch() {
        let input = Input::new(&[2]);
        let first = Dense::new(2)
            .with_bias(false)
            .with_activity_regularizer(Regularizer::L2 { l2: 0.5 });
        let hidden = first.call(&input).unwrap();
        let output = Dense::new(1)
            .with_bias(false)
            .with_activity_regularizer(Regularizer::L1 { l1: 0.25 })
            .call(&hidden)
            .unwrap();
        let network = Network::new(&[input], &[output]).unwrap();
        let x = Tensor::from_vec(&[2, 2], vec![1.0, -2.0, 0.5, 3.0]).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let mut ctx = CallContext {
            training: true,
            rng: &mut rng,
        };
        let (outs, penalty) = network
            .forward_outputs_regularized(std::slice::from_ref(&x), &mut ctx, false, 4)
            .unwrap();
        let w1 = (*first.weights()[0].value()).clone();
        let h = x
            .data()
            .clone()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        let h = h.dot(&w1.into_dimensionality::<ndarray::Ix2>().unwrap());
        let y = outs[0].output.data();
        let want = 0.5 * h.mapv(|v| v * v).sum() / 4.0 + 0.25 * y.mapv(f32::abs).sum() / 4.0;
        let got = penalty.unwrap().to_scalar().unwrap();
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        assert!(!network.has_batch_wide_activity_penalty());
    }

    #[test]
    fn no_activity_regularizer_gives_no_penalty() {
        let input = Input::new(&[2]);
        let output = Dense::new(1).call(&input).unwrap();
        let network = Network::new(&[input], &[output]).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let mut ctx = CallContext {
            training: false,
            rng: &mut rng,
        };
        let (_, penalty) = network
            .forward_outputs_regularized(&[Tensor::ones(&[3, 2])], &mut ctx, false, 3)
            .unwrap();
        assert!(penalty.is_none());
    }
}
