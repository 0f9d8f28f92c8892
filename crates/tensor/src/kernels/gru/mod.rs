//! GRU over a whole sequence as one fused op, with a hand-written backward pass (backpropagation through time).
//!
//! Semantics are Keras's `GRU` / `GRUCell`: the `3·units` axis of the weights holds the gates in the order
//! (z, r, h); `kernel` is `(input_dim, 3·units)` and `recurrent_kernel` is `(units, 3·units)`. For each step,
//! from the initial state `h₀` (zeros unless given):
//!
//! ```text
//! x_z, x_r, x_h = x_t·kernel + input_bias
//! reset_after = true (Keras 3's default; bias (2, 3·units) = [input_bias, recurrent_bias]):
//!     u_z, u_r, u_h = h_{t-1}·recurrent_kernel + recurrent_bias
//!     z = σ(x_z + u_z)   r = σ(x_r + u_r)   ĥ = tanh(x_h + r·u_h)
//! reset_after = false (Keras 2's default; bias (3·units) = input_bias):
//!     z = σ(x_z + h_{t-1}·U_z)   r = σ(x_r + h_{t-1}·U_r)   ĥ = tanh(x_h + (r·h_{t-1})·U_h)
//! h_t = z·h_{t-1} + (1 − z)·ĥ
//! ```
//!
//! σ is the logistic sigmoid (Keras 3's default) or Keras 2's hard sigmoid.
//!
//! ```
//! use ndarray::{array, Array2, Array3};
//! use rkeras_tensor::kernels::gru::{gru_forward, gru_backward, GruParams};
//! use rkeras_tensor::kernels::lstm::GateActivation;
//!
//! // One unit, one step, x = 1: only the candidate's input weight is non-zero, so z = r = σ(0) = 1/2 and
//! // ĥ = tanh(1); h₁ = 1/2·0 + 1/2·tanh(1).
//! let kernel = array![[0.0f32, 0.0, 1.0]];
//! let recurrent_kernel = Array2::<f32>::zeros((1, 3));
//! let input_bias = array![0.0f32, 0.0, 0.0];
//! let params = GruParams {
//!     kernel: kernel.view(),
//!     recurrent_kernel: recurrent_kernel.view(),
//!     input_bias: input_bias.view(),
//!     recurrent_bias: Some(input_bias.view()),
//!     recurrent_activation: GateActivation::Sigmoid,
//! };
//! let x = Array3::<f32>::ones((1, 1, 1));
//! let (h, cache) = gru_forward(x.view(), &params, None, false)?;
//! assert!((h[[0, 0]] - 0.5 * 1f32.tanh()).abs() < 1e-6);
//! let grads = gru_backward(x.view(), &params, None, &cache, Array2::ones((1, 1)).into_dyn().view())?;
//! assert_eq!(grads.kernel.shape(), &[1, 3]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

mod backward;
mod forward;

pub(crate) use backward::gru_backward_parts;
pub use backward::{GruGrads, GruWeightGrads, gru_backward, gru_backward_weights};
pub use forward::{gru_forward, gru_forward_inference, gru_forward_masked};

use super::lstm::GateActivation;
use super::packed_rows::PackedRows;
use super::recurrent::{Dims, input_dims};
use crate::{Result, TensorError};
use ndarray::{Array2, Array3, ArrayView1, ArrayView2, ArrayView3};

const OP: &str = "gru";
const OP_BACKWARD: &str = "gru backward";

/// The weights of a GRU layer, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct GruParams<'a> {
    /// Input weights, `(input_dim, 3·units)`, gates in the order (z, r, h).
    pub kernel: ArrayView2<'a, f32>,
    /// Recurrent weights, `(units, 3·units)`.
    pub recurrent_kernel: ArrayView2<'a, f32>,
    /// Bias added to the input projection, `(3·units)` (row 0 of Keras's `(2, 3·units)` bias).
    pub input_bias: ArrayView1<'a, f32>,
    /// `Some` for `reset_after = true`: the bias of the recurrent projection, `(3·units)` (row 1 of Keras's
    /// bias), applied before the reset gate. `None` for `reset_after = false`.
    pub recurrent_bias: Option<ArrayView1<'a, f32>>,
    /// Activation of the update and reset gates.
    pub recurrent_activation: GateActivation,
}

impl GruParams<'_> {
    fn reset_after(&self) -> bool {
        self.recurrent_bias.is_some()
    }
}

