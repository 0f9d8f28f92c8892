//! What the GRU and SimpleRNN kernels share: shape checks of the input and initial state, the output of the last
//! step or of every step, the external gradient of every step, and one checked matrix product.

use ndarray::{
    Array2, Array3, ArrayD, ArrayView2, ArrayView3, ArrayViewD, ArrayViewMut2, Axis, Ix2, Ix3, s,
};

use super::packed_rows::spread_in_place;
use super::step_mask::{StepMask, gather_rows, kept_rows};
use crate::{Result, TensorError};

/// Sizes of one recurrent evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dims {
    pub batch: usize,
    pub time: usize,
    pub input_dim: usize,
    pub units: usize,
}

impl Dims {
    /// `[batch, time, units]` with `return_sequences`, else `[batch, units]`.
    pub fn output_shape(&self, return_sequences: bool) -> Vec<usize> {
        if return_sequences {
            vec![self.batch, self.time, self.units]
        } else {
            vec![self.batch, self.units]
        }
    }
}

/// `[batch, time, input_dim]` from `x`'s shape, or an error naming it.
pub(crate) fn input_dims(op: &'static str, x_shape: &[usize]) -> Result<(usize, usize, usize)> {
    match *x_shape {
        [batch, time, input_dim] => Ok((batch, time, input_dim)),
        _ => Err(TensorError::invalid_shape(
            op,
            x_shape,
            "expected an input of rank 3 [batch, time, features]",
        )),
    }
}

/// Checks an initial state against `[batch, units]`.
pub(crate) fn check_initial_state(
    op: &'static str,
    initial_state: Option<ArrayView2<f32>>,
    dims: Dims,
) -> Result<()> {
    match initial_state {
        Some(h0) if h0.dim() != (dims.batch, dims.units) => Err(TensorError::shape_mismatch(
            op,
            h0.shape(),
            &[dims.batch, dims.units],
        )),
        _ => Ok(()),
    }
}

/// The state before `step`: the previous step's hidden state, or the initial state (`zeros` without one).
pub(crate) fn previous_state<'a>(
    hidden: &'a Array3<f32>,
    initial_state: Option<ArrayView2<'a, f32>>,
    zeros: &'a Array2<f32>,
    step: usize,
) -> ArrayView2<'a, f32> {
    match (step, initial_state) {
        (0, Some(h0)) => h0,
        (0, None) => zeros.view(),
        (step, _) => hidden.index_axis(Axis(1), step - 1),
    }
}

/// The layer's output: every step's hidden state, or the last (the initial state when there are no steps).
pub(crate) fn output_of(
    hidden: &Array3<f32>,
    initial_state: Option<ArrayView2<f32>>,
    dims: Dims,
    return_sequences: bool,
) -> ArrayD<f32> {
    if return_sequences {
        return crate::pooled::to_owned(hidden).into_dyn();
    }
    match (dims.time, initial_state) {
        (0, Some(h0)) => crate::pooled::to_owned(&h0).into_dyn(),
        (0, None) => crate::pooled::zeros(Ix2(dims.batch, dims.units)).into_dyn(),
        (time, _) => crate::pooled::to_owned(&hidden.index_axis(Axis(1), time - 1)).into_dyn(),
    }
}

/// The external gradient as `[batch, steps, units]` (one step without `return_sequences`), after checking its
/// shape, and the first step it belongs to.
pub(crate) fn grad_steps<'a>(
    op: &'static str,
    grad_output: ArrayViewD<'a, f32>,
    dims: Dims,
    return_sequences: bool,
) -> Result<(ArrayView3<'a, f32>, usize)> {
    let expected = dims.output_shape(return_sequences);
    if grad_output.shape() != expected.as_slice() {
        return Err(TensorError::shape_mismatch(
            op,
            grad_output.shape(),
            &expected,
        ));
    }
    let steps = if return_sequences {
        grad_output
            .into_dimensionality::<Ix3>()
            .map_err(|e| internal(op, e))?
    } else {
        grad_output
            .into_dimensionality::<Ix2>()
            .map_err(|e| internal(op, e))?
            .insert_axis(Axis(1))
    };
    let first = dims.time.saturating_sub(steps.len_of(Axis(1)));
    Ok((steps, first))
}

