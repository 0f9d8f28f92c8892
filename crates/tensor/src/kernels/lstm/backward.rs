//! The LSTM's backward pass: backpropagation through time from the states the forward pass kept.

use super::*;
use crate::kernels::per_target::per_target;
use crate::kernels::recurrent::{flush_subnormal, input_gradients};
use crate::kernels::step_mask::{gather_rows, kept_samples, scatter_rows, skips};
use crate::kernels::step_product::step_matmul_into_copied;
use ndarray::s;

/// Backpropagation through time: the gradients of `sum(output · grad_output)`.
///
/// `x` and `params` must be those given to the [`lstm_forward`] call that produced `cache`; `grad_output` has
/// that call's output shape (`[batch, time, units]` or `[batch, units]`).
pub fn lstm_backward(
    x: ArrayView3<f32>,
    params: &LstmParams,
    cache: &LstmCache,
    grad_output: ArrayViewD<f32>,
) -> Result<LstmGrads> {
    let (d_x, weights) = lstm_backward_parts(x, params, cache, grad_output, true)?;
    let d_x = d_x.ok_or_else(|| internal("the input's gradient was not computed"))?;
    Ok(LstmGrads {
        x: d_x,
        kernel: weights.kernel,
        recurrent_kernel: weights.recurrent_kernel,
        bias: weights.bias,
    })
}

/// [`lstm_backward`] without the input's gradient, for an input that needs none (a model's first layer): the
/// same weight gradients, bit for bit, without the product `dx = dGates·kernelᵀ`.
pub fn lstm_backward_weights(
    x: ArrayView3<f32>,
    params: &LstmParams,
    cache: &LstmCache,
    grad_output: ArrayViewD<f32>,
) -> Result<LstmWeightGrads> {
    Ok(lstm_backward_parts(x, params, cache, grad_output, false)?.1)
}

