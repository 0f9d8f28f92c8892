//! The piecewise-linear activations of Keras 3: relu with `negative_slope`/`max_value`/`threshold`, relu6,
//! leaky_relu and hard_silu (hard_swish). Gradients at a kink are those of the side the kink belongs to in
//! Keras's formula (`x > threshold` is active), which finite differences cannot see.

use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

/// Keras 3's `relu` arguments: `negative_slope` (0), `max_value` (none) and `threshold` (0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReluOptions {
    /// Slope for values below the threshold. Defaults to 0.
    pub negative_slope: f32,
    /// The saturation value; `None` for none. Defaults to `None`.
    pub max_value: Option<f32>,
    /// Values above it pass (below it, the negative slope applies). Defaults to 0.
    pub threshold: f32,
}

impl Default for ReluOptions {
    fn default() -> Self {
        ReluOptions {
            negative_slope: 0.0,
            max_value: None,
            threshold: 0.0,
        }
    }
}

impl ReluOptions {
    /// The value at `x`, as Keras 3 computes it: the active part `x` (where `x > threshold`, or `max(x, 0)`
    /// with no threshold), clipped to `[0, max_value]` when there is a maximum, minus
    /// `negative_slope · relu(threshold − x)`.
    #[inline]
    pub fn value(&self, x: f32) -> f32 {
        let mut positive = if self.threshold != 0.0 {
            if x > self.threshold { x } else { 0.0 }
        } else {
            x.max(0.0)
        };
        if let Some(max) = self.max_value {
            positive = positive.clamp(0.0, max);
        }
        positive - self.negative_slope * (self.threshold - x).max(0.0)
    }

    /// The derivative at `x`.
    #[inline]
    pub fn derivative(&self, x: f32) -> f32 {
        let active = if self.threshold != 0.0 {
            x > self.threshold
        } else {
            x > 0.0
        };
        let mut d = if active { 1.0 } else { 0.0 };
        if let Some(max) = self.max_value
            && active
            && (x < 0.0 || x > max)
        {
            d = 0.0;
        }
        if x < self.threshold {
            d += self.negative_slope;
        }
        d
    }

    fn check(&self) -> Result<()> {
        let bad = |what: String| Err(TensorError::invalid_argument("relu", what));
        if !self.negative_slope.is_finite() {
            return bad(format!(
                "negative_slope must be a finite number. Received: negative_slope={}",
                self.negative_slope
            ));
        }
        if !self.threshold.is_finite() {
            return bad(format!(
                "threshold must be a finite number. Received: threshold={}",
                self.threshold
            ));
        }
        if let Some(max) = self.max_value.filter(|m| m.is_nan()) {
            return bad(format!(
                "max_value must be a number. Received: max_value={max}"
            ));
        }
        Ok(())
    }
}

impl Tensor {
    /// Keras 3's `relu(x, negative_slope, max_value, threshold)`.
    ///
    /// ```
    /// use rkeras_tensor::{Tensor, ops::ReluOptions};
    /// let x = Tensor::from_vec(&[4], vec![-2.0, 0.5, 1.5, 8.0])?;
    /// let options = ReluOptions { negative_slope: 0.1, max_value: Some(6.0), threshold: 1.0 };
    /// // below the threshold: 0.1·(x − 1); above: x, capped at 6.
    /// assert_eq!(x.relu_with(options)?.to_vec(), vec![-0.3, -0.05, 1.5, 6.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn relu_with(&self, options: ReluOptions) -> Result<Tensor> {
        options.check()?;
        Ok(self.map_op(
            "relu",
            move |x| options.value(x),
            move |x, _| options.derivative(x),
        ))
    }

    /// `min(max(x, 0), 6)`.
    pub fn relu6(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "relu6",
            |x| x.clamp(0.0, 6.0),
            |x, _| if x > 0.0 && x < 6.0 { 1.0 } else { 0.0 },
        ))
    }

    /// `x` for `x ≥ 0`, `negative_slope · x` otherwise (Keras's default slope is 0.2).
    pub fn leaky_relu(&self, negative_slope: f32) -> Result<Tensor> {
        if !negative_slope.is_finite() {
            return Err(TensorError::invalid_argument(
                "leaky_relu",
                format!(
                    "negative_slope must be a finite number. Received: negative_slope={negative_slope}"
                ),
            ));
        }
        Ok(self.map_op(
            "leaky_relu",
            move |x| if x >= 0.0 { x } else { negative_slope * x },
            move |x, _| if x >= 0.0 { 1.0 } else { negative_slope },
        ))
    }

    /// Keras 3's `hard_silu` (`hard_swish`): `x · relu6(x + 3) / 6`.
    pub fn hard_silu(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "hard_silu",
            |x| x * crate::kernels::activation::hard_sigmoid(x),
            |x, _| {
                let inside = if (-3.0..3.0).contains(&x) {
                    x / 6.0
                } else {
                    0.0
                };
                crate::kernels::activation::hard_sigmoid(x) + inside
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relu_arguments_follow_keras_formula() {
        // Hand-computed from Keras 3's `relu`: the threshold zeroes values up to it, max_value clips, the
        // negative slope applies below the threshold.
        let cases = [
            (
                ReluOptions::default(),
                [-1.0, 0.0, 2.0, 7.0],
                [0.0, 0.0, 2.0, 7.0],
            ),
            (
                ReluOptions {
                    max_value: Some(6.0),
                    ..Default::default()
                },
                [-1.0, 0.0, 2.0, 7.0],
                [0.0, 0.0, 2.0, 6.0],
            ),
            (
                ReluOptions {
                    threshold: 1.0,
                    ..Default::default()
                },
                [-1.0, 1.0, 2.0, 7.0],
                [0.0, 0.0, 2.0, 7.0],
            ),
            (
                ReluOptions {
                    negative_slope: 0.5,
                    ..Default::default()
                },
                [-1.0, 0.0, 2.0, 7.0],
                [-0.5, 0.0, 2.0, 7.0],
            ),
        ];
        for (options, xs, expected) in cases {
            assert_eq!(xs.map(|x| options.value(x)), expected, "{options:?}");
        }
        let bad = ReluOptions {
            negative_slope: f32::NAN,
            ..Default::default()
        };
        let x = Tensor::from_vec(&[1], vec![1.0]).unwrap();
        assert!(
            x.relu_with(bad)
                .unwrap_err()
                .to_string()
                .contains("negative_slope=NaN")
        );
    }

    #[test]
    fn hard_silu_and_relu6_at_hand_values() {
        let x = Tensor::from_vec(&[4], vec![-4.0, -1.5, 1.5, 7.0]).unwrap();
        assert_eq!(
            x.hard_silu().unwrap().to_vec(),
            vec![-0.0, -0.375, 1.125, 7.0]
        );
        assert_eq!(x.relu6().unwrap().to_vec(), vec![0.0, 0.0, 1.5, 6.0]);
        assert_eq!(
            x.leaky_relu(0.2).unwrap().to_vec(),
            vec![-0.8, -0.3, 1.5, 7.0]
        );
    }
}
