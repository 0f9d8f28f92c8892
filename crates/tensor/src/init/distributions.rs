//! The three random draws Keras's initializers use: uniform, normal and normal truncated at two standard
//! deviations (Keras's `random.truncated_normal`: values beyond ±2σ are redrawn).

use crate::error::{Result, TensorError};
use ndarray::{ArrayD, IxDyn};
use ndarray_rand::RandomExt;
use rand::Rng;
use rand_distr::{Distribution, Normal, StandardNormal, Uniform};

/// Uniform on `[min, max)` (every entry `min` when `min == max`).
pub(crate) fn uniform(
    op: &'static str,
    dim: IxDyn,
    min: f32,
    max: f32,
    rng: &mut impl Rng,
) -> Result<ArrayD<f32>> {
    if min == max {
        return Ok(ArrayD::from_elem(dim, min));
    }
    let dist = Uniform::new(min, max).map_err(|e| {
        TensorError::invalid_argument(
            op,
            format!("expected minval < maxval, received minval={min}, maxval={max}: {e}"),
        )
    })?;
    Ok(ArrayD::random_using(dim, dist, rng))
}

/// Normal with `mean` and `stddev`.
pub(crate) fn normal(
    op: &'static str,
    dim: IxDyn,
    mean: f32,
    stddev: f32,
    rng: &mut impl Rng,
) -> Result<ArrayD<f32>> {
    if !(stddev.is_finite() && stddev >= 0.0 && mean.is_finite()) {
        return Err(TensorError::invalid_argument(
            op,
            format!(
                "mean and stddev must be finite and stddev non-negative, received mean={mean}, stddev={stddev}"
            ),
        ));
    }
    let dist = Normal::new(mean, stddev).map_err(|e| {
        TensorError::invalid_argument(
            op,
            format!("stddev must be a finite non-negative number, received stddev={stddev}: {e}"),
        )
    })?;
    Ok(ArrayD::random_using(dim, dist, rng))
}

/// Normal with `mean` and `stddev`, every draw beyond two standard deviations redrawn.
pub(crate) fn truncated_normal(
    op: &'static str,
    dim: IxDyn,
    mean: f32,
    stddev: f32,
    rng: &mut impl Rng,
) -> Result<ArrayD<f32>> {
    if !(stddev.is_finite() && stddev >= 0.0 && mean.is_finite()) {
        return Err(TensorError::invalid_argument(
            op,
            format!(
                "mean and stddev must be finite and stddev non-negative, received mean={mean}, stddev={stddev}"
            ),
        ));
    }
    Ok(ArrayD::from_shape_simple_fn(dim, || {
        loop {
            let z: f64 = StandardNormal.sample(rng);
            if z.abs() <= 2.0 {
                return mean + stddev * z as f32;
            }
        }
    }))
}
