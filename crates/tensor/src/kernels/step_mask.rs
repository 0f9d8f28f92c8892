//! Keras's timestep mask for the fused recurrent kernels: `[batch, time]`, a step whose mask is 0 is skipped —
//! the sample's states (and so its output) are carried through unchanged, and no gradient reaches that step's
//! input or gates.

use crate::{Result, TensorError};
use ndarray::{Array2, ArrayView2};

/// A validated `[batch, time]` mask, kept by a forward pass for its backward pass.
#[derive(Clone, Debug)]
pub(crate) struct StepMask {
    keep: Array2<bool>,
}

impl StepMask {
    /// Checks `mask` against `[batch, time]`; `None` stays `None`.
    pub(crate) fn new(
        op: &'static str,
        mask: Option<ArrayView2<f32>>,
        batch: usize,
        time: usize,
    ) -> Result<Option<StepMask>> {
        let Some(mask) = mask else { return Ok(None) };
        if mask.dim() != (batch, time) {
            return Err(TensorError::shape_mismatch(
                op,
                mask.shape(),
                &[batch, time],
            ));
        }
        Ok(Some(StepMask {
            keep: mask.mapv(|m| m != 0.0),
        }))
    }

    /// Whether `sample`'s step `step` is masked (skipped).
    #[inline]
    pub(crate) fn skips(&self, sample: usize, step: usize) -> bool {
        !self.keep[[sample, step]]
    }
}

/// Whether an optional mask skips `sample`'s step `step`.
#[inline]
pub(crate) fn skips(mask: Option<&StepMask>, sample: usize, step: usize) -> bool {
    mask.is_some_and(|m| m.skips(sample, step))
}

/// The samples whose step `step` the mask keeps (every sample without a mask), written to `out` in order.
pub(crate) fn kept_samples(
    mask: Option<&StepMask>,
    batch: usize,
    step: usize,
    out: &mut Vec<usize>,
) {
    out.clear();
    out.extend((0..batch).filter(|&sample| !skips(mask, sample, step)));
}

/// The kept rows of a batch-major `[batch, time]` sequence, as row indices `sample·time + step` in order.
pub(crate) fn kept_rows(mask: &StepMask) -> Vec<usize> {
    let (batch, time) = mask.keep.dim();
    (0..batch * time)
        .filter(|&row| mask.keep[[row / time, row % time]])
        .collect()
}

/// Copies the rows `rows` (each `cols` long) of `src` one after another into the front of `dst`.
pub(crate) fn gather_rows(src: &[f32], cols: usize, rows: &[usize], dst: &mut [f32]) {
    if cols == 0 {
        return;
    }
    for (out, &row) in dst.chunks_exact_mut(cols).zip(rows) {
        out.copy_from_slice(&src[row * cols..(row + 1) * cols]);
    }
}

/// The inverse of [`gather_rows`]: the front rows of `src` go to the rows `rows` of `dst`.
pub(crate) fn scatter_rows(src: &[f32], cols: usize, rows: &[usize], dst: &mut [f32]) {
    if cols == 0 {
        return;
    }
    for (values, &row) in src.chunks_exact(cols).zip(rows) {
        dst[row * cols..(row + 1) * cols].copy_from_slice(values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn kept_samples_and_rows_follow_the_mask() {
        let mask = array![[0.0f32, 1.0, 1.0], [0.0, 0.0, 1.0]];
        let mask = StepMask::new("test", Some(mask.view()), 2, 3).unwrap();
        let mut kept = Vec::new();
        kept_samples(mask.as_ref(), 2, 0, &mut kept);
        assert!(kept.is_empty());
        kept_samples(mask.as_ref(), 2, 1, &mut kept);
        assert_eq!(kept, [0]);
        kept_samples(None, 2, 0, &mut kept);
        assert_eq!(kept, [0, 1]);
        assert_eq!(kept_rows(mask.as_ref().unwrap()), [1, 2, 5]);
    }

    #[test]
    fn gather_and_scatter_move_whole_rows() {
        let src = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut compact = [0.0f32; 4];
        gather_rows(&src, 2, &[2, 0], &mut compact);
        assert_eq!(compact, [5.0, 6.0, 1.0, 2.0]);
        let mut back = [0.0f32; 6];
        scatter_rows(&compact, 2, &[2, 0], &mut back);
        assert_eq!(back, [1.0, 2.0, 0.0, 0.0, 5.0, 6.0]);
    }
}
