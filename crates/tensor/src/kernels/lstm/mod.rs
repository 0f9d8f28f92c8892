//! LSTM over a whole sequence as one fused op, with a hand-written backward pass (backpropagation through time).
//!
//! Semantics are Keras's `LSTM` / `LSTMCell`: the `4·units` axis of the weights holds the gates in the order
//! (i, f, c, o); `kernel` is `(input_dim, 4·units)`, `recurrent_kernel` is `(units, 4·units)`, `bias` is `(4·units)`.
//! For each step, with zero initial states `h₀ = c₀ = 0`:
//!
//! ```text
//! z = x_t·kernel + h_{t-1}·recurrent_kernel + bias
//! i = σ(z_i)   f = σ(z_f)   o = σ(z_o)        σ: the recurrent activation
//! c_t = f·c_{t-1} + i·tanh(z_c)
//! h_t = o·tanh(c_t)
//! ```
//!
//! σ is the logistic sigmoid (Keras 3's default) or Keras 2's hard sigmoid `clip(0.2·x + 0.5, 0, 1)`.
//!
//! The input projection of every step is one product `[batch·time, input_dim]·[input_dim, 4·units]`; each step then
//! adds one `[batch, units]·[units, 4·units]` product and activates the gates in place.
//!
//! A sequence of zero steps is accepted: the output is the initial state `h₀ = 0` (`[batch, units]` of zeros)
//! without `return_sequences`, and an empty `[batch, 0, units]` with it; all gradients are then zero.
//!
//! ```
//! use ndarray::{array, Array2, Array3};
//! use rkeras_tensor::kernels::lstm::{lstm_forward, lstm_backward, GateActivation, LstmParams};
//!
//! // One unit, one input, two steps; only the candidate gate's bias is non-zero, so every step sees
//! // i = f = o = σ(0) = 0.5 and tanh(z_c) = tanh(1).
//! let kernel = Array2::<f32>::zeros((1, 4));
//! let recurrent_kernel = Array2::<f32>::zeros((1, 4));
//! let bias = array![0.0f32, 0.0, 1.0, 0.0];
//! let params = LstmParams {
//!     kernel: kernel.view(),
//!     recurrent_kernel: recurrent_kernel.view(),
//!     bias: bias.view(),
//!     recurrent_activation: GateActivation::Sigmoid,
//! };
//! let x = Array3::<f32>::zeros((1, 2, 1));
//! let (h, cache) = lstm_forward(x.view(), &params, false)?;
//! let c1 = 0.5 * 1f32.tanh();
//! let c2 = 0.5 * c1 + 0.5 * 1f32.tanh();
//! assert_eq!(h.shape(), &[1, 1]);
//! assert!((h[[0, 0]] - 0.5 * c2.tanh()).abs() < 1e-6);
//!
//! let grads = lstm_backward(x.view(), &params, &cache, Array2::ones((1, 1)).into_dyn().view())?;
//! assert_eq!(grads.kernel.shape(), &[1, 4]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use ndarray::{
    Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayViewD, ArrayViewMut2,
    Axis, Dimension, Ix2, Ix3,
};

use crate::{Result, TensorError};

mod backward;
mod forward;

pub(crate) use backward::lstm_backward_parts;
pub use backward::{lstm_backward, lstm_backward_weights};
pub use forward::{lstm_forward, lstm_forward_inference, lstm_forward_masked};

const OP: &str = "lstm";
const OP_BACKWARD: &str = "lstm backward";

/// Elementwise operations per unit and step besides the two products: 4 bias additions, 4 gate activations,
/// 3 for the cell update, 1 `tanh` of the cell state and 1 product for the hidden state.
const GATE_FLOPS_PER_UNIT: u64 = 13;

/// The recurrent activation applied to the input, forget and output gates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateActivation {
    /// The logistic sigmoid `1 / (1 + e^{-x})`, Keras 3's default.
    Sigmoid,
    /// Keras 3's hard sigmoid `relu6(x + 3) / 6`, its derivative 1/6 inside `(-3, 3)` and 0 outside.
    HardSigmoid,
    /// Keras 1/2's hard sigmoid `clip(0.2·x + 0.5, 0, 1)`, its derivative 0.2 inside `(-2.5, 2.5)` and 0 outside.
    HardSigmoidKeras2,
}

