//! Dropout masks from a seeded generator that runs eight streams side by side.
//!
//! Eight xoshiro256++ streams, seeded one after another by SplitMix64 from a single `u64`, advance in lock
//! step, so the compiler turns every step into a few vector instructions. Each step yields eight `u64`, read as
//! sixteen `u32` draws: entries `16·s .. 16·s + 8` take the low halves of lanes 0–7 and the next eight the high
//! halves. The mask therefore depends on the seed and the length only, never on the CPU or the thread count.
//!
//! ```
//! use rkeras_tensor::kernels::random::{dropout_mask_into, dropout_threshold};
//! let mut mask = vec![0.0f32; 10_000];
//! dropout_mask_into(&mut mask, 7, dropout_threshold(0.25), 1.0 / 0.75);
//! let dropped = mask.iter().filter(|&&m| m == 0.0).count();
//! assert!((2_300..2_700).contains(&dropped));
//! assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0 / 0.75));
//! # let mut again = vec![0.0f32; 10_000];
//! # dropout_mask_into(&mut again, 7, dropout_threshold(0.25), 1.0 / 0.75);
//! # assert_eq!(mask, again);
//! ```

use super::per_target::per_target;

pub(crate) const LANES: usize = 8;
/// Draws per generator step (two `u32` per lane).
pub(crate) const DRAWS_PER_STEP: usize = 2 * LANES;

/// The draw below which an entry is dropped: `rate · 2³²`, so that a uniform `u32` falls below it with
/// probability `rate` (to within 2⁻³²). `rate` is clamped to `[0, 1)`.
pub fn dropout_threshold(rate: f32) -> u32 {
    let scaled = f64::from(rate.clamp(0.0, 1.0)) * 4_294_967_296.0;
    scaled.min(f64::from(u32::MAX)) as u32
}

/// SplitMix64, the standard seeder of the xoshiro family.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Eight xoshiro256++ states, word-major so that each word of all lanes is one vector.
pub(crate) struct Streams {
    s: [[u64; LANES]; 4],
}

impl Streams {
    pub(crate) fn new(seed: u64) -> Self {
        let mut state = seed;
        let mut s = [[0u64; LANES]; 4];
        for lane in 0..LANES {
            for word in &mut s {
                word[lane] = splitmix64(&mut state);
            }
        }
        Streams { s }
    }

    /// One xoshiro256++ step of every lane.
    #[inline(always)]
    pub(crate) fn next(&mut self) -> [u64; LANES] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut out = [0u64; LANES];
        for l in 0..LANES {
            out[l] = s0[l]
                .wrapping_add(s3[l])
                .rotate_left(23)
                .wrapping_add(s0[l]);
            let t = s1[l] << 17;
            s2[l] ^= s0[l];
            s3[l] ^= s1[l];
            s1[l] ^= s2[l];
            s0[l] ^= s3[l];
            s2[l] ^= t;
            s3[l] = s3[l].rotate_left(45);
        }
        out
    }
}

#[inline(always)]
fn fill(mask: &mut [f32], seed: u64, threshold: u32, scale: f32) {
    let mut streams = Streams::new(seed);
    let pick = |draw: u64| {
        if (draw as u32) < threshold {
            0.0
        } else {
            scale
        }
    };
    let mut chunks = mask.chunks_exact_mut(DRAWS_PER_STEP);
    for chunk in &mut chunks {
        let draws = streams.next();
        let (low, high) = chunk.split_at_mut(LANES);
        for l in 0..LANES {
            low[l] = pick(draws[l]);
            high[l] = pick(draws[l] >> 32);
        }
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let draws = streams.next();
        for (i, m) in rest.iter_mut().enumerate() {
            let draw = draws[i % LANES] >> (32 * (i / LANES));
            *m = pick(draw);
        }
    }
}

