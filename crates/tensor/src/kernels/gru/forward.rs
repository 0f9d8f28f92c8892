//! The GRU's forward pass over every step.

use super::{GruCache, GruParams, OP, validate};
use crate::Result;
use crate::kernels::activation::{hard_sigmoid, hard_sigmoid_keras2, sigmoid, tanh};
use crate::kernels::lstm::GateActivation;
use crate::kernels::packed_rows::PackedRows;
use crate::kernels::per_target::per_target;
use crate::kernels::recurrent::{
    Dims, check_initial_state, flat_mut, internal, matmul_into, output_of, rows,
};
use crate::kernels::step_mask::{StepMask, gather_rows, kept_samples, scatter_rows};
use ndarray::{Array2, ArrayD, ArrayView2, ArrayView3, Axis, Ix2, Ix3, s};

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
    let cache = run_forward(x, params, initial_state, dims, mask, return_sequences)?;
    let output = output_of(&cache.hidden, initial_state, dims, return_sequences);
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

/// Gates and reset-gate inputs of the kept rows (packed), and hidden states of every step, batch-major.
fn run_forward(
    x: ArrayView3<f32>,
    params: &GruParams,
    initial_state: Option<ArrayView2<f32>>,
    dims: Dims,
    mask: Option<StepMask>,
    return_sequences: bool,
) -> Result<GruCache> {
    let Dims {
        batch,
        time,
        input_dim,
        units,
    } = dims;
    let width = 3 * units;
    let rows_count = batch * time;
    let packed = PackedRows::new(mask.as_ref(), rows_count);
    let kept_count = packed.len();
    // The input projection of the kept rows alone: a masked row needs no arithmetic at all.
    let mut gates = crate::pooled::for_overwrite(Ix2(rows_count, width));
    let x_kept = {
        let x_rows = rows(OP, x)?;
        match packed.kept() {
            Some(kept_rows) => {
                let mut x_kept = crate::pooled::for_overwrite(Ix2(rows_count, input_dim));
                gather_rows(
                    x_rows
                        .as_slice()
                        .ok_or_else(|| internal(OP, "input rows are not contiguous"))?,
                    input_dim,
                    kept_rows,
                    flat_mut(OP, &mut x_kept)?,
                );
                matmul_into(
                    OP,
                    &x_kept.slice(s![..kept_count, ..]),
                    &params.kernel,
                    0.0,
                    &mut gates.slice_mut(s![..kept_count, ..]),
                )?;
                Some(x_kept)
            }
            None => {
                matmul_into(
                    OP,
                    &x_rows.view(),
                    &params.kernel,
                    0.0,
                    &mut gates.view_mut(),
                )?;
                None
            }
        }
    };
    let mut reset_input = crate::pooled::for_overwrite(Ix2(rows_count, units));
    let mut hidden = crate::pooled::for_overwrite(Ix3(batch, time, units));
    // The current state h_{t-1}, updated in place to h_t at every step.
    let mut state: Array2<f32> = match initial_state {
        Some(h0) => crate::pooled::standard_copy(&h0),
        None => crate::pooled::zeros(Ix2(batch, units)),
    };
    let input_bias = params.input_bias.to_vec();
    let recurrent_bias = params.recurrent_bias.map(|b| b.to_vec());
    let reset_after = recurrent_bias.is_some();
    // The recurrent projection of one step: (z, r, h) with `reset_after`, (z, r) without.
    let recurrent_width = if reset_after { width } else { 2 * units };
    let recurrent_kernel = if reset_after {
        params.recurrent_kernel
    } else {
        params.recurrent_kernel.slice(s![.., ..2 * units])
    };
    // The kept samples' rows of one step, packed in front: a masked row needs no arithmetic at all.
    let mut kept_state = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut recurrent = crate::pooled::for_overwrite(Ix2(batch, recurrent_width));
    let mut kept_reset = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut candidate = crate::pooled::for_overwrite(Ix2(batch, units));
    let activation = params.recurrent_activation;

    let mut kept = Vec::with_capacity(batch);
    let mut slots = Vec::with_capacity(batch);
    for step in 0..time {
        kept_samples(mask.as_ref(), batch, step, &mut kept);
        slots.clear();
        slots.extend(kept.iter().map(|&b| packed.slot(b * time + step)));
        let n = kept.len();
        if n > 0 {
            gather_rows(
                flat_mut(OP, &mut state)?,
                units,
                &kept,
                flat_mut(OP, &mut kept_state)?,
            );
            matmul_into(
                OP,
                &kept_state.slice(s![..n, ..]),
                &recurrent_kernel,
                0.0,
                &mut recurrent.slice_mut(s![..n, ..]),
            )?;
            let gates_flat = flat_mut(OP, &mut gates)?;
            let reset_flat = flat_mut(OP, &mut reset_input)?;
            let recurrent_flat = flat_mut(OP, &mut recurrent)?;
            let state_flat = flat_mut(OP, &mut kept_state)?;
            if let (Some(b), GateActivation::Sigmoid) = (&recurrent_bias, activation) {
                let rows = &mut StepRows {
                    gates: gates_flat,
                    recurrent: recurrent_flat,
                    reset: reset_flat,
                    state: state_flat,
                };
                sigmoid_reset_after_rows(rows, &slots, &input_bias, b);
            } else {
                for (i, &slot) in slots.iter().enumerate() {
                    let step_row = StepRow {
                        g: &mut gates_flat[slot * width..(slot + 1) * width],
                        u: &recurrent_flat[i * recurrent_width..(i + 1) * recurrent_width],
                        reset: &mut reset_flat[slot * units..(slot + 1) * units],
                        h: &mut state_flat[i * units..(i + 1) * units],
                    };
                    match &recurrent_bias {
                        Some(b) => step_row.reset_after(activation, &input_bias, b),
                        None => step_row.reset_before(activation, &input_bias),
                    }
                }
            }
            if !reset_after {
                // ĥ needs (r·h_{t-1})·U_h of every kept sample before the state can move on.
                gather_rows(
                    flat_mut(OP, &mut reset_input)?,
                    units,
                    &slots,
                    flat_mut(OP, &mut kept_reset)?,
                );
                let h_kernel = params.recurrent_kernel.slice(s![.., 2 * units..]);
                matmul_into(
                    OP,
                    &kept_reset.slice(s![..n, ..]),
                    &h_kernel,
                    0.0,
                    &mut candidate.slice_mut(s![..n, ..]),
                )?;
                let gates_flat = flat_mut(OP, &mut gates)?;
                let candidate_flat = flat_mut(OP, &mut candidate)?;
                let state_flat = flat_mut(OP, &mut kept_state)?;
                for (i, &slot) in slots.iter().enumerate() {
                    let g = &mut gates_flat[slot * width..(slot + 1) * width];
                    let c = &candidate_flat[i * units..(i + 1) * units];
                    let h = &mut state_flat[i * units..(i + 1) * units];
                    candidate_update(g, c, &input_bias[2 * units..], h);
                }
            }
            scatter_rows(
                flat_mut(OP, &mut kept_state)?,
                units,
                &kept,
                flat_mut(OP, &mut state)?,
            );
        }
        hidden.index_axis_mut(Axis(1), step).assign(&state);
    }
    for buffer in [recurrent, candidate, state, kept_state, kept_reset] {
        crate::buffer_pool::give_array(buffer);
    }
    Ok(GruCache {
        dims,
        return_sequences,
        reset_after,
        gates,
        reset_input,
        hidden,
        x_kept,
        packed,
        mask,
    })
}

