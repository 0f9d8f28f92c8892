//! 2-D max and average pooling (channels last), parallel over the batch.
//!
//! Max pooling records, for every output, the flat input index of its maximum (the first one on ties, as
//! TensorFlow's gradient does; a NaN wins only as the window's first value); the backward pass adds each output gradient there. Average pooling divides by
//! the number of window positions inside the input: with `same` padding the padding is not counted (as
//! TensorFlow does).
//!
//! ```
//! use rkeras_tensor::kernels::{max_pool2d_forward, avg_pool2d_forward, Conv2dGeometry, ConvPadding, Parallelism};
//! let x = [1.0, 5.0, 2.0, 3.0, 4.0, 0.0, 9.0, 8.0, 7.0]; // one 3×3 image, one channel
//! let g = Conv2dGeometry::pool(&[1, 3, 3, 1], [2, 2], [2, 2], ConvPadding::Same)?;
//! let (mut y, mut argmax) = ([0.0; 4], [0; 4]);
//! max_pool2d_forward(&x, &mut y, &mut argmax, &g, Parallelism::None)?;
//! assert_eq!((y, argmax), ([5.0, 2.0, 9.0, 7.0], [1, 2, 6, 8]));
//! avg_pool2d_forward(&x, &mut y, &g, Parallelism::None)?;
//! assert_eq!(y, [13.0 / 4.0, 1.0, 8.5, 7.0]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use super::Conv2dGeometry;
use super::pool2d_inside;
use crate::Result;
use crate::kernels::Parallelism;
use rayon::prelude::*;

impl Conv2dGeometry {
    fn check_pool(&self, input: usize, out: usize) -> Result<()> {
        self.check_len("the input", input, self.batch * self.image_len())?;
        self.check_len("the output", out, self.batch * self.positions() * self.in_c)
    }

    /// The input positions `(iy, ix)` inside the window of output `(oy, ox)`.
    fn window_taps(&self, oy: usize, ox: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.kernel_h)
            .flat_map(move |ky| (0..self.kernel_w).filter_map(move |kx| self.tap(oy, ox, ky, kx)))
    }
}

/// Runs `f(image index, output chunk, second chunk)` per image, in parallel when `par` allows.
fn per_image<T: Send>(
    out: &mut [f32],
    other: &mut [T],
    out_len: usize,
    par: Parallelism,
    f: impl Fn(usize, &mut [f32], &mut [T]) + Sync + Send,
) {
    if out_len == 0 {
        return;
    }
    let other_len = if other.is_empty() { 0 } else { out_len };
    match (par, other_len) {
        (Parallelism::None, 0) => out
            .chunks_mut(out_len)
            .enumerate()
            .for_each(|(b, o)| f(b, o, &mut [])),
        (Parallelism::None, n) => out
            .chunks_mut(out_len)
            .zip(other.chunks_mut(n))
            .enumerate()
            .for_each(|(b, (o, t))| f(b, o, t)),
        (Parallelism::Rayon(_), 0) => out
            .par_chunks_mut(out_len)
            .enumerate()
            .for_each(|(b, o)| f(b, o, &mut [])),
        (Parallelism::Rayon(_), n) => out
            .par_chunks_mut(out_len)
            .zip(other.par_chunks_mut(n))
            .enumerate()
            .for_each(|(b, (o, t))| f(b, o, t)),
    }
}

/// Max pooling: `out[b, oy, ox, c]` is the maximum over the window, `argmax` the flat index in `input` of it.
pub fn max_pool2d_forward(
    input: &[f32],
    out: &mut [f32],
    argmax: &mut [usize],
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    g.check_pool(input.len(), out.len())?;
    g.check_len("argmax", argmax.len(), out.len())?;
    let c = g.in_c;
    if c == 0 {
        return Ok(());
    }
    per_image(out, argmax, g.positions() * c, par, |b, out, argmax| {
        let base = b * g.image_len();
        for (p, (o, a)) in out
            .chunks_exact_mut(c)
            .zip(argmax.chunks_exact_mut(c))
            .enumerate()
        {
            select_window(input, base, g, p, o, a);
        }
    });
    Ok(())
}

