//! Dropout in one pass: the mask's draws ([`super::random`]'s eight xoshiro256++ streams, in the same order)
//! are taken while the input is multiplied, and only a byte per entry (kept or dropped) is stored for the
//! backward pass, instead of a float mask written, read back and read again.
//!
//! Entry `i` gets exactly what [`super::random::dropout_mask_into`] with the same seed, threshold and scale
//! would give it, `m[i] ∈ {0, scale}`: the output is `x[i] · m[i]` and the gradient `g[i] · m[i]`, the same
//! products (bits) as multiplying by that mask.
//!
//! ```
//! use rkeras_tensor::kernels::dropout::{dropout_backward_into, dropout_forward_into};
//! use rkeras_tensor::kernels::random::{dropout_mask_into, dropout_threshold};
//! let x: Vec<f32> = (0..100).map(|i| i as f32 - 50.0).collect();
//! let (mut y, mut keep) = (vec![0.0; 100], vec![0u8; 100]);
//! dropout_forward_into(&x, &mut y, &mut keep, 9, dropout_threshold(0.3), 1.0 / 0.7);
//! let mut mask = vec![0.0; 100];
//! dropout_mask_into(&mut mask, 9, dropout_threshold(0.3), 1.0 / 0.7);
//! assert!(y.iter().zip(&x).zip(&mask).all(|((y, x), m)| y.to_bits() == (x * m).to_bits()));
//! let mut dx = vec![0.0; 100];
//! dropout_backward_into(&x, &keep, &mut dx, 1.0 / 0.7);
//! assert_eq!(dx, y);
//! ```

use super::per_target::per_target;
use super::random::{DRAWS_PER_STEP, LANES, Streams};

/// The mask's factor for a kept flag: `scale` or 0.
#[inline(always)]
fn factor(kept: bool, scale: f32) -> f32 {
    if kept { scale } else { 0.0 }
}

per_target! {
    /// `y[i] = x[i] · m[i]` and `keep[i] = (m[i] ≠ 0)`, where `m` is the mask
    /// [`super::random::dropout_mask_into`] draws from `seed`: 0 where the entry's `u32` draw is below
    /// `threshold`, `scale` elsewhere. The three slices must have one length (the shortest bounds the work).
    pub fn dropout_forward_into(
        x: &[f32],
        y: &mut [f32],
        keep: &mut [u8],
        seed: u64,
        threshold: u32,
        scale: f32,
    ) {
        let len = x.len().min(y.len()).min(keep.len());
        let (x, y, keep) = (&x[..len], &mut y[..len], &mut keep[..len]);
        let mut streams = Streams::new(seed);
        let mut x_chunks = x.chunks_exact(DRAWS_PER_STEP);
        let mut y_chunks = y.chunks_exact_mut(DRAWS_PER_STEP);
        let mut k_chunks = keep.chunks_exact_mut(DRAWS_PER_STEP);
        for ((x, y), k) in (&mut x_chunks).zip(&mut y_chunks).zip(&mut k_chunks) {
            let draws = streams.next();
            for l in 0..LANES {
                let low = draws[l] as u32 >= threshold;
                let high = (draws[l] >> 32) as u32 >= threshold;
                y[l] = x[l] * factor(low, scale);
                y[l + LANES] = x[l + LANES] * factor(high, scale);
                k[l] = u8::from(low);
                k[l + LANES] = u8::from(high);
            }
        }
        let (x, y, k) = (
            x_chunks.remainder(),
            y_chunks.into_remainder(),
            k_chunks.into_remainder(),
        );
        if !x.is_empty() {
            let draws = streams.next();
            for (i, ((&x, y), k)) in x.iter().zip(y.iter_mut()).zip(k.iter_mut()).enumerate() {
                let kept = (draws[i % LANES] >> (32 * (i / LANES))) as u32 >= threshold;
                *y = x * factor(kept, scale);
                *k = u8::from(kept);
            }
        }
    }
}

per_target! {
    /// `dx[i] = g[i] · m[i]` with `m[i] = scale` where `keep[i] ≠ 0`, else 0: the gradient of
    /// [`dropout_forward_into`]. The three slices must have one length (the shortest bounds the work).
    pub fn dropout_backward_into(g: &[f32], keep: &[u8], dx: &mut [f32], scale: f32) {
        for ((d, &g), &k) in dx.iter_mut().zip(g).zip(keep) {
            *d = g * factor(k != 0, scale);
        }
    }
}

per_target! {
    /// [`dropout_backward_into`] written over the gradient itself: `g[i] ← g[i] · m[i]` (the same products).
    pub fn dropout_backward_in_place(g: &mut [f32], keep: &[u8], scale: f32) {
        for (g, &k) in g.iter_mut().zip(keep) {
            *g *= factor(k != 0, scale);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::random::{dropout_mask_into, dropout_threshold};

    /// Inputs of every kind: signs, zeros, subnormals, infinities and NaN.
    fn inputs(len: usize) -> Vec<f32> {
        let special = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1e-40,
            -3.5,
            f32::MAX,
        ];
        (0..len)
            .map(|i| match i % 11 {
                0..=7 => special[i % 8],
                _ => (i as f32 * 0.37).sin() * 10.0,
            })
            .collect()
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn forward_and_backward_equal_multiplying_by_the_mask_bit_for_bit() {
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 33, 1000, 4352] {
            for (rate, seed) in [(0.3f32, 3u64), (0.5, 11), (0.9, 1)] {
                let (threshold, scale) = (dropout_threshold(rate), 1.0 / (1.0 - rate));
                let mut mask = vec![0.0; len];
                dropout_mask_into(&mut mask, seed, threshold, scale);
                let x = inputs(len);
                let expected: Vec<f32> = x.iter().zip(&mask).map(|(x, m)| x * m).collect();
                let (mut y, mut keep) = (vec![-1.0; len], vec![7u8; len]);
                dropout_forward_into(&x, &mut y, &mut keep, seed, threshold, scale);
                assert_eq!(
                    bits(&y),
                    bits(&expected),
                    "forward, length {len}, rate {rate}"
                );
                let flags: Vec<u8> = mask.iter().map(|&m| u8::from(m != 0.0)).collect();
                assert_eq!(keep, flags, "kept flags, length {len}, rate {rate}");

                let g: Vec<f32> = inputs(len).iter().rev().copied().collect();
                let expected: Vec<f32> = g.iter().zip(&mask).map(|(g, m)| g * m).collect();
                let mut dx = vec![-1.0; len];
                dropout_backward_into(&g, &keep, &mut dx, scale);
                assert_eq!(
                    bits(&dx),
                    bits(&expected),
                    "backward, length {len}, rate {rate}"
                );
                let mut in_place = g.clone();
                dropout_backward_in_place(&mut in_place, &keep, scale);
                assert_eq!(bits(&in_place), bits(&expected), "in place, length {len}");
            }
        }
    }
}
