//! Elementwise binary ops with NumPy broadcasting: add, sub, mul, div, maximum, minimum.

use super::{broadcast_shape, broadcast_to, into_shape_sum, sum_to_shape};
use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn, Zip};

fn binary_forward(
    lhs: &Tensor,
    rhs: &Tensor,
    op: &'static str,
    f: impl Fn(f32, f32) -> f32,
) -> Result<ArrayD<f32>> {
    if lhs.shape() == rhs.shape() {
        return Ok(super::fast::zip(lhs.data(), rhs.data(), f));
    }
    if let Some(out) = super::fast::zip_trailing(lhs.data(), rhs.data(), &f) {
        return Ok(out);
    }
    let shape = broadcast_shape(lhs.shape(), rhs.shape(), op)?;
    let l = lhs
        .data()
        .broadcast(shape.clone())
        .ok_or_else(|| TensorError::shape_mismatch(op, lhs.shape(), rhs.shape()))?;
    let r = rhs
        .data()
        .broadcast(shape.clone())
        .ok_or_else(|| TensorError::shape_mismatch(op, lhs.shape(), rhs.shape()))?;
    // Every element is written below.
    let mut out = crate::pooled::for_overwrite(shape);
    Zip::from(&mut out)
        .and(&l)
        .and(&r)
        .for_each(|o, &a, &b| *o = f(a, b));
    Ok(out)
}

