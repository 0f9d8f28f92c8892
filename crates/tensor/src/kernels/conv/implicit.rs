//! Implicit GEMM for stride-1, unpadded, ungrouped, undilated convolutions with enough input channels: the
//! products read the channels-last image in place instead of an im2col copy.
//!
//! With stride 1 the `kernel_w` taps of kernel row `ky` at output `(oy, ox)` read `kernel_w · in_c` consecutive
//! input values starting at `((oy + ky) · in_w + ox) · in_c`. Numbering output positions on the input's width
//! (`r = oy · in_w + ox`, the columns `ox ≥ out_w` being wrap-around rows computed and dropped), row `r` of that
//! "full-width" patch matrix starts at `(r + ky · in_w) · in_c`: one strided view with a row stride of `in_c`
//! over the image. The convolution of one image is then `kernel_h` products, one per kernel row, accumulated
//! into a `full_rows × filters` block whose valid rows are copied out (with the bias and ReLU).
//!
//! The input gradient is the full correlation of the output gradient, zero-padded by `kernel − 1` on every
//! side, with the kernel turned by 180° and its channel axes swapped: the same implicit form on the padded
//! gradient. The kernel gradient is `Σ_images A_kyᵀ · dY_full` with the wrap-around rows of `dY_full` zero.
//!
//! The sums per output are split by kernel row (`kernel_h` partial products added in order), so results differ
//! from the im2col path in rounding only; the tests bound the difference against the `f64` reference.

use super::Conv2dGeometry;
use crate::Result;
use crate::kernels::{MatRef, Parallelism, gemm};

/// Input channels below which im2col (one product with `kernel_h · kernel_w · in_c` deep rows) stays faster
/// than `kernel_h` products of depth `kernel_w · in_c`.
const MIN_CHANNELS: usize = 8;

/// Whether the implicit path computes this convolution.
pub(crate) fn applies(g: &Conv2dGeometry) -> bool {
    g.groups == 1
        && g.stride_h == 1
        && g.stride_w == 1
        && g.dilation_h == 1
        && g.dilation_w == 1
        && g.pad_top == 0
        && g.pad_left == 0
        && g.out_h > 0
        && g.out_w > 0
        && g.in_h == g.out_h + g.kernel_h - 1
        && g.in_w == g.out_w + g.kernel_w - 1
        && g.in_c >= MIN_CHANNELS
}

/// Rows of the full-width output block of one image.
pub(crate) fn full_rows(g: &Conv2dGeometry) -> usize {
    (g.out_h - 1) * g.in_w + g.out_w
}

/// The depth of one kernel row's product.
fn run(g: &Conv2dGeometry) -> usize {
    g.kernel_w * g.in_c
}

/// `block = Σ_ky A_ky · W_ky` for one image: `block` is `full_rows × out_c`.
pub(crate) fn forward_image(
    g: &Conv2dGeometry,
    image: &[f32],
    kernel: &[f32],
    block: &mut [f32],
) -> Result<()> {
    let (rows, run, oc) = (full_rows(g), run(g), g.out_c);
    for ky in 0..g.kernel_h {
        let a = MatRef::new(&image[ky * g.in_w * g.in_c..], rows, run, g.in_c, 1)?;
        let w = MatRef::row_major(&kernel[ky * run * oc..(ky + 1) * run * oc], run, oc)?;
        let beta = if ky == 0 { 0.0 } else { 1.0 };
        gemm(block, a, w, 1.0, beta, Parallelism::None)?;
    }
    Ok(())
}

/// Copies the valid rows of a full-width `block` into one image's output `out` (`positions × out_c`), each
/// through `f`.
pub(crate) fn gather_rows(
    g: &Conv2dGeometry,
    block: &[f32],
    out: &mut [f32],
    f: impl Fn(&mut [f32], &[f32]),
) {
    let (oc, ow) = (g.out_c, g.out_w);
    for (oy, dst) in out.chunks_exact_mut(ow * oc).enumerate() {
        let at = oy * g.in_w * oc;
        f(dst, &block[at..at + ow * oc]);
    }
}

