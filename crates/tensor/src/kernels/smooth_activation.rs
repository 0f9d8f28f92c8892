//! Scalar kernels of Keras 3's smooth activations and their derivatives: gelu (exact and tanh-approximate),
//! silu, mish, selu, softsign. Each is written as Keras 3 writes it (`keras/src/activations/activations.py`)
//! and tested against an f64 reference.

use super::activation::{sigmoid, tanh};

/// SELU's `alpha` in Keras 3.
pub const SELU_ALPHA: f32 = 1.673_263_2;
/// SELU's `scale` in Keras 3.
pub const SELU_SCALE: f32 = 1.050_701;

const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;
/// `sqrt(2 / π)`, the tanh approximation's factor.
const SQRT_2_OVER_PI: f32 = 0.797_884_6;
const GELU_CUBIC: f32 = 0.044_715;

/// Exact gelu `x · (1 + erf(x / √2)) / 2`.
#[inline]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// The derivative of [`gelu`]: `Φ(x) + x·φ(x)`.
#[inline]
pub fn gelu_derivative(x: f32) -> f32 {
    let cdf = 0.5 * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2));
    cdf + x * FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
}

/// Keras's approximate gelu `x/2 · (1 + tanh(√(2/π) · (x + 0.044715x³)))`.
#[inline]
pub fn gelu_tanh(x: f32) -> f32 {
    0.5 * x * (1.0 + tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)))
}

/// The derivative of [`gelu_tanh`].
#[inline]
pub fn gelu_tanh_derivative(x: f32) -> f32 {
    let t = tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x));
    let du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
}

/// `x · sigmoid(x)` (silu, Keras's `swish`).
#[inline]
pub fn silu(x: f32) -> f32 {
    x * sigmoid(x)
}

/// The derivative of [`silu`]: `σ(x) · (1 + x·(1 − σ(x)))`.
#[inline]
pub fn silu_derivative(x: f32) -> f32 {
    let s = sigmoid(x);
    s * (1.0 + x * (1.0 - s))
}

/// `ln(1 + eˣ)` without overflow.
#[inline]
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `x · tanh(softplus(x))`.
#[inline]
pub fn mish(x: f32) -> f32 {
    x * softplus(x).tanh()
}

/// The derivative of [`mish`]: `tanh(sp) + x · (1 − tanh²(sp)) · σ(x)`.
#[inline]
pub fn mish_derivative(x: f32) -> f32 {
    let t = softplus(x).tanh();
    t + x * (1.0 - t * t) * sigmoid(x)
}

/// `scale · elu(x, alpha)` with Keras's constants.
#[inline]
pub fn selu(x: f32) -> f32 {
    if x > 0.0 {
        SELU_SCALE * x
    } else {
        SELU_SCALE * SELU_ALPHA * x.exp_m1()
    }
}

/// The derivative of [`selu`].
#[inline]
pub fn selu_derivative(x: f32) -> f32 {
    if x > 0.0 {
        SELU_SCALE
    } else {
        SELU_SCALE * SELU_ALPHA * x.exp()
    }
}

/// `x / (1 + |x|)`.
#[inline]
pub fn softsign(x: f32) -> f32 {
    x / (1.0 + x.abs())
}

/// The derivative of [`softsign`]: `1 / (1 + |x|)²`.
#[inline]
pub fn softsign_derivative(x: f32) -> f32 {
    let d = 1.0 + x.abs();
    1.0 / (d * d)
}

#[cfg(test)]
mod tests {
    use super::*;

    type F32 = fn(f32) -> f32;
    type F64 = fn(f64) -> f64;

    fn erf64(x: f64) -> f64 {
        libm::erf(x)
    }

    fn sigmoid64(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// Every kernel against its f64 definition on a grid over ±8.
    #[test]
    fn kernels_match_f64_definitions() {
        let references: [(&str, F32, F64); 6] = [
            ("gelu", gelu, |x| 0.5 * x * (1.0 + erf64(x / 2f64.sqrt()))),
            ("gelu_tanh", gelu_tanh, |x| {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + (c * (x + 0.044715 * x.powi(3))).tanh())
            }),
            ("silu", silu, |x| x * sigmoid64(x)),
            ("mish", mish, |x| x * (1.0 + x.exp()).ln().tanh()),
            ("selu", selu, |x| {
                let (scale, alpha) = (1.050_700_987_355_480_5, 1.673_263_242_354_377_3);
                if x > 0.0 {
                    scale * x
                } else {
                    scale * alpha * x.exp_m1()
                }
            }),
            ("softsign", softsign, |x| x / (1.0 + x.abs())),
        ];
        for (name, f, reference) in references {
            for i in -800..=800 {
                let x = i as f32 * 0.01;
                let exact = reference(f64::from(x));
                let err = (f64::from(f(x)) - exact).abs();
                assert!(err <= 1e-6 * exact.abs().max(1.0), "{name}({x}): {err}");
            }
        }
    }

    /// Every derivative against a central difference of the f32 kernel evaluated in f64 steps.
    #[test]
    fn derivatives_match_central_differences() {
        let pairs: [(&str, F32, F32); 6] = [
            ("gelu", gelu, gelu_derivative),
            ("gelu_tanh", gelu_tanh, gelu_tanh_derivative),
            ("silu", silu, silu_derivative),
            ("mish", mish, mish_derivative),
            ("selu", selu, selu_derivative),
            ("softsign", softsign, softsign_derivative),
        ];
        for (name, f, df) in pairs {
            for i in -60..=60 {
                let x = i as f32 * 0.1 + 0.013;
                let h = 1e-2f32;
                let numeric = (f64::from(f(x + h)) - f64::from(f(x - h))) / (2.0 * f64::from(h));
                let analytic = f64::from(df(x));
                assert!(
                    (numeric - analytic).abs() < 2e-3,
                    "{name}'({x}): {analytic} vs {numeric}"
                );
            }
        }
    }
}
