//! Gradient clipping with Keras 3's semantics.
//!
//! - `clipnorm = c`: each gradient is clipped on its own, `g · c / max(‖g‖₂, c)` (Keras's `_clip_by_norm`; a
//!   zero gradient stays zero, a NaN norm gives NaN).
//! - `global_clipnorm = c`: all gradients are scaled by `c · min(1/N, 1/c)` where `N` is the L2 norm of all of
//!   them together; an infinite or NaN `N` makes every gradient NaN (Keras's `clip_by_global_norm`).
//! - `clipvalue = v`: every element is clamped to `[-v, v]`.
//!
//! Clipped values are written into one scratch buffer reused across parameters and steps, so clipping allocates
//! only when a gradient larger than any before it arrives.
//!
//! ```
//! use ndarray::{arr1, ArrayD};
//! use rkeras_optim::{Optimizer, SGDConfig};
//!
//! // SGD with learning_rate 1 moves the parameter by exactly the clipped gradient.
//! let mut opt = SGDConfig::default().with_learning_rate(1.0).with_clipnorm(1.0).build()?;
//! let mut w: ArrayD<f32> = arr1(&[0.0f32, 0.0]).into_dyn();
//! let g: ArrayD<f32> = arr1(&[3.0f32, 4.0]).into_dyn(); // norm 5 → clipped to norm 1
//! opt.apply_gradients(&mut [&mut w], &[&g])?;
//! assert_eq!(w, arr1(&[-0.6f32, -0.8]).into_dyn());
//! # Ok::<(), rkeras_optim::OptimError>(())
//! ```

use crate::error::{OptimError, Result};
use ndarray::{ArrayD, ArrayViewD};

/// The clipping an optimizer applies to its gradients before its update rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Clipping {
    /// Gradients are used as they are.
    None,
    /// Each gradient's L2 norm is clipped to this value.
    Norm(f32),
    /// All gradients are scaled so that their global L2 norm is at most this value.
    GlobalNorm(f32),
    /// Every element is clamped to `[-v, v]`.
    Value(f32),
}

/// Sum of squares of all elements, accumulated in f64 (eight running sums, so that the loop vectorizes).
fn sum_of_squares(values: &ArrayD<f32>) -> f64 {
    let square = |x: f32| f64::from(x) * f64::from(x);
    let Some(slice) = values.as_slice_memory_order() else {
        return values.iter().map(|&x| square(x)).sum();
    };
    let mut lanes = [0.0f64; 8];
    let chunks = slice.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|&x| square(x)).sum();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += square(x);
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// Writes `f(g)` for every element of `grad`, in logical order, into `scratch` (resized to fit).
fn fill_scratch(grad: &ArrayD<f32>, scratch: &mut Vec<f32>, f: impl Fn(f32) -> f32) {
    scratch.resize(grad.len(), 0.0);
    match grad.as_slice() {
        Some(slice) => scratch
            .iter_mut()
            .zip(slice)
            .for_each(|(out, &g)| *out = f(g)),
        None => scratch
            .iter_mut()
            .zip(grad.iter())
            .for_each(|(out, &g)| *out = f(g)),
    }
}

/// The factor every gradient is multiplied by under `global_clipnorm = clip`: `clip · min(1/N, 1/clip)`, NaN when
/// the global norm `N` is infinite or NaN.
pub(crate) fn global_norm_scale(grads: &[&ArrayD<f32>], clip: f32) -> f32 {
    let norm = grads.iter().map(|g| sum_of_squares(g)).sum::<f64>().sqrt() as f32;
    // 1/0 = inf, so a zero global norm leaves the gradients unscaled, as in Keras.
    let scale_for_finite = clip * (1.0 / norm).min(1.0 / clip);
    // Keras adds `norm - norm` (0, or NaN for an infinite or NaN norm).
    if norm.is_finite() {
        scale_for_finite
    } else {
        f32::NAN
    }
}