/// Rows of the full-width block of `images` consecutive images (at least one): `in_h · in_w` per image, the
/// last image's cut after its last valid output. Row `r` of image `i` is row `i · in_h · in_w + r`, so the
/// patch matrix of one kernel row over the whole shard is still one strided view of the images.
pub(crate) fn shard_rows(g: &Conv2dGeometry, images: usize) -> usize {
    images.saturating_sub(1) * g.in_h * g.in_w + full_rows(g)
}

/// `dst = src`, or with a ReLU output `y`, ReLU's gradient `src · (1 if y > 0 else 0)` (as
/// `Tensor::relu`'s backward computes it, so `−0` and NaN come out the same).
#[inline]
pub(crate) fn copy_masked(dst: &mut [f32], src: &[f32], y: Option<&[f32]>) {
    match y {
        None => dst.copy_from_slice(src),
        Some(y) => mask::apply(dst, src, y),
    }
}

/// ReLU's gradient mask, compiled for AVX-512 and AVX2 (selected at run time; one multiplication by 0 or 1
/// per value, so every target gives the same bits).
mod mask {
    crate::kernels::per_target::per_target! {
        /// `dst = src · (1 if y > 0 else 0)` over the common length.
        pub(super) fn apply(dst: &mut [f32], src: &[f32], y: &[f32]) {
            let n = dst.len().min(src.len()).min(y.len());
            let (dst, src, y) = (&mut dst[..n], &src[..n], &y[..n]);
            for i in 0..n {
                dst[i] = src[i] * if y[i] > 0.0 { 1.0 } else { 0.0 };
            }
        }
    }
}

/// Writes the output gradient `dy` of consecutive images (masked by ReLU's output `y` when given) into
/// `dy_full` (`shard_rows × out_c`) in the shard's full-width layout, every wrap-around row (the columns
/// `ox ≥ out_w` and the rows `oy ≥ out_h`) zero.
pub(crate) fn spread_rows(g: &Conv2dGeometry, dy: &[f32], y: Option<&[f32]>, dy_full: &mut [f32]) {
    let (oc, ow) = (g.out_c, g.out_w);
    let mut row = 0;
    for (line, dst) in dy_full.chunks_mut(g.in_w * oc).enumerate() {
        let (valid, rest) = dst.split_at_mut((ow * oc).min(dst.len()));
        let src = dy.get(row..row + ow * oc);
        match src.filter(|s| line % g.in_h < g.out_h && s.len() == valid.len()) {
            Some(src) => {
                copy_masked(valid, src, y.map(|y| &y[row..row + ow * oc]));
                row += ow * oc;
            }
            None => valid.fill(0.0),
        }
        rest.fill(0.0);
    }
}

/// The valid rows of a shard's full-width block (`out_w · out_c` values each), in output order.
pub(crate) fn valid_rows<'a>(
    g: &'a Conv2dGeometry,
    full: &'a [f32],
) -> impl Iterator<Item = &'a [f32]> + 'a {
    full.chunks(g.in_w * g.out_c)
        .enumerate()
        .filter(|(line, c)| line % g.in_h < g.out_h && c.len() >= g.out_w * g.out_c)
        .map(|(_, c)| &c[..g.out_w * g.out_c])
}

/// `dk = Σ_ky A_kyᵀ · dY_full` over a shard of consecutive `images` (`n · in_h · in_w · in_c` values) and their
/// output gradient in the shard's full-width layout (`dy_full`, `shard_rows × out_c`, from [`spread_rows`]):
/// one `(kernel_w · in_c) × shard_rows · shard_rows × out_c` product per kernel row.
pub(crate) fn kernel_grad_shard(
    g: &Conv2dGeometry,
    images: &[f32],
    dy_full: &[f32],
    dk: &mut [f32],
) -> Result<()> {
    let (run, oc) = (run(g), g.out_c);
    let rows = dy_full.len() / oc.max(1);
    let dyf = MatRef::row_major(dy_full, rows, oc)?;
    for (ky, dk) in dk.chunks_exact_mut(run * oc).enumerate() {
        let a = MatRef::new(&images[ky * g.in_w * g.in_c..], rows, run, g.in_c, 1)?.t();
        gemm(dk, a, dyf, 1.0, 0.0, Parallelism::None)?;
    }
    Ok(())
}

