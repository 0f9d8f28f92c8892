//! Convolution and pooling over channels-last images: `conv2d` (with groups, strides, dilation, padding and a
//! fused bias), `max_pool2d` and `avg_pool2d`, on the kernels of [`crate::kernels::conv2d_forward`] & co.

use super::conv_op::{ConvOp, array, contiguous, slice};
use crate::backprop::Node;
use crate::error::Result;
use crate::kernels::{self, Conv2dGeometry, ConvPadding, Parallelism};
use crate::tensor::Tensor;

/// Strides, dilation, padding and groups of a 2-D convolution. Defaults to stride 1, dilation 1, `valid`
/// padding and one group (Keras's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dOptions {
    /// Vertical and horizontal strides.
    pub strides: [usize; 2],
    /// Vertical and horizontal dilation.
    pub dilation: [usize; 2],
    /// How the input is padded.
    pub padding: ConvPadding,
    /// Channel groups: input and output channels are split into this many independent convolutions.
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Conv2dOptions {
            strides: [1, 1],
            dilation: [1, 1],
            padding: ConvPadding::Valid,
            groups: 1,
        }
    }
}

impl Conv2dOptions {
    /// The geometry of these options over an input and a kernel of the given shapes.
    pub(super) fn geometry(&self, input: &[usize], kernel: &[usize]) -> Result<Conv2dGeometry> {
        Conv2dGeometry::conv(
            input,
            kernel,
            self.strides,
            self.dilation,
            self.padding,
            self.groups,
        )
    }
}

impl Tensor {
    /// 2-D convolution of a channels-last batch `self: [n, h, w, c]` with `kernel: [kh, kw, c / groups,
    /// filters]`, plus `bias: [filters]` when given; the output is `[n, out_h, out_w, filters]`.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, ops::Conv2dOptions};
    /// let x = Tensor::from_vec(&[1, 2, 3, 1], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
    /// let k = Tensor::from_vec(&[1, 2, 1, 1], vec![1.0, -1.0])?; // x[i, j] − x[i, j+1]
    /// let y = x.conv2d(&k, Some(&Tensor::from_vec(&[1], vec![0.5])?), Conv2dOptions::default())?;
    /// assert_eq!((y.shape(), y.to_vec()), (&[1, 2, 2, 1][..], vec![-0.5; 4]));
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn conv2d(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: Conv2dOptions,
    ) -> Result<Tensor> {
        let geometry = options.geometry(self.shape(), kernel.shape())?;
        ConvOp {
            name: "conv2d",
            forward: kernels::conv2d_forward,
            backward: kernels::conv2d_backward,
            output_shape: geometry.output_shape(),
            bias_len: geometry.out_c,
            geometry,
            relu_backward: None,
        }
        .run(self, kernel, bias)
    }

    /// `relu(conv2d(self, kernel) + bias)` as one op: the same values and gradients, bit for bit, as
    /// [`Tensor::conv2d`] followed by [`Tensor::relu`], without the intermediate array.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, ops::Conv2dOptions};
    /// let x = Tensor::from_vec(&[1, 1, 3, 1], vec![1.0, 3.0, 2.0])?;
    /// let k = Tensor::from_vec(&[1, 2, 1, 1], vec![1.0, -1.0])?;
    /// let y = x.conv2d_relu(&k, None, Conv2dOptions::default())?;
    /// assert_eq!(y.to_vec(), vec![0.0, 1.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn conv2d_relu(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: Conv2dOptions,
    ) -> Result<Tensor> {
        let geometry = options.geometry(self.shape(), kernel.shape())?;
        ConvOp {
            name: "conv2d_relu",
            forward: kernels::conv2d_forward_relu,
            backward: kernels::conv2d_backward,
            output_shape: geometry.output_shape(),
            bias_len: geometry.out_c,
            geometry,
            relu_backward: Some(kernels::conv2d_backward_relu),
        }
        .run(self, kernel, bias)
    }

    /// Max pooling of a channels-last batch `[n, h, w, c]` over `pool` windows moved by `strides`.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, kernels::ConvPadding};
    /// let x = Tensor::from_vec(&[1, 2, 2, 1], vec![1.0, 4.0, 3.0, 2.0])?;
    /// assert_eq!(x.max_pool2d([2, 2], [2, 2], ConvPadding::Valid)?.to_vec(), vec![4.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn max_pool2d(
        &self,
        pool: [usize; 2],
        strides: [usize; 2],
        padding: ConvPadding,
    ) -> Result<Tensor> {
        let g = Conv2dGeometry::pool(self.shape(), pool, strides, padding)?;
        let x = contiguous(self.data());
        let shape = g.output_shape();
        let mut out = crate::buffer_pool::take(shape.iter().product());
        let par = Parallelism::auto_elements(x.len());
        // The backward pass finds the maxima again from the input rather than keeping their positions.
        kernels::max_pool2d_values(slice(&x, "max_pool2d")?, &mut out, &g, par)?;
        Ok(Tensor::from_op(
            array(&shape, out, "max_pool2d")?,
            || {
                Node::new("max_pool2d", vec![self.clone()], move |ctx| {
                    let (x, dy) = (contiguous(ctx.inputs[0].data()), contiguous(ctx.grad));
                    let mut dx = crate::buffer_pool::take(x.len());
                    kernels::max_pool2d_backward_replay(
                        slice(&x, "max_pool2d")?,
                        slice(&dy, "max_pool2d")?,
                        &mut dx,
                        &g,
                        par,
                    )?;
                    Ok(vec![Some(array(ctx.inputs[0].shape(), dx, "max_pool2d")?)])
                })
            },
            self.requires_grad(),
        ))
    }

    /// Average pooling of a channels-last batch `[n, h, w, c]`; windows that overhang `same` padding average
    /// only the positions inside the input.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, kernels::ConvPadding};
    /// let x = Tensor::from_vec(&[1, 1, 3, 1], vec![1.0, 2.0, 6.0])?;
    /// assert_eq!(x.avg_pool2d([1, 2], [1, 2], ConvPadding::Same)?.to_vec(), vec![1.5, 6.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn avg_pool2d(
        &self,
        pool: [usize; 2],
        strides: [usize; 2],
        padding: ConvPadding,
    ) -> Result<Tensor> {
        let g = Conv2dGeometry::pool(self.shape(), pool, strides, padding)?;
        let x = contiguous(self.data());
        let shape = g.output_shape();
        let mut out = crate::buffer_pool::take(shape.iter().product());
        let par = Parallelism::auto_elements(x.len());
        kernels::avg_pool2d_forward(slice(&x, "avg_pool2d")?, &mut out, &g, par)?;
        Ok(Tensor::from_op(
            array(&shape, out, "avg_pool2d")?,
            || {
                Node::new("avg_pool2d", vec![self.clone()], move |ctx| {
                    let dy = contiguous(ctx.grad);
                    let mut dx = crate::buffer_pool::take(ctx.inputs[0].len());
                    kernels::avg_pool2d_backward(slice(&dy, "avg_pool2d")?, &mut dx, &g, par)?;
                    Ok(vec![Some(array(ctx.inputs[0].shape(), dx, "avg_pool2d")?)])
                })
            },
            self.requires_grad(),
        ))
    }
}