/// `grad` after `clipping`: the gradient itself when there is no clipping, otherwise a view of `scratch` holding
/// the clipped values (in the gradient's logical order, standard layout).
pub(crate) fn clipped_gradient<'a>(
    optimizer: &'static str,
    grad: &'a ArrayD<f32>,
    clipping: Clipping,
    global_scale: f32,
    scratch: &'a mut Vec<f32>,
) -> Result<ArrayViewD<'a, f32>> {
    match clipping {
        Clipping::None => return Ok(grad.view()),
        Clipping::Norm(clip) => {
            // Keras: a zero gradient has norm 0 and stays zero; a NaN norm makes the gradient NaN.
            let norm = sum_of_squares(grad).sqrt() as f32;
            let denominator = if norm.is_nan() {
                f32::NAN
            } else {
                norm.max(clip)
            };
            fill_scratch(grad, scratch, |g| g * clip / denominator);
        }
        Clipping::GlobalNorm(_) => fill_scratch(grad, scratch, |g| g * global_scale),
        Clipping::Value(limit) => fill_scratch(grad, scratch, |g| g.clamp(-limit, limit)),
    }
    ArrayViewD::from_shape(grad.raw_dim(), scratch.as_slice()).map_err(|err| OptimError::Internal {
        optimizer,
        reason: format!("clipped gradient buffer: {err}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    fn clip(g: &[f32], clipping: Clipping, global_scale: f32) -> Vec<f32> {
        let grad = arr1(g).into_dyn();
        let mut scratch = Vec::new();
        clipped_gradient("SGD", &grad, clipping, global_scale, &mut scratch)
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    #[test]
    fn clipnorm_scales_a_long_gradient_to_the_limit() {
        // ‖(3, 4)‖ = 5 > 2 → (3, 4) · 2 / 5
        assert_eq!(clip(&[3.0, 4.0], Clipping::Norm(2.0), 1.0), vec![1.2, 1.6]);
    }

    #[test]
    fn clipnorm_keeps_a_short_gradient_and_a_zero_one() {
        assert_eq!(clip(&[0.3, 0.4], Clipping::Norm(2.0), 1.0), vec![0.3, 0.4]);
        assert_eq!(clip(&[0.0, 0.0], Clipping::Norm(2.0), 1.0), vec![0.0, 0.0]);
    }

    #[test]
    fn clipnorm_of_a_nan_gradient_is_nan() {
        assert!(
            clip(&[f32::NAN, 1.0], Clipping::Norm(2.0), 1.0)
                .iter()
                .all(|x| x.is_nan())
        );
    }

    #[test]
    fn clipvalue_clamps_each_element() {
        assert_eq!(
            clip(&[-3.0, 0.25, 7.0], Clipping::Value(0.5), 1.0),
            vec![-0.5, 0.25, 0.5]
        );
    }

    #[test]
    fn global_scale_uses_the_norm_of_all_gradients() {
        // global norm of (3) and (4) is 5; clip 1 → scale 1/5
        let a = arr1(&[3.0f32]).into_dyn();
        let b = arr1(&[4.0f32]).into_dyn();
        assert!((global_norm_scale(&[&a, &b], 1.0) - 0.2).abs() < 1e-7);
        // below the limit: scale 1
        assert_eq!(global_norm_scale(&[&a, &b], 10.0), 1.0);
        // all zero: scale 1, as in Keras (1/0 = inf)
        let z = arr1(&[0.0f32]).into_dyn();
        assert_eq!(global_norm_scale(&[&z], 1.0), 1.0);
        // infinite norm: NaN
        let inf = arr1(&[f32::INFINITY]).into_dyn();
        assert!(global_norm_scale(&[&inf], 1.0).is_nan());
    }

    #[test]
    fn no_clipping_returns_the_gradient_itself() {
        let grad = arr1(&[1.0f32, 2.0]).into_dyn();
        let mut scratch = Vec::new();
        let view = clipped_gradient("SGD", &grad, Clipping::None, 1.0, &mut scratch).unwrap();
        assert_eq!(view.as_ptr(), grad.as_ptr());
    }
}