impl GateActivation {
    /// The derivative at the pre-activation, computed from the activation's output `y`.
    #[inline(always)]
    pub(crate) fn derivative_from_output(self, y: f32) -> f32 {
        match self {
            GateActivation::Sigmoid => y * (1.0 - y),
            GateActivation::HardSigmoid if y > 0.0 && y < 1.0 => 1.0 / 6.0,
            GateActivation::HardSigmoidKeras2 if y > 0.0 && y < 1.0 => 0.2,
            GateActivation::HardSigmoid | GateActivation::HardSigmoidKeras2 => 0.0,
        }
    }
}

/// The weights of an LSTM layer, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct LstmParams<'a> {
    /// Input weights, `(input_dim, 4·units)`, gates in the order (i, f, c, o).
    pub kernel: ArrayView2<'a, f32>,
    /// Recurrent weights, `(units, 4·units)`.
    pub recurrent_kernel: ArrayView2<'a, f32>,
    /// Bias, `(4·units)`.
    pub bias: ArrayView1<'a, f32>,
    /// Activation of the input, forget and output gates.
    pub recurrent_activation: GateActivation,
}

/// Sizes of one LSTM evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LstmDims {
    batch: usize,
    time: usize,
    input_dim: usize,
    units: usize,
}

impl LstmDims {
    fn output_shape(&self, return_sequences: bool) -> Vec<usize> {
        if return_sequences {
            vec![self.batch, self.time, self.units]
        } else {
            vec![self.batch, self.units]
        }
    }
}

/// Everything the backward pass needs: the activated gates, cell states and hidden states of every step.
#[derive(Clone, Debug)]
pub struct LstmCache {
    dims: LstmDims,
    return_sequences: bool,
    /// `[batch, time, 4·units]`: i, f, o after the recurrent activation, the candidate after `tanh`.
    gates: Array3<f32>,
    /// `[batch, time, units]`.
    cells: Array3<f32>,
    /// `[batch, time, units]`.
    hidden: Array3<f32>,
    /// The timestep mask of the forward pass, when there was one.
    mask: Option<super::step_mask::StepMask>,
}

impl Drop for LstmCache {
    /// Hands the state buffers back to this thread's [`crate::buffer_pool`].
    fn drop(&mut self) {
        crate::buffer_pool::give_array(std::mem::take(&mut self.gates));
        crate::buffer_pool::give_array(std::mem::take(&mut self.cells));
        crate::buffer_pool::give_array(std::mem::take(&mut self.hidden));
    }
}

impl LstmCache {
    /// Hidden states `h_t` of every step, `[batch, time, units]`.
    pub fn hidden_states(&self) -> ArrayView3<'_, f32> {
        self.hidden.view()
    }

    /// Cell states `c_t` of every step, `[batch, time, units]`.
    pub fn cell_states(&self) -> ArrayView3<'_, f32> {
        self.cells.view()
    }

    /// Activated gates of every step, `[batch, time, 4·units]` in the order (i, f, tanh(z_c), o); a masked
    /// step's row holds only its input projection (no arithmetic runs for it).
    pub fn gates(&self) -> ArrayView3<'_, f32> {
        self.gates.view()
    }

    /// Whether the forward pass returned the whole sequence.
    pub fn return_sequences(&self) -> bool {
        self.return_sequences
    }
}

/// Gradients of a scalar loss with respect to the LSTM's input and weights.
#[derive(Clone, Debug)]
pub struct LstmGrads {
    /// `[batch, time, input_dim]`.
    pub x: Array3<f32>,
    /// `(input_dim, 4·units)`.
    pub kernel: Array2<f32>,
    /// `(units, 4·units)`.
    pub recurrent_kernel: Array2<f32>,
    /// `(4·units)`.
    pub bias: Array1<f32>,
}