impl Tensor {
    /// `self + rhs`, broadcasting.
    pub fn add(&self, rhs: &Tensor) -> Result<Tensor> {
        let out = binary_forward(self, rhs, "add", |a, b| a + b)?;
        let needs = self.requires_grad() || rhs.requires_grad();
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("add", vec![self.clone(), rhs.clone()], |ctx| {
                    Ok(vec![
                        Some(sum_to_shape(ctx.grad, ctx.inputs[0].shape(), "add")?),
                        Some(sum_to_shape(ctx.grad, ctx.inputs[1].shape(), "add")?),
                    ])
                })
            },
            needs,
        ))
    }

    /// `self - rhs`, broadcasting.
    pub fn sub(&self, rhs: &Tensor) -> Result<Tensor> {
        let out = binary_forward(self, rhs, "sub", |a, b| a - b)?;
        let needs = self.requires_grad() || rhs.requires_grad();
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("sub", vec![self.clone(), rhs.clone()], |ctx| {
                    Ok(vec![
                        Some(sum_to_shape(ctx.grad, ctx.inputs[0].shape(), "sub")?),
                        Some(into_shape_sum(
                            super::fast::map(ctx.grad, |g| -g),
                            ctx.inputs[1].shape(),
                            "sub",
                        )?),
                    ])
                })
            },
            needs,
        ))
    }

    /// `self * rhs` elementwise, broadcasting.
    pub fn mul(&self, rhs: &Tensor) -> Result<Tensor> {
        let out = binary_forward(self, rhs, "mul", |a, b| a * b)?;
        let needs = self.requires_grad() || rhs.requires_grad();
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("mul", vec![self.clone(), rhs.clone()], |ctx| {
                    let (l, r) = (&ctx.inputs[0], &ctx.inputs[1]);
                    if l.shape() == r.shape() {
                        let grad_l = l
                            .requires_grad()
                            .then(|| super::fast::zip(ctx.grad, r.data(), |g, b| g * b));
                        let grad_r = r
                            .requires_grad()
                            .then(|| super::fast::zip(ctx.grad, l.data(), |g, a| g * a));
                        return Ok(vec![grad_l, grad_r]);
                    }
                    let shape = ctx.grad.shape();
                    // g·b and g·a, computed in the broadcast copies of b and a.
                    let mut grad_l = broadcast_to(r.data(), shape, "mul")?;
                    grad_l.zip_mut_with(ctx.grad, |b, &g| *b *= g);
                    let mut grad_r = broadcast_to(l.data(), shape, "mul")?;
                    grad_r.zip_mut_with(ctx.grad, |a, &g| *a *= g);
                    Ok(vec![
                        Some(into_shape_sum(grad_l, l.shape(), "mul")?),
                        Some(into_shape_sum(grad_r, r.shape(), "mul")?),
                    ])
                })
            },
            needs,
        ))
    }

    /// `self / rhs` elementwise, broadcasting.
    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        let out = binary_forward(self, rhs, "div", |a, b| a / b)?;
        let needs = self.requires_grad() || rhs.requires_grad();
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("div", vec![self.clone(), rhs.clone()], |ctx| {
                    let (l, r) = (&ctx.inputs[0], &ctx.inputs[1]);
                    let shape = ctx.grad.shape();
                    let rb = broadcast_to(r.data(), shape, "div")?;
                    // d(a/b)/da = 1/b ; d(a/b)/db = -a/b² = -out/b
                    let grad_l = super::fast::zip(ctx.grad, &rb, |g, b| g / b);
                    let mut grad_r = super::fast::zip(ctx.grad, ctx.output, |g, y| g * y);
                    Zip::from(&mut grad_r)
                        .and(&rb)
                        .for_each(|g, &b| *g = -*g / b);
                    crate::buffer_pool::give_array(rb);
                    Ok(vec![
                        Some(into_shape_sum(grad_l, l.shape(), "div")?),
                        Some(into_shape_sum(grad_r, r.shape(), "div")?),
                    ])
                })
            },
            needs,
        ))
    }

    /// Elementwise maximum, broadcasting; at ties the gradient is split evenly.
    pub fn maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.select_extreme(rhs, "maximum", |a, b| a > b)
    }

    /// Elementwise minimum, broadcasting; at ties the gradient is split evenly.
    pub fn minimum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.select_extreme(rhs, "minimum", |a, b| a < b)
    }

    fn select_extreme(
        &self,
        rhs: &Tensor,
        op: &'static str,
        wins: fn(f32, f32) -> bool,
    ) -> Result<Tensor> {
        let out = binary_forward(self, rhs, op, |a, b| if wins(b, a) { b } else { a })?;
        let needs = self.requires_grad() || rhs.requires_grad();
        Ok(Tensor::from_op(
            out,
            || {
                Node::new(op, vec![self.clone(), rhs.clone()], move |ctx| {
                    let (l, r) = (&ctx.inputs[0], &ctx.inputs[1]);
                    let shape = ctx.grad.shape();
                    let lb = broadcast_to(l.data(), shape, op)?;
                    let rb = broadcast_to(r.data(), shape, op)?;
                    let mut grad_l = crate::pooled::zeros(IxDyn(shape));
                    let mut grad_r = crate::pooled::zeros(IxDyn(shape));
                    Zip::from(&mut grad_l)
                        .and(&mut grad_r)
                        .and(ctx.grad)
                        .and(&lb)
                        .and(&rb)
                        .for_each(|gl, gr, &g, &a, &b| {
                            if a == b {
                                *gl = 0.5 * g;
                                *gr = 0.5 * g;
                            } else if wins(a, b) {
                                *gl = g;
                            } else {
                                *gr = g;
                            }
                        });
                    crate::buffer_pool::give_array(lb);
                    crate::buffer_pool::give_array(rb);
                    Ok(vec![
                        Some(into_shape_sum(grad_l, l.shape(), op)?),
                        Some(into_shape_sum(grad_r, r.shape(), op)?),
                    ])
                })
            },
            needs,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::pooled::testing::{assert_identical, varied};
    use crate::{Tensor, Variable};
    use ndarray::{ArrayD, Axis, IxDyn};

    /// Gradients of `Σ w ⊙ op(lhs, rhs)` (so the op's upstream gradient is exactly `w`).
    fn grads(
        lhs: &Variable,
        rhs: &Variable,
        w: &ArrayD<f32>,
        op: impl Fn(&Tensor, &Tensor) -> crate::Result<Tensor>,
    ) -> (ArrayD<f32>, ArrayD<f32>, ArrayD<f32>) {
        let out = op(&lhs.tensor(), &rhs.tensor()).unwrap();
        let loss = out.mul(&Tensor::new(w.clone())).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        (
            grads.get_var(lhs).unwrap().clone(),
            grads.get_var(rhs).unwrap().clone(),
            out.data().clone(),
        )
    }

    /// The trailing-axes fast path (a bias row, a position table) gives the general broadcast's values, with
    /// the smaller operand on either side.
    #[test]
    fn trailing_broadcasts_match_the_array_expressions() {
        let big = Tensor::new(varied(&[2, 3, 4], 1));
        for small_shape in [&[4][..], &[3, 4]] {
            let small = Tensor::new(varied(small_shape, 2));
            let spread = small
                .data()
                .broadcast(IxDyn(&[2, 3, 4]))
                .unwrap()
                .to_owned();
            let forward = big.sub(&small).unwrap();
            assert_identical(forward.data(), &(big.data() - &spread), "big - small");
            let backward = small.sub(&big).unwrap();
            assert_identical(backward.data(), &(&spread - big.data()), "small - big");
        }
        let mismatched = Tensor::new(varied(&[3, 1], 3));
        let general = big.add(&mismatched).unwrap();
        let spread = mismatched
            .data()
            .broadcast(IxDyn(&[2, 3, 4]))
            .unwrap()
            .to_owned();
        assert_identical(general.data(), &(big.data() + &spread), "[3, 1] column");
    }

    #[test]
    fn broadcast_gradients_match_the_array_expressions_bit_for_bit() {
        let l = Variable::new("l", varied(&[3, 4], 1));
        let row = Variable::new("row", varied(&[4], 2));
        let column = Variable::new("column", varied(&[3, 1], 3).mapv(|v| v + 2.0));
        let w = varied(&[3, 4], 4);
        let spread = |v: &Variable| v.value().broadcast(IxDyn(&[3, 4])).unwrap().to_owned();

        let (grad_l, grad_row, _) = grads(&l, &row, &w, |a, b| a.mul(b));
        assert_identical(&grad_l, &(&w * &spread(&row)), "mul lhs");
        let expected_row = (&w * &spread(&l)).sum_axis(Axis(0));
        assert_identical(&grad_row, &expected_row, "mul rhs");

        let (grad_l, grad_column, out) = grads(&l, &column, &w, |a, b| a.div(b));
        let divisor = spread(&column);
        assert_identical(&grad_l, &(&w / &divisor), "div lhs");
        let mut expected = &w * &out;
        ndarray::Zip::from(&mut expected)
            .and(&divisor)
            .for_each(|g, &b| *g = -*g / b);
        let expected_column = expected.sum_axis(Axis(1)).insert_axis(Axis(1));
        assert_identical(&grad_column, &expected_column, "div rhs");

        let (_, grad_row, _) = grads(&l, &row, &w, |a, b| a.sub(b));
        assert_identical(&grad_row, &w.mapv(|g| -g).sum_axis(Axis(0)), "sub rhs");
    }
}
