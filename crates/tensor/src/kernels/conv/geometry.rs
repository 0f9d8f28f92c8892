//! The geometry of a 2-D convolution or pooling window over a channels-last batch `(n, h, w, c)`: sizes,
//! strides, dilation, padding and the output size, computed as Keras (TensorFlow) computes them.

use crate::{Result, TensorError};

/// How a window is padded (Keras's `padding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPadding {
    /// No padding: `out = (in − effective_kernel) / stride + 1`.
    Valid,
    /// `out = ceil(in / stride)`, the padding split evenly with the extra row/column at the end (TensorFlow).
    Same,
    /// All padding before (`dilation·(kernel − 1)`), none after: output `t` sees inputs up to `t` (Conv1D).
    Causal,
}

impl ConvPadding {
    /// Keras's name: `valid`, `same` or `causal`.
    pub fn name(self) -> &'static str {
        match self {
            ConvPadding::Valid => "valid",
            ConvPadding::Same => "same",
            ConvPadding::Causal => "causal",
        }
    }

    /// Output size and padding before/after along one axis.
    fn resolve(
        self,
        input: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
    ) -> Option<(usize, usize, usize)> {
        let effective = dilation
            .checked_mul(kernel.checked_sub(1)?)?
            .checked_add(1)?;
        match self {
            ConvPadding::Valid => {
                let span = input.checked_sub(effective)?;
                Some((span / stride + 1, 0, 0))
            }
            ConvPadding::Same => {
                let out = input.div_ceil(stride);
                let total = ((out.checked_sub(1)?) * stride + effective).saturating_sub(input);
                Some((out, total / 2, total - total / 2))
            }
            ConvPadding::Causal => {
                let before = effective - 1;
                Some(((input + before - effective) / stride + 1, before, 0))
            }
        }
    }
}

/// Sizes of a 2-D window operation on a channels-last batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// Batch size.
    pub batch: usize,
    /// Input height, width and channels.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Window height.
    pub kernel_h: usize,
    /// Window width.
    pub kernel_w: usize,
    /// Output channels (the input's channels for pooling).
    pub out_c: usize,
    /// Channel groups (1 for an ordinary convolution).
    pub groups: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Vertical dilation.
    pub dilation_h: usize,
    /// Horizontal dilation.
    pub dilation_w: usize,
    /// Rows of padding above.
    pub pad_top: usize,
    /// Columns of padding on the left.
    pub pad_left: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

fn invalid(reason: String) -> TensorError {
    TensorError::invalid_argument("conv2d", reason)
}

impl Conv2dGeometry {
    /// The geometry of a convolution of an input `[n, h, w, c]` with a kernel `[kh, kw, c / groups, out_c]`.
    ///
    /// # Errors
    /// [`TensorError::InvalidArgument`] for zero strides or dilations, channels not divisible by `groups`, a
    /// kernel whose input channels are not `c / groups`, or a window larger than the (padded) input.
    pub fn conv(
        input: &[usize],
        kernel: &[usize],
        strides: [usize; 2],
        dilation: [usize; 2],
        padding: ConvPadding,
        groups: usize,
    ) -> Result<Self> {
        let (&[_, _, _, c], &[kh, kw, kc, oc]) = (input, kernel) else {
            return Err(TensorError::shape_mismatch("conv2d", input, kernel));
        };
        if groups == 0 || c % groups != 0 || oc % groups != 0 || kc * groups != c {
            return Err(invalid(format!(
                "input channels {c} and kernel {kernel:?} do not fit groups={groups} (the kernel needs \
                 [kh, kw, {c}/groups, filters] with filters divisible by groups)"
            )));
        }
        Self::window(input, [kh, kw], oc, groups, strides, dilation, padding)
    }

    /// The geometry of a pooling window `pool` over an input `[n, h, w, c]` (output channels `c`).
    pub fn pool(
        input: &[usize],
        pool: [usize; 2],
        strides: [usize; 2],
        padding: ConvPadding,
    ) -> Result<Self> {
        let c = input.get(3).copied().unwrap_or(0);
        Self::window(input, pool, c, 1, strides, [1, 1], padding)
    }

