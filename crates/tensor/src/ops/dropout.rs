//! Inverted dropout: zero each element with probability `rate`, scale the rest by `1 / (1 − rate)`.

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::dropout::{
    dropout_backward_in_place, dropout_backward_into, dropout_forward_into,
};
use crate::kernels::random::{dropout_mask_into, dropout_threshold};
use crate::tensor::Tensor;
use ndarray::{ArrayD, ArrayViewD, IxDyn, Zip};
use rand::Rng;

/// A rate outside `[0, 1)` is an error.
fn check_rate(rate: f32) -> Result<()> {
    if (0.0..1.0).contains(&rate) {
        Ok(())
    } else {
        Err(TensorError::invalid_argument(
            "dropout",
            format!("rate must be in [0, 1), received {rate}"),
        ))
    }
}

/// A dropout mask of `shape`: each entry is 0 with probability `rate`, else `1 / (1 − rate)`.
/// The same RNG state gives the same mask. Takes one `u64` from `rng` to seed
/// [`crate::kernels::random::dropout_mask_into`] (eight xoshiro256++ streams side by side, one `u32` draw per
/// entry, dropped when it falls below `rate · 2³²`).
pub fn dropout_mask(shape: &[usize], rate: f32, rng: &mut impl Rng) -> Result<ArrayD<f32>> {
    check_rate(rate)?;
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
    ///
    /// The mask is [`dropout_mask`]'s (the same draw from `rng`, the same bits), drawn in the pass that
    /// multiplies a row-major input; only a byte per entry is kept for the backward pass, and not the input's
    /// values (when the op that made the input does not need them either: see [`Node::output_unread`]).
    pub fn dropout(&self, rate: f32, rng: &mut impl Rng) -> Result<Tensor> {
        if rate == 0.0 {
            return Ok(self.clone());
        }
        let Some(x) = self.data().as_slice() else {
            return self.apply_mask(dropout_mask(self.shape(), rate, rng)?);
        };
        check_rate(rate)?;
        let (threshold, scale) = (dropout_threshold(rate), 1.0 / (1.0 - rate));
        let seed = rng.next_u64();
        let mut out = crate::pooled::for_overwrite(self.data().raw_dim());
        let mut keep = vec![0u8; x.len()];
        let y = out.as_slice_mut().ok_or_else(|| TensorError::Internal {
            op: "dropout",
            reason: "output layout".into(),
        })?;
        dropout_forward_into(x, y, &mut keep, seed, threshold, scale);
        Ok(Tensor::from_op(
            out,
            || {
                // The gradient is masked where it lies: no second buffer of the batch's size. The rule reads
                // neither the input nor the output, so the input's values need not outlive the caller's hold.
                let input = self.without_values();
                Node::passing_gradient("dropout", vec![input], move |_, mut grad| {
                    let whole = grad.len() == keep.len();
                    if let (Some(g), true) = (grad.as_slice_mut(), whole) {
                        dropout_backward_in_place(g, &keep, scale);
                        return Ok(vec![Some(grad)]);
                    }
                    let dx = kept_gradient(&grad, &keep, scale)?;
                    crate::buffer_pool::give_array(grad);
                    Ok(vec![Some(dx)])
                })
            },
            self.requires_grad(),
        ))
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
                Node::new("dropout", vec![self.without_values()], move |ctx| {
                    Ok(vec![Some(super::fast::zip(ctx.grad, &mask.0, |g, m| {
                        g * m
                    }))])
                })
                .output_unread()
            },
            self.requires_grad(),
        ))
    }
}

/// `g ⊙ m` for the mask `m` whose kept entries (`keep`, row-major) are `scale` and the others 0.
fn kept_gradient(grad: &ArrayD<f32>, keep: &[u8], scale: f32) -> Result<ArrayD<f32>> {
    let internal = |reason: &str| TensorError::Internal {
        op: "dropout",
        reason: reason.into(),
    };
    if let Some(g) = grad.as_slice() {
        let mut dx = crate::pooled::for_overwrite(grad.raw_dim());
        let d = dx
            .as_slice_mut()
            .ok_or_else(|| internal("gradient layout"))?;
        dropout_backward_into(g, keep, d, scale);
        return Ok(dx);
    }
    // Another layout: the general elementwise path, in the gradient's own memory order.
    let keep =
        ArrayViewD::from_shape(IxDyn(grad.shape()), keep).map_err(|_| internal("mask shape"))?;
    let mut dx = crate::pooled::clone(grad);
    Zip::from(&mut dx)
        .and(&keep)
        .for_each(|d, &k| *d *= if k != 0 { scale } else { 0.0 });
    Ok(dx)
}

