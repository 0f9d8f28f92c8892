//! Weight initializers with Keras 3's definitions, all drawn from a caller-supplied seeded RNG so that one seed
//! reproduces a run: one file per family (fans, the random draws, variance scaling with Glorot, He
//! and LeCun, orthogonal and identity).
//!
//! ```
//! use rand::SeedableRng;
//! use rkeras_tensor::Initializer;
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! // he_uniform: uniform on ±sqrt(6 / fan_in).
//! let w = Initializer::HeUniform.sample(&[50, 20], &mut rng)?;
//! let limit = (6.0f32 / 50.0).sqrt();
//! assert!(w.iter().all(|v| v.abs() <= limit));
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

mod distributions;
mod fans;
mod names;
mod orthogonal;
mod variance_scaling;

pub use fans::compute_fans;
pub use names::INITIALIZER_NAMES;
pub use variance_scaling::{FanMode, ScalingDistribution, TRUNCATED_NORMAL_STDDEV};

use crate::error::Result;
use distributions::{normal, truncated_normal, uniform};
use ndarray::{ArrayD, IxDyn};
use rand::Rng;

/// A weight initializer (Keras's `keras.initializers`), with Keras's arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Initializer {
    /// All zeros (Keras's default bias).
    Zeros,
    /// All ones.
    Ones,
    /// Every entry `value`.
    Constant(f32),
    /// Uniform on `[min, max)`; Keras's defaults are `(-0.05, 0.05)`, the Embedding default.
    RandomUniform {
        /// Lower bound (`minval`).
        min: f32,
        /// Upper bound (`maxval`).
        max: f32,
    },
    /// Normal with the given mean and standard deviation (Keras's defaults: 0 and 0.05).
    RandomNormal {
        /// Mean.
        mean: f32,
        /// Standard deviation.
        stddev: f32,
    },
    /// Normal truncated at two standard deviations: draws beyond are redrawn (Keras's defaults: 0 and 0.05).
    TruncatedNormal {
        /// Mean.
        mean: f32,
        /// Standard deviation of the normal before truncation.
        stddev: f32,
    },
    /// Draws with variance `scale / fan` of [`FanMode`], from a [`ScalingDistribution`].
    VarianceScaling {
        /// Positive scale. Defaults to 1.
        scale: f32,
        /// Which fan. Defaults to `fan_in`.
        mode: FanMode,
        /// Which distribution. Defaults to `truncated_normal`.
        distribution: ScalingDistribution,
    },
    /// Uniform on `±sqrt(6 / (fan_in + fan_out))` (Keras's default kernel).
    GlorotUniform,
    /// Truncated normal with variance `2 / (fan_in + fan_out)`.
    GlorotNormal,
    /// Uniform on `±sqrt(6 / fan_in)`.
    HeUniform,
    /// Truncated normal with variance `2 / fan_in`.
    HeNormal,
    /// Uniform on `±sqrt(3 / fan_in)`.
    LecunUniform,
    /// Truncated normal with variance `1 / fan_in`.
    LecunNormal,
    /// A (semi-)orthogonal matrix times `gain` (Keras's default recurrent kernel).
    Orthogonal {
        /// Multiplier.
        gain: f32,
    },
    /// `gain` times the identity matrix (2-D weights only).
    Identity {
        /// Multiplier.
        gain: f32,
    },
}

/// Keras's class names, in [`Initializer`]'s order.
pub const INITIALIZER_CLASS_NAMES: [&str; 15] = [
    "Zeros",
    "Ones",
    "Constant",
    "RandomUniform",
    "RandomNormal",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
    "Identity",
];

