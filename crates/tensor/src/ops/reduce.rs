//! Reductions: sum, mean and max over axes or over everything.

use super::normalize_axis;
use crate::backprop::Node;
use crate::error::Result;
use crate::tensor::Tensor;
use ndarray::{ArrayD, ArrayView, Axis, IxDyn, Zip};

/// Resolves, sorts and de-duplicates axes.
fn resolve_axes(axes: &[isize], rank: usize, op: &'static str) -> Result<Vec<usize>> {
    let mut resolved = axes
        .iter()
        .map(|&a| normalize_axis(a, rank, op))
        .collect::<Result<Vec<_>>>()?;
    resolved.sort_unstable();
    resolved.dedup();
    Ok(resolved)
}

/// The input's shape with the reduced axes set to 1 (the keepdims shape).
fn kept_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(|(i, &s)| if axes.contains(&i) { 1 } else { s })
        .collect()
}

/// `array` broadcast to `shape`, or a shape error naming `max`.
fn spread<'a>(array: &'a ArrayD<f32>, shape: &[usize]) -> Result<ArrayView<'a, f32, IxDyn>> {
    array
        .broadcast(IxDyn(shape))
        .ok_or_else(|| crate::TensorError::shape_mismatch("max", array.shape(), shape))
}

impl Tensor {
    /// The sum of every element, as a scalar.
    pub fn sum_all(&self) -> Result<Tensor> {
        let all: Vec<isize> = (0..self.ndim() as isize).collect();
        self.sum(&all, false)
    }

    /// The mean of every element, as a scalar.
    pub fn mean_all(&self) -> Result<Tensor> {
        let all: Vec<isize> = (0..self.ndim() as isize).collect();
        self.mean(&all, false)
    }

