//! The LSTM's forward pass: every step's gates, cell and hidden states.

use super::*;
use crate::kernels::activation::{hard_sigmoid, hard_sigmoid_keras2, sigmoid};
use crate::kernels::per_target::per_target;
use crate::kernels::step_mask::{StepMask, gather_rows, kept_samples, skips};
use ndarray::s;

/// Runs the LSTM over `x: [batch, time, input_dim]` and keeps what [`lstm_backward`] needs.
///
/// Returns `[batch, time, units]` with `return_sequences`, otherwise the last hidden state `[batch, units]`.
pub fn lstm_forward(
    x: ArrayView3<f32>,
    params: &LstmParams,
    return_sequences: bool,
) -> Result<(ArrayD<f32>, LstmCache)> {
    lstm_forward_masked(x, params, None, return_sequences)
}

/// [`lstm_forward`] with Keras's timestep mask `[batch, time]`: at a step whose mask is 0 a sample's cell and
/// hidden states (and so its output) are carried through unchanged from the previous step (zeros before the
/// first), as Keras's `RNN` does with `zero_output_for_mask=False`. The cache keeps the mask for
/// [`lstm_backward`], which then sends no gradient to masked steps' inputs and gates.
pub fn lstm_forward_masked(
    x: ArrayView3<f32>,
    params: &LstmParams,
    mask: Option<ArrayView2<f32>>,
    return_sequences: bool,
) -> Result<(ArrayD<f32>, LstmCache)> {
    let dims = validate(OP, x.shape(), params)?;
    let mask = StepMask::new(OP, mask, dims.batch, dims.time)?;
    let states = run_forward(x, params, dims, mask.as_ref())?;
    let output = if return_sequences {
        crate::pooled::to_owned(&states.hidden).into_dyn()
    } else {
        last_hidden(&states.hidden, dims)
    };
    let cache = LstmCache {
        dims,
        return_sequences,
        gates: states.gates,
        cells: states.cells,
        hidden: states.hidden,
        mask,
    };
    Ok((output, cache))
}

/// [`lstm_forward`] without keeping a cache.
pub fn lstm_forward_inference(
    x: ArrayView3<f32>,
    params: &LstmParams,
    return_sequences: bool,
) -> Result<ArrayD<f32>> {
    let dims = validate(OP, x.shape(), params)?;
    let ForwardStates {
        gates,
        cells,
        hidden,
    } = run_forward(x, params, dims, None)?;
    crate::buffer_pool::give_array(gates);
    crate::buffer_pool::give_array(cells);
    Ok(if return_sequences {
        hidden.into_dyn()
    } else {
        let last = last_hidden(&hidden, dims);
        crate::buffer_pool::give_array(hidden);
        last
    })
}

/// States of every step, batch-major.
pub(super) struct ForwardStates {
    pub(super) gates: Array3<f32>,
    pub(super) cells: Array3<f32>,
    pub(super) hidden: Array3<f32>,
}