/// A mask kept for the backward pass; its buffer goes back to the pool when the graph is freed.
struct PooledMask(ArrayD<f32>);

impl Drop for PooledMask {
    fn drop(&mut self) {
        crate::buffer_pool::give_array(std::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pooled::testing::{assert_identical, varied};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// The reference: the float mask of the same draw, multiplied in.
    fn masked(shape: &[usize], seed: u64) -> ArrayD<f32> {
        dropout_mask(shape, 0.3, &mut StdRng::seed_from_u64(seed)).unwrap()
    }

    #[test]
    fn fused_dropout_gives_the_mask_products_and_gradient_bit_for_bit() {
        let shape = [3, 5, 7];
        let x = Tensor::leaf(varied(&shape, 1));
        let weights = Tensor::new(varied(&shape, 2));
        let y = x.dropout(0.3, &mut StdRng::seed_from_u64(4)).unwrap();
        let mask = masked(&shape, 4);
        assert_identical(y.data(), &(x.data() * &mask), "forward");
        let loss = y.mul(&weights).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        assert_identical(
            grads.get(&x).unwrap(),
            &(weights.data() * &mask),
            "gradient",
        );
    }

    #[test]
    fn a_gradient_of_another_layout_takes_the_mask_in_logical_order() {
        let transposed = varied(&[4, 6], 3).reversed_axes();
        let mask = masked(&[6, 4], 8);
        // What `fast::zip` gives a mask multiplied into an array of another layout.
        let mut expected = crate::pooled::clone(&transposed);
        Zip::from(&mut expected)
            .and(&mask)
            .for_each(|e, &m| *e *= m);
        let keep: Vec<u8> = mask.iter().map(|&m| u8::from(m != 0.0)).collect();
        let dx = kept_gradient(&transposed, &keep, 1.0 / (1.0 - 0.3f32)).unwrap();
        assert_identical(&dx, &expected, "transposed gradient");
    }

    #[test]
    fn dropout_frees_its_input_s_values_when_no_rule_reads_them() {
        let shape = [3, 5, 7];
        let (first, second) = (masked(&shape, 4), masked(&shape, 5));
        for fused in [true, false] {
            // `reshape`'s rule does not read its output; `exp`'s does (its gradient is `g · exp(x)`).
            let x = Tensor::leaf(varied(&shape, 1));
            let (free, kept) = (x.reshape(&shape).unwrap(), x.exp().unwrap());
            let exp = kept.data().clone();
            let free_values = std::sync::Arc::downgrade(&free.data_arc());
            let kept_values = std::sync::Arc::downgrade(&kept.data_arc());
            let (a, b) = if fused {
                let a = free.dropout(0.3, &mut StdRng::seed_from_u64(4));
                (a, kept.dropout(0.3, &mut StdRng::seed_from_u64(5)))
            } else {
                (
                    free.apply_mask(first.clone()),
                    kept.apply_mask(second.clone()),
                )
            };
            let (a, b) = (a.unwrap(), b.unwrap());
            drop((free, kept));
            assert!(free_values.upgrade().is_none(), "fused: {fused}");
            assert!(kept_values.upgrade().is_some(), "fused: {fused}");
            // The graph behind the released values is whole: d/dx (sum(a) + sum(b)) = m₁ + m₂ · exp(x).
            let loss = a.sum_all().unwrap().add(&b.sum_all().unwrap()).unwrap();
            let grads = loss.backward().unwrap();
            let expected = &first + &(&second * &exp);
            assert_identical(grads.get(&x).unwrap(), &expected, "gradient");
        }
    }

    #[test]
    fn rates_outside_zero_to_one_are_errors() {
        let x = Tensor::new(varied(&[4], 1));
        let rng = &mut StdRng::seed_from_u64(0);
        assert!(x.dropout(1.0, rng).is_err());
        assert!(x.dropout(-0.1, rng).is_err());
        assert!(x.dropout(f32::NAN, rng).is_err());
    }
}
