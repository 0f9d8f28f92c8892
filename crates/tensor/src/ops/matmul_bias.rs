//! `matmul_bias`: a rank ≥ 1 tensor times a matrix plus a bias row, as one product whose destination starts as
//! the bias (the projections of `MultiHeadAttention`), instead of a product and a broadcast add with its own
//! output array and backward copy.

use super::matmul::{as_matrix, matmul_grads};
use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::matmul_into;
use crate::tensor::Tensor;
use ndarray::{Ix2, IxDyn};

/// The deepest product (`k`, the kernel's rows) for which [`Tensor::matmul_bias`] gives the bits of `matmul`
/// then `add`: the `gemm` crate never splits a product of depth up to 512 along `k` (its blocking takes at
/// least 512 of it at once), and the other kernels add the bias once onto the finished sum.
pub const MATMUL_BIAS_SAME_BITS_DEPTH: usize = 512;

impl Tensor {
    /// `self · w + b`, where `self` is `[..., k]`, `w` the matrix `[k, n]` and `b` the row `[n]`; the result is
    /// `[..., n]`. The product accumulates onto the bias in one pass (`matmul` then `add` round the product
    /// before adding the bias the same way: the results agree to the last bit while the product is not split
    /// along `k`, and within float rounding otherwise). Gradients flow to all three.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let x = Tensor::from_vec(&[1, 2], vec![1.0, 2.0])?;
    /// let w = Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0])?;
    /// let b = Tensor::from_vec(&[2], vec![0.5, -1.0])?;
    /// assert_eq!(x.matmul_bias(&w, &b)?.to_vec(), vec![7.5, 9.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn matmul_bias(&self, w: &Tensor, b: &Tensor) -> Result<Tensor> {
        let fits = self.ndim() >= 1
            && w.ndim() == 2
            && self.shape()[self.ndim() - 1] == w.shape()[0]
            && b.shape() == [w.shape()[1]];
        if !fits {
            return Err(TensorError::invalid_shape(
                "matmul_bias",
                self.shape(),
                format!(
                    "needs [..., k] · [k, n] + [n]; received a kernel of {:?} and a bias of {:?}",
                    w.shape(),
                    b.shape()
                ),
            ));
        }
        let (k, n) = (w.shape()[0], w.shape()[1]);
        let m: usize = self.shape()[..self.ndim() - 1].iter().product();
        let lhs = as_matrix(self.data(), m, k, "matmul_bias")?;
        let rhs = w
            .data()
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|_| TensorError::shape_mismatch("matmul_bias", self.shape(), w.shape()))?;
        let bias = b.data().as_standard_layout();
        let bias = bias.as_slice().ok_or_else(|| TensorError::Internal {
            op: "matmul_bias",
            reason: "bias not contiguous".into(),
        })?;
        let mut out = crate::pooled::for_overwrite(Ix2(m, n));
        if m == 1 {
            // The `gemm` crate computes a one-row product as a matrix–vector product that accumulates onto its
            // destination, which would add the bias first: a one-row input takes the product, then the add, so
            // it gets the bits it gets as a row of a larger input.
            matmul_into(out.view_mut(), lhs, rhs, 1.0, 0.0)?;
            out.iter_mut().zip(bias).for_each(|(y, b)| *y += b);
        } else {
            if let Some(values) = out.as_slice_mut() {
                values
                    .chunks_exact_mut(n.max(1))
                    .for_each(|row| row.copy_from_slice(bias));
            }
            matmul_into(out.view_mut(), lhs, rhs, 1.0, 1.0)?;
        }
        let mut out_shape = self.shape()[..self.ndim() - 1].to_vec();
        out_shape.push(n);
        let out =
            out.into_shape_with_order(IxDyn(&out_shape))
                .map_err(|_| TensorError::Internal {
                    op: "matmul_bias",
                    reason: "output reshape".into(),
                })?;
        let needs = self.requires_grad() || w.requires_grad() || b.requires_grad();
        Ok(Tensor::from_op(
            out,
            || {
                Node::new(
                    "matmul_bias",
                    vec![self.clone(), w.clone(), b.clone()],
                    move |ctx| {
                        let (x, w, b) = (&ctx.inputs[0], &ctx.inputs[1], &ctx.inputs[2]);
                        let (grad_x, grad_w) =
                            matmul_grads(ctx.grad, x, w, (m, k, n), "matmul_bias")?;
                        // The same sums, in the same order, as the backward pass of a broadcast `add`.
                        let grad_b = if b.requires_grad() {
                            Some(super::sum_to_shape(ctx.grad, b.shape(), "matmul_bias")?)
                        } else {
                            None
                        };
                        Ok(vec![grad_x, grad_w, grad_b])
                    },
                )
            },
            needs,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    /// `len` values in [-1, 1) from `seed` (a fixed scramble, enough for products to round differently).
    fn random_vec(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5 - 1.0)
            .collect()
    }

    /// Against the definition in f64, and against `matmul` then `add` bit for bit at the projections' sizes
    /// (`k` well below where the product would be split along it).
    #[test]
    fn matches_the_definition_and_matmul_then_add() {
        for (lead, k, n) in [
            (vec![2, 5], 32, 64),
            (vec![7], 3, 1),
            (vec![3, 2, 4], 64, 17),
            // Dense layers' sizes: the transformer's feed-forward network and head, the MLP's last layers.
            (vec![4, 200], 32, 32),
            (vec![32], 32, 20),
            (vec![32], 20, 46),
            (vec![64], 300, 3),
            (vec![128], 512, 10),
            (vec![16], super::MATMUL_BIAS_SAME_BITS_DEPTH, 40),
        ] {
            let m: usize = lead.iter().product();
            let x =
                Tensor::from_vec(&[lead.clone(), vec![k]].concat(), random_vec(m * k, 1)).unwrap();
            let w = Tensor::from_vec(&[k, n], random_vec(k * n, 2)).unwrap();
            let b = Tensor::from_vec(&[n], random_vec(n, 3)).unwrap();
            let fused = x.matmul_bias(&w, &b).unwrap();
            assert_eq!(fused.shape(), &[lead.clone(), vec![n]].concat()[..]);
            let (xs, ws, bs, ys) = (x.to_vec(), w.to_vec(), b.to_vec(), fused.to_vec());
            for i in 0..m {
                for j in 0..n {
                    let exact: f64 = (0..k)
                        .map(|p| f64::from(xs[i * k + p]) * f64::from(ws[p * n + j]))
                        .sum::<f64>()
                        + f64::from(bs[j]);
                    let got = f64::from(ys[i * n + j]);
                    assert!((got - exact).abs() <= 1e-5 * (1.0 + exact.abs()), "{i},{j}");
                }
            }
            let unfused = x.matmul(&w).and_then(|y| y.add(&b)).unwrap();
            let bits = |v: Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(fused.to_vec()),
                bits(unfused.to_vec()),
                "{lead:?} k={k} n={n}"
            );
        }
    }

    /// A one-row input gives, bit for bit, the row it gives inside a larger input (the `gemm` crate takes
    /// another path for one row), at the projections' and Dense's sizes.
    #[test]
    fn one_row_matches_its_row_in_a_larger_input() {
        for (rows, k, n) in [
            (3, 32, 64),
            (200, 32, 64),
            (5, 64, 32),
            (4, 20, 46),
            (2, 7, 5),
        ] {
            let x = Tensor::from_vec(&[rows, k], random_vec(rows * k, 4)).unwrap();
            let w = Tensor::from_vec(&[k, n], random_vec(k * n, 5)).unwrap();
            let b = Tensor::from_vec(&[n], random_vec(n, 6)).unwrap();
            let all = x.matmul_bias(&w, &b).unwrap().to_vec();
            for i in [0, rows - 1] {
                let row =
                    Tensor::from_vec(&[1, k], x.to_vec()[i * k..(i + 1) * k].to_vec()).unwrap();
                let alone = row.matmul_bias(&w, &b).unwrap().to_vec();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&alone),
                    bits(&all[i * n..(i + 1) * n]),
                    "row {i} of {rows}, k={k} n={n}"
                );
            }
        }
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let x = Tensor::from_vec(&[2, 3], vec![0.0; 6]).unwrap();
        let w = Tensor::from_vec(&[3, 2], vec![0.0; 6]).unwrap();
        let bad_bias = Tensor::from_vec(&[3], vec![0.0; 3]).unwrap();
        assert!(x.matmul_bias(&w, &bad_bias).is_err());
        let b = Tensor::from_vec(&[2], vec![0.0; 2]).unwrap();
        assert!(w.matmul_bias(&w, &b).is_err());
        assert!(x.matmul_bias(&w, &b).is_ok());
    }
}