/// Sizes of the padded output gradient: `(height, width)` = the input's plus `kernel − 1`.
fn padded(g: &Conv2dGeometry) -> (usize, usize) {
    (g.in_h + g.kernel_h - 1, g.in_w + g.kernel_w - 1)
}

/// Scratch lengths of [`input_grad_image`]: the padded gradient and the full-width input-gradient block.
pub(crate) fn input_grad_scratch(g: &Conv2dGeometry) -> (usize, usize) {
    let (ph, pw) = padded(g);
    (ph * pw * g.out_c, ((g.in_h - 1) * pw + g.in_w) * g.in_c)
}

/// The kernel turned by 180° with its channel axes swapped: `[kh, kw, out_c, in_c]` with
/// `flipped[ky][kx][f][c] = kernel[kh − 1 − ky][kw − 1 − kx][c][f]`.
pub(crate) fn flipped_kernel(g: &Conv2dGeometry, kernel: &[f32], flipped: &mut [f32]) {
    let (kh, kw, ic, oc) = (g.kernel_h, g.kernel_w, g.in_c, g.out_c);
    for ky in 0..kh {
        for kx in 0..kw {
            let src = &kernel[((kh - 1 - ky) * kw + (kw - 1 - kx)) * ic * oc..][..ic * oc];
            let dst = &mut flipped[(ky * kw + kx) * oc * ic..][..oc * ic];
            for (c, row) in src.chunks_exact(oc).enumerate() {
                for (f, &v) in row.iter().enumerate() {
                    dst[f * ic + c] = v;
                }
            }
        }
    }
}

