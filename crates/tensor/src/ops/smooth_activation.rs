//! Keras 3's smooth activations as differentiable ops: gelu (exact or approximate), silu (swish), mish,
//! selu, softsign and exponential. The scalar kernels are in [`crate::kernels::smooth_activation`].

use crate::error::Result;
use crate::kernels::smooth_activation as k;
use crate::tensor::Tensor;

impl Tensor {
    /// Gaussian error linear unit: exact `x·Φ(x)` (Keras's default, `approximate=False`) or the tanh
    /// approximation (`approximate=True`).
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let x = Tensor::from_vec(&[2], vec![0.0, 1.0])?;
    /// let y = x.gelu(false)?.to_vec();
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.841_344_7).abs() < 1e-6); // Φ(1)
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn gelu(&self, approximate: bool) -> Result<Tensor> {
        Ok(if approximate {
            self.map_op("gelu", k::gelu_tanh, |x, _| k::gelu_tanh_derivative(x))
        } else {
            self.map_op("gelu", k::gelu, |x, _| k::gelu_derivative(x))
        })
    }

    /// `x · sigmoid(x)` (Keras's `silu`, also named `swish`).
    pub fn silu(&self) -> Result<Tensor> {
        Ok(self.map_op("silu", k::silu, |x, _| k::silu_derivative(x)))
    }

    /// `x · tanh(softplus(x))`.
    pub fn mish(&self) -> Result<Tensor> {
        Ok(self.map_op("mish", k::mish, |x, _| k::mish_derivative(x)))
    }

    /// Scaled ELU with Keras's `alpha = 1.67326324` and `scale = 1.05070098`.
    pub fn selu(&self) -> Result<Tensor> {
        Ok(self.map_op("selu", k::selu, |x, _| k::selu_derivative(x)))
    }

    /// `x / (1 + |x|)`.
    pub fn softsign(&self) -> Result<Tensor> {
        Ok(self.map_op("softsign", k::softsign, |x, _| k::softsign_derivative(x)))
    }

    /// Keras's `exponential` activation, `eˣ`.
    pub fn exponential(&self) -> Result<Tensor> {
        self.exp()
    }
}

#[cfg(test)]
mod tests {
    use crate::tensor::Tensor;

    #[test]
    fn hand_values() {
        // silu(1) = 1/(1+e⁻¹); softsign(3) = 3/4; selu(1) = scale; mish(0) = 0.
        let x = Tensor::from_vec(&[1], vec![1.0]).unwrap();
        assert!((x.silu().unwrap().to_vec()[0] - 0.731_058_6).abs() < 1e-6);
        assert!((x.selu().unwrap().to_vec()[0] - 1.050_701).abs() < 1e-6);
        let three = Tensor::from_vec(&[1], vec![3.0]).unwrap();
        assert_eq!(three.softsign().unwrap().to_vec(), vec![0.75]);
        let zero = Tensor::from_vec(&[1], vec![0.0]).unwrap();
        assert_eq!(zero.mish().unwrap().to_vec(), vec![0.0]);
        // approximate gelu(1) = 0.5·(1 + tanh(√(2/π)·1.044715)) = 0.841192
        assert!((x.gelu(true).unwrap().to_vec()[0] - 0.841_192).abs() < 1e-5);
    }
}
