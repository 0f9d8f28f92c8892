//! 2-D transposed convolution (channels last), the adjoint of [`super::conv2d_forward`] in its input.
//!
//! A transposed convolution maps `x: [n, h, w, c]` with a kernel `[kh, kw, filters, c]` to `[n, out_h, out_w,
//! filters]`: it is the input gradient of the convolution of an `[n, out_h, out_w, filters]` image by the same
//! kernel whose output is `x`. [`Conv2dGeometry::conv_transpose`] builds the geometry of that convolution
//! (its `in_*` sizes are the transposed output, its `out_*` sizes the transposed input); the forward pass is
//! `x · kernelᵀ` followed by col2im per image, the input gradient is the convolution itself and the kernel
//! gradient the convolution's kernel gradient with the roles of input and output swapped.
//!
//! Keras's output size (`deconv_output_length`) with the padding TensorFlow's `conv2d_transpose` derives from
//! it: `valid`: `(in − 1)·stride + k_eff + output_padding` (`in·stride + max(k_eff − stride, 0)` without
//! output padding); `same`: `(in − 1)·stride + k_eff − 2·(k_eff / 2) + output_padding` (`in·stride` without),
//! where `k_eff = dilation·(k − 1) + 1`.
//!
//! ```
//! use rkeras_tensor::kernels::{conv2d_transpose_forward, Conv2dGeometry, ConvPadding, Parallelism};
//! // One 1×2 image, one channel, a 1×2 kernel of one filter, stride 2: each input spreads over two outputs.
//! let g = Conv2dGeometry::conv_transpose(&[1, 1, 2, 1], &[1, 2, 1, 1], [1, 2], [1, 1], ConvPadding::Valid, None)?;
//! assert_eq!(g.transpose_output_shape(), [1, 1, 4, 1]);
//! let mut y = [0.0; 4];
//! conv2d_transpose_forward(&[1.0, 2.0], &[10.0, 1.0], Some(&[0.5]), &mut y, &g, Parallelism::None)?;
//! assert_eq!(y, [10.5, 1.5, 20.5, 2.5]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use super::im2col::col2im_add;
use super::{Conv2dGeometry, Conv2dGrads, ConvPadding, conv2d_backward, conv2d_forward};
use crate::buffer_pool;
use crate::kernels::{MatRef, Parallelism, gemm};
use crate::{Result, TensorError};
use rayon::prelude::*;

/// Keras's `deconv_output_length` along one axis.
fn transpose_length(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: ConvPadding,
    output_padding: Option<usize>,
) -> Option<usize> {
    let effective = dilation
        .checked_mul(kernel.checked_sub(1)?)?
        .checked_add(1)?;
    match (padding, output_padding) {
        (ConvPadding::Valid, None) => Some(input * stride + effective.saturating_sub(stride)),
        (ConvPadding::Same, None) => Some(input * stride),
        (ConvPadding::Valid, Some(extra)) => {
            Some((input.checked_sub(1)?) * stride + effective + extra)
        }
        (ConvPadding::Same, Some(extra)) => {
            ((input.checked_sub(1)?) * stride + effective + extra).checked_sub(2 * (effective / 2))
        }
        (ConvPadding::Causal, _) => None,
    }
}