/// The maximum of output position `p`'s window (of the image starting at `base`) into `o`, the flat input
/// index of it into `a`: the one selection every max-pooling kernel runs, so that they agree bit for bit.
#[inline]
fn select_window(
    input: &[f32],
    base: usize,
    g: &Conv2dGeometry,
    p: usize,
    o: &mut [f32],
    a: &mut [usize],
) {
    let c = o.len();
    let (oy, ox) = (p / g.out_w, p % g.out_w);
    let mut empty = true;
    // The taps in `window_taps`'s order (rows, then columns), as plain loops.
    for ky in 0..g.kernel_h {
        for kx in 0..g.kernel_w {
            let Some((iy, ix)) = g.tap(oy, ox, ky, kx) else {
                continue;
            };
            let from = base + (iy * g.in_w + ix) * c;
            let x = &input[from..from + c];
            if empty {
                o.copy_from_slice(x);
                a.iter_mut().enumerate().for_each(|(ch, a)| *a = from + ch);
                empty = false;
                continue;
            }
            // Branch-free selects, so that the channel loop vectorises.
            for (ch, ((o, a), &x)) in o.iter_mut().zip(a.iter_mut()).zip(x).enumerate() {
                let take = x > *o;
                *o = if take { x } else { *o };
                *a = if take { from + ch } else { *a };
            }
        }
    }
    if empty {
        o.fill(f32::NEG_INFINITY);
        a.fill(usize::MAX);
    }
}

/// [`max_pool2d_forward`] without recording the maxima's positions: the values only, for a backward pass by
/// [`max_pool2d_backward_replay`], which finds the positions again from the input.
///
/// ```
/// use rkeras_tensor::kernels::{max_pool2d_values, max_pool2d_backward_replay, Conv2dGeometry, ConvPadding, Parallelism};
/// let x = [1.0, 5.0, 2.0, 3.0]; // one 2×2 image, one channel
/// let g = Conv2dGeometry::pool(&[1, 2, 2, 1], [2, 2], [2, 2], ConvPadding::Valid)?;
/// let mut y = [0.0];
/// max_pool2d_values(&x, &mut y, &g, Parallelism::None)?;
/// let mut dx = [0.0; 4];
/// max_pool2d_backward_replay(&x, &[0.5], &mut dx, &g, Parallelism::None)?;
/// assert_eq!((y, dx), ([5.0], [0.0, 0.5, 0.0, 0.0]));
/// # Ok::<(), rkeras_tensor::TensorError>(())
/// ```
///
/// # Errors
/// [`crate::TensorError::InvalidShape`] if a slice's length does not match the geometry.
pub fn max_pool2d_values(
    input: &[f32],
    out: &mut [f32],
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    g.check_pool(input.len(), out.len())?;
    let c = g.in_c;
    if c == 0 {
        return Ok(());
    }
    per_image::<f32>(out, &mut [], g.positions() * c, par, |b, out, _| {
        let base = b * g.image_len();
        if pool2d_inside::applies(g) {
            let image = &input[base..base + g.image_len()];
            return pool2d_inside::values_image(g, image, out);
        }
        let mut a = vec![0usize; c];
        for (p, o) in out.chunks_exact_mut(c).enumerate() {
            select_window(input, base, g, p, o, &mut a);
        }
    });
    Ok(())
}

/// The gradient of max pooling from the input itself: each image's maxima are selected again exactly as
/// [`max_pool2d_forward`] selects them and each output gradient is added there, in output order, so the result
/// is bit for bit [`max_pool2d_backward`]'s; images run in parallel when `par` allows. `grad_input` is
/// overwritten.
///
/// # Errors
/// [`crate::TensorError::InvalidShape`] if a slice's length does not match the geometry.
pub fn max_pool2d_backward_replay(
    input: &[f32],
    grad_out: &[f32],
    grad_input: &mut [f32],
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    g.check_pool(input.len(), grad_out.len())?;
    g.check_len("the input gradient", grad_input.len(), input.len())?;
    let c = g.in_c;
    let out_len = g.positions() * c;
    if c == 0 {
        grad_input.fill(0.0);
        return Ok(());
    }
    per_image::<f32>(grad_input, &mut [], g.image_len(), par, |b, dx, _| {
        let base = b * g.image_len();
        let dy = &grad_out[b * out_len..(b + 1) * out_len];
        if pool2d_inside::applies(g) {
            let image = &input[base..base + g.image_len()];
            return pool2d_inside::backward_image(g, image, dy, dx);
        }
        dx.fill(0.0);
        let (mut o, mut a) = (vec![0.0f32; c], vec![0usize; c]);
        for (p, dy) in dy.chunks_exact(c).enumerate() {
            select_window(input, base, g, p, &mut o, &mut a);
            for (&i, &v) in a.iter().zip(dy) {
                if let Some(d) = i.checked_sub(base).and_then(|i| dx.get_mut(i)) {
                    *d += v;
                }
            }
        }
    });
    Ok(())
}

