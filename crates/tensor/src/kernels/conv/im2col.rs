//! im2col and its adjoint col2im for one channels-last image and one channel group.
//!
//! Row `oy·out_w + ox` of the column matrix holds the input patch that output position `(oy, ox)` sees, in the
//! kernel's order `(ky, kx, channel)`, with zeros where the window hangs over the padding; the convolution of
//! the image is then the product of this `positions × patch_len` matrix with the kernel viewed as
//! `patch_len × filters`.
//!
//! With one group and no horizontal dilation, the `kernel_w` taps of a kernel row read `kernel_w · in_c`
//! consecutive input values, so a window wholly inside the input is copied (or added back) one kernel row at a
//! time; windows that overhang the padding go tap by tap.

use super::Conv2dGeometry;

/// The input row read by kernel row `ky` at output row `oy`, if inside the input.
#[inline]
fn input_row(g: &Conv2dGeometry, oy: usize, ky: usize) -> Option<usize> {
    (oy * g.stride_h + ky * g.dilation_h)
        .checked_sub(g.pad_top)
        .filter(|&iy| iy < g.in_h)
}

/// The input column read by kernel column `kx` at output column `ox`, if inside the input.
#[inline]
fn input_col(g: &Conv2dGeometry, ox: usize, kx: usize) -> Option<usize> {
    (ox * g.stride_w + kx * g.dilation_w)
        .checked_sub(g.pad_left)
        .filter(|&ix| ix < g.in_w)
}

/// The first input column of output column `ox`'s window when the whole window row is one contiguous run.
#[inline]
fn contiguous_run(g: &Conv2dGeometry, ox: usize) -> Option<usize> {
    if g.groups != 1 || g.dilation_w != 1 {
        return None;
    }
    let first = (ox * g.stride_w).checked_sub(g.pad_left)?;
    (first + g.kernel_w <= g.in_w).then_some(first)
}

/// `dst = src` for one kernel row's taps: the short runs of images with few channels (3 values for a 3×3
/// kernel on one channel) as fixed-length moves instead of a call to `memcpy` each.
#[inline]
fn copy_run(dst: &mut [f32], src: &[f32]) {
    fn fixed<const N: usize>(dst: &mut [f32], src: &[f32]) {
        dst[..N].copy_from_slice(&src[..N]);
    }
    match dst.len() {
        1 => fixed::<1>(dst, src),
        2 => fixed::<2>(dst, src),
        3 => fixed::<3>(dst, src),
        4 => fixed::<4>(dst, src),
        5 => fixed::<5>(dst, src),
        6 => fixed::<6>(dst, src),
        7 => fixed::<7>(dst, src),
        8 => fixed::<8>(dst, src),
        _ => dst.copy_from_slice(src),
    }
}

/// Fills `cols` (`positions × patch_len`) with the patches of `image` (`in_h · in_w · in_c`) for `group`.
pub(crate) fn im2col(g: &Conv2dGeometry, image: &[f32], group: usize, cols: &mut [f32]) {
    let cg = g.group_in();
    let c0 = group * cg;
    let run = g.kernel_w * cg;
    if run == 0 {
        return;
    }
    for (p, row) in cols.chunks_exact_mut(g.patch_len()).enumerate() {
        let (oy, ox) = (p / g.out_w, p % g.out_w);
        let first = contiguous_run(g, ox);
        for (ky, taps) in row.chunks_exact_mut(run).enumerate() {
            let Some(iy) = input_row(g, oy, ky) else {
                taps.fill(0.0);
                continue;
            };
            let line = iy * g.in_w;
            if let Some(ix) = first {
                let at = (line + ix) * g.in_c;
                copy_run(taps, &image[at..at + run]);
                continue;
            }
            for (kx, dst) in taps.chunks_exact_mut(cg).enumerate() {
                match input_col(g, ox, kx) {
                    Some(ix) => {
                        let at = (line + ix) * g.in_c + c0;
                        dst.copy_from_slice(&image[at..at + cg]);
                    }
                    None => dst.fill(0.0),
                }
            }
        }
    }
}