/// Gradients of a scalar loss with respect to the LSTM's weights alone ([`lstm_backward_weights`]).
#[derive(Clone, Debug)]
pub struct LstmWeightGrads {
    /// `(input_dim, 4·units)`.
    pub kernel: Array2<f32>,
    /// `(units, 4·units)`.
    pub recurrent_kernel: Array2<f32>,
    /// `(4·units)`.
    pub bias: Array1<f32>,
}

/// Views a tensor as an LSTM input `[batch, time, input_dim]`, or names its shape in an error.
pub fn lstm_input<'a>(x: ArrayViewD<'a, f32>) -> Result<ArrayView3<'a, f32>> {
    let shape = x.shape().to_vec();
    x.into_dimensionality::<Ix3>().map_err(|_| {
        TensorError::invalid_shape(
            OP,
            &shape,
            "expected an input of rank 3 [batch, time, features]",
        )
    })
}

/// Nominal floating-point operations of one forward pass: `2·batch·time·(input_dim + units)·4·units` for the
/// products plus 13 elementwise operations per unit and step for the gates (each activation counted as one).
/// The first step's recurrent product is counted although the kernel skips it (`h₀ = 0`).
///
/// ```
/// // The bAbI memory network's LSTM: 5 373 952 in the products and 53 248 in the gates.
/// assert_eq!(rkeras_tensor::kernels::lstm::lstm_flops(32, 4, 132, 32), 5_427_200);
/// ```
pub fn lstm_flops(batch: usize, time: usize, input_dim: usize, units: usize) -> u64 {
    let steps = (batch as u64).saturating_mul(time as u64);
    let units = units as u64;
    let products = steps
        .saturating_mul(2)
        .saturating_mul((input_dim as u64).saturating_add(units))
        .saturating_mul(units.saturating_mul(4));
    let gates = steps
        .saturating_mul(units)
        .saturating_mul(GATE_FLOPS_PER_UNIT);
    products.saturating_add(gates)
}