impl Conv2dGeometry {
    /// The geometry of a transposed convolution of `input: [n, h, w, c]` with `kernel: [kh, kw, filters, c]`
    /// (Keras's `Conv2DTranspose` layout), as the convolution whose input gradient it is.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] for zero sizes, `causal` padding, an `output_padding` not below the
    /// stride, or channels that do not match the kernel.
    pub fn conv_transpose(
        input: &[usize],
        kernel: &[usize],
        strides: [usize; 2],
        dilation: [usize; 2],
        padding: ConvPadding,
        output_padding: Option<[usize; 2]>,
    ) -> Result<Self> {
        let invalid = |reason: String| TensorError::invalid_argument("conv2d_transpose", reason);
        let (&[n, h, w, c], &[kh, kw, filters, kc]) = (input, kernel) else {
            return Err(TensorError::shape_mismatch(
                "conv2d_transpose",
                input,
                kernel,
            ));
        };
        if kc != c {
            return Err(invalid(format!(
                "the kernel {kernel:?} needs [kh, kw, filters, {c}] for an input of {c} channels"
            )));
        }
        if let Some(extra) = output_padding {
            if extra[0] >= strides[0] || extra[1] >= strides[1] {
                return Err(invalid(format!(
                    "output_padding {extra:?} must be strictly less than strides {strides:?}"
                )));
            }
        }
        let length = |axis: usize, size: usize, k: usize| {
            transpose_length(
                size,
                k,
                strides[axis],
                dilation[axis],
                padding,
                output_padding.map(|p| p[axis]),
            )
            .filter(|&l| l > 0)
            .ok_or_else(|| {
                invalid(format!(
                    "no transposed output for an input of {h}×{w} with a {kh}×{kw} kernel, strides \
                     {strides:?}, dilation {dilation:?}, padding {} and output_padding {output_padding:?}",
                    padding.name()
                ))
            })
        };
        let (out_h, out_w) = (length(0, h, kh)?, length(1, w, kw)?);
        let g = Self::conv(
            &[n, out_h, out_w, filters],
            kernel,
            strides,
            dilation,
            padding,
            1,
        )?;
        if (g.out_h, g.out_w) != (h, w) {
            return Err(invalid(format!(
                "the {out_h}×{out_w} output does not convolve back to the {h}×{w} input"
            )));
        }
        Ok(g)
    }

    /// The transposed convolution's output shape `[n, out_h, out_w, filters]` (the convolution's input).
    pub fn transpose_output_shape(&self) -> [usize; 4] {
        [self.batch, self.in_h, self.in_w, self.in_c]
    }
}

/// `out = conv_transpose(input, kernel) + bias`: input `[n, h, w, c]`, kernel `[kh, kw, filters, c]`, output
/// [`Conv2dGeometry::transpose_output_shape`], all row-major. Parallel over images; each image is written by
/// one thread only, so results are bit-identical on any number of threads.
///
/// # Errors
/// [`TensorError::InvalidShape`] if a slice's length does not match the geometry.
pub fn conv2d_transpose_forward(
    input: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    let (p, pl, oc) = (g.positions(), g.patch_len(), g.out_c);
    g.check_len("the input", input.len(), g.batch * p * oc)?;
    g.check_len("the kernel", kernel.len(), pl * oc)?;
    g.check_len("the output", out.len(), g.batch * g.image_len())?;
    if let Some(bias) = bias {
        g.check_len("the bias", bias.len(), g.in_c)?;
    }
    let image = |b: usize, dst: &mut [f32]| -> Result<()> {
        let mut cols = buffer_pool::take(p * pl);
        let x = MatRef::row_major(&input[b * p * oc..(b + 1) * p * oc], p, oc)?;
        let k = MatRef::row_major(kernel, pl, oc)?.t();
        gemm(&mut cols, x, k, 1.0, 0.0, Parallelism::None)?;
        dst.fill(0.0);
        col2im_add(g, &cols, 0, dst);
        buffer_pool::give(cols);
        if let Some(bias) = bias {
            for row in dst.chunks_exact_mut(g.in_c) {
                row.iter_mut().zip(bias).for_each(|(y, b)| *y += b);
            }
        }
        Ok(())
    };
    let len = g.image_len();
    if len == 0 {
        return Ok(());
    }
    match par {
        Parallelism::None => out
            .chunks_mut(len)
            .enumerate()
            .try_for_each(|(b, dst)| image(b, dst)),
        Parallelism::Rayon(_) => out
            .par_chunks_mut(len)
            .enumerate()
            .try_for_each(|(b, dst)| image(b, dst)),
    }
}

