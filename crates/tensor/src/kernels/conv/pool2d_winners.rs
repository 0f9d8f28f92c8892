//! Max pooling that keeps each window's winning tap (one byte per output value), for windows inside the input
//! that do not overlap, and the gradient it passes back to a ReLU output without the pooled input or output:
//! what the fused convolution + ReLU + max pooling (`conv_relu_pool`) runs per image.
//!
//! The selection is `pool2d_inside`'s (`x > max`, the first maximum wins), so values and winners are those of
//! the unfused kernels. A winner byte holds the tap's number in its low 7 bits and [`POSITIVE`] when the
//! window's maximum is `> 0`. [`spread_image`] writes `(+0 + dy) · (1 if max > 0 else 0)` at each window's winner
//! and `+0` at every other value: when the pooled input is ReLU's output, that is bit for bit max pooling's
//! backward (`+0 + dy` at the winner, `+0` elsewhere) followed by ReLU's gradient mask (`· (1 if y > 0 else
//! 0)`), since the winner's value is the window's maximum and `+0` times 0 or 1 is `+0`. Both loops are
//! compiled for AVX-512 and AVX2 (comparisons, selects and one product per value: the same bits everywhere).

use super::Conv2dGeometry;
use super::pool2d_inside::{self, tap_offsets, tiles, window_start};
use crate::kernels::per_target::per_target;

/// A winner byte's flag: the window's maximum is positive (ReLU passes its gradient).
pub(super) const POSITIVE: u8 = 0x80;

/// Whether [`values_image`] and [`spread_image`] apply: windows inside the input that do not overlap, with at
/// most 128 taps (a winner's number fits the 7 bits beside [`POSITIVE`]).
pub(super) fn applies(g: &Conv2dGeometry) -> bool {
    pool2d_inside::applies(g)
        && (g.dilation_h, g.dilation_w) == (1, 1)
        && g.stride_h >= g.kernel_h
        && g.stride_w >= g.kernel_w
        && g.kernel_h * g.kernel_w <= 128
}

/// The maxima of one image's windows into `out` and each one's winner byte (the winning tap's number, with
/// [`POSITIVE`] for a positive maximum) into `winners` (both `positions × in_c`).
pub(super) fn values_image(g: &Conv2dGeometry, image: &[f32], out: &mut [f32], winners: &mut [u8]) {
    values(g, &tap_offsets(g), image, out, winners);
}

/// One image's ReLU-masked gradient `dx` of the pooled input (overwritten, `in_h × in_w × in_c`) from the
/// pooled gradient `dy` and the winner bytes of [`values_image`].
pub(super) fn spread_image(g: &Conv2dGeometry, dy: &[f32], winners: &[u8], dx: &mut [f32]) {
    if !tiles(g) {
        dx.fill(0.0);
    }
    spread(g, &tap_offsets(g), dy, winners, dx);
}

per_target! {
/// [`values_image`]'s loop: per window, the first tap's channels, then `x > max` per further tap over the
/// whole channel vector, the winner kept as an `f32` lane (exact) so the selects stay on one vector type; the
/// sign flag is added once per window.
fn values(g: &Conv2dGeometry, taps: &[usize], image: &[f32], out: &mut [f32], winners: &mut [u8]) {
    let c = g.in_c;
    let mut lanes = vec![0.0f32; c];
    for (p, (o, w)) in out.chunks_exact_mut(c).zip(winners.chunks_exact_mut(c)).enumerate() {
        let start = window_start(g, p);
        o.copy_from_slice(&image[start + taps[0]..][..c]);
        lanes.fill(0.0);
        for (k, &t) in taps.iter().enumerate().skip(1) {
            let (k, x) = (k as f32, &image[start + t..][..c]);
            for ((b, l), &x) in o.iter_mut().zip(lanes.iter_mut()).zip(x) {
                let take = x > *b;
                *b = if take { x } else { *b };
                *l = if take { k } else { *l };
            }
        }
        for ((w, &l), &max) in w.iter_mut().zip(&lanes).zip(o.iter()) {
            *w = l as u8 | if max > 0.0 { POSITIVE } else { 0 };
        }
    }
}
}

