//! Batch normalization over one feature axis as one op (the fused kernels in [`crate::kernels::batch_norm`]):
//! with the batch's statistics (training) or with given ones (inference).

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::Parallelism;
use crate::kernels::batch_norm::{
    BatchNormGrads, batch_norm_backward, batch_norm_forward, batch_norm_inference_backward,
    batch_norm_masked_backward, batch_norm_masked_statistics, batch_norm_statistics,
};
use crate::tensor::Tensor;
use ndarray::{ArrayD, CowArray, IxDyn};
use std::sync::Arc;

/// The statistics a training-mode [`Tensor::batch_norm_training`] normalized with, per feature (for the
/// moving-average update).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchMoments {
    /// The batch mean.
    pub mean: Vec<f32>,
    /// The batch's biased variance.
    pub variance: Vec<f32>,
}

/// Moves a feature axis to the end and back: the kernels work on channels-last rows.
#[derive(Debug, Clone, Copy)]
struct Layout {
    axis: usize,
    ndim: usize,
}

impl Layout {
    fn last(self) -> bool {
        self.axis + 1 == self.ndim
    }

    /// The axis order putting `axis` last.
    fn order(self) -> Vec<usize> {
        (0..self.ndim)
            .filter(|&a| a != self.axis)
            .chain([self.axis])
            .collect()
    }

    /// `a` as row-major channels-last values (no copy when it already is).
    fn to_last(self, a: &ArrayD<f32>) -> CowArray<'_, f32, IxDyn> {
        if self.last() {
            a.as_standard_layout()
        } else {
            CowArray::from(
                a.view()
                    .permuted_axes(self.order())
                    .as_standard_layout()
                    .into_owned(),
            )
        }
    }

    /// Channels-last values back in the input's axis order, row-major.
    fn restore(self, a: ArrayD<f32>) -> ArrayD<f32> {
        if self.last() {
            return a;
        }
        let mut inverse = vec![0; self.ndim];
        for (i, a) in self.order().into_iter().enumerate() {
            inverse[a] = i;
        }
        a.permuted_axes(inverse).as_standard_layout().into_owned()
    }

    /// The shape of the channels-last values of a tensor of `shape`.
    fn last_shape(self, shape: &[usize]) -> Vec<usize> {
        self.order().into_iter().map(|a| shape[a]).collect()
    }
}

fn slice<'a>(a: &'a CowArray<'_, f32, IxDyn>) -> Result<&'a [f32]> {
    a.as_slice().ok_or_else(|| TensorError::Internal {
        op: "batch_norm",
        reason: "row-major copy".into(),
    })
}

fn internal() -> TensorError {
    TensorError::Internal {
        op: "batch_norm",
        reason: "gradient layout".into(),
    }
}

/// Which statistics the op normalizes with.
#[derive(Debug, Clone)]
enum Statistics {
    /// The batch's, over the rows a mask keeps (one 0/1 value per channels-last row) or over all rows.
    Batch(Option<Arc<Vec<f32>>>),
    /// Given ones.
    Fixed,
}

/// The checked feature axis and a per-feature parameter check.
fn check(x: &Tensor, axis: usize, params: [(&str, Option<&Tensor>); 2]) -> Result<Layout> {
    let channels = match x.shape().get(axis) {
        Some(&c) if c > 0 => c,
        _ => {
            return Err(TensorError::invalid_shape(
                "batch_norm",
                x.shape(),
                format!("axis {axis} is not a non-empty axis of the input"),
            ));
        }
    };
    for (name, p) in params {
        if let Some(p) = p.filter(|p| p.shape() != [channels]) {
            return Err(TensorError::invalid_shape(
                "batch_norm",
                p.shape(),
                format!("`{name}` must have shape [{channels}] (axis {axis} of the input)"),
            ));
        }
    }
    Ok(Layout {
        axis,
        ndim: x.ndim(),
    })
}

impl Tensor {
    /// Batch normalization in training mode over feature `axis`: each feature is normalized with the batch's
    /// mean and biased variance over every other axis, `(x − mean) / sqrt(var + eps) · gamma + beta` (Keras 3's
    /// `BatchNormalization`; `gamma`/`beta` `None` mean 1 and 0). With a `mask` (the input's shape without its
    /// last axis, which must be the feature axis; nonzero = kept), the statistics cover the kept positions only,
    /// as Keras's masked moments (`Σ kept / (count + 1e-7)`), and every position is normalized. Returns the
    /// output and the statistics; gradients flow to `self`, `gamma` and `beta` (through the statistics too).
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let x = Tensor::from_vec(&[2, 2], vec![1.0, 10.0, 3.0, 30.0])?;
    /// let (y, moments) = x.batch_norm_training(None, None, 1, 0.0, None)?;
    /// assert_eq!(y.to_vec(), [-1.0, -1.0, 1.0, 1.0]);
    /// assert_eq!((moments.mean, moments.variance), (vec![2.0, 20.0], vec![1.0, 100.0]));
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn batch_norm_training(
        &self,
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        axis: usize,
        eps: f32,
        mask: Option<&Tensor>,
    ) -> Result<(Tensor, BatchMoments)> {
        let layout = check(self, axis, [("gamma", gamma), ("beta", beta)])?;
        let mask = match mask {
            None => None,
            Some(m) => {
                if !layout.last() || m.shape() != &self.shape()[..axis] {
                    return Err(TensorError::invalid_shape(
                        "batch_norm",
                        m.shape(),
                        format!(
                            "a mask must have the input's shape {:?} without its last axis, the feature axis",
                            self.shape()
                        ),
                    ));
                }
                Some(Arc::new(m.data().iter().copied().collect::<Vec<f32>>()))
            }
        };
        let x = layout.to_last(self.data());
        let channels = self.shape()[axis];
        let par = Parallelism::auto_elements(self.len());
        let (mean, variance) = match &mask {
            None => batch_norm_statistics(slice(&x)?, channels, par)?,
            Some(m) => batch_norm_masked_statistics(slice(&x)?, m, channels, par)?,
        };
        let moments = BatchMoments { mean, variance };
        let y = self.batch_norm_op(
            &x,
            layout,
            (gamma, beta),
            Arc::new(moments.clone()),
            eps,
            Statistics::Batch(mask),
        )?;
        Ok((y, moments))
    }

