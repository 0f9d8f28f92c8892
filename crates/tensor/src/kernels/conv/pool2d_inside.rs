//! Max pooling when every window lies inside the input (no padding, as the convnet's 2×2 `valid` pooling):
//! a tap then sits at the same offset from its window's start for every output, so the selection is a run of
//! branch-free channel-vector selects with no bounds checks and no flat indices. The backward pass keeps the
//! winning tap per channel as a small number and adds `dy` at the winner and `+0` at the other taps, one
//! vectorised pass per tap. Both passes are compiled for AVX-512 and AVX2 (selected at run time; comparisons
//! and selects only, so every target gives the same bits).
//!
//! The comparisons are `select_window`'s (`x > max`, the first maximum wins, a NaN only as the first value), so
//! values and gradients are bit for bit those of the general kernels: `dx` starts at `+0` and a sum of `+0`
//! with anything is never `−0`, so adding `+0` at the losing taps changes no bit.

use super::Conv2dGeometry;
use crate::kernels::per_target::per_target;

/// Whether every window of `g` lies inside the input.
pub(super) fn applies(g: &Conv2dGeometry) -> bool {
    let inside = |out: usize, stride: usize, kernel: usize, dilation: usize, size: usize| {
        out == 0 || (out - 1) * stride + (kernel.max(1) - 1) * dilation < size
    };
    g.pad_top == 0
        && g.pad_left == 0
        && g.kernel_h * g.kernel_w > 0
        && inside(g.out_h, g.stride_h, g.kernel_h, g.dilation_h, g.in_h)
        && inside(g.out_w, g.stride_w, g.kernel_w, g.dilation_w, g.in_w)
}

/// The taps' offsets from the window's start in `select_window`'s order (rows, then columns).
pub(super) fn tap_offsets(g: &Conv2dGeometry) -> Vec<usize> {
    (0..g.kernel_h)
        .flat_map(|ky| {
            (0..g.kernel_w).map(move |kx| (ky * g.dilation_h * g.in_w + kx * g.dilation_w) * g.in_c)
        })
        .collect()
}

/// The flat offset of output `p`'s window in its image.
pub(super) fn window_start(g: &Conv2dGeometry, p: usize) -> usize {
    let (oy, ox) = (p / g.out_w, p % g.out_w);
    (oy * g.stride_h * g.in_w + ox * g.stride_w) * g.in_c
}

/// The maxima of one image's windows into `out` (`positions × in_c`).
pub(super) fn values_image(g: &Conv2dGeometry, image: &[f32], out: &mut [f32]) {
    let taps = tap_offsets(g);
    values(g, &taps, image, out);
}

/// Whether the windows tile the input: each input value lies in exactly one window.
pub(super) fn tiles(g: &Conv2dGeometry) -> bool {
    (g.dilation_h, g.dilation_w) == (1, 1)
        && (g.stride_h, g.stride_w) == (g.kernel_h, g.kernel_w)
        && (g.in_h, g.in_w) == (g.out_h * g.kernel_h, g.out_w * g.kernel_w)
}

/// One image's input gradient `dx` (overwritten) from its output gradient `dy`, the maxima selected again.
/// When the windows tile the input, each value is written once as `+0 + (dy or +0)` (what zeroing and then
/// adding gives) with no zeroing pass first.
pub(super) fn backward_image(g: &Conv2dGeometry, image: &[f32], dy: &[f32], dx: &mut [f32]) {
    let (taps, tiled) = (tap_offsets(g), tiles(g));
    if !tiled {
        dx.fill(0.0);
    }
    backward(g, &taps, tiled, image, dy, dx);
}

per_target! {
/// [`values_image`]'s loop, compiled per target: per window, the first tap's channels, then `x > max` per
/// further tap, over the whole channel vector.
fn values(g: &Conv2dGeometry, taps: &[usize], image: &[f32], out: &mut [f32]) {
    let c = g.in_c;
    for (p, o) in out.chunks_exact_mut(c).enumerate() {
        let start = window_start(g, p);
        o.copy_from_slice(&image[start + taps[0]..][..c]);
        for &t in &taps[1..] {
            for (o, &x) in o.iter_mut().zip(&image[start + t..][..c]) {
                *o = if x > *o { x } else { *o };
            }
        }
    }
}
}

