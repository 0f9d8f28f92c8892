//! `e^x` in plain arithmetic, so that loops calling it vectorize (libm's `expf` is an opaque call per element).
//!
//! Range reduction `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2` (round to nearest by the 1.5·2²³ trick, `ln 2` split
//! in two parts so that `r` is exact), a degree-6 minimax polynomial for `e^r` (Cephes' `expf`), and `2^n`
//! assembled in the exponent bits. Relative error below 2.5e-7 over the whole normal range (tested against f64);
//! 0 below −87.33 (where `e^x` leaves the normal floats), +∞ above 88.72, NaN for NaN. No fused multiply-adds,
//! so every machine gives the same bits.
//!
//! ```
//! use rkeras_tensor::kernels::exp::exp;
//! assert_eq!(exp(0.0), 1.0);
//! assert!((exp(1.0) - std::f32::consts::E).abs() < 1e-6);
//! assert_eq!(exp(-100.0), 0.0);
//! ```

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// `ln 2` split so that `n · LN2_HIGH` is exact for every `|n| ≤ 128`.
const LN2_HIGH: f32 = 0.693_359_4;
const LN2_LOW: f32 = -2.121_944_4e-4;
/// Adding 1.5·2²³ rounds an f32 of magnitude below 2²² to the nearest integer (ties to even).
const ROUND_MAGIC: f32 = 12_582_912.0;
/// Below this, `e^x` is under the smallest normal f32 and the result is 0.
const MIN_INPUT: f32 = -87.336_54;
/// Above this, `e^x` overflows to +∞.
const MAX_INPUT: f32 = 88.722_83;

/// The parts of `e^x = e^r · 2^n` for `x` within `[MIN_INPUT, MAX_INPUT]`: `e^r` (`|r| ≤ ln 2 / 2`) and
/// `n = round(x / ln 2)`.
#[inline(always)]
fn reduce(x: f32) -> (f32, i32) {
    let shifted = x * LOG2_E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    let n_bits = shifted.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()) as i32;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let r2 = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    (p * r2 + r + 1.0, n_bits)
}

/// `2^n` for `n` in `[−126, 127]` (a normal float).
#[inline(always)]
fn pow2(n: i32) -> f32 {
    f32::from_bits(((n + 127) as u32) << 23)
}

/// `e^x` (see the module documentation for its accuracy).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let (e_r, n_bits) = reduce(x.clamp(MIN_INPUT, MAX_INPUT));
    // 2^n for n in [−126, 128] as 2^⌊n/2⌋ · 2^⌈n/2⌉, both normal floats (2^128 itself is not one).
    let half_n = n_bits >> 1;
    let y = e_r * pow2(half_n) * pow2(n_bits - half_n);
    if x < MIN_INPUT {
        0.0
    } else if x > MAX_INPUT {
        f32::INFINITY
    } else if x.is_nan() {
        x
    } else {
        y
    }
}

/// `e^x` for `x ≤ 0` or NaN (a softmax's scores less their maximum): the bits of [`exp`] in fewer operations.
/// There `n ≥ −126`, so `2^n` is one normal float and `e^r · 2^n` rounds once as `e^r · 2^⌊n/2⌋ · 2^⌈n/2⌉` does
/// (its first product is exact), and nothing overflows. Not for `x > 0`.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    let (e_r, n_bits) = reduce(if x > MIN_INPUT { x } else { MIN_INPUT });
    let y = e_r * pow2(n_bits);
    if x < MIN_INPUT {
        0.0
    } else if x.is_nan() {
        x
    } else {
        y
    }
}

/// `e^x` of every element, in place.
pub fn exp_inplace(values: &mut [f32]) {
    for v in values {
        *v = exp(*v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relative_error(x: f32) -> f64 {
        let exact = f64::from(x).exp();
        (f64::from(exp(x)) - exact).abs() / exact
    }

    #[test]
    fn matches_f64_over_the_normal_range() {
        let mut worst = 0.0f64;
        let steps = 2_000_000;
        for i in 0..=steps {
            let x = MIN_INPUT + (MAX_INPUT - MIN_INPUT) * (i as f32 / steps as f32);
            worst = worst.max(relative_error(x));
        }
        assert!(worst < 2.5e-7, "worst relative error {worst}");
    }

    #[test]
    fn small_arguments_and_exact_points() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        for x in [
            1e-8f32, -1e-8, 1e-3, -1e-3, 0.5, -0.5, 10.0, -10.0, 80.0, -80.0,
        ] {
            assert!(relative_error(x) < 2.5e-7, "x = {x}");
        }
    }

    #[test]
    fn edges_underflow_overflow_and_nan() {
        assert_eq!(exp(-87.4), 0.0);
        assert_eq!(exp(-1e30), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(88.8), f32::INFINITY);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(MAX_INPUT).is_finite());
        assert!(exp(MIN_INPUT) > 0.0);
    }

    /// Every 997th f32 at or below zero (the bit patterns from +0 up to −∞, both edges and the underflow
    /// threshold) and a NaN: the bits of [`exp`].
    #[test]
    fn nonpositive_gives_the_bits_of_exp() {
        let check = |x: f32| {
            let (a, b) = (exp_nonpositive(x), exp(x));
            assert_eq!(a.to_bits(), b.to_bits(), "x = {x:e}: {a:e} vs {b:e}");
        };
        for bits in (0x8000_0000u32..=0xff80_0000).step_by(997) {
            check(f32::from_bits(bits));
        }
        let below = f32::from_bits(MIN_INPUT.to_bits() + 1);
        for x in [
            0.0,
            -0.0,
            MIN_INPUT,
            below,
            -87.0,
            -1e-30,
            f32::NEG_INFINITY,
        ] {
            check(x);
        }
        assert_eq!(exp_nonpositive(f32::NAN).to_bits(), f32::NAN.to_bits());
    }

    /// Every f32 at or below zero: the bits of [`exp`] (`cargo test --release -- --ignored`).
    #[test]
    #[ignore = "2^31 values: minutes"]
    fn nonpositive_gives_the_bits_of_exp_everywhere() {
        for bits in 0x8000_0000u32..=0xff80_0000 {
            let x = f32::from_bits(bits);
            assert_eq!(exp_nonpositive(x).to_bits(), exp(x).to_bits(), "x = {x:e}");
        }
        assert_eq!(exp_nonpositive(0.0).to_bits(), exp(0.0).to_bits());
    }

    #[test]
    fn inplace_equals_elementwise() {
        let mut v: Vec<f32> = (0..37).map(|i| i as f32 * 0.37 - 6.0).collect();
        let expected: Vec<f32> = v.iter().map(|&x| exp(x)).collect();
        exp_inplace(&mut v);
        assert_eq!(v, expected);
    }
}