/// The gradients of the weights, and the input's when `input_gradient` (the op asks for it when its input needs
/// a gradient).
pub(crate) fn lstm_backward_parts(
    x: ArrayView3<f32>,
    params: &LstmParams,
    cache: &LstmCache,
    grad_output: ArrayViewD<f32>,
    input_gradient: bool,
) -> Result<(Option<Array3<f32>>, LstmWeightGrads)> {
    let dims = validate(OP_BACKWARD, x.shape(), params)?;
    let cached = cache.dims;
    if (dims.batch, dims.time, dims.input_dim) != (cached.batch, cached.time, cached.input_dim) {
        return Err(TensorError::shape_mismatch(
            OP_BACKWARD,
            x.shape(),
            &[cached.batch, cached.time, cached.input_dim],
        ));
    }
    if dims.units != cached.units {
        return Err(TensorError::shape_mismatch(
            OP_BACKWARD,
            params.recurrent_kernel.shape(),
            &[cached.units, 4 * cached.units],
        ));
    }
    let output_shape = dims.output_shape(cache.return_sequences);
    if grad_output.shape() != output_shape.as_slice() {
        return Err(TensorError::shape_mismatch(
            OP_BACKWARD,
            grad_output.shape(),
            &output_shape,
        ));
    }
    let LstmDims {
        batch,
        time,
        input_dim,
        units,
    } = dims;
    let gate_width = 4 * units;
    // The external gradient of the steps that are part of the output: all of them, or only the last.
    let grad_steps = if cache.return_sequences {
        grad_output
            .into_dimensionality::<Ix3>()
            .map_err(shape_internal)?
    } else {
        grad_output
            .into_dimensionality::<Ix2>()
            .map_err(shape_internal)?
            .insert_axis(Axis(1))
    };
    let first_output_step = time.saturating_sub(grad_steps.len_of(Axis(1)));

    // Every row of `d_gates` is written by `cell_backward` before it is read.
    let mut d_gates = crate::pooled::for_overwrite(Ix3(batch, time, gate_width));
    let mut d_recurrent_kernel = crate::pooled::zeros(Ix2(units, gate_width));
    // Gradient reaching h_t and c_t from the later steps.
    let mut d_hidden = crate::pooled::zeros(Ix2(batch, units));
    let mut d_cell = crate::buffer_pool::take_zeroed(batch * units);
    let zero_state = crate::buffer_pool::take_zeroed(units);
    let gates = flat(&cache.gates)?;
    let cells = flat(&cache.cells)?;

    // The kept samples' rows of one step, packed in front: a masked row needs no arithmetic at all.
    let mut kept_d_gates = crate::pooled::for_overwrite(Ix2(batch, gate_width));
    let mut kept_hidden = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut kept_d_hidden = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut kept = Vec::with_capacity(batch);
    let mut kept_rows = Vec::with_capacity(batch);
    let mask = cache.mask.as_ref();
    // The transposed recurrent kernel copied once, so that every step's `dh` reads rows in place.
    let recurrent_kernel_t = crate::pooled::standard_copy(&params.recurrent_kernel.t());

    for step in (0..time).rev() {
        if step >= first_output_step {
            d_hidden += &grad_steps.index_axis(Axis(1), step - first_output_step);
        }
        kept_samples(mask, batch, step, &mut kept);
        let n = kept.len();
        let d_hidden_flat = flat(&d_hidden)?;
        let d_gates_flat = flat_mut(&mut d_gates)?;
        for sample in (0..batch).filter(|&b| skips(mask, b, step)) {
            // No gradient reaches a masked step's gates; the gradients of its states pass through unchanged.
            let row = sample * time + step;
            d_gates_flat[row * gate_width..(row + 1) * gate_width].fill(0.0);
        }
        kept_rows.clear();
        kept_rows.extend(kept.iter().map(|&b| b * time + step));
        let rows = &mut StepGrads {
            gates,
            cells,
            zero_state: &zero_state,
            d_hidden: d_hidden_flat,
            d_cell: &mut d_cell,
            d_gates: d_gates_flat,
        };
        match params.recurrent_activation {
            GateActivation::Sigmoid => sigmoid_step_grads(rows, &kept, &kept_rows, step),
            other => rows.run(&kept, &kept_rows, step, |y| other.derivative_from_output(y)),
        }
        let d_gates_flat = &mut *rows.d_gates;
        if step > 0 && n > 0 {
            gather_rows(
                d_gates_flat,
                gate_width,
                &kept_rows,
                flat_mut(&mut kept_d_gates)?,
            );
            for row in kept_rows.iter_mut() {
                *row -= 1;
            }
            gather_rows(
                flat(&cache.hidden)?,
                units,
                &kept_rows,
                flat_mut(&mut kept_hidden)?,
            );
            let d_gates_step = kept_d_gates.slice(s![..n, ..]);
            matmul_into(
                &kept_hidden.slice(s![..n, ..]).t(),
                &d_gates_step,
                1.0,
                &mut d_recurrent_kernel.view_mut(),
            )?;
            step_matmul_into_copied(
                kept_d_hidden.slice_mut(s![..n, ..]),
                d_gates_step,
                params.recurrent_kernel.t(),
                recurrent_kernel_t.view(),
                0.0,
            )?;
            scatter_rows(
                flat(&kept_d_hidden)?,
                units,
                &kept,
                flat_mut(&mut d_hidden)?,
            );
        }
    }

    let x_standard = x.as_standard_layout();
    let x_rows = rows_view(x_standard.view(), batch * time, input_dim)?;
    let d_gate_rows = d_gates
        .view()
        .into_shape_with_order((batch * time, gate_width))
        .map_err(shape_internal)?;
    let (d_kernel, d_x) = input_gradients(
        OP_BACKWARD,
        x_rows,
        d_gate_rows,
        params.kernel,
        mask,
        input_gradient,
    )?;
    let d_x = d_x
        .map(|d_x| d_x.into_shape_with_order((batch, time, input_dim)))
        .transpose()
        .map_err(shape_internal)?;
    let d_bias = crate::pooled::sum_axis(&d_gate_rows, Axis(0));
    crate::buffer_pool::give_array(d_gates);
    crate::buffer_pool::give_array(d_hidden);
    crate::buffer_pool::give(d_cell);
    crate::buffer_pool::give(zero_state);
    for buffer in [kept_d_gates, kept_hidden, kept_d_hidden, recurrent_kernel_t] {
        crate::buffer_pool::give_array(buffer);
    }
    let weights = LstmWeightGrads {
        kernel: d_kernel,
        recurrent_kernel: d_recurrent_kernel,
        bias: d_bias,
    };
    Ok((d_x, weights))
}

/// One step's buffers of the backward gate pass: the cached gates and cell states of every row, the gradients
/// reaching each sample's hidden and cell state, and the gate gradients of every row.
struct StepGrads<'a> {
    gates: &'a [f32],
    cells: &'a [f32],
    /// `c₀ = 0`, `units` long.
    zero_state: &'a [f32],
    d_hidden: &'a [f32],
    d_cell: &'a mut [f32],
    d_gates: &'a mut [f32],
}

impl StepGrads<'_> {
    /// [`cell_backward`] for each kept sample `kept[i]` of `step`, whose row is `rows[i]`.
    #[inline(always)]
    fn run(
        &mut self,
        kept: &[usize],
        rows: &[usize],
        step: usize,
        derivative: impl Fn(f32) -> f32 + Copy,
    ) {
        let units = self.zero_state.len();
        let width = 4 * units;
        for (&sample, &row) in kept.iter().zip(rows) {
            let cell_prev = if step == 0 {
                self.zero_state
            } else {
                &self.cells[(row - 1) * units..row * units]
            };
            cell_backward(
                &self.gates[row * width..(row + 1) * width],
                cell_prev,
                &self.cells[row * units..(row + 1) * units],
                &self.d_hidden[sample * units..(sample + 1) * units],
                &mut self.d_cell[sample * units..(sample + 1) * units],
                &mut self.d_gates[row * width..(row + 1) * width],
                derivative,
            );
        }
    }
}