/// One image's input gradient `dx` (`in_h · in_w · in_c`, overwritten) from its output gradient, whose row `oy`
/// (`out_w · out_c` values, already masked by ReLU's gradient where the layer has one) starts at
/// `oy · row_stride` in `dy` (the image's part of a shard's full-width layout from [`spread_rows`], or a plain
/// `positions × out_c` array with `row_stride = out_w · out_c`); `flipped` from [`flipped_kernel`];
/// `padded_dy` and `block` are scratch of [`input_grad_scratch`]'s lengths, and `padded_dy`'s border must be
/// zero (only its interior is written here).
pub(crate) fn input_grad_image(
    g: &Conv2dGeometry,
    (dy, row_stride): (&[f32], usize),
    flipped: &[f32],
    padded_dy: &mut [f32],
    block: &mut [f32],
    dx: &mut [f32],
) -> Result<()> {
    let (oc, ic, ow) = (g.out_c, g.in_c, g.out_w);
    let (_, pw) = padded(g);
    let (top, left) = (g.kernel_h - 1, g.kernel_w - 1);
    for oy in 0..g.out_h {
        let at = ((oy + top) * pw + left) * oc;
        padded_dy[at..at + ow * oc].copy_from_slice(&dy[oy * row_stride..][..ow * oc]);
    }
    let rows = block.len() / ic;
    let run = g.kernel_w * oc;
    for ky in 0..g.kernel_h {
        let a = MatRef::new(&padded_dy[ky * pw * oc..], rows, run, oc, 1)?;
        let w = MatRef::row_major(&flipped[ky * run * ic..(ky + 1) * run * ic], run, ic)?;
        let beta = if ky == 0 { 0.0 } else { 1.0 };
        gemm(block, a, w, 1.0, beta, Parallelism::None)?;
    }
    for (iy, dst) in dx.chunks_exact_mut(g.in_w * ic).enumerate() {
        let at = iy * pw * ic;
        dst.copy_from_slice(&block[at..at + g.in_w * ic]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ConvPadding;
    use crate::kernels::test_util::sin_values as values;

    /// The gradients of one image by the definition, in `f64`: `(dx, dk)` for an output gradient `dy`, each
    /// with the sums of the absolute values of its terms (the scale of `f32`'s accumulated rounding).
    #[allow(clippy::type_complexity)]
    fn reference_grads(
        g: &Conv2dGeometry,
        x: &[f32],
        k: &[f32],
        dy: &[f32],
    ) -> ((Vec<f64>, Vec<f64>), (Vec<f64>, Vec<f64>)) {
        let (mut dx, mut dk) = (vec![0.0; x.len()], vec![0.0; k.len()]);
        let (mut dx_abs, mut dk_abs) = (vec![0.0; x.len()], vec![0.0; k.len()]);
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                for f in 0..g.out_c {
                    let d = f64::from(dy[(oy * g.out_w + ox) * g.out_c + f]);
                    for ky in 0..g.kernel_h {
                        for kx in 0..g.kernel_w {
                            for c in 0..g.in_c {
                                let xi = ((oy + ky) * g.in_w + ox + kx) * g.in_c + c;
                                let ki = ((ky * g.kernel_w + kx) * g.in_c + c) * g.out_c + f;
                                dx[xi] += d * f64::from(k[ki]);
                                dx_abs[xi] += (d * f64::from(k[ki])).abs();
                                dk[ki] += d * f64::from(x[xi]);
                                dk_abs[ki] += (d * f64::from(x[xi])).abs();
                            }
                        }
                    }
                }
            }
        }
        ((dx, dx_abs), (dk, dk_abs))
    }

    /// `got` within `1e-5` of the sum of its terms' absolute values (`f32` accumulation over hundreds of terms
    /// with cancellation); a wrong or missing term is off by about `scale / terms`, far above that.
    fn assert_close(got: &[f32], (expected, scale): (&[f64], &[f64]), what: &str) {
        for (i, ((a, b), s)) in got.iter().zip(expected).zip(scale).enumerate() {
            assert!(
                (f64::from(*a) - b).abs() <= 1e-5 * (1e-3 + s),
                "{what}[{i}]: {a} vs {b} (scale {s})"
            );
        }
    }

    #[test]
    fn one_image_matches_the_definition() {
        for (input, kernel) in [
            ([1, 7, 6, 9], [3, 2, 9, 5]),
            ([1, 26, 26, 32], [3, 3, 32, 64]),
            ([1, 5, 9, 8], [1, 4, 8, 3]),
        ] {
            let g = Conv2dGeometry::conv(&input, &kernel, [1, 1], [1, 1], ConvPadding::Valid, 1)
                .unwrap();
            assert!(applies(&g));
            let (x, k) = (values(g.image_len(), 1), values(g.patch_len() * g.out_c, 2));
            let dy = values(g.positions() * g.out_c, 3);
            let mut expected = vec![0.0f32; dy.len()];
            super::super::conv2d_reference(&x, &k, None, &mut expected, &g).unwrap();
            let mut block = vec![f32::NAN; full_rows(&g) * g.out_c];
            forward_image(&g, &x, &k, &mut block).unwrap();
            let mut y = vec![f32::NAN; dy.len()];
            gather_rows(&g, &block, &mut y, |d, s| d.copy_from_slice(s));
            let expected: Vec<f64> = expected.iter().map(|&v| f64::from(v)).collect();
            let ((dx_ref, dx_abs), (dk_ref, dk_abs)) = reference_grads(&g, &x, &k, &dy);
            let y_abs: Vec<f64> = expected.iter().map(|v| v.abs() + 1.0).collect();
            assert_close(&y, (&expected, &y_abs), "forward");

            let mut dy_full = vec![f32::NAN; shard_rows(&g, 1) * g.out_c];
            spread_rows(&g, &dy, None, &mut dy_full);
            let mut dk = vec![f32::NAN; k.len()];
            kernel_grad_shard(&g, &x, &dy_full, &mut dk).unwrap();
            assert_close(&dk, (&dk_ref, &dk_abs), "kernel gradient");

            let mut flipped = vec![0.0; k.len()];
            flipped_kernel(&g, &k, &mut flipped);
            let (pl, bl) = input_grad_scratch(&g);
            let (mut padded, mut block) = (vec![0.0; pl], vec![f32::NAN; bl]);
            let mut dx = vec![f32::NAN; x.len()];
            let plain = (&dy[..], g.out_w * g.out_c);
            input_grad_image(&g, plain, &flipped, &mut padded, &mut block, &mut dx).unwrap();
            assert_close(&dx, (&dx_ref, &dx_abs), "input gradient");
        }
    }

    /// A shard of three images in one product per kernel row: the sum of the images' gradients by the
    /// definition, whatever the scratch held before (its wrap-around rows are written as zeros).
    #[test]
    fn a_shard_of_images_sums_their_kernel_gradients() {
        for (input, kernel) in [
            ([3, 7, 6, 9], [3, 2, 9, 5]),
            ([3, 26, 26, 32], [3, 3, 32, 64]),
        ] {
            let g = Conv2dGeometry::conv(&input, &kernel, [1, 1], [1, 1], ConvPadding::Valid, 1)
                .unwrap();
            let n = input[0];
            let one = Conv2dGeometry { batch: 1, ..g };
            let (x, k) = (
                values(n * g.image_len(), 4),
                values(g.patch_len() * g.out_c, 5),
            );
            let dy = values(n * g.positions() * g.out_c, 6);
            let (mut expected, mut scale) = (vec![0.0; k.len()], vec![0.0; k.len()]);
            for i in 0..n {
                let xi = &x[i * g.image_len()..(i + 1) * g.image_len()];
                let dyi = &dy[i * g.positions() * g.out_c..(i + 1) * g.positions() * g.out_c];
                let (_, (dk, abs)) = reference_grads(&one, xi, &k, dyi);
                expected.iter_mut().zip(&dk).for_each(|(e, v)| *e += v);
                scale.iter_mut().zip(&abs).for_each(|(e, v)| *e += v);
            }
            assert_eq!(shard_rows(&g, n), (n - 1) * g.in_h * g.in_w + full_rows(&g));
            let mut dy_full = vec![f32::NAN; shard_rows(&g, n) * g.out_c];
            spread_rows(&g, &dy, None, &mut dy_full);
            let rows: Vec<f32> = valid_rows(&g, &dy_full).flatten().copied().collect();
            assert_eq!(rows, dy, "the valid rows are the output gradient, in order");
            let mut dk = vec![f32::NAN; k.len()];
            kernel_grad_shard(&g, &x, &dy_full, &mut dk).unwrap();
            assert_close(&dk, (&expected, &scale), "shard kernel gradient");
        }
    }

    #[test]
    fn only_stride_one_unpadded_ungrouped_windows_with_channels_apply() {
        let conv = |input: [usize; 4], kernel: [usize; 4], s, d, p, groups| {
            applies(&Conv2dGeometry::conv(&input, &kernel, s, d, p, groups).unwrap())
        };
        use ConvPadding::*;
        assert!(conv([2, 8, 8, 8], [3, 3, 8, 4], [1, 1], [1, 1], Valid, 1));
        assert!(!conv([2, 8, 8, 1], [3, 3, 1, 4], [1, 1], [1, 1], Valid, 1));
        assert!(!conv([2, 8, 8, 8], [3, 3, 8, 4], [1, 1], [1, 1], Same, 1));
        assert!(!conv([2, 8, 8, 8], [3, 3, 8, 4], [2, 1], [1, 1], Valid, 1));
        assert!(!conv([2, 8, 8, 8], [3, 3, 8, 4], [1, 1], [1, 2], Valid, 1));
        assert!(!conv([2, 8, 8, 8], [3, 3, 4, 4], [1, 1], [1, 1], Valid, 2));
        // "same" with a 1×1 kernel pads nothing: the implicit path applies.
        assert!(conv([2, 8, 8, 8], [1, 1, 8, 4], [1, 1], [1, 1], Same, 1));
    }
}