per_target! {
/// [`backward_image`]'s loop after the zeroing, compiled per target: per window, the winning tap per channel
/// (the first maximum, as [`values`] selects it), then `dy` added there and `+0` at the other taps.
fn backward(
    g: &Conv2dGeometry,
    taps: &[usize],
    tiled: bool,
    image: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    let c = g.in_c;
    // The winning tap's number as an `f32` (exact for any window), so that the selects and the comparisons
    // stay on one vector type.
    let (mut best, mut winner) = (vec![0.0f32; c], vec![0.0f32; c]);
    for (p, dy) in dy.chunks_exact(c).enumerate() {
        let start = window_start(g, p);
        best.copy_from_slice(&image[start + taps[0]..][..c]);
        winner.fill(0.0);
        for (k, &t) in taps.iter().enumerate().skip(1) {
            let (k, x) = (k as f32, &image[start + t..][..c]);
            for ((b, w), &x) in best.iter_mut().zip(winner.iter_mut()).zip(x) {
                let take = x > *b;
                *b = if take { x } else { *b };
                *w = if take { k } else { *w };
            }
        }
        for (k, &t) in taps.iter().enumerate() {
            let (k, d) = (k as f32, &mut dx[start + t..][..c]);
            if tiled {
                for ((d, &w), &v) in d.iter_mut().zip(&winner).zip(dy) {
                    *d = 0.0 + if w == k { v } else { 0.0 };
                }
            } else {
                for ((d, &w), &v) in d.iter_mut().zip(&winner).zip(dy) {
                    *d += if w == k { v } else { 0.0 };
                }
            }
        }
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ConvPadding;

    #[test]
    fn windows_inside_the_input_apply_and_padded_ones_do_not() {
        let pool = |shape: [usize; 4], p, s, pad| {
            applies(&Conv2dGeometry::pool(&shape, p, s, pad).unwrap())
        };
        assert!(pool([1, 24, 24, 64], [2, 2], [2, 2], ConvPadding::Valid));
        assert!(pool([1, 5, 7, 3], [3, 2], [1, 3], ConvPadding::Valid));
        assert!(!pool([1, 5, 5, 3], [2, 2], [2, 2], ConvPadding::Same));
        // "same" that pads nothing still applies.
        assert!(pool([1, 4, 4, 3], [2, 2], [2, 2], ConvPadding::Same));
    }

    #[test]
    fn values_and_gradient_by_the_definition() {
        // One 3×4 image, 2 channels, 2×2 windows with stride 1×2: ties go to the first tap.
        let g = Conv2dGeometry::pool(&[1, 3, 4, 2], [2, 2], [1, 2], ConvPadding::Valid).unwrap();
        let x: Vec<f32> = [
            1., 5., 2., 2., 3., 0., 4., 9., 7., 1., 7., 8., 6., 3., 0., 1., 2., 2., 7., 3., 5., 4.,
            1., 9.,
        ]
        .to_vec();
        let mut y = vec![0.0; g.positions() * 2];
        values_image(&g, &x, &mut y);
        // Output (oy, ox, ch): window rows oy..oy+2, columns 2·ox..2·ox+2.
        let expected: Vec<f32> = (0..2)
            .flat_map(|oy| (0..2).map(move |ox| (oy, ox)))
            .flat_map(|(oy, ox)| {
                let x = &x;
                (0..2).map(move |ch| {
                    let taps = [
                        (oy, 2 * ox),
                        (oy, 2 * ox + 1),
                        (oy + 1, 2 * ox),
                        (oy + 1, 2 * ox + 1),
                    ];
                    taps.iter()
                        .map(|&(r, c)| x[(r * 4 + c) * 2 + ch])
                        .fold(f32::MIN, f32::max)
                })
            })
            .collect();
        assert_eq!(y, expected);
        let dy: Vec<f32> = (1..=8).map(|v| v as f32).collect();
        let mut dx = vec![f32::NAN; x.len()];
        backward_image(&g, &x, &dy, &mut dx);
        let mut want = vec![0.0f32; x.len()];
        for (o, &d) in dy.iter().enumerate() {
            let (p, ch) = (o / 2, o % 2);
            let (oy, ox) = (p / 2, p % 2);
            let taps = [
                (oy, 2 * ox),
                (oy, 2 * ox + 1),
                (oy + 1, 2 * ox),
                (oy + 1, 2 * ox + 1),
            ];
            let at = taps
                .iter()
                .map(|&(r, c)| (r * 4 + c) * 2 + ch)
                .find(|&i| x[i] == y[o])
                .unwrap();
            want[at] += d;
        }
        assert_eq!(dx, want);
    }
}