per_target! {
/// [`StepGrads::run`] with the logistic sigmoid's derivative `y·(1 − y)`, compiled per target: the same
/// expressions in the same order, so the same bits on every target.
fn sigmoid_step_grads(grads: &mut StepGrads<'_>, kept: &[usize], rows: &[usize], step: usize) {
    grads.run(kept, rows, step, |y| y * (1.0 - y))
}
}

/// One step of backpropagation through the cell for one sample. `d_cell` holds the gradient reaching `c_t` from
/// later steps on entry and the gradient reaching `c_{t-1}` on exit; `d_z` receives the pre-activation gradients.
/// Subnormal gradients are flushed to zero ([`flush_subnormal`]); normal ones keep their bits.
#[inline(always)]
fn cell_backward(
    gates: &[f32],
    cell_prev: &[f32],
    cell: &[f32],
    d_hidden: &[f32],
    d_cell: &mut [f32],
    d_z: &mut [f32],
    derivative: impl Fn(f32) -> f32,
) {
    let units = cell.len();
    let (g_i, rest) = gates.split_at(units);
    let (g_f, rest) = rest.split_at(units);
    let (g_c, g_o) = rest.split_at(units);
    let (d_i, rest) = d_z.split_at_mut(units);
    let (d_f, rest) = rest.split_at_mut(units);
    let (d_c, d_o) = rest.split_at_mut(units);
    let (g_o, d_o, cell_prev, d_hidden, d_cell) = (
        &g_o[..units],
        &mut d_o[..units],
        &cell_prev[..units],
        &d_hidden[..units],
        &mut d_cell[..units],
    );
    for k in 0..units {
        let (i, f, candidate, o) = (g_i[k], g_f[k], g_c[k], g_o[k]);
        let tanh_c = crate::kernels::activation::tanh(cell[k]);
        let d_h = flush_subnormal(d_hidden[k]);
        let dc = flush_subnormal(d_cell[k] + d_h * o * (1.0 - tanh_c * tanh_c));
        d_i[k] = flush_subnormal(dc * candidate * derivative(i));
        d_f[k] = flush_subnormal(dc * cell_prev[k] * derivative(f));
        d_c[k] = flush_subnormal(dc * i * (1.0 - candidate * candidate));
        d_o[k] = flush_subnormal(d_h * tanh_c * derivative(o));
        d_cell[k] = flush_subnormal(dc * f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::random_vec;

    /// The sigmoid gate gradients compiled per target give the bits of the same loop built for baseline
    /// x86-64 (37 units: vector tails), for the first step (`c₀ = 0`) and a later one, a sample left out, and
    /// state gradients down to the subnormal range (flushed).
    #[test]
    fn the_per_target_gate_gradients_give_the_baseline_loops_bits() {
        let (batch, time, units) = (3, 2, 37);
        let width = 4 * units;
        let unit_interval = |len, seed| -> Vec<f32> {
            random_vec(len, seed)
                .iter()
                .map(|v| 0.5 + 0.49 * v)
                .collect()
        };
        let gates = unit_interval(batch * time * width, 1);
        let cells = random_vec(batch * time * units, 2);
        let d_hidden: Vec<f32> = random_vec(batch * units, 3)
            .iter()
            .enumerate()
            .map(|(i, v)| v * if i % 3 == 0 { 1e-37 } else { 1.0 })
            .collect();
        let d_cell = random_vec(batch * units, 4);
        let zero_state = vec![0.0f32; units];
        let kept = [0, 2];
        for step in 0..time {
            let rows: Vec<usize> = kept.iter().map(|&b| b * time + step).collect();
            let run = |per_target: bool| {
                let mut d_cell = d_cell.clone();
                let mut d_gates = vec![0.0f32; batch * time * width];
                let grads = &mut StepGrads {
                    gates: &gates,
                    cells: &cells,
                    zero_state: &zero_state,
                    d_hidden: &d_hidden,
                    d_cell: &mut d_cell,
                    d_gates: &mut d_gates,
                };
                if per_target {
                    sigmoid_step_grads(grads, &kept, &rows, step);
                } else {
                    grads.run(&kept, &rows, step, |y| y * (1.0 - y));
                }
                [d_cell, d_gates].map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
            };
            assert_eq!(run(true), run(false), "step {step}");
        }
    }
}