pub(super) fn run_forward(
    x: ArrayView3<f32>,
    params: &LstmParams,
    dims: LstmDims,
    mask: Option<&StepMask>,
) -> Result<ForwardStates> {
    let LstmDims {
        batch,
        time,
        input_dim,
        units,
    } = dims;
    let gate_width = 4 * units;
    // Every row is overwritten by the input projection (`beta = 0`).
    let mut gates = crate::pooled::for_overwrite(Ix3(batch, time, gate_width));
    {
        // The input projection of every step at once; the bias is added when the gates are activated.
        let x_standard = x.as_standard_layout();
        let x_rows = rows_view(x_standard.view(), batch * time, input_dim)?;
        let mut gate_rows = gates
            .view_mut()
            .into_shape_with_order((batch * time, gate_width))
            .map_err(shape_internal)?;
        matmul_into(&x_rows, &params.kernel, 0.0, &mut gate_rows)?;
    }
    // Every step writes the cell and hidden state of every sample.
    let mut cells = crate::pooled::for_overwrite(Ix3(batch, time, units));
    let mut hidden = crate::pooled::for_overwrite(Ix3(batch, time, units));
    let bias_copy;
    let bias = match params.bias.as_slice() {
        Some(bias) => bias,
        None => {
            bias_copy = params.bias.to_vec();
            &bias_copy[..]
        }
    };
    let zero_state = crate::buffer_pool::take_zeroed(units);
    // h_{t-1}·recurrent_kernel of the kept samples of the current step, packed in front; zero for the first
    // step since h₀ = 0. A masked row needs no arithmetic at all.
    let mut recurrent = crate::pooled::zeros(Ix2(batch, gate_width));
    let mut kept_hidden = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut kept = Vec::with_capacity(batch);
    let mut kept_rows = Vec::with_capacity(batch);

    for step in 0..time {
        kept_samples(mask, batch, step, &mut kept);
        let n = kept.len();
        if step > 0 && n > 0 {
            kept_rows.clear();
            kept_rows.extend(kept.iter().map(|&b| b * time + step - 1));
            gather_rows(
                flat(&hidden)?,
                units,
                &kept_rows,
                flat_mut(&mut kept_hidden)?,
            );
            matmul_into(
                &kept_hidden.slice(s![..n, ..]),
                &params.recurrent_kernel,
                0.0,
                &mut recurrent.slice_mut(s![..n, ..]),
            )?;
        }
        let rows = &mut StepRows {
            gates: flat_mut(&mut gates)?,
            recurrent: flat(&recurrent)?,
            bias,
            zero_state: &zero_state,
            cells: flat_mut(&mut cells)?,
            hidden: flat_mut(&mut hidden)?,
        };
        let at = StepAt { step, time };
        match params.recurrent_activation {
            GateActivation::Sigmoid => sigmoid_step(rows, &kept, at),
            GateActivation::HardSigmoid => rows.run(&kept, at, hard_sigmoid),
            GateActivation::HardSigmoidKeras2 => rows.run(&kept, at, hard_sigmoid_keras2),
        }
        let (cells_flat, hidden_flat) = (&mut *rows.cells, &mut *rows.hidden);
        for sample in (0..batch).filter(|&b| skips(mask, b, step)) {
            // A masked step carries the previous states through (zeros before the first step).
            let row = sample * time + step;
            let current = row * units..(row + 1) * units;
            if step == 0 {
                cells_flat[current.clone()].fill(0.0);
                hidden_flat[current].fill(0.0);
            } else {
                cells_flat.copy_within((row - 1) * units..row * units, row * units);
                hidden_flat.copy_within((row - 1) * units..row * units, row * units);
            }
        }
    }
    crate::buffer_pool::give_array(recurrent);
    crate::buffer_pool::give_array(kept_hidden);
    crate::buffer_pool::give(zero_state);
    Ok(ForwardStates {
        gates,
        cells,
        hidden,
    })
}

/// The hidden state after the last step, `[batch, units]`; the zero initial state if there are no steps.
pub(super) fn last_hidden(hidden: &Array3<f32>, dims: LstmDims) -> ArrayD<f32> {
    match dims.time {
        0 => crate::pooled::zeros(Ix2(dims.batch, dims.units)).into_dyn(),
        time => crate::pooled::to_owned(&hidden.index_axis(Axis(1), time - 1)).into_dyn(),
    }
}

/// Where one step sits in the batch-major buffers: sample `b`'s row is `b·time + step`.
#[derive(Clone, Copy)]
pub(super) struct StepAt {
    pub(super) step: usize,
    pub(super) time: usize,
}

/// The flat buffers of one step's gate pass: the gates (input projection in, activated gates out), cell and
/// hidden states of every row, the recurrent projections of the kept samples packed in front.
pub(super) struct StepRows<'a> {
    pub(super) gates: &'a mut [f32],
    pub(super) recurrent: &'a [f32],
    pub(super) bias: &'a [f32],
    /// `c₀ = 0`, `units` long.
    pub(super) zero_state: &'a [f32],
    pub(super) cells: &'a mut [f32],
    pub(super) hidden: &'a mut [f32],
}

impl StepRows<'_> {
    /// [`cell_forward`] for each kept sample `kept[i]` of the step (its recurrent projection at row `i`).
    #[inline(always)]
    pub(super) fn run(&mut self, kept: &[usize], at: StepAt, gate: impl Fn(f32) -> f32 + Copy) {
        let units = self.zero_state.len();
        let width = 4 * units;
        for (i, &sample) in kept.iter().enumerate() {
            let row = sample * at.time + at.step;
            // c_{t-1} sits just before c_t in the same sample's row block.
            let (before, current) = self.cells.split_at_mut(row * units);
            let cell_prev = if at.step == 0 {
                self.zero_state
            } else {
                &before[(row - 1) * units..]
            };
            cell_forward(
                &mut self.gates[row * width..(row + 1) * width],
                &self.recurrent[i * width..(i + 1) * width],
                self.bias,
                cell_prev,
                &mut current[..units],
                &mut self.hidden[row * units..(row + 1) * units],
                gate,
            );
        }
    }
}

