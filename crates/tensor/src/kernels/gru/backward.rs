//! The GRU's backward pass: backpropagation through time over the cached gates.

use super::{GruCache, GruParams, OP_BACKWARD, validate};
use crate::kernels::lstm::GateActivation;
use crate::kernels::per_target::per_target;
use crate::kernels::recurrent::{
    check_initial_state, flat_mut, flush_subnormal, gate_derivative, grad_steps, internal,
    matmul_into, packed_input_gradients, previous_state, rows,
};
use crate::kernels::step_mask::{gather_rows, kept_samples, scatter_rows};
use crate::kernels::step_product::step_matmul_into_copied;
use crate::{Result, TensorError};
use ndarray::{Array1, Array2, Array3, ArrayView2, ArrayView3, ArrayViewD, Axis, Ix2, s};

/// Gradients of a scalar loss with respect to the GRU's input, weights and initial state.
#[derive(Clone, Debug)]
pub struct GruGrads {
    /// `[batch, time, input_dim]`.
    pub x: Array3<f32>,
    /// `(input_dim, 3·units)`.
    pub kernel: Array2<f32>,
    /// `(units, 3·units)`.
    pub recurrent_kernel: Array2<f32>,
    /// `(3·units)`.
    pub input_bias: Array1<f32>,
    /// `(3·units)` with `reset_after`, else `None`.
    pub recurrent_bias: Option<Array1<f32>>,
    /// `[batch, units]` when an initial state was given.
    pub initial_state: Option<Array2<f32>>,
}

/// [`GruGrads`] without the input's gradient ([`gru_backward_weights`]).
#[derive(Clone, Debug)]
pub struct GruWeightGrads {
    /// `(input_dim, 3·units)`.
    pub kernel: Array2<f32>,
    /// `(units, 3·units)`.
    pub recurrent_kernel: Array2<f32>,
    /// `(3·units)`.
    pub input_bias: Array1<f32>,
    /// `(3·units)` with `reset_after`, else `None`.
    pub recurrent_bias: Option<Array1<f32>>,
    /// `[batch, units]` when an initial state was given.
    pub initial_state: Option<Array2<f32>>,
}

/// Backpropagation through time: the gradients of `sum(output · grad_output)`.
///
/// `x`, `params` and `initial_state` must be those given to the [`super::gru_forward`] call that produced
/// `cache`; `grad_output` has that call's output shape.
pub fn gru_backward(
    x: ArrayView3<f32>,
    params: &GruParams,
    initial_state: Option<ArrayView2<f32>>,
    cache: &GruCache,
    grad_output: ArrayViewD<f32>,
) -> Result<GruGrads> {
    let (d_x, grads) = gru_backward_parts(x, params, initial_state, cache, grad_output, true)?;
    Ok(GruGrads {
        x: d_x.ok_or_else(|| internal(OP_BACKWARD, "the input's gradient was not computed"))?,
        kernel: grads.kernel,
        recurrent_kernel: grads.recurrent_kernel,
        input_bias: grads.input_bias,
        recurrent_bias: grads.recurrent_bias,
        initial_state: grads.initial_state,
    })
}

/// [`gru_backward`] without the input's gradient, for an input that needs none (a model's first layer): the
/// same gradients of the weights and initial state, bit for bit, without the product `dx = dGates·kernelᵀ`.
pub fn gru_backward_weights(
    x: ArrayView3<f32>,
    params: &GruParams,
    initial_state: Option<ArrayView2<f32>>,
    cache: &GruCache,
    grad_output: ArrayViewD<f32>,
) -> Result<GruWeightGrads> {
    Ok(gru_backward_parts(x, params, initial_state, cache, grad_output, false)?.1)
}