/// The flat buffers of one step's gate pass: the gates and reset-gate inputs at the kept rows' slots, the
/// recurrent projections and states of the kept samples packed in front.
struct StepRows<'a> {
    gates: &'a mut [f32],
    recurrent: &'a [f32],
    reset: &'a mut [f32],
    state: &'a mut [f32],
}

per_target! {
/// The gate pass of one step's kept samples (`slots[i]` is sample `i`'s row) with `reset_after` and the logistic
/// sigmoid (the layer's defaults), compiled per target: [`StepRow::reset_after`] row after row, the same bits.
fn sigmoid_reset_after_rows(
    rows: &mut StepRows<'_>,
    slots: &[usize],
    input_bias: &[f32],
    recurrent_bias: &[f32],
) {
    let units = input_bias.len() / 3;
    let width = 3 * units;
    for (i, &slot) in slots.iter().enumerate() {
        StepRow {
            g: &mut rows.gates[slot * width..(slot + 1) * width],
            u: &rows.recurrent[i * width..(i + 1) * width],
            reset: &mut rows.reset[slot * units..(slot + 1) * units],
            h: &mut rows.state[i * units..(i + 1) * units],
        }
        .reset_after_with(input_bias, recurrent_bias, sigmoid);
    }
}
}

/// One sample's row of one step: the input projection `g` (overwritten with the activated gates), the recurrent
/// projection `u`, the reset-gate input to keep and the state `h`, all of `units` (or `3·units`) elements.
///
/// The loops run over exact-length slices, the activation chosen outside them, so that they vectorise; the
/// arithmetic per element is the same expression in the same order whatever the path.
struct StepRow<'a> {
    g: &'a mut [f32],
    u: &'a [f32],
    reset: &'a mut [f32],
    h: &'a mut [f32],
}

