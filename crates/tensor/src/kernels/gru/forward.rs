//! The GRU's forward pass over every step.

use super::{GruCache, GruParams, OP, validate};
use crate::Result;
use crate::kernels::recurrent::{
    Dims, check_initial_state, flat_mut, gate, internal, matmul_into, output_of, rows,
};
use crate::kernels::step_mask::{StepMask, skips};
use ndarray::{Array2, Array3, ArrayD, ArrayView2, ArrayView3, Axis, Ix2, Ix3, s};

/// Runs the GRU over `x: [batch, time, input_dim]` from `initial_state` (`[batch, units]`, zeros if `None`) and
/// keeps what [`super::gru_backward`] needs.
///
/// Returns `[batch, time, units]` with `return_sequences`, otherwise the last hidden state `[batch, units]`
/// (which is also the layer's final state).
pub fn gru_forward(
    x: ArrayView3<f32>,
    params: &GruParams,
    initial_state: Option<ArrayView2<f32>>,
    return_sequences: bool,
) -> Result<(ArrayD<f32>, GruCache)> {
    gru_forward_masked(x, params, initial_state, None, return_sequences)
}

/// [`gru_forward`] with Keras's timestep mask `[batch, time]`: at a step whose mask is 0 a sample's state (and
/// so its output) is carried through unchanged from the previous step (the initial state before the first), as
/// Keras's `RNN` does with `zero_output_for_mask=False`. The cache keeps the mask for
/// [`super::gru_backward`], which then sends no gradient to masked steps' inputs and gates.
pub fn gru_forward_masked(
    x: ArrayView3<f32>,
    params: &GruParams,
    initial_state: Option<ArrayView2<f32>>,
    mask: Option<ArrayView2<f32>>,
    return_sequences: bool,
) -> Result<(ArrayD<f32>, GruCache)> {
    let dims = validate(OP, x.shape(), params)?;
    check_initial_state(OP, initial_state, dims)?;
    let mask = StepMask::new(OP, mask, dims.batch, dims.time)?;
    let (gates, reset_input, hidden) = run_forward(x, params, initial_state, dims, mask.as_ref())?;
    let output = output_of(&hidden, initial_state, dims, return_sequences);
    let cache = GruCache {
        dims,
        return_sequences,
        reset_after: params.reset_after(),
        gates,
        reset_input,
        hidden,
        mask,
    };
    Ok((output, cache))
}

/// [`gru_forward`] without keeping a cache.
pub fn gru_forward_inference(
    x: ArrayView3<f32>,
    params: &GruParams,
    initial_state: Option<ArrayView2<f32>>,
    return_sequences: bool,
) -> Result<ArrayD<f32>> {
    let (output, cache) = gru_forward(x, params, initial_state, return_sequences)?;
    drop(cache);
    Ok(output)
}

