//! Keras's `VarianceScaling` and the named initializers built on it (Glorot, He, LeCun; normal and uniform).
//!
//! With `n` the fan of `mode`, the draws have variance `scale / n`: uniform on `±sqrt(3·scale/n)`, a normal
//! truncated at 2σ with `σ = sqrt(scale/n) / 0.87962566103423978` (the standard deviation of a standard
//! normal truncated at ±2, so that the truncated draws have the intended variance), or an untruncated normal
//! with `σ = sqrt(scale/n)`.

use super::distributions::{normal, truncated_normal, uniform};
use super::fans::compute_fans;
use crate::error::{Result, TensorError};
use ndarray::{ArrayD, IxDyn};
use rand::Rng;

/// The standard deviation of a standard normal truncated at ±2 (Keras's correction), Keras's literal digit for
/// digit.
#[allow(clippy::excessive_precision)]
pub const TRUNCATED_NORMAL_STDDEV: f64 = 0.879_625_661_034_239_78;

/// Which fan divides the scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanMode {
    /// The number of input units.
    FanIn,
    /// The number of output units.
    FanOut,
    /// Their mean.
    FanAvg,
}

/// The distribution drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalingDistribution {
    /// A normal truncated at two standard deviations (Keras's `"truncated_normal"`, also read from `"normal"`).
    TruncatedNormal,
    /// A normal (`"untruncated_normal"`).
    UntruncatedNormal,
    /// A uniform (`"uniform"`).
    Uniform,
}

impl FanMode {
    /// Keras's name.
    pub fn name(self) -> &'static str {
        match self {
            FanMode::FanIn => "fan_in",
            FanMode::FanOut => "fan_out",
            FanMode::FanAvg => "fan_avg",
        }
    }

    /// Parses Keras's name; anything else is Keras's error, echoing the value.
    ///
    /// ```
    /// use rkeras_tensor::init::FanMode;
    /// assert_eq!(FanMode::from_name("fan_avg")?, FanMode::FanAvg);
    /// assert!(FanMode::from_name("fan").unwrap_err().to_string().contains("Received: mode=fan"));
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "fan_in" => Ok(FanMode::FanIn),
            "fan_out" => Ok(FanMode::FanOut),
            "fan_avg" => Ok(FanMode::FanAvg),
            other => Err(TensorError::invalid_argument(
                "VarianceScaling",
                format!(
                    "Invalid value for argument `mode`. Expected one of {{'fan_in', 'fan_out', 'fan_avg'}}. \
                     Received: mode={other}"
                ),
            )),
        }
    }
}

impl ScalingDistribution {
    /// Keras's name.
    pub fn name(self) -> &'static str {
        match self {
            ScalingDistribution::TruncatedNormal => "truncated_normal",
            ScalingDistribution::UntruncatedNormal => "untruncated_normal",
            ScalingDistribution::Uniform => "uniform",
        }
    }

    /// Parses Keras's name, case-insensitively, `"normal"` meaning `"truncated_normal"` as in Keras.
    pub fn from_name(name: &str) -> Result<Self> {
        match name.to_lowercase().as_str() {
            "truncated_normal" | "normal" => Ok(ScalingDistribution::TruncatedNormal),
            "untruncated_normal" => Ok(ScalingDistribution::UntruncatedNormal),
            "uniform" => Ok(ScalingDistribution::Uniform),
            _ => Err(TensorError::invalid_argument(
                "VarianceScaling",
                format!(
                    "Invalid value for argument `distribution`. Expected one of {{'uniform', \
                     'truncated_normal', 'untruncated_normal'}}. Received: distribution={name}"
                ),
            )),
        }
    }
}

/// Checks Keras's rule on `scale`.
pub(crate) fn check_scale(scale: f32) -> Result<()> {
    if scale > 0.0 && scale.is_finite() {
        Ok(())
    } else {
        Err(TensorError::invalid_argument(
            "VarianceScaling",
            format!("Argument `scale` must be positive float. Received: scale={scale}"),
        ))
    }
}

/// Draws a weight of `shape` as Keras's `VarianceScaling(scale, mode, distribution)`.
pub(crate) fn variance_scaling(
    shape: &[usize],
    scale: f32,
    mode: FanMode,
    distribution: ScalingDistribution,
    rng: &mut impl Rng,
) -> Result<ArrayD<f32>> {
    check_scale(scale)?;
    let (fan_in, fan_out) = compute_fans(shape);
    let n = match mode {
        FanMode::FanIn => fan_in as f64,
        FanMode::FanOut => fan_out as f64,
        FanMode::FanAvg => (fan_in + fan_out) as f64 / 2.0,
    };
    let variance = f64::from(scale) / n.max(1.0);
    let dim = IxDyn(shape);
    match distribution {
        ScalingDistribution::TruncatedNormal => {
            let stddev = variance.sqrt() / TRUNCATED_NORMAL_STDDEV;
            truncated_normal("VarianceScaling", dim, 0.0, stddev as f32, rng)
        }
        ScalingDistribution::UntruncatedNormal => {
            normal("VarianceScaling", dim, 0.0, variance.sqrt() as f32, rng)
        }
        ScalingDistribution::Uniform => {
            let limit = (3.0 * variance).sqrt() as f32;
            uniform("VarianceScaling", dim, -limit, limit, rng)
        }
    }
}