per_target! {
/// [`spread_image`]'s loop after the zeroing: per window and tap, `(+0 + (dy if winner else +0)) · mask`.
fn spread(g: &Conv2dGeometry, taps: &[usize], dy: &[f32], winners: &[u8], dx: &mut [f32]) {
    let c = g.in_c;
    let (mut winner, mut mask) = (vec![0.0f32; c], vec![0.0f32; c]);
    for (p, (dy, winners)) in dy.chunks_exact(c).zip(winners.chunks_exact(c)).enumerate() {
        let start = window_start(g, p);
        for ((l, m), &w) in winner.iter_mut().zip(mask.iter_mut()).zip(winners) {
            *l = f32::from(w & !POSITIVE);
            *m = if w & POSITIVE != 0 { 1.0 } else { 0.0 };
        }
        for (k, &t) in taps.iter().enumerate() {
            let (k, d) = (k as f32, &mut dx[start + t..][..c]);
            for (((d, &l), &m), &v) in d.iter_mut().zip(&winner).zip(&mask).zip(dy) {
                *d = (0.0 + if l == k { v } else { 0.0 }) * m;
            }
        }
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ConvPadding;

    fn pool(shape: [usize; 4], p: [usize; 2], s: [usize; 2]) -> Conv2dGeometry {
        Conv2dGeometry::pool(&shape, p, s, ConvPadding::Valid).unwrap()
    }

    #[test]
    fn only_windows_that_do_not_overlap_apply() {
        assert!(applies(&pool([1, 24, 24, 64], [2, 2], [2, 2])));
        assert!(applies(&pool([1, 7, 8, 3], [2, 3], [3, 3])));
        assert!(applies(&pool([1, 16, 16, 1], [8, 16], [8, 16])));
        assert!(!applies(&pool([1, 16, 16, 1], [9, 16], [9, 16])));
        assert!(!applies(&pool([1, 7, 8, 3], [2, 2], [1, 2])));
        assert!(!applies(
            &Conv2dGeometry::pool(&[1, 5, 5, 3], [2, 2], [2, 2], ConvPadding::Same).unwrap()
        ));
    }

    #[test]
    fn values_winners_and_masked_gradient_by_the_definition() {
        // One 5×5 image (the last row and column in no window), 3 channels, 2×2 windows: ties to the first tap,
        // windows whose maximum is not positive, whose gradient the mask stops.
        let g = pool([1, 5, 5, 3], [2, 2], [2, 2]);
        let x: Vec<f32> = (0..75)
            .map(|i| match i % 7 {
                0 | 3 => 0.0,
                k => ((i * 13) % 5) as f32 * k as f32 - 6.0,
            })
            .collect();
        let n = g.positions() * 3;
        let (mut y, mut w) = (vec![0.0; n], vec![0u8; n]);
        values_image(&g, &x, &mut y, &mut w);
        let dy: Vec<f32> = (0..n).map(|i| i as f32 - 5.5).collect();
        let mut dx = vec![f32::NAN; x.len()];
        spread_image(&g, &dy, &w, &mut dx);
        let mut want = vec![0.0f32; x.len()];
        for o in 0..n {
            let (p, ch) = (o / 3, o % 3);
            let (oy, ox) = (p / 2, p % 2);
            let taps = [(0, 0), (0, 1), (1, 0), (1, 1)]
                .map(|(r, c)| ((2 * oy + r) * 5 + 2 * ox + c) * 3 + ch);
            let max = taps.iter().map(|&i| x[i]).fold(f32::MIN, f32::max);
            let first = taps.iter().position(|&i| x[i] == max).unwrap();
            let positive = if max > 0.0 { POSITIVE } else { 0 };
            assert_eq!((y[o], w[o]), (max, first as u8 | positive));
            want[taps[first]] = if max > 0.0 { dy[o] } else { 0.0 };
        }
        assert_eq!(dx, want);
        assert!(y.iter().any(|&v| v <= 0.0) && y.iter().any(|&v| v > 0.0));
    }
}
