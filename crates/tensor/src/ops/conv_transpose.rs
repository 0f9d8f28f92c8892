//! `conv2d_transpose`: the transposed 2-D convolution over channels-last images (Keras's `Conv2DTranspose`), on
//! the kernels of [`crate::kernels::conv2d_transpose_forward`] & co.

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::{self, Conv2dGeometry, ConvPadding, Parallelism};
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};

/// Strides, dilation, padding and output padding of a transposed 2-D convolution. Defaults to stride 1,
/// dilation 1, `valid` padding and no output padding (Keras's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dTransposeOptions {
    /// Vertical and horizontal strides (the upsampling factors).
    pub strides: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// `valid` or `same` (as Keras computes the output size).
    pub padding: ConvPadding,
    /// Extra rows and columns at the end of the output, each below its stride; `None` is Keras's default.
    pub output_padding: Option<[usize; 2]>,
}

impl Default for Conv2dTransposeOptions {
    fn default() -> Self {
        Conv2dTransposeOptions {
            strides: [1, 1],
            dilation: [1, 1],
            padding: ConvPadding::Valid,
            output_padding: None,
        }
    }
}

fn array(shape: &[usize], values: Vec<f32>) -> Result<ArrayD<f32>> {
    ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| TensorError::Internal {
        op: "conv2d_transpose",
        reason: "output shape".into(),
    })
}

impl Tensor {
    /// Transposed 2-D convolution of a channels-last batch `self: [n, h, w, c]` with `kernel: [kh, kw, filters,
    /// c]`, plus `bias: [filters]` when given; the output is `[n, out_h, out_w, filters]` with Keras's sizes.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, ops::Conv2dTransposeOptions};
    /// let x = Tensor::from_vec(&[1, 1, 2, 1], vec![1.0, 2.0])?;
    /// let k = Tensor::from_vec(&[1, 2, 1, 1], vec![1.0, -1.0])?;
    /// let y = x.conv2d_transpose(&k, None, Conv2dTransposeOptions::default())?;
    /// // Each input adds k at its position: [1, −1, 0] + [0, 2, −2].
    /// assert_eq!((y.shape(), y.to_vec()), (&[1, 1, 3, 1][..], vec![1.0, 1.0, -2.0]));
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn conv2d_transpose(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: Conv2dTransposeOptions,
    ) -> Result<Tensor> {
        let g = Conv2dGeometry::conv_transpose(
            self.shape(),
            kernel.shape(),
            options.strides,
            options.dilation,
            options.padding,
            options.output_padding,
        )?;
        if let Some(b) = bias {
            if b.shape() != [g.in_c] {
                return Err(TensorError::shape_mismatch(
                    "conv2d_transpose",
                    kernel.shape(),
                    b.shape(),
                ));
            }
        }
        let par = Parallelism::auto(g.flops());
        let (x, k) = (
            self.data().as_standard_layout(),
            kernel.data().as_standard_layout(),
        );
        let b = bias.map(|b| b.data().as_standard_layout());
        let shape = g.transpose_output_shape();
        let mut out = crate::buffer_pool::take(shape.iter().product());
        kernels::conv2d_transpose_forward(
            slice_cow(&x)?,
            slice_cow(&k)?,
            b.as_ref().map(slice_cow).transpose()?,
            &mut out,
            &g,
            par,
        )?;
        let out = array(&shape, out)?;
        let mut inputs = vec![self.clone(), kernel.clone()];
        inputs.extend(bias.cloned());
        let needs = inputs.iter().any(Tensor::requires_grad);
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("conv2d_transpose", inputs, move |ctx| {
                    let wants = |i: usize| ctx.inputs.get(i).is_some_and(Tensor::requires_grad);
                    let (x, k) = (
                        ctx.inputs[0].data().as_standard_layout(),
                        ctx.inputs[1].data().as_standard_layout(),
                    );
                    let dy = ctx.grad.as_standard_layout();
                    let mut dx = wants(0).then(|| crate::buffer_pool::take(x.len()));
                    let mut dk = wants(1).then(|| crate::buffer_pool::take(k.len()));
                    let mut db = wants(2).then(|| vec![0.0; g.in_c]);
                    kernels::conv2d_transpose_backward(
                        slice_cow(&x)?,
                        slice_cow(&k)?,
                        slice_cow(&dy)?,
                        kernels::Conv2dGrads {
                            input: dx.as_deref_mut(),
                            kernel: dk.as_deref_mut(),
                            bias: db.as_deref_mut(),
                        },
                        &g,
                        par,
                    )?;
                    let mut grads = vec![
                        dx.map(|v| array(x.shape(), v)).transpose()?,
                        dk.map(|v| array(k.shape(), v)).transpose()?,
                    ];
                    if ctx.inputs.len() == 3 {
                        grads.push(db.map(|v| array(&[g.in_c], v)).transpose()?);
                    }
                    Ok(grads)
                })
            },
            needs,
        ))
    }
}

fn slice_cow<'a>(array: &'a ndarray::CowArray<'_, f32, IxDyn>) -> Result<&'a [f32]> {
    array.as_slice().ok_or_else(|| TensorError::Internal {
        op: "conv2d_transpose",
        reason: "standard layout is not contiguous".into(),
    })
}