/// Gates, reset-gate inputs and hidden states of every step, batch-major.
fn run_forward(
    x: ArrayView3<f32>,
    params: &GruParams,
    initial_state: Option<ArrayView2<f32>>,
    dims: Dims,
    mask: Option<&StepMask>,
) -> Result<(Array3<f32>, Array3<f32>, Array3<f32>)> {
    let Dims {
        batch, time, units, ..
    } = dims;
    let width = 3 * units;
    let mut gates = crate::pooled::for_overwrite(Ix3(batch, time, width));
    {
        let x_rows = rows(OP, x)?;
        let mut gate_rows = gates
            .view_mut()
            .into_shape_with_order((batch * time, width))
            .map_err(|e| internal(OP, e))?;
        matmul_into(OP, &x_rows.view(), &params.kernel, 0.0, &mut gate_rows)?;
    }
    let mut reset_input = crate::pooled::for_overwrite(Ix3(batch, time, units));
    let mut hidden = crate::pooled::for_overwrite(Ix3(batch, time, units));
    // The current state h_{t-1}, updated in place to h_t at every step.
    let mut state: Array2<f32> = match initial_state {
        Some(h0) => crate::pooled::standard_copy(&h0),
        None => crate::pooled::zeros(Ix2(batch, units)),
    };
    let input_bias = params.input_bias.to_vec();
    let recurrent_bias = params.recurrent_bias.map(|b| b.to_vec());
    let mut recurrent = crate::pooled::zeros(Ix2(batch, width));
    let mut candidate = crate::pooled::zeros(Ix2(batch, units));
    let activation = params.recurrent_activation;

    // The state before the step, kept when a sample skips it.
    let mut carried = Vec::new();
    for step in 0..time {
        let masked: Vec<usize> = (0..batch).filter(|&b| skips(mask, b, step)).collect();
        if !masked.is_empty() {
            let state_flat = flat_mut(OP, &mut state)?;
            carried.clear();
            for &sample in &masked {
                carried.extend_from_slice(&state_flat[sample * units..(sample + 1) * units]);
            }
        }
        let zr_kernel = params.recurrent_kernel.slice(s![.., ..2 * units]);
        match &recurrent_bias {
            Some(_) => matmul_into(
                OP,
                &state.view(),
                &params.recurrent_kernel,
                0.0,
                &mut recurrent.view_mut(),
            )?,
            None => {
                let mut zr = recurrent.slice_mut(s![.., ..2 * units]);
                let mut zr_buffer = crate::pooled::zeros(Ix2(batch, 2 * units));
                matmul_into(
                    OP,
                    &state.view(),
                    &zr_kernel,
                    0.0,
                    &mut zr_buffer.view_mut(),
                )?;
                zr.assign(&zr_buffer);
                crate::buffer_pool::give_array(zr_buffer);
            }
        }
        let gates_flat = flat_mut(OP, &mut gates)?;
        let reset_flat = flat_mut(OP, &mut reset_input)?;
        let recurrent_flat = flat_mut(OP, &mut recurrent)?;
        let state_flat = flat_mut(OP, &mut state)?;
        for sample in 0..batch {
            let row = sample * time + step;
            let g = &mut gates_flat[row * width..(row + 1) * width];
            let u = &recurrent_flat[sample * width..(sample + 1) * width];
            let reset = &mut reset_flat[row * units..(row + 1) * units];
            let h = &mut state_flat[sample * units..(sample + 1) * units];
            for k in 0..units {
                let (rb_z, rb_r) = recurrent_bias
                    .as_ref()
                    .map_or((0.0, 0.0), |b| (b[k], b[units + k]));
                let z = gate(activation, g[k] + input_bias[k] + u[k] + rb_z);
                let r = gate(
                    activation,
                    g[units + k] + input_bias[units + k] + u[units + k] + rb_r,
                );
                g[k] = z;
                g[units + k] = r;
                match &recurrent_bias {
                    Some(b) => {
                        let u_h = u[2 * units + k] + b[2 * units + k];
                        let candidate = crate::kernels::activation::tanh(
                            g[2 * units + k] + input_bias[2 * units + k] + r * u_h,
                        );
                        reset[k] = u_h;
                        g[2 * units + k] = candidate;
                        h[k] = z * h[k] + (1.0 - z) * candidate;
                    }
                    None => reset[k] = r * h[k],
                }
            }
        }
        if recurrent_bias.is_none() {
            // ĥ needs (r·h_{t-1})·U_h of every sample before the state can move on.
            let reset_step = reset_input.index_axis(Axis(1), step);
            let h_kernel = params.recurrent_kernel.slice(s![.., 2 * units..]);
            matmul_into(OP, &reset_step, &h_kernel, 0.0, &mut candidate.view_mut())?;
            let gates_flat = flat_mut(OP, &mut gates)?;
            let candidate_flat = flat_mut(OP, &mut candidate)?;
            let state_flat = flat_mut(OP, &mut state)?;
            for sample in 0..batch {
                let row = sample * time + step;
                let g = &mut gates_flat[row * width..(row + 1) * width];
                let c = &candidate_flat[sample * units..(sample + 1) * units];
                let h = &mut state_flat[sample * units..(sample + 1) * units];
                for k in 0..units {
                    let z = g[k];
                    let candidate = crate::kernels::activation::tanh(
                        g[2 * units + k] + input_bias[2 * units + k] + c[k],
                    );
                    g[2 * units + k] = candidate;
                    h[k] = z * h[k] + (1.0 - z) * candidate;
                }
            }
        }
        if !masked.is_empty() {
            let state_flat = flat_mut(OP, &mut state)?;
            for (i, &sample) in masked.iter().enumerate() {
                state_flat[sample * units..(sample + 1) * units]
                    .copy_from_slice(&carried[i * units..(i + 1) * units]);
            }
        }
        hidden.index_axis_mut(Axis(1), step).assign(&state);
    }
    crate::buffer_pool::give_array(recurrent);
    crate::buffer_pool::give_array(candidate);
    crate::buffer_pool::give_array(state);
    Ok((gates, reset_input, hidden))
}