per_target! {
    /// Writes a dropout mask into `mask`: 0 where the entry's `u32` draw is below `threshold` (see
    /// [`dropout_threshold`]), `scale` elsewhere. The same `seed` and length give the same mask on every machine.
    pub fn dropout_mask_into(mask: &mut [f32], seed: u64, threshold: u32, scale: f32) {
        fill(mask, seed, threshold, scale);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: one scalar xoshiro256++ per lane, stepped one at a time, draws taken in the documented
    /// order.
    fn reference(len: usize, seed: u64, threshold: u32, scale: f32) -> Vec<f32> {
        let mut state = seed;
        let mut lanes: Vec<[u64; 4]> = (0..LANES)
            .map(|_| std::array::from_fn(|_| splitmix64(&mut state)))
            .collect();
        let step = |s: &mut [u64; 4]| {
            let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
            let t = s[1] << 17;
            s[2] ^= s[0];
            s[3] ^= s[1];
            s[1] ^= s[2];
            s[0] ^= s[3];
            s[2] ^= t;
            s[3] = s[3].rotate_left(45);
            out
        };
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let draws: Vec<u64> = lanes.iter_mut().map(step).collect();
            let halves = draws
                .iter()
                .map(|&d| d as u32)
                .chain(draws.iter().map(|&d| (d >> 32) as u32));
            for h in halves.take(len - out.len()) {
                out.push(if h < threshold { 0.0 } else { scale });
            }
        }
        out
    }

    #[test]
    fn splitmix64_matches_its_published_sequence() {
        // First outputs of SplitMix64 seeded with 0 (Vigna's reference implementation).
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(&mut s), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn xoshiro_lane_matches_the_rand_crates_generator() {
        // Lane 0 is seeded by the first four SplitMix64 outputs, exactly as rand's SmallRng (xoshiro256++)
        // seeds itself from a u64, so lane 0's draws equal SmallRng's.
        use rand::{RngCore, SeedableRng};
        let mut streams = Streams::new(42);
        let mut small = rand::rngs::SmallRng::seed_from_u64(42);
        for _ in 0..5 {
            assert_eq!(streams.next()[0], small.next_u64());
        }
    }

    #[test]
    fn every_length_matches_the_reference_on_every_code_path() {
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 33, 1000] {
            let expected = reference(len, 3, dropout_threshold(0.3), 2.0);
            let mut mask = vec![-1.0; len];
            dropout_mask_into(&mut mask, 3, dropout_threshold(0.3), 2.0);
            assert_eq!(mask, expected, "dispatched, length {len}");
            let mut portable = vec![-1.0; len];
            fill(&mut portable, 3, dropout_threshold(0.3), 2.0);
            assert_eq!(portable, expected, "portable, length {len}");
        }
    }

    #[test]
    fn drop_frequency_matches_the_rate() {
        let n = 200_000;
        for rate in [0.1f32, 0.3, 0.5, 0.9] {
            let mut mask = vec![0.0; n];
            dropout_mask_into(&mut mask, 11, dropout_threshold(rate), 1.0);
            let dropped = mask.iter().filter(|&&m| m == 0.0).count() as f64 / n as f64;
            // Binomial standard deviation ≤ 0.0012 for n = 200,000: 5σ.
            assert!(
                (dropped - f64::from(rate)).abs() < 0.006,
                "rate {rate}: {dropped}"
            );
        }
    }

    #[test]
    fn seeds_give_different_masks_and_thresholds_cover_the_extremes() {
        let mut a = vec![0.0; 64];
        let mut b = vec![0.0; 64];
        dropout_mask_into(&mut a, 1, dropout_threshold(0.5), 1.0);
        dropout_mask_into(&mut b, 2, dropout_threshold(0.5), 1.0);
        assert_ne!(a, b);
        assert_eq!(dropout_threshold(0.0), 0);
        assert_eq!(dropout_threshold(0.5), 1 << 31);
        assert_eq!(dropout_threshold(1.0), u32::MAX);
        dropout_mask_into(&mut a, 1, 0, 3.0);
        assert!(a.iter().all(|&m| m == 3.0));
    }
}
