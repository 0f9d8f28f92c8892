//! `bias_relu`: `max(z + b, 0)` with the bias row broadcast along the last axis, as one pass forward and one
//! backward, instead of a broadcast `add` and a `relu` with an array each way and the `add`'s copy of the
//! gradient (a `Dense` layer's bias and ReLU after its product).

use super::sum_to_shape;
use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

impl Tensor {
    /// `relu(self + b)` for `self` of shape `[..., n]` and `b` of shape `[n]`: the same bits, forward and backward,
    /// as `self.add(b)?.relu()` (the sum rounded, then clamped; the gradient `g` where the sum is positive, else
    /// `g · 0`, and the bias's gradient the same column sums as `add`'s).
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let z = Tensor::from_vec(&[2, 2], vec![1.0, -2.0, -0.5, 3.0])?;
    /// let b = Tensor::from_vec(&[2], vec![0.25, 1.0])?;
    /// assert_eq!(z.bias_relu(&b)?.to_vec(), vec![1.25, 0.0, 0.0, 4.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn bias_relu(&self, b: &Tensor) -> Result<Tensor> {
        let n = b.shape().first().copied().unwrap_or(0);
        if b.ndim() != 1 || self.ndim() == 0 || self.shape()[self.ndim() - 1] != n {
            return Err(TensorError::shape_mismatch(
                "bias_relu",
                self.shape(),
                b.shape(),
            ));
        }
        let (Some(zs), Some(bs)) = (self.data().as_slice(), b.data().as_slice()) else {
            return self.add(b)?.relu();
        };
        let mut out = crate::pooled::for_overwrite(self.data().raw_dim());
        if let Some(ys) = out.as_slice_mut() {
            for (y_row, z_row) in ys.chunks_exact_mut(n.max(1)).zip(zs.chunks_exact(n.max(1))) {
                for ((y, &z), &b) in y_row.iter_mut().zip(z_row).zip(bs) {
                    let x = z + b;
                    *y = if x > 0.0 { x } else { 0.0 };
                }
            }
        }
        let needs = self.requires_grad() || b.requires_grad();
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("bias_relu", vec![self.clone(), b.clone()], |ctx| {
                    // `y > 0` exactly where `z + b > 0` (a non-positive or NaN sum gives 0).
                    let grad = super::fast::zip(ctx.grad, ctx.output, |g, y| {
                        g * if y > 0.0 { 1.0 } else { 0.0 }
                    });
                    let grad_b = sum_to_shape(&grad, ctx.inputs[1].shape(), "bias_relu")?;
                    Ok(vec![Some(grad), Some(grad_b)])
                })
            },
            needs,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    fn bits(v: Vec<f32>) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Forward values and both gradients bit for bit against `add` then `relu`, with zeros of both signs, sums
    /// that cancel to zero, NaN and infinities among the inputs, at rank 2 and 3.
    #[test]
    fn same_bits_as_add_then_relu() {
        let special = [
            0.0,
            -0.0,
            1.5,
            -1.5,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e-40,
        ];
        for shape in [vec![5, 7], vec![2, 3, 4], vec![1, 16]] {
            let n = *shape.last().unwrap();
            let len: usize = shape.iter().product();
            let z: Vec<f32> = (0..len)
                .map(|i| {
                    if i % 5 == 0 {
                        special[(i / 5) % special.len()]
                    } else {
                        ((i * 7919) % 211) as f32 / 50.0 - 2.0
                    }
                })
                .collect();
            let b: Vec<f32> = (0..n)
                .map(|j| {
                    if j % 3 == 0 {
                        -z[j]
                    } else {
                        j as f32 / 7.0 - 0.5
                    }
                })
                .collect();
            let g: Vec<f32> = (0..len)
                .map(|i| ((i * 31) % 17) as f32 / 4.0 - 2.0)
                .collect();
            let run = |fused: bool| {
                let zt = Tensor::leaf(
                    ndarray::ArrayD::from_shape_vec(shape.clone(), z.clone()).unwrap(),
                );
                let bt = Tensor::leaf(ndarray::ArrayD::from_shape_vec(vec![n], b.clone()).unwrap());
                let y = if fused {
                    zt.bias_relu(&bt).unwrap()
                } else {
                    zt.add(&bt).unwrap().relu().unwrap()
                };
                let weights = Tensor::from_vec(&shape, g.clone()).unwrap();
                let loss = y.mul(&weights).and_then(|p| p.sum_all()).unwrap();
                let grads = loss.backward().unwrap();
                let gz = grads.gradient(&zt).unwrap().clone().into_dense().unwrap();
                let gb = grads.gradient(&bt).unwrap().clone().into_dense().unwrap();
                (
                    y.to_vec(),
                    gz.iter().copied().collect::<Vec<_>>(),
                    gb.iter().copied().collect::<Vec<_>>(),
                )
            };
            let (fused, reference) = (run(true), run(false));
            assert_eq!(bits(fused.0), bits(reference.0), "{shape:?} forward");
            assert_eq!(bits(fused.1), bits(reference.1), "{shape:?} z gradient");
            assert_eq!(bits(fused.2), bits(reference.2), "{shape:?} bias gradient");
        }
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let z = Tensor::from_vec(&[2, 3], vec![0.0; 6]).unwrap();
        assert!(
            z.bias_relu(&Tensor::from_vec(&[2], vec![0.0; 2]).unwrap())
                .is_err()
        );
        assert!(
            z.bias_relu(&Tensor::from_vec(&[1, 3], vec![0.0; 3]).unwrap())
                .is_err()
        );
        assert!(
            z.bias_relu(&Tensor::from_vec(&[3], vec![0.0; 3]).unwrap())
                .is_ok()
        );
    }
}
