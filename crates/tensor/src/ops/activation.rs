//! Activation functions: relu, sigmoid, hard_sigmoid, tanh, elu, softplus.

use crate::error::Result;
use crate::kernels::activation::sigmoid;
use crate::tensor::Tensor;

impl Tensor {
    /// `max(x, 0)`; the gradient at 0 is 0.
    pub fn relu(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "relu",
            |x| if x > 0.0 { x } else { 0.0 },
            |x, _| if x > 0.0 { 1.0 } else { 0.0 },
        ))
    }

    /// `1 / (1 + e⁻ˣ)`, computed without overflow.
    pub fn sigmoid(&self) -> Result<Tensor> {
        Ok(self.map_op("sigmoid", sigmoid, |_, y| y * (1.0 - y)))
    }

    /// Keras 3's hard sigmoid `relu6(x + 3) / 6`; the gradient is 1/6 on `[-3, 3]`, 0 outside.
    pub fn hard_sigmoid(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "hard_sigmoid",
            crate::kernels::activation::hard_sigmoid,
            |x, _| {
                if (-3.0..=3.0).contains(&x) {
                    1.0 / 6.0
                } else {
                    0.0
                }
            },
        ))
    }

    /// Keras 1/2's hard sigmoid `clip(0.2·x + 0.5, 0, 1)`; the gradient is 0.2 on `[-2.5, 2.5]`, 0 outside.
    pub fn hard_sigmoid_keras2(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "hard_sigmoid_keras2",
            crate::kernels::activation::hard_sigmoid_keras2,
            |x, _| if (-2.5..=2.5).contains(&x) { 0.2 } else { 0.0 },
        ))
    }

    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Result<Tensor> {
        Ok(self.map_op("tanh", crate::kernels::activation::tanh, |_, y| 1.0 - y * y))
    }

    /// `x` for `x > 0`, `alpha·(eˣ − 1)` otherwise (Keras's default alpha is 1).
    pub fn elu(&self, alpha: f32) -> Result<Tensor> {
        Ok(self.map_op(
            "elu",
            move |x| if x > 0.0 { x } else { alpha * x.exp_m1() },
            move |x, y| if x > 0.0 { 1.0 } else { y + alpha },
        ))
    }

    /// `ln(1 + eˣ)`, computed without overflow.
    pub fn softplus(&self) -> Result<Tensor> {
        Ok(self.map_op(
            "softplus",
            |x| x.max(0.0) + (-x.abs()).exp().ln_1p(),
            |x, _| sigmoid(x),
        ))
    }
}