/// Average pooling over the window positions inside the input.
pub fn avg_pool2d_forward(
    input: &[f32],
    out: &mut [f32],
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    g.check_pool(input.len(), out.len())?;
    let c = g.in_c;
    per_image::<f32>(out, &mut [], g.positions() * c, par, |b, out, _| {
        let base = b * g.image_len();
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let at = (oy * g.out_w + ox) * c;
                let o = &mut out[at..at + c];
                o.fill(0.0);
                let mut count = 0usize;
                for (iy, ix) in g.window_taps(oy, ox) {
                    let from = base + (iy * g.in_w + ix) * c;
                    o.iter_mut()
                        .zip(&input[from..from + c])
                        .for_each(|(s, x)| *s += x);
                    count += 1;
                }
                let scale = 1.0 / count.max(1) as f32;
                o.iter_mut().for_each(|s| *s *= scale);
            }
        }
    });
    Ok(())
}

/// Gradient of [`avg_pool2d_forward`]: `grad_input` is overwritten.
pub fn avg_pool2d_backward(
    grad_out: &[f32],
    grad_input: &mut [f32],
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    g.check_pool(grad_input.len(), grad_out.len())?;
    let c = g.in_c;
    let out_len = g.positions() * c;
    per_image::<f32>(grad_input, &mut [], g.image_len(), par, |b, dx, _| {
        dx.fill(0.0);
        let dy = &grad_out[b * out_len..(b + 1) * out_len];
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let at = (oy * g.out_w + ox) * c;
                let scale = 1.0 / g.window_taps(oy, ox).count().max(1) as f32;
                for (iy, ix) in g.window_taps(oy, ox) {
                    let to = (iy * g.in_w + ix) * c;
                    dx[to..to + c]
                        .iter_mut()
                        .zip(&dy[at..at + c])
                        .for_each(|(d, v)| *d += v * scale);
                }
            }
        }
    });
    Ok(())
}

/// Gradient of [`max_pool2d_forward`]: each output gradient goes to its recorded maximum; `grad_input` is
/// overwritten.
pub fn max_pool2d_backward(
    grad_out: &[f32],
    argmax: &[usize],
    grad_input: &mut [f32],
    g: &Conv2dGeometry,
) -> Result<()> {
    g.check_pool(grad_input.len(), grad_out.len())?;
    g.check_len("argmax", argmax.len(), grad_out.len())?;
    grad_input.fill(0.0);
    for (&i, &v) in argmax.iter().zip(grad_out) {
        if let Some(d) = grad_input.get_mut(i) {
            *d += v;
        }
    }
    Ok(())
}

/// Direct pooling for tests: `max` selects max or average pooling.
pub fn pool2d_reference(
    input: &[f32],
    out: &mut [f32],
    g: &Conv2dGeometry,
    max: bool,
) -> Result<()> {
    g.check_pool(input.len(), out.len())?;
    let mut at = 0;
    for b in 0..g.batch {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                for ch in 0..g.in_c {
                    let values: Vec<f64> = g
                        .window_taps(oy, ox)
                        .map(|(iy, ix)| {
                            f64::from(input[((b * g.in_h + iy) * g.in_w + ix) * g.in_c + ch])
                        })
                        .collect();
                    out[at] = if max {
                        values.iter().copied().fold(f64::NEG_INFINITY, f64::max) as f32
                    } else {
                        (values.iter().sum::<f64>() / values.len() as f64) as f32
                    };
                    at += 1;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ConvPadding;

    #[test]
    fn max_pool_takes_the_first_maximum_and_a_leading_nan_only() {
        // One 2×4 image, one channel, two 2×2 windows: [1, 3 | 3, 1] with ties, [NaN, 2 | −∞, 5].
        let x = [1.0, 3.0, f32::NAN, 2.0, 3.0, 1.0, f32::NEG_INFINITY, 5.0];
        let g = Conv2dGeometry::pool(&[1, 2, 4, 1], [2, 2], [2, 2], ConvPadding::Valid).unwrap();
        let (mut y, mut argmax) = ([0.0; 2], [0; 2]);
        max_pool2d_forward(&x, &mut y, &mut argmax, &g, Parallelism::None).unwrap();
        assert_eq!((y[0], argmax), (3.0, [1, 2]));
        assert!(y[1].is_nan());
        // A window of −∞ sends its gradient to its first position; a NaN after the first does not win.
        let x = [f32::NEG_INFINITY, f32::NEG_INFINITY, 1.0, f32::NAN];
        let g = Conv2dGeometry::pool(&[1, 1, 4, 1], [1, 2], [1, 2], ConvPadding::Valid).unwrap();
        max_pool2d_forward(&x, &mut y, &mut argmax, &g, Parallelism::None).unwrap();
        assert_eq!((y, argmax), ([f32::NEG_INFINITY, 1.0], [0, 2]));
        let mut dx = [9.0; 4];
        max_pool2d_backward(&[0.5, 2.0], &argmax, &mut dx, &g).unwrap();
        assert_eq!(dx, [0.5, 0.0, 2.0, 0.0]);
    }
}