    /// Batch normalization in inference mode over feature `axis` with given per-feature statistics (the
    /// moving mean and variance): `(x − mean) / sqrt(variance + eps) · gamma + beta`. Gradients flow to `self`,
    /// `gamma` and `beta`, not to the statistics.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let x = Tensor::from_vec(&[1, 2], vec![3.0, 3.0])?;
    /// let y = x.batch_norm_inference(&[1.0, 2.0], &[4.0, 1.0], None, None, 1, 0.0)?;
    /// assert_eq!(y.to_vec(), [1.0, 1.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn batch_norm_inference(
        &self,
        mean: &[f32],
        variance: &[f32],
        gamma: Option<&Tensor>,
        beta: Option<&Tensor>,
        axis: usize,
        eps: f32,
    ) -> Result<Tensor> {
        let layout = check(self, axis, [("gamma", gamma), ("beta", beta)])?;
        let channels = self.shape()[axis];
        if mean.len() != channels || variance.len() != channels {
            return Err(TensorError::invalid_shape(
                "batch_norm",
                self.shape(),
                format!(
                    "{} means and {} variances for the {channels} features of axis {axis}",
                    mean.len(),
                    variance.len()
                ),
            ));
        }
        let x = layout.to_last(self.data());
        let moments = BatchMoments {
            mean: mean.to_vec(),
            variance: variance.to_vec(),
        };
        self.batch_norm_op(
            &x,
            layout,
            (gamma, beta),
            Arc::new(moments),
            eps,
            Statistics::Fixed,
        )
    }

    /// The forward pass on channels-last `x` and the backward node.
    fn batch_norm_op(
        &self,
        x: &CowArray<'_, f32, IxDyn>,
        layout: Layout,
        (gamma, beta): (Option<&Tensor>, Option<&Tensor>),
        moments: Arc<BatchMoments>,
        eps: f32,
        statistics: Statistics,
    ) -> Result<Tensor> {
        let (g, b) = (
            gamma.map(|g| g.data().as_standard_layout()),
            beta.map(|b| b.data().as_standard_layout()),
        );
        let mut out = crate::pooled::for_overwrite(IxDyn(&layout.last_shape(self.shape())));
        batch_norm_forward(
            slice(x)?,
            out.as_slice_mut().ok_or_else(internal)?,
            &moments.mean,
            &moments.variance,
            g.as_ref().map(slice).transpose()?,
            b.as_ref().map(slice).transpose()?,
            eps,
            Parallelism::auto_elements(self.len()),
        )?;
        let out = layout.restore(out);
        let needs_grad = self.requires_grad()
            || gamma.is_some_and(Tensor::requires_grad)
            || beta.is_some_and(Tensor::requires_grad);
        let mut inputs = vec![self.clone()];
        inputs.extend(gamma.cloned());
        inputs.extend(beta.cloned());
        let (has_gamma, has_beta) = (gamma.is_some(), beta.is_some());
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("batch_norm", inputs, move |ctx| {
                    let x = layout.to_last(ctx.inputs[0].data());
                    let dy = layout.to_last(ctx.grad);
                    let g = has_gamma.then(|| ctx.inputs[1].data().as_standard_layout());
                    let channels = moments.mean.len();
                    let mut dx = crate::pooled::for_overwrite(IxDyn(x.shape()));
                    let mut dgamma =
                        has_gamma.then(|| crate::pooled::for_overwrite(IxDyn(&[channels])));
                    let mut dbeta =
                        has_beta.then(|| crate::pooled::for_overwrite(IxDyn(&[channels])));
                    let grads = BatchNormGrads {
                        input: Some(dx.as_slice_mut().ok_or_else(internal)?),
                        gamma: dgamma.as_mut().and_then(|d| d.as_slice_mut()),
                        beta: dbeta.as_mut().and_then(|d| d.as_slice_mut()),
                    };
                    let (x, dy, g) = (slice(&x)?, slice(&dy)?, g.as_ref().map(slice).transpose()?);
                    let (mean, var) = (&moments.mean, &moments.variance);
                    let par = Parallelism::auto_elements(x.len());
                    match &statistics {
                        Statistics::Batch(None) => {
                            batch_norm_backward(x, dy, mean, var, g, eps, grads, par)?
                        }
                        Statistics::Batch(Some(m)) => {
                            batch_norm_masked_backward(x, dy, mean, var, g, eps, m, grads, par)?
                        }
                        Statistics::Fixed => {
                            batch_norm_inference_backward(x, dy, mean, var, g, eps, grads, par)?
                        }
                    }
                    let mut grads = vec![Some(layout.restore(dx))];
                    grads.extend(dgamma.map(Some));
                    grads.extend(dbeta.map(Some));
                    Ok(grads)
                })
            },
            needs_grad,
        ))
    }
}