/// The gradients of the weights and initial state, and the input's when `input_gradient` (the op asks for it
/// when its input needs a gradient).
pub(crate) fn gru_backward_parts(
    x: ArrayView3<f32>,
    params: &GruParams,
    initial_state: Option<ArrayView2<f32>>,
    cache: &GruCache,
    grad_output: ArrayViewD<f32>,
    input_gradient: bool,
) -> Result<(Option<Array3<f32>>, GruWeightGrads)> {
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
    if params.reset_after() != cache.reset_after {
        return Err(TensorError::invalid_argument(
            OP_BACKWARD,
            "reset_after (a recurrent bias) differs from the forward pass",
        ));
    }
    check_initial_state(OP_BACKWARD, initial_state, dims)?;
    let (grad_steps, first_output_step) =
        grad_steps(OP_BACKWARD, grad_output, dims, cache.return_sequences)?;
    let (batch, time, units) = (dims.batch, dims.time, dims.units);
    let width = 3 * units;
    let activation = params.recurrent_activation;
    let reset_after = params.reset_after();

    // Gradients of the pre-activations of the input projection, at the kept rows' slots (as the cached gates).
    let packed = &cache.packed;
    let kept_count = packed.len();
    let mut d_x_pre = crate::pooled::for_overwrite(Ix2(batch * time, width));
    // Gradients of the recurrent projection's pre-activations of one step's kept samples, packed in front:
    // (z, r, h) with `reset_after`, (z, r) without.
    let recurrent_width = if reset_after { width } else { 2 * units };
    let mut d_recurrent = crate::pooled::for_overwrite(Ix2(batch, recurrent_width));
    let mut d_recurrent_kernel = crate::pooled::zeros(Ix2(units, recurrent_width));
    let mut d_candidate_kernel = crate::pooled::zeros(Ix2(units, units));
    let mut d_recurrent_bias = Array1::<f32>::zeros(recurrent_width);
    // The gradient reaching each sample's state from the later steps; a masked step passes it through.
    let mut d_hidden = crate::pooled::zeros(Ix2(batch, units));
    // The kept samples' rows of one step, packed in front.
    let mut kept_d_hidden = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut d_previous = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut previous = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut d_candidate = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut kept_reset = crate::pooled::for_overwrite(Ix2(batch, units));
    let mut d_reset_input = crate::pooled::for_overwrite(Ix2(batch, units));
    let zeros = crate::pooled::zeros(Ix2(batch, units));
    let zr_kernel = params.recurrent_kernel.slice(s![.., ..2 * units]);
    let h_kernel = params.recurrent_kernel.slice(s![.., 2 * units..]);
    let kernel = if reset_after {
        params.recurrent_kernel
    } else {
        zr_kernel
    };
    // The transposed kernels copied once, so that every step's state gradient reads rows in place.
    let kernel_t = crate::pooled::standard_copy(&kernel.t());
    let h_kernel_t = crate::pooled::standard_copy(&h_kernel.t());
    let gates = cache
        .gates
        .as_slice()
        .ok_or_else(|| internal(OP_BACKWARD, "gates are not contiguous"))?;
    let reset_input = cache
        .reset_input
        .as_slice()
        .ok_or_else(|| internal(OP_BACKWARD, "reset inputs are not contiguous"))?;

    let mut kept = Vec::with_capacity(batch);
    let mut slots = Vec::with_capacity(batch);
    for step in (0..time).rev() {
        if step >= first_output_step {
            d_hidden += &grad_steps.index_axis(Axis(1), step - first_output_step);
        }
        kept_samples(cache.mask.as_ref(), batch, step, &mut kept);
        // A masked step: no gradient reaches its gates; the state's gradient passes through.
        let n = kept.len();
        if n == 0 {
            continue;
        }
        slots.clear();
        slots.extend(kept.iter().map(|&b| packed.slot(b * time + step)));
        let previous_all = previous_state(&cache.hidden, initial_state, &zeros, step);
        {
            let prev = flat_mut(OP_BACKWARD, &mut previous)?;
            for (out, &sample) in prev.chunks_exact_mut(units).zip(&kept) {
                for (o, v) in out.iter_mut().zip(previous_all.row(sample)) {
                    *o = *v;
                }
            }
        }
        gather_rows(
            flat_mut(OP_BACKWARD, &mut d_hidden)?,
            units,
            &kept,
            flat_mut(OP_BACKWARD, &mut kept_d_hidden)?,
        );
        let d_x_flat = flat_mut(OP_BACKWARD, &mut d_x_pre)?;
        let d_rec = flat_mut(OP_BACKWARD, &mut d_recurrent)?;
        let d_prev = flat_mut(OP_BACKWARD, &mut d_previous)?;
        let d_cand = flat_mut(OP_BACKWARD, &mut d_candidate)?;
        let d_h = flat_mut(OP_BACKWARD, &mut kept_d_hidden)?;
        let prev = flat_mut(OP_BACKWARD, &mut previous)?;
        // The whole step's buffers: the input projection's gradients at the kept rows' slots, the others of the
        // kept samples packed in front.
        let step_grads = &mut RowGrads {
            d_x: d_x_flat,
            d_rec,
            d_prev,
            d_cand,
        };
        let step_inputs = &StepInputs {
            gates,
            reset_input,
            d_h,
            prev,
        };
        match activation {
            GateActivation::Sigmoid => {
                sigmoid_rows(step_grads, step_inputs, &slots, reset_after, units)
            }
            other => fill_rows(step_grads, step_inputs, &slots, reset_after, units, |y| {
                other.derivative_from_output(y)
            }),
        }
        if !reset_after {
            // ĥ's pre-activation holds (r·h_{t-1})·U_h: its gradient reaches U_h, r and h_{t-1}.
            gather_rows(
                reset_input,
                units,
                &slots,
                flat_mut(OP_BACKWARD, &mut kept_reset)?,
            );
            matmul_into(
                OP_BACKWARD,
                &kept_reset.slice(s![..n, ..]).t(),
                &d_candidate.slice(s![..n, ..]),
                1.0,
                &mut d_candidate_kernel.view_mut(),
            )?;
            step_matmul_into_copied(
                d_reset_input.slice_mut(s![..n, ..]),
                d_candidate.slice(s![..n, ..]),
                h_kernel.t(),
                h_kernel_t.view(),
                0.0,
            )?;
            let d_x_flat = flat_mut(OP_BACKWARD, &mut d_x_pre)?;
            let d_rec = flat_mut(OP_BACKWARD, &mut d_recurrent)?;
            let d_prev = flat_mut(OP_BACKWARD, &mut d_previous)?;
            let d_reset = flat_mut(OP_BACKWARD, &mut d_reset_input)?;
            let prev = flat_mut(OP_BACKWARD, &mut previous)?;
            for (i, &slot) in slots.iter().enumerate() {
                for k in 0..units {
                    let at = i * units + k;
                    let r = gates[slot * width + units + k];
                    let d_r =
                        flush_subnormal(d_reset[at] * prev[at] * gate_derivative(activation, r));
                    d_x_flat[slot * width + units + k] = d_r;
                    d_rec[i * recurrent_width + units + k] = d_r;
                    d_prev[at] += d_reset[at] * r;
                }
            }
        }
        let d_recurrent_kept = d_recurrent.slice(s![..n, ..]);
        matmul_into(
            OP_BACKWARD,
            &previous.slice(s![..n, ..]).t(),
            &d_recurrent_kept,
            1.0,
            &mut d_recurrent_kernel.view_mut(),
        )?;
        step_matmul_into_copied(
            d_previous.slice_mut(s![..n, ..]),
            d_recurrent_kept,
            kernel.t(),
            kernel_t.view(),
            1.0,
        )?;
        if reset_after {
            d_recurrent_bias += &crate::pooled::sum_axis(&d_recurrent_kept, Axis(0));
        }
        scatter_rows(
            flat_mut(OP_BACKWARD, &mut d_previous)?,
            units,
            &kept,
            flat_mut(OP_BACKWARD, &mut d_hidden)?,
        );
    }

    // The masked rows' gate gradients are zeros: leaving them out of the bias's sum over rows is exact.
    let d_kept = d_x_pre.slice(s![..kept_count, ..]);
    let (d_kernel, d_x_rows) = match &cache.x_kept {
        Some(x_kept) => packed_input_gradients(
            OP_BACKWARD,
            x_kept.slice(s![..kept_count, ..]),
            d_kept,
            params.kernel,
            packed.kept(),
            batch * time,
            input_gradient,
        )?,
        None => {
            let x_rows = rows(OP_BACKWARD, x)?;
            packed_input_gradients(
                OP_BACKWARD,
                x_rows.view(),
                d_kept,
                params.kernel,
                None,
                batch * time,
                input_gradient,
            )?
        }
    };
    let d_x = d_x_rows
        .map(|d_x| d_x.into_shape_with_order((batch, time, dims.input_dim)))
        .transpose()
        .map_err(|e| internal(OP_BACKWARD, e))?;
    let d_input_bias = crate::pooled::sum_axis(&d_kept, Axis(0));
    let (d_recurrent_kernel, d_recurrent_bias) = if reset_after {
        (d_recurrent_kernel, Some(d_recurrent_bias))
    } else {
        let mut joined = crate::pooled::for_overwrite(Ix2(units, width));
        joined
            .slice_mut(s![.., ..2 * units])
            .assign(&d_recurrent_kernel);
        joined
            .slice_mut(s![.., 2 * units..])
            .assign(&d_candidate_kernel);
        crate::buffer_pool::give_array(d_recurrent_kernel);
        crate::buffer_pool::give_array(d_candidate_kernel);
        (joined, None)
    };
    let d_initial_state = initial_state.map(|_| d_hidden.clone());
    for buffer in [
        d_hidden,
        kept_d_hidden,
        d_previous,
        previous,
        d_candidate,
        kept_reset,
        d_reset_input,
        d_recurrent,
        zeros,
        kernel_t,
        h_kernel_t,
    ] {
        crate::buffer_pool::give_array(buffer);
    }
    crate::buffer_pool::give_array(d_x_pre);
    let grads = GruWeightGrads {
        kernel: d_kernel,
        recurrent_kernel: d_recurrent_kernel,
        input_bias: d_input_bias,
        recurrent_bias: d_recurrent_bias,
        initial_state: d_initial_state,
    };
    Ok((d_x, grads))
}

