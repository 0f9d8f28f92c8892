//! Matrix products: `matmul` (a rank ≥ 2 tensor times a matrix, as Keras's Dense applies its kernel) and
//! `batch_matmul` with optional transposes (what Keras's `Dot(axes=…)` needs).

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;
use ndarray::{Array3, ArrayD, ArrayView3, Ix2, Ix3, IxDyn};

fn view3<'a>(array: &'a ArrayD<f32>, op: &'static str) -> Result<ArrayView3<'a, f32>> {
    array
        .view()
        .into_dimensionality::<Ix3>()
        .map_err(|_| TensorError::invalid_shape(op, array.shape(), "expected rank 3"))
}

/// `op(x) · op(y)` per batch item, where `op` transposes the last two axes when its flag is set.
fn bmm(x: &ArrayD<f32>, tx: bool, y: &ArrayD<f32>, ty: bool) -> Result<Array3<f32>> {
    let xv = view3(x, "batch_matmul")?;
    let yv = view3(y, "batch_matmul")?;
    let xv = if tx { xv.permuted_axes([0, 2, 1]) } else { xv };
    let yv = if ty { yv.permuted_axes([0, 2, 1]) } else { yv };
    batched_product(xv, yv)
}

/// `array` viewed as the `[rows, cols]` matrix it holds in standard order; `op` names the operation in the error.
pub(super) fn as_matrix<'a>(
    array: &'a ArrayD<f32>,
    rows: usize,
    cols: usize,
    op: &'static str,
) -> Result<ndarray::ArrayView2<'a, f32>> {
    array
        .view()
        .into_shape_with_order((rows, cols))
        .map_err(|_| {
            TensorError::invalid_shape(
                op,
                array.shape(),
                format!("cannot view as [{rows}, {cols}]"),
            )
        })
}

/// A gradient for each input of an operation, `None` where the input needs none.
type MaybeGrad = Option<ArrayD<f32>>;

/// The gradients of `out = lhs · rhs` (`lhs` viewed as `[m, k]`, `rhs` as `[k, n]`, `grad` as `[m, n]`), each
/// only when its input requires one: `grad · rhsᵀ` in `lhs`'s shape and `lhsᵀ · grad`.
pub(super) fn matmul_grads(
    grad: &ArrayD<f32>,
    lhs: &Tensor,
    rhs: &Tensor,
    (m, k, n): (usize, usize, usize),
    op: &'static str,
) -> Result<(MaybeGrad, MaybeGrad)> {
    let g = as_matrix(grad, m, n, op)?;
    let grad_lhs = if lhs.requires_grad() {
        let b = as_matrix(rhs.data(), k, n, op)?;
        let d = product(g, b.t())?;
        Some(
            d.into_shape_with_order(IxDyn(lhs.shape()))
                .map_err(|_| TensorError::Internal {
                    op,
                    reason: "grad reshape".into(),
                })?,
        )
    } else {
        None
    };
    let grad_rhs = if rhs.requires_grad() {
        let a = as_matrix(lhs.data(), m, k, op)?;
        Some(product(a.t(), g)?.into_dyn())
    } else {
        None
    };
    Ok((grad_lhs, grad_rhs))
}

