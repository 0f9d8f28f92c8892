//! Softmax and log-softmax along an axis, computed stably (the maximum is subtracted first).

use super::normalize_axis;
use crate::backprop::Node;
use crate::error::Result;
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, Zip};

/// Numerically stable softmax of `x` along `axis`.
pub(crate) fn softmax_array(x: &ArrayD<f32>, axis: usize) -> ArrayD<f32> {
    let mut out = crate::pooled::clone(x);
    let last = x.ndim().saturating_sub(1);
    let width = x.shape().get(axis).copied().unwrap_or(0);
    if axis == last && width > 0 {
        if let Some(values) = out.as_slice_mut() {
            // Row-major with the classes last: every lane is a contiguous run. Shift each lane by its
            // maximum, exponentiate the whole buffer in one vectorized pass, then normalize each lane. Lanes
            // of 4 (the memory network's match) get passes specialised to that width (same arithmetic).
            if width == 4 {
                contiguous_lanes(values, 4);
            } else {
                contiguous_lanes(values, width);
            }
            return out;
        }
    }
    for mut lane in out.lanes_mut(Axis(axis)) {
        let max = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let mut sum = 0.0;
        lane.mapv_inplace(|v| {
            let e = crate::kernels::exp::exp(v - max);
            sum += e;
            e
        });
        lane.mapv_inplace(|e| e / sum);
    }
    out
}

/// Softmax of every `width`-long run of `values` in place (inlined, so that a constant `width` unrolls).
#[inline(always)]
fn contiguous_lanes(values: &mut [f32], width: usize) {
    for lane in values.chunks_exact_mut(width) {
        let max = lane.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        lane.iter_mut().for_each(|v| *v -= max);
    }
    crate::kernels::exp::exp_inplace(values);
    for lane in values.chunks_exact_mut(width) {
        let inv = 1.0 / lane.iter().sum::<f32>();
        lane.iter_mut().for_each(|v| *v *= inv);
    }
}

/// `y ⊙ (g − Σ g⊙y)` along `axis`, the gradient of a softmax with output `y`.
fn softmax_backward(grad: &ArrayD<f32>, output: &ArrayD<f32>, axis: usize) -> ArrayD<f32> {
    if !(grad.is_standard_layout() && output.is_standard_layout()) || grad.shape() != output.shape()
    {
        let gy = grad * output;
        let dot = gy.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        return output * &(grad - &dot);
    }
    // Row-major operands: g⊙y is row-major too, so its sums run in the same order as above.
    let mut dx = super::fast::zip(grad, output, |g, y| g * y);
    let width = grad.shape().get(axis).copied().unwrap_or(0);
    if let (true, Some(g), Some(y), Some(d)) = (
        axis + 1 == grad.ndim() && width > 0,
        grad.as_slice(),
        output.as_slice(),
        dx.as_slice_mut(),
    ) {
        // Classes last: each lane is a contiguous run, summed by the same `sum` as `sum_axis` uses.
        for ((d, g), y) in d
            .chunks_exact_mut(width)
            .zip(g.chunks_exact(width))
            .zip(y.chunks_exact(width))
        {
            let dot = ndarray::ArrayView1::from(&*d).sum();
            for ((d, &g), &y) in d.iter_mut().zip(g).zip(y) {
                *d = y * (g - dot);
            }
        }
        return dx;
    }
    let dot = dx.sum_axis(Axis(axis)).insert_axis(Axis(axis));
    Zip::from(&mut dx)
        .and(grad)
        .and(output)
        .and_broadcast(&dot)
        .for_each(|d, &g, &y, &s| *d = y * (g - s));
    dx
}

