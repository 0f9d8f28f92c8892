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

/// `e^x` (see the module documentation for its accuracy).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let clamped = x.clamp(MIN_INPUT, MAX_INPUT);
    let shifted = clamped * LOG2_E + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC;
    let n_bits = shifted.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()) as i32;
    let r = clamped - n * LN2_HIGH - n * LN2_LOW;
    let r2 = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e_r = p * r2 + r + 1.0;
    // 2^n for n in [−126, 128] as 2^⌊n/2⌋ · 2^⌈n/2⌉, both normal floats (2^128 itself is not one).
    let half_n = n_bits >> 1;
    let scale_a = f32::from_bits(((half_n + 127) as u32) << 23);
    let scale_b = f32::from_bits(((n_bits - half_n + 127) as u32) << 23);
    let y = e_r * scale_a * scale_b;
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

    #[test]
    fn inplace_equals_elementwise() {
        let mut v: Vec<f32> = (0..37).map(|i| i as f32 * 0.37 - 6.0).collect();
        let expected: Vec<f32> = v.iter().map(|&x| exp(x)).collect();
        exp_inplace(&mut v);
        assert_eq!(v, expected);
    }
}