impl Initializer {
    /// Keras's name of the initializer class.
    pub fn class_name(&self) -> &'static str {
        match self {
            Initializer::Zeros => "Zeros",
            Initializer::Ones => "Ones",
            Initializer::Constant(_) => "Constant",
            Initializer::RandomUniform { .. } => "RandomUniform",
            Initializer::RandomNormal { .. } => "RandomNormal",
            Initializer::TruncatedNormal { .. } => "TruncatedNormal",
            Initializer::VarianceScaling { .. } => "VarianceScaling",
            Initializer::GlorotUniform => "GlorotUniform",
            Initializer::GlorotNormal => "GlorotNormal",
            Initializer::HeUniform => "HeUniform",
            Initializer::HeNormal => "HeNormal",
            Initializer::LecunUniform => "LecunUniform",
            Initializer::LecunNormal => "LecunNormal",
            Initializer::Orthogonal { .. } => "Orthogonal",
            Initializer::Identity { .. } => "Identity",
        }
    }

    /// The `VarianceScaling` arguments behind Glorot, He and LeCun (and VarianceScaling itself).
    pub fn variance_scaling_arguments(&self) -> Option<(f32, FanMode, ScalingDistribution)> {
        use FanMode::{FanAvg, FanIn};
        use ScalingDistribution::{TruncatedNormal, Uniform};
        match *self {
            Initializer::VarianceScaling {
                scale,
                mode,
                distribution,
            } => Some((scale, mode, distribution)),
            Initializer::GlorotUniform => Some((1.0, FanAvg, Uniform)),
            Initializer::GlorotNormal => Some((1.0, FanAvg, TruncatedNormal)),
            Initializer::HeUniform => Some((2.0, FanIn, Uniform)),
            Initializer::HeNormal => Some((2.0, FanIn, TruncatedNormal)),
            Initializer::LecunUniform => Some((1.0, FanIn, Uniform)),
            Initializer::LecunNormal => Some((1.0, FanIn, TruncatedNormal)),
            _ => None,
        }
    }

    /// Draws a weight of `shape`; a bad argument or shape is an error in Keras's words, echoing the value.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use rkeras_tensor::Initializer;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let w = Initializer::GlorotUniform.sample(&[10, 20], &mut rng)?;
    /// let limit = (6.0f32 / 30.0).sqrt();
    /// assert!(w.iter().all(|v| v.abs() <= limit));
    /// let err = Initializer::Identity { gain: 1.0 }.sample(&[2, 2, 2], &mut rng).unwrap_err();
    /// assert!(err.to_string().contains("only be used for 2D matrices"));
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn sample(&self, shape: &[usize], rng: &mut impl Rng) -> Result<ArrayD<f32>> {
        let dim = IxDyn(shape);
        if *self == Initializer::GlorotUniform {
            // In f32 as rkeras always drew it, so that seeded runs keep their weights bit for bit.
            let (fan_in, fan_out) = compute_fans(shape);
            let limit = (6.0 / (fan_in + fan_out).max(1) as f32).sqrt();
            return uniform("GlorotUniform", dim, -limit, limit, rng);
        }
        if let Some((scale, mode, distribution)) = self.variance_scaling_arguments() {
            return variance_scaling::variance_scaling(shape, scale, mode, distribution, rng);
        }
        match *self {
            Initializer::Zeros => Ok(ArrayD::zeros(dim)),
            Initializer::Ones => Ok(ArrayD::ones(dim)),
            Initializer::Constant(v) => Ok(ArrayD::from_elem(dim, v)),
            Initializer::RandomUniform { min, max } => uniform("RandomUniform", dim, min, max, rng),
            Initializer::RandomNormal { mean, stddev } => {
                normal("RandomNormal", dim, mean, stddev, rng)
            }
            Initializer::TruncatedNormal { mean, stddev } => {
                truncated_normal("TruncatedNormal", dim, mean, stddev, rng)
            }
            Initializer::Orthogonal { gain } => orthogonal::orthogonal(shape, gain, rng),
            Initializer::Identity { gain } => orthogonal::identity(shape, gain),
            // Handled by `variance_scaling_arguments` above.
            Initializer::VarianceScaling { .. }
            | Initializer::GlorotUniform
            | Initializer::GlorotNormal
            | Initializer::HeUniform
            | Initializer::HeNormal
            | Initializer::LecunUniform
            | Initializer::LecunNormal => Err(crate::error::TensorError::Internal {
                op: "Initializer",
                reason: format!("{self:?} has variance-scaling arguments"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn orthogonal_columns_are_orthonormal() {
        let mut rng = StdRng::seed_from_u64(3);
        for shape in [[32usize, 128], [128, 32], [16, 16]] {
            let w = Initializer::Orthogonal { gain: 1.0 }
                .sample(&shape, &mut rng)
                .unwrap();
            let w = w
                .into_dimensionality::<ndarray::Ix2>()
                .unwrap()
                .mapv(f64::from);
            // The narrow side is orthonormal: WᵀW = I (tall) or WWᵀ = I (wide).
            let gram = if shape[0] >= shape[1] {
                w.t().dot(&w)
            } else {
                w.dot(&w.t())
            };
            for ((i, j), v) in gram.indexed_iter() {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((v - expected).abs() < 1e-5, "{shape:?} gram[{i},{j}] = {v}");
            }
        }
    }

    #[test]
    fn same_seed_same_weights() {
        let a = Initializer::GlorotUniform
            .sample(&[5, 7], &mut StdRng::seed_from_u64(9))
            .unwrap();
        let b = Initializer::GlorotUniform
            .sample(&[5, 7], &mut StdRng::seed_from_u64(9))
            .unwrap();
        let c = Initializer::GlorotUniform
            .sample(&[5, 7], &mut StdRng::seed_from_u64(10))
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn uniform_and_normal_statistics() {
        let mut rng = StdRng::seed_from_u64(1);
        let u = Initializer::RandomUniform {
            min: -0.05,
            max: 0.05,
        }
        .sample(&[100_000], &mut rng)
        .unwrap();
        assert!(u.iter().all(|v| (-0.05..0.05).contains(v)));
        assert!(u.mean().unwrap().abs() < 1e-3);
        let n = Initializer::RandomNormal {
            mean: 1.0,
            stddev: 2.0,
        }
        .sample(&[100_000], &mut rng)
        .unwrap();
        let mean = n.mean().unwrap();
        let var = n.mapv(|v| (v - mean) * (v - mean)).mean().unwrap();
        assert!(
            (mean - 1.0).abs() < 0.03 && (var.sqrt() - 2.0).abs() < 0.03,
            "mean {mean} var {var}"
        );
    }

    #[test]
    fn constant_and_zeros() {
        let mut rng = StdRng::seed_from_u64(1);
        assert!(
            Initializer::Zeros
                .sample(&[3], &mut rng)
                .unwrap()
                .iter()
                .all(|&v| v == 0.0)
        );
        assert!(
            Initializer::Constant(2.5)
                .sample(&[3], &mut rng)
                .unwrap()
                .iter()
                .all(|&v| v == 2.5)
        );
        assert!(
            Initializer::Orthogonal { gain: 1.0 }
                .sample(&[3], &mut rng)
                .is_err()
        );
    }
}