impl Tensor {
    /// `self · rhs` where `self` is `[..., m, k]` (rank ≥ 1… the leading axes are batched over) and `rhs` is
    /// the matrix `[k, n]`; the result is `[..., m, n]`.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let a = Tensor::from_vec(&[1, 2], vec![1.0, 2.0])?;
    /// let b = Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0])?;
    /// assert_eq!(a.matmul(&b)?.to_vec(), vec![7.0, 10.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        if self.ndim() < 1 || rhs.ndim() != 2 || self.shape()[self.ndim() - 1] != rhs.shape()[0] {
            return Err(TensorError::shape_mismatch(
                "matmul",
                self.shape(),
                rhs.shape(),
            ));
        }
        let k = rhs.shape()[0];
        let n = rhs.shape()[1];
        let m = self.len() / k.max(1);
        let m = if k == 0 {
            self.shape()[..self.ndim() - 1].iter().product()
        } else {
            m
        };
        let lhs2 = as_matrix(self.data(), m, k, "matmul")?;
        let rhs2 = rhs
            .data()
            .view()
            .into_dimensionality::<Ix2>()
            .map_err(|_| TensorError::shape_mismatch("matmul", self.shape(), rhs.shape()))?;
        let out2 = product(lhs2, rhs2)?;
        let mut out_shape = self.shape()[..self.ndim() - 1].to_vec();
        out_shape.push(n);
        let out =
            out2.into_shape_with_order(IxDyn(&out_shape))
                .map_err(|_| TensorError::Internal {
                    op: "matmul",
                    reason: "output reshape".into(),
                })?;
        let needs = self.requires_grad() || rhs.requires_grad();
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("matmul", vec![self.clone(), rhs.clone()], move |ctx| {
                    let (lhs, rhs) = (&ctx.inputs[0], &ctx.inputs[1]);
                    let (grad_lhs, grad_rhs) =
                        matmul_grads(ctx.grad, lhs, rhs, (m, k, n), "matmul")?;
                    Ok(vec![grad_lhs, grad_rhs])
                })
            },
            needs,
        ))
    }

    /// Batched product of rank-3 tensors: `out[b] = op(self[b]) · op(rhs[b])`, where `op` transposes the last
    /// two axes when the matching flag is set. `[b, m, k] · [b, k, n] → [b, m, n]`.
    pub fn batch_matmul(
        &self,
        rhs: &Tensor,
        transpose_lhs: bool,
        transpose_rhs: bool,
    ) -> Result<Tensor> {
        let bad = || TensorError::shape_mismatch("batch_matmul", self.shape(), rhs.shape());
        if self.ndim() != 3 || rhs.ndim() != 3 || self.shape()[0] != rhs.shape()[0] {
            return Err(bad());
        }
        let inner_lhs = if transpose_lhs {
            self.shape()[1]
        } else {
            self.shape()[2]
        };
        let inner_rhs = if transpose_rhs {
            rhs.shape()[2]
        } else {
            rhs.shape()[1]
        };
        if inner_lhs != inner_rhs {
            return Err(bad());
        }
        let out = bmm(self.data(), transpose_lhs, rhs.data(), transpose_rhs)?.into_dyn();
        let needs = self.requires_grad() || rhs.requires_grad();
        let (ta, tb) = (transpose_lhs, transpose_rhs);
        Ok(Tensor::from_op(
            out,
            || {
                Node::new(
                    "batch_matmul",
                    vec![self.clone(), rhs.clone()],
                    move |ctx| {
                        let (a, b, g) = (ctx.inputs[0].data(), ctx.inputs[1].data(), ctx.grad);
                        // C = A'·B' with A' = op(A), B' = op(B): dA' = G·B'ᵀ, dB' = A'ᵀ·G.
                        let grad_a = if !ctx.inputs[0].requires_grad() {
                            None
                        } else if ta {
                            Some(bmm(b, tb, g, true)?.into_dyn())
                        } else {
                            Some(bmm(g, false, b, !tb)?.into_dyn())
                        };
                        let grad_b = if !ctx.inputs[1].requires_grad() {
                            None
                        } else if tb {
                            Some(bmm(g, true, a, ta)?.into_dyn())
                        } else {
                            Some(bmm(a, !ta, g, false)?.into_dyn())
                        };
                        Ok(vec![grad_a, grad_b])
                    },
                )
            },
            needs,
        ))
    }
}

/// `lhs · rhs` for 2-D views of any strides (the gemm kernel).
pub(super) fn product(
    lhs: ndarray::ArrayView2<f32>,
    rhs: ndarray::ArrayView2<f32>,
) -> Result<ndarray::Array2<f32>> {
    crate::kernels::matmul(lhs, rhs)
}

/// `lhs[b] · rhs[b]` for 3-D views of any strides (the batched kernel).
fn batched_product(lhs: ArrayView3<f32>, rhs: ArrayView3<f32>) -> Result<Array3<f32>> {
    crate::kernels::batched_matmul(lhs, rhs)
}