impl StepRow<'_> {
    /// Keras 3's `reset_after = true`: the gates, the candidate and the new state in one pass.
    fn reset_after(self, activation: GateActivation, input_bias: &[f32], recurrent_bias: &[f32]) {
        match activation {
            GateActivation::Sigmoid => self.reset_after_with(input_bias, recurrent_bias, sigmoid),
            GateActivation::HardSigmoid => {
                self.reset_after_with(input_bias, recurrent_bias, hard_sigmoid)
            }
            GateActivation::HardSigmoidKeras2 => {
                self.reset_after_with(input_bias, recurrent_bias, hard_sigmoid_keras2)
            }
        }
    }

    #[inline(always)]
    fn reset_after_with(
        self,
        input_bias: &[f32],
        recurrent_bias: &[f32],
        sigma: impl Fn(f32) -> f32,
    ) {
        let units = self.h.len();
        let (g_zr, g_h) = self.g.split_at_mut(2 * units);
        let (g_z, g_r) = g_zr.split_at_mut(units);
        let (u_z, u_r, u_h) = thirds(self.u, units);
        let (ib_z, ib_r, ib_h) = thirds(input_bias, units);
        let (rb_z, rb_r, rb_h) = thirds(recurrent_bias, units);
        let reset = &mut self.reset[..units];
        let h = &mut self.h[..units];
        for k in 0..units {
            let z = sigma(g_z[k] + ib_z[k] + u_z[k] + rb_z[k]);
            let r = sigma(g_r[k] + ib_r[k] + u_r[k] + rb_r[k]);
            g_z[k] = z;
            g_r[k] = r;
            let u_hk = u_h[k] + rb_h[k];
            let candidate = tanh(g_h[k] + ib_h[k] + r * u_hk);
            reset[k] = u_hk;
            g_h[k] = candidate;
            h[k] = z * h[k] + (1.0 - z) * candidate;
        }
    }

    /// Keras 2's `reset_after = false`: the gates and `r·h_{t-1}`; the candidate follows its own product.
    fn reset_before(self, activation: GateActivation, input_bias: &[f32]) {
        match activation {
            GateActivation::Sigmoid => self.reset_before_with(input_bias, sigmoid),
            GateActivation::HardSigmoid => self.reset_before_with(input_bias, hard_sigmoid),
            GateActivation::HardSigmoidKeras2 => {
                self.reset_before_with(input_bias, hard_sigmoid_keras2)
            }
        }
    }

    #[inline(always)]
    fn reset_before_with(self, input_bias: &[f32], sigma: impl Fn(f32) -> f32) {
        let units = self.h.len();
        let (g_z, rest) = self.g.split_at_mut(units);
        let g_r = &mut rest[..units];
        let (u_z, u_r) = (&self.u[..units], &self.u[units..2 * units]);
        let (ib_z, ib_r) = (&input_bias[..units], &input_bias[units..2 * units]);
        let reset = &mut self.reset[..units];
        let h = &self.h[..units];
        for k in 0..units {
            let z = sigma(g_z[k] + ib_z[k] + u_z[k]);
            let r = sigma(g_r[k] + ib_r[k] + u_r[k]);
            g_z[k] = z;
            g_r[k] = r;
            reset[k] = r * h[k];
        }
    }
}

/// `reset_after = false`'s second half of a step: the candidate from `(r·h_{t-1})·U_h` (`c`) and the new state.
fn candidate_update(g: &mut [f32], c: &[f32], input_bias_h: &[f32], h: &mut [f32]) {
    let units = h.len();
    let (g_z, rest) = g.split_at_mut(units);
    let g_h = &mut rest[units..2 * units];
    let (c, input_bias_h) = (&c[..units], &input_bias_h[..units]);
    for k in 0..units {
        let z = g_z[k];
        let candidate = tanh(g_h[k] + input_bias_h[k] + c[k]);
        g_h[k] = candidate;
        h[k] = z * h[k] + (1.0 - z) * candidate;
    }
}

/// The three `units`-long gate blocks (z, r, h) of a `3·units` row.
fn thirds(row: &[f32], units: usize) -> (&[f32], &[f32], &[f32]) {
    (
        &row[..units],
        &row[units..2 * units],
        &row[2 * units..3 * units],
    )
}