impl Tensor {
    /// `exp(x) / sum(exp(x))` along `axis` (negative counts from the end).
    pub fn softmax(&self, axis: isize) -> Result<Tensor> {
        let axis = normalize_axis(axis, self.ndim(), "softmax")?;
        let out = softmax_array(self.data(), axis);
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("softmax", vec![self.clone()], move |ctx| {
                    Ok(vec![Some(softmax_backward(ctx.grad, ctx.output, axis))])
                })
            },
            self.requires_grad(),
        ))
    }

    /// `x − log Σ exp(x)` along `axis`.
    pub fn log_softmax(&self, axis: isize) -> Result<Tensor> {
        let axis = normalize_axis(axis, self.ndim(), "log_softmax")?;
        let mut out = crate::pooled::clone(self.data());
        for mut lane in out.lanes_mut(Axis(axis)) {
            let max = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let log_sum = lane.fold(0.0f32, |s, &v| s + (v - max).exp()).ln() + max;
            lane.mapv_inplace(|v| v - log_sum);
        }
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("log_softmax", vec![self.clone()], move |ctx| {
                    // dx = g − softmax ⊙ Σ g
                    let total = ctx.grad.sum_axis(Axis(axis)).insert_axis(Axis(axis));
                    if !(ctx.grad.is_standard_layout() && ctx.output.is_standard_layout()) {
                        let softmax = ctx.output.mapv(f32::exp);
                        return Ok(vec![Some(ctx.grad - &(softmax * &total))]);
                    }
                    let mut dx = super::fast::map(ctx.output, f32::exp);
                    Zip::from(&mut dx)
                        .and(ctx.grad)
                        .and_broadcast(&total)
                        .for_each(|d, &g, &t| *d = g - *d * t);
                    Ok(vec![Some(dx)])
                })
            },
            self.requires_grad(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pooled::testing::{assert_identical, varied};
    use crate::{Tensor, Variable};

    #[test]
    fn softmax_backward_matches_the_array_expression_bit_for_bit() {
        for (shape, axis) in [
            (&[4usize, 6, 3][..], 2),
            (&[4, 6, 3], 1),
            (&[5, 1], 1),
            (&[7], 0),
        ] {
            let grad = varied(shape, 1);
            let output = softmax_array(&varied(shape, 2), axis);
            let gy = &grad * &output;
            let dot = gy.sum_axis(Axis(axis)).insert_axis(Axis(axis));
            let expected = &output * &(&grad - &dot);
            let what = format!("{shape:?} axis {axis}");
            assert_identical(&softmax_backward(&grad, &output, axis), &expected, &what);
            // A transposed gradient takes the general path.
            let grad_t = grad.clone().reversed_axes();
            let output_t = output.clone().reversed_axes();
            let axis_t = shape.len() - 1 - axis;
            let gy = &grad_t * &output_t;
            let dot = gy.sum_axis(Axis(axis_t)).insert_axis(Axis(axis_t));
            let expected = &output_t * &(&grad_t - &dot);
            let actual = softmax_backward(&grad_t, &output_t, axis_t);
            assert_identical(&actual, &expected, &format!("{what} transposed"));
        }
    }

    #[test]
    fn lanes_of_four_give_the_bits_of_the_plain_passes() {
        let x = varied(&[16, 68, 4], 6);
        let mut expected = x.clone();
        let values = expected.as_slice_mut().unwrap();
        for lane in values.chunks_exact_mut(4) {
            let max = lane.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f32> = lane
                .iter()
                .map(|&v| crate::kernels::exp::exp(v - max))
                .collect();
            let inv = 1.0 / e.iter().sum::<f32>();
            lane.iter_mut().zip(&e).for_each(|(v, &e)| *v = e * inv);
        }
        assert_identical(&softmax_array(&x, 2), &expected, "lanes of 4");
    }

    #[test]
    fn log_softmax_gradient_matches_the_array_expression_bit_for_bit() {
        // loss = Σ w ⊙ log_softmax(x): d loss / dx = w − softmax(x) · Σ w.
        let x = Variable::new("x", varied(&[3, 5], 3));
        let weights = varied(&[3, 5], 4);
        let y = x.tensor().log_softmax(-1).unwrap();
        let expected = {
            let total = weights.sum_axis(Axis(1)).insert_axis(Axis(1));
            &weights - &(y.data().mapv(f32::exp) * &total)
        };
        let loss = y.mul(&Tensor::new(weights)).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        assert_identical(grads.get_var(&x).unwrap(), &expected, "log_softmax");
    }
}
