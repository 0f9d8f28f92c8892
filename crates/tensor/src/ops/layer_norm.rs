//! Layer normalization over the last axis as one op (the fused kernel in [`crate::kernels::layer_norm`]).

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::Parallelism;
use crate::kernels::layer_norm::{LayerNormStats, layer_norm_backward, layer_norm_forward};
use crate::tensor::Tensor;
use ndarray::{ArrayD, CowArray, IxDyn};
use std::sync::Arc;

/// The values of `a` as a row-major slice (a copy only when `a` is not row-major).
fn standard(a: &ArrayD<f32>) -> CowArray<'_, f32, IxDyn> {
    a.as_standard_layout()
}

fn slice<'a>(a: &'a CowArray<'_, f32, IxDyn>) -> Result<&'a [f32]> {
    a.as_slice().ok_or_else(|| TensorError::Internal {
        op: "layer_norm",
        reason: "row-major copy".into(),
    })
}

/// Checks a per-feature parameter's shape.
fn check_param(name: &'static str, p: Option<&Tensor>, cols: usize) -> Result<()> {
    match p {
        Some(p) if p.shape() != [cols] => Err(TensorError::invalid_shape(
            "layer_norm",
            p.shape(),
            format!("`{name}` must have shape [{cols}] (the last axis of the input)"),
        )),
        _ => Ok(()),
    }
}

impl Tensor {
    /// Normalizes over the last axis: `(x − mean) / sqrt(var + eps) · gamma + beta`, with the biased variance
    /// (Keras 3's `LayerNormalization` with `axis=-1`). `gamma`/`beta` have the last axis's size; `None` means
    /// 1 and 0. Gradients flow to `self`, `gamma` and `beta`.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let x = Tensor::from_vec(&[2, 2], vec![1.0, 3.0, -2.0, 2.0])?;
    /// assert_eq!(x.layer_norm(None, None, 0.0)?.to_vec(), [-1.0, 1.0, -1.0, 1.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn layer_norm(
        &self,
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        eps: f32,
    ) -> Result<Tensor> {
        let cols = match self.shape().last() {
            Some(&c) if c > 0 => c,
            _ => {
                return Err(TensorError::invalid_shape(
                    "layer_norm",
                    self.shape(),
                    "expected a non-empty last axis",
                ));
            }
        };
        check_param("gamma", gamma, cols)?;
        check_param("beta", beta, cols)?;
        let rows = self.len() / cols;
        let x = standard(self.data());
        let (g, b) = (
            gamma.map(|g| standard(g.data())),
            beta.map(|b| standard(b.data())),
        );
        let g_slice = g.as_ref().map(slice).transpose()?;
        let b_slice = b.as_ref().map(slice).transpose()?;
        let mut out = crate::pooled::for_overwrite(IxDyn(self.shape()));
        let out_slice = out.as_slice_mut().ok_or_else(|| TensorError::Internal {
            op: "layer_norm",
            reason: "output layout".into(),
        })?;
        let mut stats = LayerNormStats::zeros(rows);
        let par = Parallelism::auto_elements(self.len());
        layer_norm_forward(
            out_slice,
            &mut stats,
            slice(&x)?,
            g_slice,
            b_slice,
            cols,
            eps,
            par,
        )?;
        let needs_grad = self.requires_grad()
            || gamma.is_some_and(Tensor::requires_grad)
            || beta.is_some_and(Tensor::requires_grad);
        let stats = Arc::new(stats);
        let mut inputs = vec![self.clone()];
        inputs.extend(gamma.cloned());
        inputs.extend(beta.cloned());
        let (has_gamma, has_beta) = (gamma.is_some(), beta.is_some());
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("layer_norm", inputs, move |ctx| {
                    let x = standard(ctx.inputs[0].data());
                    let dy = standard(ctx.grad);
                    let g = has_gamma.then(|| standard(ctx.inputs[1].data()));
                    let g_slice = g.as_ref().map(slice).transpose()?;
                    let mut dx = crate::pooled::for_overwrite(IxDyn(ctx.inputs[0].shape()));
                    let mut dgamma =
                        has_gamma.then(|| crate::pooled::for_overwrite(IxDyn(&[cols])));
                    let mut dbeta = has_beta.then(|| crate::pooled::for_overwrite(IxDyn(&[cols])));
                    let internal = || TensorError::Internal {
                        op: "layer_norm",
                        reason: "gradient layout".into(),
                    };
                    layer_norm_backward(
                        dx.as_slice_mut().ok_or_else(internal)?,
                        dgamma.as_mut().and_then(|d| d.as_slice_mut()),
                        dbeta.as_mut().and_then(|d| d.as_slice_mut()),
                        slice(&dy)?,
                        slice(&x)?,
                        &stats,
                        g_slice,
                        cols,
                        Parallelism::auto_elements(rows * cols),
                    )?;
                    let mut grads = vec![Some(dx)];
                    grads.extend(dgamma.map(Some));
                    grads.extend(dbeta.map(Some));
                    Ok(grads)
                })
            },
            needs_grad,
        ))
    }
}