/// What the backward pass needs from the forward pass.
///
/// With a timestep mask the per-row values are kept for the kept rows alone, packed in front in row order
/// (`PackedRows`); the buffers have the full row count, so that their size does not follow each batch's mask.
#[derive(Clone, Debug)]
pub struct GruCache {
    dims: Dims,
    return_sequences: bool,
    reset_after: bool,
    /// `[batch·time, 3·units]`: z, r and ĥ after their activations, at the kept rows' slots.
    gates: Array2<f32>,
    /// `[batch·time, units]`: `u_h` (the recurrent candidate before the reset gate) with `reset_after`,
    /// `r·h_{t-1}` without, at the kept rows' slots.
    reset_input: Array2<f32>,
    /// `[batch, time, units]`.
    hidden: Array3<f32>,
    /// With a mask that skips some row: the input's kept rows, packed (`[batch·time, input_dim]`).
    x_kept: Option<Array2<f32>>,
    /// The slots of the kept rows.
    packed: PackedRows,
    /// The timestep mask of the forward pass, when there was one.
    mask: Option<super::step_mask::StepMask>,
}

impl Drop for GruCache {
    /// Hands the state buffers back to this thread's [`crate::buffer_pool`].
    fn drop(&mut self) {
        crate::buffer_pool::give_array(std::mem::take(&mut self.gates));
        crate::buffer_pool::give_array(std::mem::take(&mut self.reset_input));
        crate::buffer_pool::give_array(std::mem::take(&mut self.hidden));
        if let Some(x_kept) = self.x_kept.take() {
            crate::buffer_pool::give_array(x_kept);
        }
    }
}

impl GruCache {
    /// Hidden states `h_t` of every step, `[batch, time, units]`.
    pub fn hidden_states(&self) -> ArrayView3<'_, f32> {
        self.hidden.view()
    }

    /// Activated gates (z, r, ĥ) of the kept steps, `[kept rows, 3·units]`: the rows `sample·time + step` the
    /// mask keeps (every row without a mask), in that order.
    pub fn gates(&self) -> ArrayView2<'_, f32> {
        self.gates.slice(ndarray::s![..self.packed.len(), ..])
    }
}

/// Nominal floating-point operations of one forward pass: `2·batch·time·(input_dim + units)·3·units` for the
/// products plus 10 elementwise operations per unit and step.
///
/// ```
/// assert_eq!(rkeras_tensor::kernels::gru::gru_flops(2, 3, 4, 5), 2 * 6 * 9 * 15 + 10 * 6 * 5);
/// ```
pub fn gru_flops(batch: usize, time: usize, input_dim: usize, units: usize) -> u64 {
    let steps = (batch as u64).saturating_mul(time as u64);
    let units = units as u64;
    steps
        .saturating_mul(2)
        .saturating_mul((input_dim as u64).saturating_add(units))
        .saturating_mul(units.saturating_mul(3))
        .saturating_add(steps.saturating_mul(units).saturating_mul(10))
}

/// Checks the weights against each other and against `x`'s shape, and returns the sizes.
fn validate(op: &'static str, x_shape: &[usize], params: &GruParams) -> Result<Dims> {
    let (batch, time, input_dim) = input_dims(op, x_shape)?;
    let (units, recurrent_cols) = params.recurrent_kernel.dim();
    if units == 0 || recurrent_cols != 3 * units {
        return Err(TensorError::invalid_shape(
            op,
            params.recurrent_kernel.shape(),
            "recurrent_kernel must have shape (units, 3·units) with units ≥ 1",
        ));
    }
    let (kernel_rows, kernel_cols) = params.kernel.dim();
    if kernel_rows != input_dim {
        return Err(TensorError::shape_mismatch(
            op,
            x_shape,
            params.kernel.shape(),
        ));
    }
    if kernel_cols != 3 * units {
        return Err(TensorError::invalid_shape(
            op,
            params.kernel.shape(),
            format!(
                "kernel must have shape (input_dim, 3·units) = ({input_dim}, {})",
                3 * units
            ),
        ));
    }
    for bias in std::iter::once(params.input_bias).chain(params.recurrent_bias) {
        if bias.len() != 3 * units {
            return Err(TensorError::invalid_shape(
                op,
                bias.shape(),
                format!("each bias row must have length 3·units = {}", 3 * units),
            ));
        }
    }
    Ok(Dims {
        batch,
        time,
        input_dim,
        units,
    })
}