/// What one step's gate gradients are computed from: the cached gates and reset-gate inputs (at the slots), the
/// kept samples' state gradients and previous states (packed in front).
struct StepInputs<'a> {
    gates: &'a [f32],
    reset_input: &'a [f32],
    d_h: &'a [f32],
    prev: &'a [f32],
}

/// [`RowGrads::fill_with`] for each kept sample `i` of a step, whose row sits at slot `slots[i]`.
#[inline(always)]
fn fill_rows(
    grads: &mut RowGrads<'_>,
    inputs: &StepInputs<'_>,
    slots: &[usize],
    reset_after: bool,
    units: usize,
    derivative: impl Fn(f32) -> f32 + Copy,
) {
    let width = 3 * units;
    let recurrent_width = if reset_after { width } else { 2 * units };
    for (i, &slot) in slots.iter().enumerate() {
        let at = i * units..(i + 1) * units;
        RowGrads {
            d_x: &mut grads.d_x[slot * width..(slot + 1) * width],
            d_rec: &mut grads.d_rec[i * recurrent_width..(i + 1) * recurrent_width],
            d_prev: &mut grads.d_prev[at.clone()],
            d_cand: &mut grads.d_cand[at.clone()],
        }
        .fill_with(
            reset_after,
            &inputs.gates[slot * width..(slot + 1) * width],
            &inputs.reset_input[slot * units..(slot + 1) * units],
            &inputs.d_h[at.clone()],
            &inputs.prev[at],
            derivative,
        );
    }
}

