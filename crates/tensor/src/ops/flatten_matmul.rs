//! `flatten_matmul`: a batch flattened to `[batch, features]` times a matrix, without the flattened copy.
//!
//! Keras's `Flatten` followed by `Dense` reshapes the batch into a new array and multiplies that; here the
//! product reads the batch in place as the `[batch, features]` matrix it already is in row-major order, and
//! the input gradient is made in the batch's own shape. Values and gradients are bit for bit those of
//! [`Tensor::reshape`] then [`Tensor::matmul`]: the same products over the same matrices.

use super::matmul::{as_matrix, matmul_grads, product};
use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;
use ndarray::Ix2;

impl Tensor {
    /// `self` flattened to `[batch, features]` (the first axis kept, the others merged in row-major order) times
    /// `rhs` (`[features, n]`): `[batch, n]`. The same values and gradients as
    /// `self.reshape(&[batch, features])?.matmul(rhs)`, without the reshaped copy of `self`.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let x = Tensor::from_vec(&[1, 2, 2], vec![1.0, 2.0, 3.0, 4.0])?;
    /// let w = Tensor::from_vec(&[4, 1], vec![1.0, 1.0, 1.0, 2.0])?;
    /// assert_eq!(x.flatten_matmul(&w)?.to_vec(), vec![14.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn flatten_matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let op = "flatten_matmul";
        let batch = self.shape().first().copied().unwrap_or(0);
        let features: usize = self.shape().iter().skip(1).product();
        if self.ndim() < 2 || rhs.ndim() != 2 || rhs.shape()[0] != features {
            return Err(TensorError::shape_mismatch(op, self.shape(), rhs.shape()));
        }
        let n = rhs.shape()[1];
        let lhs2 = as_matrix(self.data(), batch, features, op)?;
        let rhs2 = rhs
            .data()
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|_| TensorError::shape_mismatch(op, self.shape(), rhs.shape()))?;
        let out = product(lhs2, rhs2)?.into_dyn();
        let needs = self.requires_grad() || rhs.requires_grad();
        Ok(Tensor::from_op(
            out,
            || {
                Node::new(op, vec![self.clone(), rhs.clone()], move |ctx| {
                    let (lhs, rhs) = (&ctx.inputs[0], &ctx.inputs[1]);
                    let (grad_lhs, grad_rhs) =
                        matmul_grads(ctx.grad, lhs, rhs, (batch, features, n), op)?;
                    Ok(vec![grad_lhs, grad_rhs])
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

    /// The op against `reshape` then `matmul`: values and both gradients, bit for bit.
    fn check(shape: &[usize], n: usize) {
        let features: usize = shape.iter().skip(1).product();
        let x = Variable::new("x", varied(shape, 1));
        let w = Variable::new("w", varied(&[features, n], 2));
        let upstream = Tensor::new(varied(&[shape[0], n], 3));
        let fused = x.tensor().flatten_matmul(&w.tensor()).unwrap();
        let reshaped = x.tensor().reshape(&[shape[0], features]).unwrap();
        let plain = reshaped.matmul(&w.tensor()).unwrap();
        assert_identical(fused.data(), plain.data(), "values");
        let grads = |y: &Tensor| {
            y.mul(&upstream)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap()
        };
        let (fused_grads, plain_grads) = (grads(&fused), grads(&plain));
        for var in [&x, &w] {
            let what = format!("gradient of {}", var.name());
            let (a, b) = (
                fused_grads.get_var(var).unwrap(),
                plain_grads.get_var(var).unwrap(),
            );
            assert_identical(a, b, &what);
        }
    }

    #[test]
    fn equals_reshape_then_matmul_bit_for_bit() {
        check(&[3, 4, 5, 2], 7);
        check(&[6, 2, 3], 1);
        check(&[5, 9], 4);
        check(&[1, 1, 1], 3);
    }

    #[test]
    fn the_input_gradient_has_the_inputs_shape() {
        let x = Variable::new("x", varied(&[2, 3, 4], 4));
        let w = Tensor::new(varied(&[12, 5], 5));
        let grads = x
            .tensor()
            .flatten_matmul(&w)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert_eq!(grads.get_var(&x).unwrap().shape(), &[2, 3, 4]);
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let x = Tensor::new(varied(&[2, 3, 4], 6));
        assert!(x.flatten_matmul(&Tensor::new(varied(&[4, 5], 7))).is_err());
        assert!(x.flatten_matmul(&Tensor::new(varied(&[12], 8))).is_err());
        assert!(
            Tensor::new(varied(&[12], 9))
                .flatten_matmul(&Tensor::new(varied(&[12, 1], 1)))
                .is_err()
        );
    }
}