    fn window(
        input: &[usize],
        [kh, kw]: [usize; 2],
        out_c: usize,
        groups: usize,
        [sh, sw]: [usize; 2],
        [dh, dw]: [usize; 2],
        padding: ConvPadding,
    ) -> Result<Self> {
        let &[n, h, w, c] = input else {
            return Err(TensorError::invalid_shape(
                "conv2d",
                input,
                "expected [batch, height, width, channels]",
            ));
        };
        if [kh, kw, sh, sw, dh, dw].contains(&0) {
            return Err(invalid(format!(
                "window {kh}×{kw}, strides {sh}×{sw} and dilation {dh}×{dw} must be positive"
            )));
        }
        let too_small = || {
            invalid(format!(
                "a {kh}×{kw} window (dilation {dh}×{dw}, padding {}) does not fit an input of {h}×{w}",
                padding.name()
            ))
        };
        let (out_h, pad_top, _) = padding.resolve(h, kh, sh, dh).ok_or_else(too_small)?;
        let (out_w, pad_left, _) = padding.resolve(w, kw, sw, dw).ok_or_else(too_small)?;
        if out_h == 0 || out_w == 0 {
            return Err(too_small());
        }
        Ok(Conv2dGeometry {
            batch: n,
            in_h: h,
            in_w: w,
            in_c: c,
            kernel_h: kh,
            kernel_w: kw,
            out_c,
            groups,
            stride_h: sh,
            stride_w: sw,
            dilation_h: dh,
            dilation_w: dw,
            pad_top,
            pad_left,
            out_h,
            out_w,
        })
    }

    /// The output's shape `[n, out_h, out_w, out_c]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.out_h, self.out_w, self.out_c]
    }

    /// Elements of one input image.
    pub fn image_len(&self) -> usize {
        self.in_h * self.in_w * self.in_c
    }

    /// Output positions of one image.
    pub fn positions(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Input channels per group.
    pub fn group_in(&self) -> usize {
        self.in_c / self.groups
    }

    /// Output channels per group.
    pub fn group_out(&self) -> usize {
        self.out_c / self.groups
    }

    /// Rows of a group's im2col matrix: `kh · kw · in_c / groups` (the kernel's leading axes).
    pub fn patch_len(&self) -> usize {
        self.kernel_h * self.kernel_w * self.group_in()
    }

    /// Multiply-adds of the convolution, counted as two flops each.
    pub fn flops(&self) -> u64 {
        2 * (self.batch * self.positions() * self.patch_len() * self.out_c) as u64
    }

    /// The input row `iy` and column `ix` read at output `(oy, ox)` by window tap `(ky, kx)`, if inside.
    #[inline]
    pub(crate) fn tap(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<(usize, usize)> {
        let iy = (oy * self.stride_h + ky * self.dilation_h).checked_sub(self.pad_top)?;
        let ix = (ox * self.stride_w + kx * self.dilation_w).checked_sub(self.pad_left)?;
        (iy < self.in_h && ix < self.in_w).then_some((iy, ix))
    }

    /// Checks a slice length against the expected element count.
    pub(crate) fn check_len(&self, what: &'static str, len: usize, expected: usize) -> Result<()> {
        if len != expected {
            return Err(TensorError::invalid_shape(
                "conv2d",
                &[len],
                format!("{what} needs {expected} elements for {self:?}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_follow_tensorflow() {
        let g = |n, k, s, d, p| ConvPadding::resolve(p, n, k, s, d);
        assert_eq!(g(28, 3, 1, 1, ConvPadding::Valid), Some((26, 0, 0)));
        assert_eq!(g(28, 3, 2, 1, ConvPadding::Valid), Some((13, 0, 0)));
        assert_eq!(g(5, 3, 1, 2, ConvPadding::Valid), Some((1, 0, 0)));
        assert_eq!(g(4, 3, 1, 2, ConvPadding::Valid), None);
        // ceil(7/2) = 4; (4−1)·2 + 3 − 7 = 2 → 1 before, 1 after. An even total puts the extra after.
        assert_eq!(g(7, 3, 2, 1, ConvPadding::Same), Some((4, 1, 1)));
        assert_eq!(g(6, 2, 1, 1, ConvPadding::Same), Some((6, 0, 1)));
        assert_eq!(g(6, 4, 1, 1, ConvPadding::Same), Some((6, 1, 2)));
        assert_eq!(g(10, 3, 1, 2, ConvPadding::Causal), Some((10, 4, 0)));
        assert_eq!(g(10, 3, 3, 1, ConvPadding::Causal), Some((4, 2, 0)));
    }

    #[test]
    fn bad_groups_and_windows_are_errors() {
        let conv = |input: &[usize], kernel: &[usize], groups| {
            Conv2dGeometry::conv(input, kernel, [1, 1], [1, 1], ConvPadding::Valid, groups)
        };
        assert!(conv(&[1, 5, 5, 4], &[3, 3, 2, 6], 2).is_ok());
        assert!(conv(&[1, 5, 5, 4], &[3, 3, 4, 6], 2).is_err());
        assert!(conv(&[1, 5, 5, 4], &[3, 3, 2, 5], 2).is_err());
        assert!(conv(&[1, 2, 5, 4], &[3, 3, 4, 6], 1).is_err());
        assert!(Conv2dGeometry::pool(&[1, 4, 4, 2], [2, 2], [0, 2], ConvPadding::Valid).is_err());
    }
}
