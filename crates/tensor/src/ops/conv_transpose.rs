//! `conv2d_transpose`: the transposed 2-D convolution over channels-last images (Keras's `Conv2DTranspose`), on
//! the kernels of [`crate::kernels::conv2d_transpose_forward`] & co.

use super::conv_op::ConvOp;
use crate::error::Result;
use crate::kernels::{self, Conv2dGeometry, ConvPadding};
use crate::tensor::Tensor;

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
        let geometry = Conv2dGeometry::conv_transpose(
            self.shape(),
            kernel.shape(),
            options.strides,
            options.dilation,
            options.padding,
            options.output_padding,
        )?;
        ConvOp {
            name: "conv2d_transpose",
            forward: kernels::conv2d_transpose_forward,
            backward: kernels::conv2d_transpose_backward,
            output_shape: geometry.transpose_output_shape(),
            bias_len: geometry.in_c,
            geometry,
            relu_backward: None,
        }
        .run(self, kernel, bias)
    }
}
