//! SimpleRNN over a whole sequence as one fused op, with a hand-written backward pass.
//!
//! Semantics are Keras's `SimpleRNN` / `SimpleRNNCell`: `kernel` is `(input_dim, units)`, `recurrent_kernel`
//! `(units, units)`, `bias` `(units)`, and from the initial state `h₀` (zeros unless given)
//!
//! ```text
//! h_t = activation(x_t·kernel + h_{t-1}·recurrent_kernel + bias)
//! ```
//!
//! ```
//! use ndarray::{array, Array2, Array3};
//! use rkeras_tensor::kernels::simple_rnn::{simple_rnn_forward, RnnActivation, SimpleRnnParams};
//!
//! // One unit: h₁ = tanh(1·0.5) and h₂ = tanh(2·0.5 + h₁·1).
//! let (kernel, recurrent_kernel, bias) = (array![[0.5f32]], array![[1.0f32]], array![0.0f32]);
//! let params = SimpleRnnParams {
//!     kernel: kernel.view(),
//!     recurrent_kernel: recurrent_kernel.view(),
//!     bias: bias.view(),
//!     activation: RnnActivation::Tanh,
//! };
//! let x = array![[[1.0f32], [2.0]]];
//! let (h, _) = simple_rnn_forward(x.view(), &params, None, false)?;
//! assert!((h[[0, 0]] - (1.0 + 0.5f32.tanh()).tanh()).abs() < 1e-6);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

mod backward;
mod forward;

pub use backward::{SimpleRnnGrads, simple_rnn_backward};
pub use forward::{simple_rnn_forward, simple_rnn_forward_inference, simple_rnn_forward_masked};

use super::recurrent::{Dims, input_dims};
use crate::{Result, TensorError};
use ndarray::{Array3, ArrayView1, ArrayView2};

const OP: &str = "simple_rnn";
const OP_BACKWARD: &str = "simple_rnn backward";

/// The activation of a SimpleRNN's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RnnActivation {
    /// `tanh`, Keras's default.
    Tanh,
    /// `relu`.
    Relu,
    /// The logistic sigmoid.
    Sigmoid,
    /// The identity (`linear`).
    Linear,
}

impl RnnActivation {
    /// Keras's names of the supported activations.
    pub const NAMES: [(&'static str, RnnActivation); 4] = [
        ("tanh", RnnActivation::Tanh),
        ("relu", RnnActivation::Relu),
        ("sigmoid", RnnActivation::Sigmoid),
        ("linear", RnnActivation::Linear),
    ];

    #[inline(always)]
    fn apply(self, z: f32) -> f32 {
        match self {
            RnnActivation::Tanh => super::activation::tanh(z),
            RnnActivation::Relu => z.max(0.0),
            RnnActivation::Sigmoid => super::activation::sigmoid(z),
            RnnActivation::Linear => z,
        }
    }

    /// The derivative at the pre-activation, from the output `y`.
    #[inline(always)]
    fn derivative_from_output(self, y: f32) -> f32 {
        match self {
            RnnActivation::Tanh => 1.0 - y * y,
            RnnActivation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            RnnActivation::Sigmoid => y * (1.0 - y),
            RnnActivation::Linear => 1.0,
        }
    }
}

/// The weights of a SimpleRNN layer, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct SimpleRnnParams<'a> {
    /// Input weights, `(input_dim, units)`.
    pub kernel: ArrayView2<'a, f32>,
    /// Recurrent weights, `(units, units)`.
    pub recurrent_kernel: ArrayView2<'a, f32>,
    /// Bias, `(units)`.
    pub bias: ArrayView1<'a, f32>,
    /// The state's activation.
    pub activation: RnnActivation,
}

/// What the backward pass needs: every step's hidden state.
#[derive(Clone, Debug)]
pub struct SimpleRnnCache {
    dims: Dims,
    return_sequences: bool,
    /// `[batch, time, units]`.
    hidden: Array3<f32>,
    /// The timestep mask of the forward pass, when there was one.
    mask: Option<super::step_mask::StepMask>,
}

impl Drop for SimpleRnnCache {
    /// Hands the state buffer back to this thread's [`crate::buffer_pool`].
    fn drop(&mut self) {
        crate::buffer_pool::give_array(std::mem::take(&mut self.hidden));
    }
}

/// Checks the weights against each other and against `x`'s shape, and returns the sizes.
fn validate(op: &'static str, x_shape: &[usize], params: &SimpleRnnParams) -> Result<Dims> {
    let (batch, time, input_dim) = input_dims(op, x_shape)?;
    let (units, recurrent_cols) = params.recurrent_kernel.dim();
    if units == 0 || recurrent_cols != units {
        return Err(TensorError::invalid_shape(
            op,
            params.recurrent_kernel.shape(),
            "recurrent_kernel must have shape (units, units) with units ≥ 1",
        ));
    }
    if params.kernel.dim() != (input_dim, units) {
        return Err(TensorError::shape_mismatch(
            op,
            x_shape,
            params.kernel.shape(),
        ));
    }
    if params.bias.len() != units {
        return Err(TensorError::invalid_shape(
            op,
            params.bias.shape(),
            format!("bias must have length units = {units}"),
        ));
    }
    Ok(Dims {
        batch,
        time,
        input_dim,
        units,
    })
}