/// Gradients of [`conv2d_transpose_forward`] given `grad_out = d loss / d out`, written into `grads` (each
/// computed only when given): the input gradient is the
/// convolution of `grad_out`, the kernel gradient the convolution's kernel gradient with `grad_out` as its
/// input and `input` as its output gradient, the bias gradient the sum of `grad_out` over positions (in image
/// order, so the same on any number of threads).
///
/// # Errors
/// [`TensorError::InvalidShape`] if a slice's length does not match the geometry.
pub fn conv2d_transpose_backward(
    input: &[f32],
    kernel: &[f32],
    grad_out: &[f32],
    grads: Conv2dGrads<'_>,
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    g.check_len(
        "the output gradient",
        grad_out.len(),
        g.batch * g.image_len(),
    )?;
    if let Some(dx) = grads.input {
        conv2d_forward(grad_out, kernel, None, dx, g, par)?;
    }
    if let Some(dk) = grads.kernel {
        let conv_grads = Conv2dGrads {
            kernel: Some(dk),
            ..Conv2dGrads::default()
        };
        conv2d_backward(grad_out, kernel, input, conv_grads, g, par)?;
    }
    if let Some(db) = grads.bias {
        g.check_len("the bias gradient", db.len(), g.in_c)?;
        db.fill(0.0);
        for row in grad_out.chunks_exact(g.in_c.max(1)) {
            db.iter_mut().zip(row).for_each(|(d, v)| *d += v);
        }
    }
    Ok(())
}

/// Direct scatter of every input value through the kernel, accumulating in `f64`: the reference for tests.
///
/// # Errors
/// As [`conv2d_transpose_forward`].
pub fn conv2d_transpose_reference(
    input: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    g: &Conv2dGeometry,
) -> Result<()> {
    g.check_len("the input", input.len(), g.batch * g.positions() * g.out_c)?;
    g.check_len("the kernel", kernel.len(), g.patch_len() * g.out_c)?;
    g.check_len("the output", out.len(), g.batch * g.image_len())?;
    let filters = g.in_c;
    let mut acc = vec![0.0f64; out.len()];
    for b in 0..g.batch {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                for c in 0..g.out_c {
                    let x = f64::from(input[((b * g.out_h + oy) * g.out_w + ox) * g.out_c + c]);
                    for ky in 0..g.kernel_h {
                        for kx in 0..g.kernel_w {
                            let Some((iy, ix)) = g.tap(oy, ox, ky, kx) else {
                                continue;
                            };
                            for f in 0..filters {
                                let w =
                                    kernel[((ky * g.kernel_w + kx) * filters + f) * g.out_c + c];
                                acc[((b * g.in_h + iy) * g.in_w + ix) * filters + f] +=
                                    x * f64::from(w);
                            }
                        }
                    }
                }
            }
        }
    }
    for (i, (o, a)) in out.iter_mut().zip(acc).enumerate() {
        let b = bias.map_or(0.0, |bias| f64::from(bias[i % filters]));
        *o = (a + b) as f32;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lengths_follow_keras() {
        use ConvPadding::*;
        // valid: in·s + max(k − s, 0); (in − 1)·s + k + op with output padding.
        assert_eq!(transpose_length(5, 3, 2, 1, Valid, None), Some(11));
        assert_eq!(transpose_length(5, 2, 3, 1, Valid, None), Some(15));
        assert_eq!(transpose_length(5, 3, 2, 1, Valid, Some(1)), Some(12));
        // same: in·s; (in − 1)·s + k − 2·(k / 2) + op with output padding.
        assert_eq!(transpose_length(5, 3, 2, 1, Same, None), Some(10));
        assert_eq!(transpose_length(5, 3, 2, 1, Same, Some(1)), Some(10));
        assert_eq!(transpose_length(5, 4, 2, 1, Same, Some(0)), Some(8));
        // dilation 2 makes a 3-tap kernel span 5.
        assert_eq!(transpose_length(4, 3, 1, 2, Valid, None), Some(8));
        assert_eq!(transpose_length(4, 3, 1, 1, Causal, None), None);
    }

    #[test]
    fn bad_arguments_are_errors() {
        let g = |input: &[usize], kernel: &[usize], op| {
            Conv2dGeometry::conv_transpose(input, kernel, [2, 2], [1, 1], ConvPadding::Valid, op)
        };
        assert!(g(&[1, 3, 3, 2], &[3, 3, 4, 2], None).is_ok());
        assert!(g(&[1, 3, 3, 2], &[3, 3, 4, 3], None).is_err());
        assert!(g(&[1, 3, 3, 2], &[3, 3, 4, 2], Some([2, 0])).is_err());
        assert!(g(&[3, 3, 2], &[3, 3, 4, 2], None).is_err());
    }
}