/// Adds each row of `cols` back onto the input positions its patch came from (the adjoint of [`im2col`]).
pub(crate) fn col2im_add(g: &Conv2dGeometry, cols: &[f32], group: usize, image: &mut [f32]) {
    let cg = g.group_in();
    let c0 = group * cg;
    let run = g.kernel_w * cg;
    if run == 0 {
        return;
    }
    let add = |dst: &mut [f32], src: &[f32]| dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
    for (p, row) in cols.chunks_exact(g.patch_len()).enumerate() {
        let (oy, ox) = (p / g.out_w, p % g.out_w);
        let first = contiguous_run(g, ox);
        for (ky, taps) in row.chunks_exact(run).enumerate() {
            let Some(iy) = input_row(g, oy, ky) else {
                continue;
            };
            let line = iy * g.in_w;
            if let Some(ix) = first {
                let at = (line + ix) * g.in_c;
                add(&mut image[at..at + run], taps);
                continue;
            }
            for (kx, src) in taps.chunks_exact(cg).enumerate() {
                if let Some(ix) = input_col(g, ox, kx) {
                    let at = (line + ix) * g.in_c + c0;
                    add(&mut image[at..at + cg], src);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ConvPadding;

    /// im2col by the definition: every tap through `Conv2dGeometry::tap`.
    fn im2col_naive(g: &Conv2dGeometry, image: &[f32], group: usize) -> Vec<f32> {
        let cg = g.group_in();
        let mut cols = Vec::new();
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                for ky in 0..g.kernel_h {
                    for kx in 0..g.kernel_w {
                        for c in 0..cg {
                            cols.push(g.tap(oy, ox, ky, kx).map_or(0.0, |(iy, ix)| {
                                image[(iy * g.in_w + ix) * g.in_c + group * cg + c]
                            }));
                        }
                    }
                }
            }
        }
        cols
    }

    #[test]
    fn fast_runs_match_the_definition_and_col2im_is_its_adjoint() {
        let cases = [
            (
                [1, 6, 7, 3],
                [3, 3, 3, 2],
                [1, 1],
                [1, 1],
                ConvPadding::Valid,
                1,
            ),
            (
                [1, 6, 7, 3],
                [3, 2, 3, 2],
                [2, 1],
                [1, 1],
                ConvPadding::Same,
                1,
            ),
            (
                [1, 7, 6, 4],
                [3, 3, 2, 2],
                [1, 2],
                [1, 1],
                ConvPadding::Same,
                2,
            ),
            (
                [1, 8, 8, 2],
                [2, 3, 2, 2],
                [1, 1],
                [2, 2],
                ConvPadding::Same,
                1,
            ),
            (
                [1, 5, 9, 1],
                [1, 4, 1, 1],
                [1, 3],
                [1, 1],
                ConvPadding::Same,
                1,
            ),
        ];
        for (input, kernel, strides, dilation, padding, groups) in cases {
            let g =
                Conv2dGeometry::conv(&input, &kernel, strides, dilation, padding, groups).unwrap();
            let image: Vec<f32> = (0..g.image_len())
                .map(|i| (i as f32 * 0.37).sin())
                .collect();
            for group in 0..groups {
                let expected = im2col_naive(&g, &image, group);
                let mut cols = vec![f32::NAN; expected.len()];
                im2col(&g, &image, group, &mut cols);
                assert_eq!(cols, expected, "{g:?} group {group}");
                // <im2col(x), c> = <x, col2im(c)> for any c.
                let c: Vec<f32> = (0..cols.len()).map(|i| (i as f32 * 0.11).cos()).collect();
                let mut back = vec![0.0f32; image.len()];
                col2im_add(&g, &c, group, &mut back);
                let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| f64::from(a * b)).sum();
                let rhs: f64 = image.iter().zip(&back).map(|(a, b)| f64::from(a * b)).sum();
                assert!(
                    (lhs - rhs).abs() < 1e-3 * lhs.abs().max(1.0),
                    "{lhs} vs {rhs}"
                );
            }
        }
    }
}
