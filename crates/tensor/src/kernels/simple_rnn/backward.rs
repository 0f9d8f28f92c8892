//! The SimpleRNN's backward pass: backpropagation through time over the cached states.

use super::{OP_BACKWARD, SimpleRnnCache, SimpleRnnParams, validate};
use crate::kernels::recurrent::{
    check_initial_state, flat_mut, flush_subnormal, grad_steps, internal, matmul_into,
    previous_state, rows,
};
use crate::kernels::step_mask::skips;
use crate::{Result, TensorError};
use ndarray::{Array1, Array2, Array3, ArrayView2, ArrayView3, ArrayViewD, Axis, Ix2, Ix3};

/// Gradients of a scalar loss with respect to the SimpleRNN's input, weights and initial state.
#[derive(Clone, Debug)]
pub struct SimpleRnnGrads {
    /// `[batch, time, input_dim]`.
    pub x: Array3<f32>,
    /// `(input_dim, units)`.
    pub kernel: Array2<f32>,
    /// `(units, units)`.
    pub recurrent_kernel: Array2<f32>,
    /// `(units)`.
    pub bias: Array1<f32>,
    /// `[batch, units]` when an initial state was given.
    pub initial_state: Option<Array2<f32>>,
}

/// Backpropagation through time: the gradients of `sum(output · grad_output)`.
///
/// `x`, `params` and `initial_state` must be those of the [`super::simple_rnn_forward`] call that produced
/// `cache`; `grad_output` has that call's output shape.
pub fn simple_rnn_backward(
    x: ArrayView3<f32>,
    params: &SimpleRnnParams,
    initial_state: Option<ArrayView2<f32>>,
    cache: &SimpleRnnCache,
    grad_output: ArrayViewD<f32>,
) -> Result<SimpleRnnGrads> {
    let dims = validate(OP_BACKWARD, x.shape(), params)?;
    if dims != cache.dims {
        return Err(TensorError::shape_mismatch(
            OP_BACKWARD,
            &[dims.batch, dims.time, dims.input_dim, dims.units],
            &[
                cache.dims.batch,
                cache.dims.time,
                cache.dims.input_dim,
                cache.dims.units,
            ],
        ));
    }
    check_initial_state(OP_BACKWARD, initial_state, dims)?;
    let (grad_steps, first_output_step) =
        grad_steps(OP_BACKWARD, grad_output, dims, cache.return_sequences)?;
    let (batch, time, units) = (dims.batch, dims.time, dims.units);
    let hidden = cache
        .hidden
        .as_slice()
        .ok_or_else(|| internal(OP_BACKWARD, "states are not contiguous"))?;
    // Gradients of every step's pre-activation (every row is written).
    let mut d_pre = crate::pooled::for_overwrite(Ix3(batch, time, units));
    let mut d_step = crate::pooled::zeros(Ix2(batch, units));
    let mut d_hidden = crate::pooled::zeros(Ix2(batch, units));
    let mut d_recurrent_kernel = crate::pooled::zeros(Ix2(units, units));
    let zeros = crate::pooled::zeros(Ix2(batch, units));
    for step in (0..time).rev() {
        if step >= first_output_step {
            d_hidden += &grad_steps.index_axis(Axis(1), step - first_output_step);
        }
        {
            let d_pre_flat = flat_mut(OP_BACKWARD, &mut d_pre)?;
            let d_step_flat = flat_mut(OP_BACKWARD, &mut d_step)?;
            let d_hidden_flat = flat_mut(OP_BACKWARD, &mut d_hidden)?;
            for sample in 0..batch {
                let row = sample * time + step;
                if skips(cache.mask.as_ref(), sample, step) {
                    // No gradient reaches a masked step's pre-activation.
                    d_pre_flat[row * units..(row + 1) * units].fill(0.0);
                    d_step_flat[sample * units..(sample + 1) * units].fill(0.0);
                    continue;
                }
                for k in 0..units {
                    // Subnormal gradients are flushed to zero, as in the GRU and LSTM kernels.
                    let d = flush_subnormal(
                        d_hidden_flat[sample * units + k]
                            * params
                                .activation
                                .derivative_from_output(hidden[row * units + k]),
                    );
                    d_pre_flat[row * units + k] = d;
                    d_step_flat[sample * units + k] = d;
                }
            }
        }
        // A masked step passes its state's gradient straight to the previous state.
        let mask = cache.mask.as_ref();
        let masked: Vec<usize> = (0..batch).filter(|&b| skips(mask, b, step)).collect();
        let carried: Vec<f32> = {
            let d_hidden_flat = flat_mut(OP_BACKWARD, &mut d_hidden)?;
            masked
                .iter()
                .flat_map(|&b| d_hidden_flat[b * units..(b + 1) * units].to_vec())
                .collect()
        };
        let previous = previous_state(&cache.hidden, initial_state, &zeros, step);
        matmul_into(
            OP_BACKWARD,
            &previous.t(),
            &d_step.view(),
            1.0,
            &mut d_recurrent_kernel.view_mut(),
        )?;
        matmul_into(
            OP_BACKWARD,
            &d_step.view(),
            &params.recurrent_kernel.t(),
            0.0,
            &mut d_hidden.view_mut(),
        )?;
        let d_hidden_flat = flat_mut(OP_BACKWARD, &mut d_hidden)?;
        for (i, &sample) in masked.iter().enumerate() {
            d_hidden_flat[sample * units..(sample + 1) * units]
                .copy_from_slice(&carried[i * units..(i + 1) * units]);
        }
    }
    let x_rows = rows(OP_BACKWARD, x)?;
    let d_rows = d_pre
        .view()
        .into_shape_with_order((batch * time, units))
        .map_err(|e| internal(OP_BACKWARD, e))?;
    let mut d_kernel = crate::pooled::for_overwrite(Ix2(dims.input_dim, units));
    matmul_into(
        OP_BACKWARD,
        &x_rows.t(),
        &d_rows,
        0.0,
        &mut d_kernel.view_mut(),
    )?;
    let mut d_x = crate::pooled::for_overwrite(Ix3(batch, time, dims.input_dim));
    {
        let mut d_x_rows = d_x
            .view_mut()
            .into_shape_with_order((batch * time, dims.input_dim))
            .map_err(|e| internal(OP_BACKWARD, e))?;
        matmul_into(OP_BACKWARD, &d_rows, &params.kernel.t(), 0.0, &mut d_x_rows)?;
    }
    let d_bias = crate::pooled::sum_axis(&d_rows, Axis(0));
    let d_initial_state = initial_state.map(|_| d_hidden.clone());
    crate::buffer_pool::give_array(d_pre);
    crate::buffer_pool::give_array(d_step);
    Ok(SimpleRnnGrads {
        x: d_x,
        kernel: d_kernel,
        recurrent_kernel: d_recurrent_kernel,
        bias: d_bias,
        initial_state: d_initial_state,
    })
}
