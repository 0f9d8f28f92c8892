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