/// `c ← a·b + beta·c` into a contiguous destination; the operands may be strided views (a right operand with
/// contiguous rows takes the per-step product kernel, [`step_matmul_into`](super::step_product::step_matmul_into)).
pub(crate) fn matmul_into(
    op: &'static str,
    a: &ArrayView2<f32>,
    b: &ArrayView2<f32>,
    beta: f32,
    c: &mut ArrayViewMut2<f32>,
) -> Result<()> {
    if a.ncols() != b.nrows() || c.dim() != (a.nrows(), b.ncols()) || !c.is_standard_layout() {
        return Err(internal(
            op,
            format!(
                "product of {:?} and {:?} into {:?}",
                a.shape(),
                b.shape(),
                c.shape()
            ),
        ));
    }
    super::step_product::step_matmul_into(c.view_mut(), a.view(), b.view(), beta)
}

/// `[batch, time, cols]` seen as `[batch·time, cols]` rows (copied to standard layout when needed).
pub(crate) fn rows<'a>(
    op: &'static str,
    x: ArrayView3<'a, f32>,
) -> Result<ndarray::CowArray<'a, f32, Ix2>> {
    let (batch, time, cols) = x.dim();
    let shape = (batch * time, cols);
    if x.is_standard_layout() {
        let view = x
            .into_shape_with_order(shape)
            .map_err(|e| internal(op, e))?;
        Ok(ndarray::CowArray::from(view))
    } else {
        let owned = crate::pooled::standard_copy(&x)
            .into_shape_with_order(shape)
            .map_err(|e| internal(op, e))?;
        Ok(ndarray::CowArray::from(owned))
    }
}

/// An internal invariant that failed, as an error of `op`.
pub(crate) fn internal(op: &'static str, reason: impl ToString) -> TensorError {
    TensorError::Internal {
        op,
        reason: reason.to_string(),
    }
}

/// The flat slice of a contiguous array.
pub(crate) fn flat_mut<'a, D: ndarray::Dimension>(
    op: &'static str,
    a: &'a mut ndarray::Array<f32, D>,
) -> Result<&'a mut [f32]> {
    a.as_slice_mut()
        .ok_or_else(|| internal(op, "state buffer is not contiguous"))
}

/// `v`, or zero when `v` is subnormal (`|v| < f32::MIN_POSITIVE`, about 1.2·10⁻³⁸).
///
/// The backward passes send a state's gradient back through up to hundreds of steps, shrinking it at each; far
/// from the output it reaches the subnormal range, where every arithmetic instruction on this kind of CPU takes a
/// slow microcode path (a product over such rows ran ten times slower). The gate gradients are flushed to zero
/// there, as TensorFlow's CPU kernels (flush-to-zero and denormals-are-zero) and XLA's do. Normal values are
/// returned unchanged, so results differ only where a value was below 1.2·10⁻³⁸, by less than that.
///
/// ```text
/// flush_subnormal(1e-39) == 0.0, flush_subnormal(1e-37) == 1e-37
/// ```
#[inline(always)]
pub(crate) fn flush_subnormal(v: f32) -> f32 {
    if v.abs() < f32::MIN_POSITIVE { 0.0 } else { v }
}

/// `σ'` at the pre-activation, from the gate's output `y`.
#[inline(always)]
pub(crate) fn gate_derivative(activation: super::lstm::GateActivation, y: f32) -> f32 {
    activation.derivative_from_output(y)
}