    /// Sums over `axes` (negative axes count from the end); `keepdims` keeps them with size 1.
    pub fn sum(&self, axes: &[isize], keepdims: bool) -> Result<Tensor> {
        let axes = resolve_axes(axes, self.ndim(), "sum")?;
        let mut out: Option<ArrayD<f32>> = None;
        for &axis in axes.iter().rev() {
            let summed = crate::pooled::sum_axis(out.as_ref().unwrap_or(self.data()), Axis(axis));
            if let Some(previous) = out.replace(summed) {
                crate::buffer_pool::give_array(previous);
            }
        }
        let mut out = out.unwrap_or_else(|| crate::pooled::clone(self.data()));
        let kept = kept_shape(self.shape(), &axes);
        if keepdims {
            out = out.into_shape_with_order(IxDyn(&kept)).map_err(|_| {
                crate::TensorError::Internal {
                    op: "sum",
                    reason: "keepdims reshape".into(),
                }
            })?;
        }
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("sum", vec![self.clone()], move |ctx| {
                    let input_shape = ctx.inputs[0].shape();
                    let grad = ctx.grad.to_shape(IxDyn(&kept)).map_err(|_| {
                        crate::TensorError::Internal {
                            op: "sum",
                            reason: "gradient reshape".into(),
                        }
                    })?;
                    let spread =
                        crate::pooled::broadcast(grad.view(), input_shape).ok_or_else(|| {
                            crate::TensorError::shape_mismatch("sum", grad.shape(), input_shape)
                        })?;
                    Ok(vec![Some(spread)])
                })
            },
            self.requires_grad(),
        ))
    }

    /// Means over `axes`; `keepdims` keeps them with size 1.
    pub fn mean(&self, axes: &[isize], keepdims: bool) -> Result<Tensor> {
        let resolved = resolve_axes(axes, self.ndim(), "mean")?;
        let count: usize = resolved.iter().map(|&a| self.shape()[a]).product();
        self.sum(axes, keepdims)?
            .mul_scalar(1.0 / count.max(1) as f32)
    }

    /// The maximum over one axis; the gradient goes to the maximal elements, split evenly at ties.
    pub fn max(&self, axis: isize, keepdims: bool) -> Result<Tensor> {
        let axis = normalize_axis(axis, self.ndim(), "max")?;
        if self.shape()[axis] == 0 {
            return Err(crate::TensorError::invalid_shape(
                "max",
                self.shape(),
                format!("axis {axis} is empty"),
            ));
        }
        let reduced = self
            .data()
            .fold_axis(Axis(axis), f32::NEG_INFINITY, |&m, &x| m.max(x));
        let kept = kept_shape(self.shape(), &[axis]);
        let kept_out = reduced
            .clone()
            .into_shape_with_order(IxDyn(&kept))
            .map_err(|_| crate::TensorError::Internal {
                op: "max",
                reason: "keepdims reshape".into(),
            })?;
        let out = if keepdims { kept_out.clone() } else { reduced };
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("max", vec![self.clone()], move |ctx| {
                    let x = ctx.inputs[0].data();
                    let shape = x.shape();
                    let mut is_max: ArrayD<f32> = crate::pooled::for_overwrite(IxDyn(shape));
                    Zip::from(&mut is_max)
                        .and(x)
                        .and(&spread(&kept_out, shape)?)
                        .for_each(|m, &v, &mx| *m = f32::from(v == mx));
                    let counts = is_max.sum_axis(Axis(axis)).insert_axis(Axis(axis));
                    let grad = ctx.grad.to_shape(IxDyn(&kept)).map_err(|_| {
                        crate::TensorError::Internal {
                            op: "max",
                            reason: "gradient reshape".into(),
                        }
                    })?;
                    let share = &grad / &counts;
                    Zip::from(&mut is_max)
                        .and(&spread(&share, shape)?)
                        .for_each(|m, &s| *m *= s);
                    Ok(vec![Some(is_max)])
                })
            },
            self.requires_grad(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::pooled::testing::{assert_identical, varied};
    use crate::{Tensor, Variable};
    use ndarray::{Axis, IxDyn};

    #[test]
    fn sums_match_sums_of_a_clone_bit_for_bit() {
        let x = varied(&[3, 4, 5], 1);
        let x_t = x.clone().reversed_axes();
        for (array, axes) in [
            (&x, &[0isize, 2][..]),
            (&x, &[1]),
            (&x_t, &[2, 0]),
            (&x, &[]),
        ] {
            let mut expected = array.clone();
            let mut resolved: Vec<usize> = axes.iter().map(|&a| a as usize).collect();
            resolved.sort_unstable();
            for &axis in resolved.iter().rev() {
                expected = expected.sum_axis(Axis(axis));
            }
            let actual = Tensor::new(array.clone()).sum(axes, false).unwrap();
            assert_identical(actual.data(), &expected, &format!("{axes:?}"));
        }
    }

    #[test]
    fn max_gradient_matches_the_array_expression_bit_for_bit() {
        // A tie for the maximum of row 1 (values are below 1 elsewhere), so shares of 1/2 appear.
        let mut values = varied(&[4, 6], 2);
        values[[1, 2]] = 5.0;
        values[[1, 4]] = 5.0;
        let x = Variable::new("x", values.clone());
        let w = varied(&[4], 3);
        let loss = x
            .tensor()
            .max(1, false)
            .unwrap()
            .mul(&Tensor::new(w.clone()))
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        let kept = values
            .fold_axis(Axis(1), f32::NEG_INFINITY, |&m, &v| m.max(v))
            .insert_axis(Axis(1));
        let maxes = kept.broadcast(IxDyn(&[4, 6])).unwrap().to_owned();
        let mut is_max = ndarray::ArrayD::zeros(IxDyn(&[4, 6]));
        ndarray::Zip::from(&mut is_max)
            .and(&values)
            .and(&maxes)
            .for_each(|m: &mut f32, &v, &mx| *m = f32::from(v == mx));
        let counts = is_max.sum_axis(Axis(1)).insert_axis(Axis(1));
        let share = &w.insert_axis(Axis(1)) / &counts;
        let expected = &is_max * &share.broadcast(IxDyn(&[4, 6])).unwrap().to_owned();
        assert_eq!(counts[[1, 0]], 2.0);
        assert_identical(grads.get_var(&x).unwrap(), &expected, "max");
    }
}
