//! The SimpleRNN's forward pass over every step.

use super::{OP, SimpleRnnCache, SimpleRnnParams, validate};
use crate::Result;
use crate::kernels::recurrent::{
    Dims, check_initial_state, flat_mut, internal, matmul_into, output_of, previous_state, rows,
};
use crate::kernels::step_mask::{StepMask, skips};
use ndarray::{Array3, ArrayD, ArrayView2, ArrayView3, Ix2, Ix3};

/// Runs the SimpleRNN over `x: [batch, time, input_dim]` from `initial_state` (`[batch, units]`, zeros if
/// `None`) and keeps what [`super::simple_rnn_backward`] needs.
///
/// Returns `[batch, time, units]` with `return_sequences`, otherwise the last hidden state `[batch, units]`.
pub fn simple_rnn_forward(
    x: ArrayView3<f32>,
    params: &SimpleRnnParams,
    initial_state: Option<ArrayView2<f32>>,
    return_sequences: bool,
) -> Result<(ArrayD<f32>, SimpleRnnCache)> {
    simple_rnn_forward_masked(x, params, initial_state, None, return_sequences)
}

/// [`simple_rnn_forward`] with Keras's timestep mask `[batch, time]`: at a step whose mask is 0 a sample's
/// state (and so its output) is carried through unchanged (the initial state before the first step), as
/// Keras's `RNN` does with `zero_output_for_mask=False`; the backward pass then sends no gradient to masked
/// steps' inputs.
pub fn simple_rnn_forward_masked(
    x: ArrayView3<f32>,
    params: &SimpleRnnParams,
    initial_state: Option<ArrayView2<f32>>,
    mask: Option<ArrayView2<f32>>,
    return_sequences: bool,
) -> Result<(ArrayD<f32>, SimpleRnnCache)> {
    let dims = validate(OP, x.shape(), params)?;
    check_initial_state(OP, initial_state, dims)?;
    let mask = StepMask::new(OP, mask, dims.batch, dims.time)?;
    let hidden = run_forward(x, params, initial_state, dims, mask.as_ref())?;
    let output = output_of(&hidden, initial_state, dims, return_sequences);
    Ok((
        output,
        SimpleRnnCache {
            dims,
            return_sequences,
            hidden,
            mask,
        },
    ))
}

/// [`simple_rnn_forward`] without keeping a cache.
pub fn simple_rnn_forward_inference(
    x: ArrayView3<f32>,
    params: &SimpleRnnParams,
    initial_state: Option<ArrayView2<f32>>,
    return_sequences: bool,
) -> Result<ArrayD<f32>> {
    Ok(simple_rnn_forward(x, params, initial_state, return_sequences)?.0)
}

fn run_forward(
    x: ArrayView3<f32>,
    params: &SimpleRnnParams,
    initial_state: Option<ArrayView2<f32>>,
    dims: Dims,
    mask: Option<&StepMask>,
) -> Result<Array3<f32>> {
    let Dims {
        batch, time, units, ..
    } = dims;
    // The input projections of every step, activated in place step by step.
    let mut hidden = crate::pooled::for_overwrite(Ix3(batch, time, units));
    {
        let x_rows = rows(OP, x)?;
        let mut hidden_rows = hidden
            .view_mut()
            .into_shape_with_order((batch * time, units))
            .map_err(|e| internal(OP, e))?;
        matmul_into(OP, &x_rows.view(), &params.kernel, 0.0, &mut hidden_rows)?;
    }
    let bias = params.bias.to_vec();
    let zeros = crate::pooled::zeros(Ix2(batch, units));
    let mut recurrent = crate::pooled::zeros(Ix2(batch, units));
    for step in 0..time {
        {
            let previous = previous_state(&hidden, initial_state, &zeros, step);
            matmul_into(
                OP,
                &previous,
                &params.recurrent_kernel,
                0.0,
                &mut recurrent.view_mut(),
            )?;
        }
        let hidden_flat = flat_mut(OP, &mut hidden)?;
        let recurrent_flat = flat_mut(OP, &mut recurrent)?;
        for sample in 0..batch {
            let row = sample * time + step;
            let h = &mut hidden_flat[row * units..(row + 1) * units];
            let r = &recurrent_flat[sample * units..(sample + 1) * units];
            for ((h, r), b) in h.iter_mut().zip(r).zip(&bias) {
                *h = params.activation.apply(*h + r + b);
            }
            if skips(mask, sample, step) {
                // A masked step carries the previous state through.
                let current = row * units..(row + 1) * units;
                match (step, initial_state) {
                    (0, Some(h0)) => {
                        for (h, v) in hidden_flat[current].iter_mut().zip(h0.row(sample)) {
                            *h = *v;
                        }
                    }
                    (0, None) => hidden_flat[current].fill(0.0),
                    _ => hidden_flat.copy_within((row - 1) * units..row * units, row * units),
                }
            }
        }
    }
    crate::buffer_pool::give_array(recurrent);
    crate::buffer_pool::give_array(zeros);
    Ok(hidden)
}