per_target! {
/// The gate pass of one step's kept samples with the logistic sigmoid (Keras 3's default), compiled per
/// target: [`StepRows::run`], the same expressions in the same order, so the same bits on every target.
fn sigmoid_step(rows: &mut StepRows<'_>, kept: &[usize], at: StepAt) {
    rows.run(kept, at, sigmoid)
}
}

/// One cell update for one sample: completes the pre-activations `z` (i, f, c, o; the input projection) with
/// the recurrent projection and the bias, activates them in place with `gate` (and `tanh` for the candidate),
/// and writes the new cell and hidden state.
#[inline(always)]
pub(super) fn cell_forward(
    z: &mut [f32],
    recurrent: &[f32],
    bias: &[f32],
    cell_prev: &[f32],
    cell: &mut [f32],
    hidden: &mut [f32],
    gate: impl Fn(f32) -> f32,
) {
    for ((z, r), b) in z.iter_mut().zip(recurrent).zip(bias) {
        *z += r + b;
    }
    let units = cell.len();
    let (z_i, rest) = z.split_at_mut(units);
    let (z_f, rest) = rest.split_at_mut(units);
    let (z_c, z_o) = rest.split_at_mut(units);
    let (z_o, cell_prev, hidden) = (&mut z_o[..units], &cell_prev[..units], &mut hidden[..units]);
    let gates = CellGates { z_i, z_f, z_c, z_o };
    activate_cell(gates, cell_prev, cell, hidden, gate);
}

/// The four pre-activation blocks of one sample's gates (each `units` long), activated in place.
pub(super) struct CellGates<'a> {
    pub(super) z_i: &'a mut [f32],
    pub(super) z_f: &'a mut [f32],
    pub(super) z_c: &'a mut [f32],
    pub(super) z_o: &'a mut [f32],
}

#[inline(always)]
pub(super) fn activate_cell(
    gates: CellGates<'_>,
    cell_prev: &[f32],
    cell: &mut [f32],
    hidden: &mut [f32],
    gate: impl Fn(f32) -> f32,
) {
    let CellGates { z_i, z_f, z_c, z_o } = gates;
    // Simple loops over one slice each, which the compiler vectorizes (one fused loop does not).
    for block in [&mut *z_i, &mut *z_f, &mut *z_o] {
        for z in block.iter_mut() {
            *z = gate(*z);
        }
    }
    for z in z_c.iter_mut() {
        *z = crate::kernels::activation::tanh(*z);
    }
    let units = cell.len();
    let (z_i, z_f, z_c, z_o) = (&z_i[..units], &z_f[..units], &z_c[..units], &z_o[..units]);
    let (cell_prev, hidden) = (&cell_prev[..units], &mut hidden[..units]);
    for k in 0..units {
        cell[k] = z_f[k] * cell_prev[k] + z_i[k] * z_c[k];
    }
    for k in 0..units {
        hidden[k] = z_o[k] * crate::kernels::activation::tanh(cell[k]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::random_vec;

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    /// The sigmoid gate pass compiled per target gives the bits of the same loop built for baseline x86-64
    /// (37 units: vector tails), for the first step (`c₀ = 0`) and a later one, with a sample left out.
    #[test]
    fn the_per_target_gate_pass_gives_the_baseline_loops_bits() {
        let (batch, time, units) = (3, 2, 37);
        let width = 4 * units;
        let scaled = |len, seed, scale: f32| -> Vec<f32> {
            random_vec(len, seed).iter().map(|v| v * scale).collect()
        };
        let (gates, recurrent) = (
            scaled(batch * time * width, 1, 6.0),
            scaled(batch * width, 2, 2.0),
        );
        let (bias, cells) = (scaled(width, 3, 0.5), scaled(batch * time * units, 4, 1.5));
        let zero_state = vec![0.0f32; units];
        let kept = [0, 2];
        for step in 0..time {
            let run = |per_target: bool| {
                let (mut gates, mut cells) = (gates.clone(), cells.clone());
                let mut hidden = vec![0.0f32; batch * time * units];
                let rows = &mut StepRows {
                    gates: &mut gates,
                    recurrent: &recurrent,
                    bias: &bias,
                    zero_state: &zero_state,
                    cells: &mut cells,
                    hidden: &mut hidden,
                };
                let at = StepAt { step, time };
                if per_target {
                    sigmoid_step(rows, &kept, at);
                } else {
                    rows.run(&kept, at, sigmoid);
                }
                [gates, cells, hidden].map(|v| bits(&v))
            };
            assert_eq!(run(true), run(false), "step {step}");
        }
    }
}
