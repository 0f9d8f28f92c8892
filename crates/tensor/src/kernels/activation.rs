//! Scalar activation kernels shared by the ops and the fused LSTM. Both use [`super::exp::exp`], so loops over
//! them vectorize.

use super::exp::exp;

/// `tanh(x)` as `1 − 2 / (e^{2x} + 1)`: one `exp` instead of libm's slower `tanhf`, saturating to ±1 for
/// large |x|; the absolute error stays below 2.5e-7 everywhere (tested against f64).
#[inline]
pub fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

/// The logistic sigmoid `1 / (1 + e^{−x})`, without overflow for large |x|.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    // e^{−|x|} ≤ 1 never overflows; both branches are computed and one is selected, which vectorizes.
    let e = exp(-x.abs());
    let positive = 1.0 / (1.0 + e);
    if x >= 0.0 { positive } else { e * positive }
}

/// Keras 3's hard sigmoid `relu6(x + 3) / 6`, computed in that order as Keras does.
#[inline]
pub fn hard_sigmoid(x: f32) -> f32 {
    (x + 3.0).clamp(0.0, 6.0) / 6.0
}

/// Keras 1/2's hard sigmoid `clip(0.2·x + 0.5, 0, 1)` (Keras 3 keeps it as `keras.src.legacy.backend`'s).
#[inline]
pub fn hard_sigmoid_keras2(x: f32) -> f32 {
    (0.2 * x + 0.5).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_sigmoids_have_their_kinks_where_keras_puts_them() {
        // Keras 3: 0 up to -3, 1 from 3, x/6 + 1/2 between; Keras 2: 0 up to -2.5, 1 from 2.5, x/5 + 1/2 between.
        assert_eq!(
            [-3.0f32, 0.0, 1.5, 3.0].map(hard_sigmoid),
            [0.0, 0.5, 0.75, 1.0]
        );
        assert_eq!(
            [-2.5f32, 0.0, 1.5, 2.5].map(hard_sigmoid_keras2),
            [0.0, 0.5, 0.8, 1.0]
        );
    }

    #[test]
    fn tanh_matches_f64_within_2_5e_7() {
        let mut worst = 0.0f64;
        let mut x = -20.0f32;
        while x <= 20.0 {
            worst = worst.max((f64::from(tanh(x)) - f64::from(x).tanh()).abs());
            x += 0.000_37;
        }
        assert!(worst < 2.5e-7, "worst {worst}");
        assert_eq!(tanh(100.0), 1.0);
        assert_eq!(tanh(-100.0), -1.0);
        assert_eq!(tanh(0.0), 0.0);
    }

    #[test]
    fn sigmoid_matches_f64_and_saturates() {
        for i in -400..=400 {
            let x = i as f32 * 0.1;
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            assert!((f64::from(sigmoid(x)) - exact).abs() < 1e-7, "{x}");
        }
        assert_eq!(sigmoid(-200.0), 0.0);
        assert_eq!(sigmoid(200.0), 1.0);
    }
}