/// The input-side gradients of a recurrent layer from its gates' gradients `d_rows` (`[batch·time, gates]`):
/// `dKernel = xᵀ·dGates` and `dx = dGates·kernelᵀ` (`[batch·time, input_dim]`), on the kept rows alone when
/// there is a mask: a masked row's gate gradients are zeros, so its input gradient is zero and it adds nothing
/// to the kernel's. Leaving those rows out of the kernel's sum changes how the product groups its additions
/// (last-bit differences); each kept row of `dx` is the same product as over every row. Without
/// `input_gradient`, `dx` is neither computed nor returned.
pub(crate) fn input_gradients(
    op: &'static str,
    x_rows: ArrayView2<f32>,
    d_rows: ArrayView2<f32>,
    kernel: ArrayView2<f32>,
    mask: Option<&StepMask>,
    input_gradient: bool,
) -> Result<(Array2<f32>, Option<Array2<f32>>)> {
    let (rows_count, input_dim) = x_rows.dim();
    let width = d_rows.ncols();
    let kept = mask.map(kept_rows);
    let Some(kept) = kept.filter(|kept| kept.len() < rows_count) else {
        return packed_input_gradients(
            op,
            x_rows,
            d_rows,
            kernel,
            None,
            rows_count,
            input_gradient,
        );
    };
    let n = kept.len();
    let contiguous = |what: &str| internal(op, format!("{what} rows are not contiguous"));
    let mut x_kept = crate::pooled::for_overwrite(Ix2(n, input_dim));
    gather_rows(
        x_rows.as_slice().ok_or_else(|| contiguous("input"))?,
        input_dim,
        &kept,
        flat_mut(op, &mut x_kept)?,
    );
    let mut d_kept = crate::pooled::for_overwrite(Ix2(n, width));
    gather_rows(
        d_rows.as_slice().ok_or_else(|| contiguous("gradient"))?,
        width,
        &kept,
        flat_mut(op, &mut d_kept)?,
    );
    let grads = packed_input_gradients(
        op,
        x_kept.view(),
        d_kept.view(),
        kernel,
        Some(&kept),
        rows_count,
        input_gradient,
    );
    // The kept rows' buffers are dropped, not given to the buffer pool: their sizes follow each batch's mask, so
    // kept buffers would seldom be asked for again and would fill the pool.
    drop((x_kept, d_kept));
    grads
}

/// [`input_gradients`] from the kept rows packed in front, in row order (`x_kept`, `d_kept`: `[n, input_dim]`
/// and `[n, gates]`): `dKernel = x_keptᵀ·d_kept`, and `dx` (`[rows_count, input_dim]`) holding `d_kept·kernelᵀ`
/// at the rows `kept` (every row when `None`) and zeros at the others. The product is written to `dx`'s front
/// rows and spread to its rows in place ([`spread_in_place`]), so no buffer of the batch's kept size is taken.
/// Without `input_gradient` (an input that needs no gradient), `dx`'s product is skipped and `None` returned.
pub(crate) fn packed_input_gradients(
    op: &'static str,
    x_kept: ArrayView2<f32>,
    d_kept: ArrayView2<f32>,
    kernel: ArrayView2<f32>,
    kept: Option<&[usize]>,
    rows_count: usize,
    input_gradient: bool,
) -> Result<(Array2<f32>, Option<Array2<f32>>)> {
    let (n, input_dim) = x_kept.dim();
    if d_kept.nrows() != n || kept.map_or(rows_count, <[usize]>::len) != n || n > rows_count {
        return Err(internal(
            op,
            format!(
                "{n} packed rows, {} gradients, {rows_count} rows",
                d_kept.nrows()
            ),
        ));
    }
    let mut d_kernel = crate::pooled::for_overwrite(Ix2(input_dim, d_kept.ncols()));
    matmul_into(op, &x_kept.t(), &d_kept, 0.0, &mut d_kernel.view_mut())?;
    if !input_gradient {
        return Ok((d_kernel, None));
    }
    let mut d_x = crate::pooled::for_overwrite(Ix2(rows_count, input_dim));
    matmul_into(
        op,
        &d_kept,
        &kernel.t(),
        0.0,
        &mut d_x.slice_mut(s![..n, ..]),
    )?;
    if let Some(kept) = kept {
        spread_in_place(flat_mut(op, &mut d_x)?, input_dim, kept);
    }
    Ok((d_kernel, Some(d_x)))
}

#[cfg(test)]
mod tests {
    use super::flush_subnormal;

    #[test]
    fn only_subnormal_values_are_flushed() {
        for v in [
            1e-39f32,
            -1e-39,
            f32::MIN_POSITIVE / 2.0,
            f32::from_bits(1),
            0.0,
            -0.0,
        ] {
            assert_eq!(flush_subnormal(v).to_bits(), 0, "{v:e}");
        }
        for v in [
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            1e-37,
            1.0,
            -3.5,
            f32::MAX,
            f32::INFINITY,
        ] {
            assert_eq!(flush_subnormal(v).to_bits(), v.to_bits(), "{v:e}");
        }
        assert!(flush_subnormal(f32::NAN).is_nan());
    }
}