/// Checks the weights against each other and against `x`'s shape, and returns the sizes.
fn validate(op: &'static str, x_shape: &[usize], params: &LstmParams) -> Result<LstmDims> {
    let &[batch, time, input_dim] = x_shape else {
        return Err(TensorError::invalid_shape(
            op,
            x_shape,
            "expected an input of rank 3 [batch, time, features]",
        ));
    };
    let (units, recurrent_cols) = params.recurrent_kernel.dim();
    if units == 0 || recurrent_cols != 4 * units {
        return Err(TensorError::invalid_shape(
            op,
            params.recurrent_kernel.shape(),
            "recurrent_kernel must have shape (units, 4·units) with units ≥ 1",
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
    if kernel_cols != 4 * units {
        return Err(TensorError::invalid_shape(
            op,
            params.kernel.shape(),
            format!(
                "kernel must have shape (input_dim, 4·units) = ({input_dim}, {})",
                4 * units
            ),
        ));
    }
    if params.bias.len() != 4 * units {
        return Err(TensorError::invalid_shape(
            op,
            params.bias.shape(),
            format!("bias must have length 4·units = {}", 4 * units),
        ));
    }
    Ok(LstmDims {
        batch,
        time,
        input_dim,
        units,
    })
}

/// `c ← a·b + beta·c`: where this kernel multiplies matrices (but for the backward pass's `dGates·Uᵀ`, which
/// reads a copy of `Uᵀ`). Every destination `c` is a contiguous buffer; only the operands `a` and `b` may be
/// strided views.
fn matmul_into(
    a: &ArrayView2<f32>,
    b: &ArrayView2<f32>,
    beta: f32,
    c: &mut ArrayViewMut2<f32>,
) -> Result<()> {
    if a.ncols() != b.nrows() || c.dim() != (a.nrows(), b.ncols()) || !c.is_standard_layout() {
        return Err(internal(format!(
            "product of {:?} and {:?} into {:?}",
            a.shape(),
            b.shape(),
            c.shape()
        )));
    }
    super::step_product::step_matmul_into(c.view_mut(), a.view(), b.view(), beta)
}

/// A standard-layout `[batch, time, features]` array seen as `[batch·time, features]` rows.
fn rows_view(x: ArrayView3<'_, f32>, rows: usize, cols: usize) -> Result<ArrayView2<'_, f32>> {
    x.into_shape_with_order((rows, cols))
        .map_err(shape_internal)
}

fn flat<D: Dimension>(a: &ndarray::Array<f32, D>) -> Result<&[f32]> {
    a.as_slice()
        .ok_or_else(|| internal("state buffer is not contiguous"))
}

fn flat_mut<D: Dimension>(a: &mut ndarray::Array<f32, D>) -> Result<&mut [f32]> {
    a.as_slice_mut()
        .ok_or_else(|| internal("state buffer is not contiguous"))
}

fn internal(reason: impl Into<String>) -> TensorError {
    TensorError::Internal {
        op: OP,
        reason: reason.into(),
    }
}

fn shape_internal(error: ndarray::ShapeError) -> TensorError {
    internal(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, IxDyn, array};

    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    fn assert_close(actual: f32, expected: f64) {
        assert!(
            (f64::from(actual) - expected).abs() < 1e-6,
            "{actual} differs from {expected}"
        );
    }

    struct Weights {
        kernel: Array2<f32>,
        recurrent_kernel: Array2<f32>,
        bias: Array1<f32>,
    }

    impl Weights {
        fn zeros(input_dim: usize, units: usize) -> Self {
            Weights {
                kernel: Array2::zeros((input_dim, 4 * units)),
                recurrent_kernel: Array2::zeros((units, 4 * units)),
                bias: Array1::zeros(4 * units),
            }
        }

        fn params(&self, recurrent_activation: GateActivation) -> LstmParams<'_> {
            LstmParams {
                kernel: self.kernel.view(),
                recurrent_kernel: self.recurrent_kernel.view(),
                bias: self.bias.view(),
                recurrent_activation,
            }
        }
    }

    /// One input, one unit: kernel (0, 0, 1, 0), recurrent kernel (0, 0, 0, 2), bias (0, ln 3, 0, 0).
    fn one_unit_sigmoid_weights() -> Weights {
        Weights {
            kernel: array![[0.0, 0.0, 1.0, 0.0]],
            recurrent_kernel: array![[0.0, 0.0, 0.0, 2.0]],
            bias: array![0.0, 3f32.ln(), 0.0, 0.0],
        }
    }

    #[test]
    fn two_steps_with_sigmoid_match_the_hand_derivation() {
        // x = (1, 2).
        // Step 1: z = (0, ln 3, 1, 0) → i = 1/2, f = σ(ln 3) = 3/4, tanh(z_c) = tanh 1, o = 1/2;
        //         c1 = 3/4·0 + 1/2·tanh 1, h1 = 1/2·tanh(c1).
        // Step 2: z = (0, ln 3, 2, 2·h1) → i = 1/2, f = 3/4, tanh(z_c) = tanh 2, o = σ(2·h1);
        //         c2 = 3/4·c1 + 1/2·tanh 2, h2 = σ(2·h1)·tanh(c2).
        let weights = one_unit_sigmoid_weights();
        let x = array![[[1.0f32], [2.0]]];
        let (output, cache) =
            lstm_forward(x.view(), &weights.params(GateActivation::Sigmoid), true).unwrap();
        let c1 = 0.5 * 1f64.tanh();
        let h1 = 0.5 * c1.tanh();
        let c2 = 0.75 * c1 + 0.5 * 2f64.tanh();
        let h2 = sigmoid(2.0 * h1) * c2.tanh();
        assert_eq!(output.shape(), &[1, 2, 1]);
        assert_close(output[[0, 0, 0]], h1);
        assert_close(output[[0, 1, 0]], h2);
        assert_close(cache.cell_states()[[0, 0, 0]], c1);
        assert_close(cache.cell_states()[[0, 1, 0]], c2);
        assert_close(cache.gates()[[0, 1, 1]], 0.75);
        assert_close(cache.gates()[[0, 1, 3]], sigmoid(2.0 * h1));

        let last =
            lstm_forward_inference(x.view(), &weights.params(GateActivation::Sigmoid), false)
                .unwrap();
        assert_eq!(last.shape(), &[1, 1]);
        assert_close(last[[0, 0]], h2);
    }

    #[test]
    fn two_steps_with_hard_sigmoid_match_the_hand_derivation() {
        // kernel (3, 0, 1, 0), recurrent kernel (0, 0, 0, 2), bias (0, 1.25, 0, 0), x = (1, 2).
        // Step 1: z = (3, 1.25, 1, 0) → i = clip(0.6 + 0.5) = 1, f = 0.25 + 0.5 = 0.75, tanh 1, o = 0.5;
        //         c1 = tanh 1, h1 = 0.5·tanh(tanh 1).
        // Step 2: z = (6, 1.25, 2, 2·h1) → i = 1, f = 0.75, tanh 2, o = 0.4·h1 + 0.5;
        //         c2 = 0.75·tanh 1 + tanh 2, h2 = (0.4·h1 + 0.5)·tanh(c2).
        let weights = Weights {
            kernel: array![[3.0, 0.0, 1.0, 0.0]],
            recurrent_kernel: array![[0.0, 0.0, 0.0, 2.0]],
            bias: array![0.0, 1.25, 0.0, 0.0],
        };
        let params = weights.params(GateActivation::HardSigmoidKeras2);
        let x = array![[[1.0f32], [2.0]]];
        let (output, cache) = lstm_forward(x.view(), &params, false).unwrap();
        let c1 = 1f64.tanh();
        let h1 = 0.5 * c1.tanh();
        let c2 = 0.75 * c1 + 2f64.tanh();
        let h2 = (0.4 * h1 + 0.5) * c2.tanh();
        assert_eq!(output.shape(), &[1, 1]);
        assert_close(output[[0, 0]], h2);
        assert_close(cache.hidden_states()[[0, 0, 0]], h1);

        // The input gate is saturated at both steps (z_i = 3 and 6 are beyond 2.5), so nothing flows
        // through it: the gradients of its kernel and bias entries are exactly zero.
        let grads = lstm_backward(
            x.view(),
            &params,
            &cache,
            Array2::ones((1, 1)).into_dyn().view(),
        )
        .unwrap();
        assert_eq!(grads.kernel[[0, 0]], 0.0);
        assert_eq!(grads.bias[0], 0.0);
        assert!(grads.bias[2] > 0.0);
    }

    #[test]
    fn one_step_gradients_match_the_hand_derivation() {
        // x = (1): i = 1/2, f = 3/4, g = tanh 1, o = 1/2, c1 = g/2, h1 = tanh(c1)/2.
        // dh1/dz_o = σ'(0)·tanh(c1) = tanh(c1)/4
        // dh1/dc1  = o·(1 − tanh²c1) = (1 − tanh²c1)/2 =: dc
        // dh1/dz_i = dc·g·σ'(0) = dc·tanh(1)/4;  dh1/dz_f = dc·c0·… = 0;  dh1/dz_c = dc·i·(1 − g²)
        // With x = 1 the kernel gradient equals the bias gradient; dh1/dx = Σ kernel·dz = dh1/dz_c;
        // h0 = 0, so the recurrent kernel gets no gradient.
        let weights = one_unit_sigmoid_weights();
        let params = weights.params(GateActivation::Sigmoid);
        let x = array![[[1.0f32]]];
        let (_, cache) = lstm_forward(x.view(), &params, true).unwrap();
        let grads = lstm_backward(
            x.view(),
            &params,
            &cache,
            Array3::ones((1, 1, 1)).into_dyn().view(),
        )
        .unwrap();
        let g = 1f64.tanh();
        let c1 = 0.5 * g;
        let dc = 0.5 * (1.0 - c1.tanh().powi(2));
        let expected_bias = [
            dc * g * 0.25,
            0.0,
            dc * 0.5 * (1.0 - g * g),
            0.25 * c1.tanh(),
        ];
        for (gate, expected) in expected_bias.iter().enumerate() {
            assert_close(grads.bias[gate], *expected);
            assert_close(grads.kernel[[0, gate]], *expected);
            assert_eq!(grads.recurrent_kernel[[0, gate]], 0.0);
        }
        assert_close(grads.x[[0, 0, 0]], expected_bias[2]);
    }

    #[test]
    fn zero_steps_return_the_initial_state_and_zero_gradients() {
        let weights = one_unit_sigmoid_weights();
        let params = weights.params(GateActivation::Sigmoid);
        let x = Array3::<f32>::zeros((2, 0, 1));
        let (last, cache) = lstm_forward(x.view(), &params, false).unwrap();
        assert_eq!(last, Array::zeros(IxDyn(&[2, 1])));
        let grads = lstm_backward(
            x.view(),
            &params,
            &cache,
            Array2::ones((2, 1)).into_dyn().view(),
        )
        .unwrap();
        assert_eq!(grads.x.shape(), &[2, 0, 1]);
        assert!(
            grads
                .kernel
                .iter()
                .chain(grads.recurrent_kernel.iter())
                .chain(grads.bias.iter())
                .all(|&g| g == 0.0)
        );

        let (sequence, cache) = lstm_forward(x.view(), &params, true).unwrap();
        assert_eq!(sequence.shape(), &[2, 0, 1]);
        let grads = lstm_backward(x.view(), &params, &cache, sequence.view()).unwrap();
        assert!(grads.bias.iter().all(|&g| g == 0.0));
    }

    #[test]
    fn an_empty_batch_gives_empty_outputs() {
        let weights = Weights::zeros(3, 2);
        let params = weights.params(GateActivation::HardSigmoidKeras2);
        let x = Array3::<f32>::zeros((0, 4, 3));
        let (output, cache) = lstm_forward(x.view(), &params, true).unwrap();
        assert_eq!(output.shape(), &[0, 4, 2]);
        let grads = lstm_backward(x.view(), &params, &cache, output.view()).unwrap();
        assert_eq!(grads.x.shape(), &[0, 4, 3]);
        assert_eq!(grads.kernel, Array2::zeros((3, 8)));
    }

    fn expect_invalid_shape(result: Result<(ArrayD<f32>, LstmCache)>, expected_shape: &[usize]) {
        match result {
            Err(error @ TensorError::InvalidShape { op: "lstm", .. }) => {
                let TensorError::InvalidShape { shape, .. } = &error else {
                    unreachable!()
                };
                assert_eq!(shape.as_slice(), expected_shape);
                assert!(
                    error.to_string().starts_with("lstm: invalid shape"),
                    "{error}"
                );
            }
            other => panic!("expected an lstm InvalidShape error, received {other:?}"),
        }
    }

    #[test]
    fn input_of_rank_other_than_three_is_rejected() {
        let x = Array::<f32, _>::zeros(IxDyn(&[2, 3]));
        let error = lstm_input(x.view()).unwrap_err();
        assert_eq!(
            error,
            TensorError::invalid_shape(
                "lstm",
                &[2, 3],
                "expected an input of rank 3 [batch, time, features]"
            )
        );
        let x = Array::<f32, _>::zeros(IxDyn(&[2, 3, 4]));
        assert_eq!(lstm_input(x.view()).unwrap().shape(), &[2, 3, 4]);
    }

    #[test]
    fn kernel_rows_must_match_the_input_features() {
        let weights = Weights::zeros(5, 2);
        let x = Array3::<f32>::zeros((2, 3, 4));
        let error =
            lstm_forward(x.view(), &weights.params(GateActivation::Sigmoid), false).unwrap_err();
        assert_eq!(
            error,
            TensorError::shape_mismatch("lstm", &[2, 3, 4], &[5, 8])
        );
    }

    #[test]
    fn kernel_columns_must_be_four_times_units() {
        let mut weights = Weights::zeros(4, 2);
        weights.kernel = Array2::zeros((4, 6));
        let x = Array3::<f32>::zeros((2, 3, 4));
        expect_invalid_shape(
            lstm_forward(x.view(), &weights.params(GateActivation::Sigmoid), false),
            &[4, 6],
        );
    }

    #[test]
    fn recurrent_kernel_must_be_units_by_four_units() {
        let x = Array3::<f32>::zeros((2, 3, 4));
        for shape in [(2, 6), (3, 8), (0, 0)] {
            let mut weights = Weights::zeros(4, 2);
            weights.recurrent_kernel = Array2::zeros(shape);
            expect_invalid_shape(
                lstm_forward(x.view(), &weights.params(GateActivation::Sigmoid), true),
                &[shape.0, shape.1],
            );
        }
    }

    #[test]
    fn bias_must_have_four_times_units_entries() {
        let mut weights = Weights::zeros(4, 2);
        weights.bias = Array1::zeros(7);
        let x = Array3::<f32>::zeros((2, 3, 4));
        expect_invalid_shape(
            lstm_forward(
                x.view(),
                &weights.params(GateActivation::HardSigmoidKeras2),
                false,
            ),
            &[7],
        );
        let error = lstm_forward_inference(
            x.view(),
            &weights.params(GateActivation::HardSigmoidKeras2),
            false,
        )
        .unwrap_err();
        assert!(matches!(
            error,
            TensorError::InvalidShape { op: "lstm", .. }
        ));
    }

    #[test]
    fn backward_rejects_a_gradient_of_the_wrong_shape() {
        let weights = Weights::zeros(4, 2);
        let params = weights.params(GateActivation::Sigmoid);
        let x = Array3::<f32>::zeros((2, 3, 4));
        let (_, cache) = lstm_forward(x.view(), &params, false).unwrap();
        let wrong = Array3::<f32>::zeros((2, 3, 2)).into_dyn();
        let error = lstm_backward(x.view(), &params, &cache, wrong.view()).unwrap_err();
        assert_eq!(
            error,
            TensorError::shape_mismatch("lstm backward", &[2, 3, 2], &[2, 2])
        );

        let (_, cache) = lstm_forward(x.view(), &params, true).unwrap();
        let wrong = Array2::<f32>::zeros((2, 2)).into_dyn();
        let error = lstm_backward(x.view(), &params, &cache, wrong.view()).unwrap_err();
        assert_eq!(
            error,
            TensorError::shape_mismatch("lstm backward", &[2, 2], &[2, 3, 2])
        );
    }

    #[test]
    fn backward_rejects_inputs_or_weights_other_than_the_cached_ones() {
        let weights = Weights::zeros(4, 2);
        let params = weights.params(GateActivation::Sigmoid);
        let x = Array3::<f32>::zeros((2, 3, 4));
        let (output, cache) = lstm_forward(x.view(), &params, true).unwrap();

        let longer = Array3::<f32>::zeros((2, 5, 4));
        let error = lstm_backward(longer.view(), &params, &cache, output.view()).unwrap_err();
        assert_eq!(
            error,
            TensorError::shape_mismatch("lstm backward", &[2, 5, 4], &[2, 3, 4])
        );

        let wider = Weights::zeros(4, 3);
        let error = lstm_backward(
            x.view(),
            &wider.params(GateActivation::Sigmoid),
            &cache,
            output.view(),
        )
        .unwrap_err();
        assert_eq!(
            error,
            TensorError::shape_mismatch("lstm backward", &[3, 12], &[2, 8])
        );

        let mut bad_bias = Weights::zeros(4, 2);
        bad_bias.bias = Array1::zeros(3);
        let error = lstm_backward(
            x.view(),
            &bad_bias.params(GateActivation::Sigmoid),
            &cache,
            output.view(),
        )
        .unwrap_err();
        assert!(matches!(
            error,
            TensorError::InvalidShape {
                op: "lstm backward",
                ..
            }
        ));
    }

    #[test]
    fn flops_count_products_and_gates() {
        // 2·32·4·(132 + 32)·128 = 5 373 952 in the products, 13·32·4·32 = 53 248 in the gates.
        assert_eq!(lstm_flops(32, 4, 132, 32), 5_373_952 + 53_248);
        assert_eq!(lstm_flops(0, 4, 132, 32), 0);
        assert_eq!(lstm_flops(usize::MAX, usize::MAX, 1, 1), u64::MAX);
    }
}
