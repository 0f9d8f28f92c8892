//! Keras 3's piecewise and shrinking activations as differentiable ops: celu, hard_shrink, hard_tanh,
//! log_sigmoid, soft_shrink, sparse_plus, sparse_sigmoid, squareplus, tanh_shrink and threshold, each as Keras
//! 3.15's JAX backend computes it (`keras/src/backend/jax/nn.py`, `jax.nn`).

use crate::error::{Result, TensorError};
use crate::kernels::activation::sigmoid;
use crate::tensor::Tensor;

impl Tensor {
    /// Keras's `celu(x, alpha)`: `x` for `x > 0`, `alpha·(exp(x/alpha) − 1)` otherwise (Keras's default
    /// `alpha = 1`); `alpha` must be positive.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let y = Tensor::from_vec(&[2], vec![2.0, -1.0])?.celu(2.0)?.to_vec();
    /// assert_eq!(y[0], 2.0);
    /// assert!((y[1] - 2.0 * ((-0.5f32).exp() - 1.0)).abs() < 1e-6);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn celu(&self, alpha: f32) -> Result<Tensor> {
        if !(alpha > 0.0 && alpha.is_finite()) {
            return Err(TensorError::invalid_argument(
                "celu",
                format!("alpha must be positive, received alpha={alpha}"),
            ));
        }
        Ok(self.map_op(
            "celu",
            move |x| {
                if x > 0.0 {
                    x
                } else {
                    alpha * (x / alpha).exp_m1()
                }
            },
            move |x, _| if x > 0.0 { 1.0 } else { (x / alpha).exp() },
        ))
    }

    /// Keras's `hard_shrink(x, threshold)`: `x` where `|x| > threshold`, 0 elsewhere (default 0.5).
    pub fn hard_shrink(&self, threshold: f32) -> Result<Tensor> {
        Ok(self.map_op(
            "hard_shrink",
            move |x| if x.abs() > threshold { x } else { 0.0 },
            move |x, _| if x.abs() > threshold { 1.0 } else { 0.0 },
        ))
    }

    /// Keras's `hard_tanh`: `x` clipped to `[−1, 1]`.
    pub fn hard_tanh(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "hard_tanh",
            |x| x.clamp(-1.0, 1.0),
            |x, _| if (-1.0..=1.0).contains(&x) { 1.0 } else { 0.0 },
        ))
    }

    /// Keras's `log_sigmoid`: `log(sigmoid(x)) = −softplus(−x)`, computed without overflow.
    pub fn log_sigmoid(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "log_sigmoid",
            |x| -((-x).max(0.0) + (-x.abs()).exp().ln_1p()),
            |x, _| sigmoid(-x),
        ))
    }

    /// Keras's `soft_shrink(x, threshold)`: `x − threshold` above `threshold`, `x + threshold` below
    /// `−threshold`, 0 between (default 0.5).
    pub fn soft_shrink(&self, threshold: f32) -> Result<Tensor> {
        Ok(self.map_op(
            "soft_shrink",
            move |x| {
                if x > threshold {
                    x - threshold
                } else if x < -threshold {
                    x + threshold
                } else {
                    0.0
                }
            },
            move |x, _| if x.abs() > threshold { 1.0 } else { 0.0 },
        ))
    }

    /// Keras's `sparse_plus`: 0 for `x ≤ −1`, `x` for `x ≥ 1`, `(x + 1)²/4` between.
    pub fn sparse_plus(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "sparse_plus",
            |x| {
                if x <= -1.0 {
                    0.0
                } else if x >= 1.0 {
                    x
                } else {
                    (x + 1.0) * (x + 1.0) / 4.0
                }
            },
            |x, _| {
                if x <= -1.0 {
                    0.0
                } else if x >= 1.0 {
                    1.0
                } else {
                    (x + 1.0) / 2.0
                }
            },
        ))
    }

    /// Keras's `sparse_sigmoid`: `clip(x + 1, 0, 2) / 2`.
    pub fn sparse_sigmoid(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "sparse_sigmoid",
            |x| 0.5 * (x + 1.0).clamp(0.0, 2.0),
            |x, _| if (-1.0..=1.0).contains(&x) { 0.5 } else { 0.0 },
        ))
    }

    /// Keras's `squareplus(x, b)`: `(x + √(x² + b)) / 2` (default `b = 4`); `b` must not be negative.
    pub fn squareplus(&self, b: f32) -> Result<Tensor> {
        if !(b >= 0.0 && b.is_finite()) {
            return Err(TensorError::invalid_argument(
                "squareplus",
                format!("b must be non-negative, received b={b}"),
            ));
        }
        Ok(self.map_op(
            "squareplus",
            move |x| (x + (x * x + b).sqrt()) / 2.0,
            move |x, _| {
                let root = (x * x + b).sqrt();
                if root > 0.0 {
                    (1.0 + x / root) / 2.0
                } else {
                    0.5
                }
            },
        ))
    }

    /// Keras's `tanh_shrink`: `x − tanh(x)`.
    pub fn tanh_shrink(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "tanh_shrink",
            |x| x - x.tanh(),
            |x, _| {
                let t = x.tanh();
                t * t
            },
        ))
    }

    /// Keras's `threshold(x, threshold, default_value)`: `x` where `x > threshold`, `default_value`
    /// elsewhere.
    pub fn threshold(&self, threshold: f32, default_value: f32) -> Result<Tensor> {
        Ok(self.map_op(
            "threshold",
            move |x| if x > threshold { x } else { default_value },
            move |x, _| if x > threshold { 1.0 } else { 0.0 },
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::tensor::Tensor;

    fn at(values: &[f32], f: impl Fn(&Tensor) -> crate::Result<Tensor>) -> Vec<f32> {
        f(&Tensor::from_vec(&[values.len()], values.to_vec()).unwrap())
            .unwrap()
            .to_vec()
    }

    #[test]
    fn hand_values() {
        let x = [-2.0, -0.25, 0.75, 3.0];
        assert_eq!(at(&x, |t| t.hard_shrink(0.5)), vec![-2.0, 0.0, 0.75, 3.0]);
        assert_eq!(at(&x, |t| t.soft_shrink(0.5)), vec![-1.5, 0.0, 0.25, 2.5]);
        assert_eq!(at(&x, |t| t.hard_tanh()), vec![-1.0, -0.25, 0.75, 1.0]);
        assert_eq!(
            at(&x, |t| t.threshold(0.5, -9.0)),
            vec![-9.0, -9.0, 0.75, 3.0]
        );
        assert_eq!(at(&x, |t| t.sparse_sigmoid()), vec![0.0, 0.375, 0.875, 1.0]);
        assert_eq!(
            at(&x, |t| t.sparse_plus()),
            vec![0.0, 0.140_625, 0.765_625, 3.0]
        );
        // squareplus(0, 4) = 1; log_sigmoid(0) = −ln 2; tanh_shrink(0) = 0.
        assert_eq!(at(&[0.0], |t| t.squareplus(4.0)), vec![1.0]);
        assert!((at(&[0.0], |t| t.log_sigmoid())[0] + std::f32::consts::LN_2).abs() < 1e-7);
        assert_eq!(at(&[0.0], |t| t.tanh_shrink()), vec![0.0]);
        // A large negative input does not overflow.
        assert!((at(&[-100.0], |t| t.log_sigmoid())[0] + 100.0).abs() < 1e-4);
    }

    #[test]
    fn bad_arguments_are_typed_errors() {
        let x = Tensor::ones(&[2]);
        assert!(x.celu(0.0).unwrap_err().to_string().contains("alpha=0"));
        assert!(x.squareplus(-1.0).unwrap_err().to_string().contains("b=-1"));
    }
}
