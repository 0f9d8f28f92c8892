//! `conv2d_relu_max_pool2d`: a convolution ending in ReLU and the max pooling after it as one op, on
//! [`crate::kernels::conv2d_relu_max_pool2d_forward`] & co., so that neither the convolution's output nor its
//! gradient is held for the whole batch (the op keeps one byte per pooled value, and its backward pass does not
//! read its own output).

use super::conv::Conv2dOptions;
use super::conv_op::{array, contiguous, conv_gradients, slice};
use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::kernels::{self, Conv2dGeometry, ConvPadding, Parallelism};
use crate::tensor::Tensor;

const NAME: &str = "conv2d_relu_max_pool2d";

impl Tensor {
    /// `max_pool2d(conv2d_relu(self, kernel, bias), pool, strides, padding)` as one op: the same values and
    /// gradients, bit for bit, as [`Tensor::conv2d_relu`] followed by [`Tensor::max_pool2d`]. Windows that
    /// overlap or leave the convolution's output run as those two ops.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, kernels::ConvPadding, ops::Conv2dOptions};
    /// let x = Tensor::from_vec(&[1, 1, 5, 1], vec![1.0, 3.0, 2.0, 0.0, 4.0])?;
    /// let k = Tensor::from_vec(&[1, 2, 1, 1], vec![1.0, -1.0])?; // relu: [0, 1, 2, 0]
    /// let y = x.conv2d_relu_max_pool2d(&k, None, Conv2dOptions::default(), [1, 2], [1, 2], ConvPadding::Valid)?;
    /// assert_eq!(y.to_vec(), vec![1.0, 2.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn conv2d_relu_max_pool2d(
        &self,
        kernel: &Tensor,
        bias: Option<&Tensor>,
        options: Conv2dOptions,
        pool: [usize; 2],
        strides: [usize; 2],
        padding: ConvPadding,
    ) -> Result<Tensor> {
        let conv = options.geometry(self.shape(), kernel.shape())?;
        let pg = Conv2dGeometry::pool(&conv.output_shape(), pool, strides, padding)?;
        if !kernels::conv_relu_pool_applies(&conv, &pg) {
            return self
                .conv2d_relu(kernel, bias, options)?
                .max_pool2d(pool, strides, padding);
        }
        if let Some(b) = bias {
            if b.shape() != [conv.out_c] {
                return Err(TensorError::shape_mismatch(NAME, kernel.shape(), b.shape()));
            }
        }
        let par = Parallelism::auto(conv.flops());
        let (x, k) = (contiguous(self.data()), contiguous(kernel.data()));
        let b = bias.map(|b| contiguous(b.data()));
        let shape = pg.output_shape();
        let len = shape.iter().product();
        let (mut out, mut winners) = (crate::buffer_pool::take(len), vec![0u8; len]);
        kernels::conv2d_relu_max_pool2d_forward(
            slice(&x, NAME)?,
            slice(&k, NAME)?,
            b.as_ref().map(|b| slice(b, NAME)).transpose()?,
            &mut out,
            &mut winners,
            &conv,
            &pg,
            par,
        )?;
        let mut inputs = vec![self.clone(), kernel.clone()];
        inputs.extend(bias.cloned());
        let needs = inputs.iter().any(Tensor::requires_grad);
        Ok(Tensor::from_op(
            array(&shape, out, NAME)?,
            || {
                // The winners alone drive the backward pass: the output may go once nothing else reads it.
                Node::new(NAME, inputs, move |ctx| {
                    conv_gradients(ctx, conv.out_c, NAME, |xs, ks, dys, grads| {
                        kernels::conv2d_relu_max_pool2d_backward(
                            xs, ks, dys, &winners, grads, &conv, &pg, par,
                        )
                    })
                })
                .output_unread()
            },
            needs,
        ))
    }
}
