//! Inverted dropout: zero each element with probability `rate`, scale the rest by `1 / (1 − rate)`.

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::random::{dropout_mask_into, dropout_threshold};
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rand::Rng;

/// A dropout mask of `shape`: each entry is 0 with probability `rate`, else `1 / (1 − rate)`.
/// The same RNG state gives the same mask. Takes one `u64` from `rng` to seed
/// [`crate::kernels::random::dropout_mask_into`] (eight xoshiro256++ streams side by side, one `u32` draw per
/// entry, dropped when it falls below `rate · 2³²`).
pub fn dropout_mask(shape: &[usize], rate: f32, rng: &mut impl Rng) -> Result<ArrayD<f32>> {
    if !(0.0..1.0).contains(&rate) {
        return Err(TensorError::invalid_argument(
            "dropout",
            format!("rate must be in [0, 1), received {rate}"),
        ));
    }
    let len: usize = shape.iter().product();
    // Every entry is written below, so a reused buffer needs no zeroing.
    let mut values = crate::buffer_pool::take(len);
    dropout_mask_into(
        &mut values,
        rng.next_u64(),
        dropout_threshold(rate),
        1.0 / (1.0 - rate),
    );
    ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| TensorError::Internal {
        op: "dropout",
        reason: "mask shape".into(),
    })
}

impl Tensor {
    /// Inverted dropout with a mask drawn from `rng` (training only; at inference, do not call it).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use rkeras_tensor::Tensor;
    /// let x = Tensor::ones(&[1000]);
    /// let y = x.dropout(0.5, &mut rand::rngs::StdRng::seed_from_u64(1))?;
    /// assert!(y.to_vec().iter().all(|&v| v == 0.0 || v == 2.0));
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn dropout(&self, rate: f32, rng: &mut impl Rng) -> Result<Tensor> {
        if rate == 0.0 {
            return Ok(self.clone());
        }
        self.apply_mask(dropout_mask(self.shape(), rate, rng)?)
    }

    /// `self ⊙ mask` for a constant mask of the same shape (gradient `g ⊙ mask`).
    pub fn apply_mask(&self, mask: ArrayD<f32>) -> Result<Tensor> {
        if mask.shape() != self.shape() {
            return Err(TensorError::shape_mismatch(
                "apply_mask",
                self.shape(),
                mask.shape(),
            ));
        }
        let out = super::fast::zip(self.data(), &mask, |x, m| x * m);
        let mask = PooledMask(mask);
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("dropout", vec![self.clone()], move |ctx| {
                    Ok(vec![Some(super::fast::zip(ctx.grad, &mask.0, |g, m| {
                        g * m
                    }))])
                })
            },
            self.requires_grad(),
        ))
    }
}

/// A mask kept for the backward pass; its buffer goes back to the pool when the graph is freed.
struct PooledMask(ArrayD<f32>);

impl Drop for PooledMask {
    fn drop(&mut self) {
        crate::buffer_pool::give_array(std::mem::take(&mut self.0));
    }
}