per_target! {
/// [`fill_rows`] with the logistic sigmoid's derivative `y·(1 − y)`, compiled per target:
/// the same expressions, so the same bits.
fn sigmoid_rows(
    grads: &mut RowGrads<'_>,
    inputs: &StepInputs<'_>,
    slots: &[usize],
    reset_after: bool,
    units: usize,
) {
    fill_rows(grads, inputs, slots, reset_after, units, |y| y * (1.0 - y))
}
}

/// One sample's gradients of one unmasked step, written by [`RowGrads::fill_with`] (or, in [`fill_rows`], the
/// buffers of a whole step's).
struct RowGrads<'a> {
    /// The input projection's pre-activations, `3·units`.
    d_x: &'a mut [f32],
    /// The recurrent projection's pre-activations, `3·units` with `reset_after`, `2·units` without.
    d_rec: &'a mut [f32],
    /// The previous state (the part through the update gate), `units`.
    d_prev: &'a mut [f32],
    /// The candidate's pre-activation without `reset_after`, `units`.
    d_cand: &'a mut [f32],
}

impl RowGrads<'_> {
    /// From the activated gates `g` (z, r, ĥ), the cached reset-gate input, the state's gradient `d_h`, the
    /// previous state and the gate activation's `derivative` from its output (`y·(1 − y)` for the sigmoid).
    /// Subnormal gradients are flushed to zero ([`flush_subnormal`]). The loops run over exact-length slices with
    /// the derivative chosen outside them, so that they vectorise; every element is the same expression in the
    /// same order on every path.
    #[inline(always)]
    fn fill_with(
        self,
        reset_after: bool,
        g: &[f32],
        reset_input: &[f32],
        d_h: &[f32],
        prev: &[f32],
        derivative: impl Fn(f32) -> f32,
    ) {
        let units = d_h.len();
        let (g_z, g_r, g_h) = (&g[..units], &g[units..2 * units], &g[2 * units..3 * units]);
        let (prev, d_prev) = (&prev[..units], &mut self.d_prev[..units]);
        let (d_x_z, rest) = self.d_x.split_at_mut(units);
        let (d_x_r, d_x_h) = rest.split_at_mut(units);
        let (d_rec_z, d_rec_rest) = self.d_rec.split_at_mut(units);
        let d_rec_z = &mut d_rec_z[..units];
        let (d_x_r, d_x_h) = (&mut d_x_r[..units], &mut d_x_h[..units]);
        if reset_after {
            let (d_rec_r, d_rec_h) = d_rec_rest.split_at_mut(units);
            let (d_rec_r, d_rec_h) = (&mut d_rec_r[..units], &mut d_rec_h[..units]);
            let reset_input = &reset_input[..units];
            for k in 0..units {
                let (dh, z, r, candidate) = (flush_subnormal(d_h[k]), g_z[k], g_r[k], g_h[k]);
                let d_z = flush_subnormal(dh * (prev[k] - candidate) * derivative(z));
                let d_a = flush_subnormal(dh * (1.0 - z) * (1.0 - candidate * candidate));
                d_x_z[k] = d_z;
                d_x_h[k] = d_a;
                d_rec_z[k] = d_z;
                d_prev[k] = flush_subnormal(dh * z);
                let d_r = flush_subnormal(d_a * reset_input[k] * derivative(r));
                d_x_r[k] = d_r;
                d_rec_r[k] = d_r;
                d_rec_h[k] = flush_subnormal(d_a * r);
            }
        } else {
            let d_cand = &mut self.d_cand[..units];
            for k in 0..units {
                let (dh, z, candidate) = (d_h[k], g_z[k], g_h[k]);
                let d_z = dh * (prev[k] - candidate) * derivative(z);
                let d_a = dh * (1.0 - z) * (1.0 - candidate * candidate);
                d_x_z[k] = d_z;
                d_x_h[k] = d_a;
                d_rec_z[k] = d_z;
                d_prev[k] = dh * z;
                d_cand[k] = d_a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RowGrads;

    /// One row's gate gradients: the expressions of the GRU's backward pass for normal values, and zeros once
    /// the state's gradient (or a product of it) is subnormal, instead of subnormal values.
    #[test]
    fn row_gradients_flush_subnormal_values_to_zero() {
        let g = [0.25f32, 0.5, 0.75, 0.5, -0.5, 0.25]; // z, r, ĥ
        let reset_input = [0.5f32, 2.0];
        let prev = [1.0f32, -1.0];
        let run = |d_h: [f32; 2]| {
            let (mut d_x, mut d_rec, mut d_prev, mut d_cand) =
                ([9.0f32; 6], [9.0f32; 6], [9.0f32; 2], [9.0f32; 2]);
            RowGrads {
                d_x: &mut d_x,
                d_rec: &mut d_rec,
                d_prev: &mut d_prev,
                d_cand: &mut d_cand,
            }
            .fill_with(true, &g, &reset_input, &d_h, &prev, |y| y * (1.0 - y));
            (d_x, d_rec, d_prev)
        };
        let (d_x, d_rec, d_prev) = run([1.0, 3e-38]);
        // Unit 0, d_h = 1: d_z = (h₋₁ − ĥ)·z(1 − z), d_a = (1 − z)(1 − ĥ²), d_r = d_a·u_h·r(1 − r).
        let (z, r, c) = (0.25f32, 0.75f32, -0.5f32);
        let d_a = (1.0 - z) * (1.0 - c * c);
        assert_eq!(d_x[0], (1.0 - c) * (z * (1.0 - z)));
        assert_eq!(d_x[4], d_a);
        assert_eq!(d_x[2], d_a * 0.5 * (r * (1.0 - r)));
        assert_eq!(d_rec[4], d_a * r);
        assert_eq!(d_prev[0], z);
        // Unit 1, d_h = 3e-38 (normal): d_prev = d_h·z and d_a stay normal, d_z and d_r fall below 1.2e-38.
        assert_eq!(d_prev[1], 3e-38 * 0.5);
        assert_eq!(d_x[5], 3e-38 * (1.0 - 0.5) * (1.0 - 0.25 * 0.25));
        assert!(d_x[5].is_normal());
        assert_eq!(d_x[1], 0.0, "d_z of unit 1 is subnormal before the flush");
        assert_eq!(d_x[3], 0.0, "d_r of unit 1 is subnormal before the flush");
        assert!((d_x[1] == d_rec[1]) && (d_x[3] == d_rec[3]));
        let (d_x, d_rec, d_prev) = run([f32::MIN_POSITIVE / 4.0, -f32::MIN_POSITIVE / 2.0]);
        let all = d_x.iter().chain(&d_rec).chain(&d_prev);
        assert!(
            all.clone().all(|&v| v == 0.0),
            "{d_x:?} {d_rec:?} {d_prev:?}"
        );
    }
}
