//! [`ArrayDataset`]: in-memory arrays served as a [`Dataset`] of consecutive batches.

use super::{Batch, Dataset};
use crate::data::row_range;
use crate::error::{EngineError, Result};
use ndarray::ArrayD;

/// In-memory arrays cut into consecutive batches of `batch_size` samples (the last one smaller).
///
/// ```
/// use rkeras_engine::source::{ArrayDataset, Dataset};
/// let x = ndarray::Array2::<f32>::zeros((5, 2)).into_dyn();
/// let y = ndarray::Array2::<f32>::zeros((5, 1)).into_dyn();
/// let mut data = ArrayDataset::new(vec![x], Some(y), 2)?;
/// assert_eq!(data.len(), 3);
/// assert_eq!(data.get(2)?.len(), 1);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub struct ArrayDataset {
    x: Vec<ArrayD<f32>>,
    /// One target array per output (none for `predict`).
    ys: Vec<ArrayD<f32>>,
    batch_size: usize,
    samples: usize,
}

impl ArrayDataset {
    /// Batches of `batch_size` rows of `x` (one array per input) and `y`; every array needs the same number of
    /// rows.
    pub fn new(x: Vec<ArrayD<f32>>, y: Option<ArrayD<f32>>, batch_size: usize) -> Result<Self> {
        Self::with_targets(x, y.into_iter().collect(), batch_size)
    }

    /// Batches of `x` and one target array per output (a model with several outputs).
    pub fn with_targets(
        x: Vec<ArrayD<f32>>,
        ys: Vec<ArrayD<f32>>,
        batch_size: usize,
    ) -> Result<Self> {
        crate::data::check_batch_size(batch_size)?;
        let samples = x
            .first()
            .and_then(|a| a.shape().first().copied())
            .ok_or_else(|| EngineError::invalid("x", "no input arrays"))?;
        let rows = x.iter().chain(&ys).map(|a| a.shape().first().copied());
        if let Some(bad) = rows.into_iter().find(|&r| r != Some(samples)) {
            return Err(EngineError::invalid(
                "x",
                format!("every array needs {samples} rows, one has {bad:?}"),
            ));
        }
        Ok(ArrayDataset {
            x,
            ys,
            batch_size,
            samples,
        })
    }
}

impl Dataset for ArrayDataset {
    fn len(&self) -> usize {
        self.samples.div_ceil(self.batch_size)
    }

    fn get(&mut self, index: usize) -> Result<Batch> {
        if index >= self.len() {
            return Err(EngineError::invalid(
                "index",
                format!("batch {index} of a dataset of {} batches", self.len()),
            ));
        }
        let start = index * self.batch_size;
        let end = (start + self.batch_size).min(self.samples);
        let x = self.x.iter().map(|a| row_range(a, start, end)).collect();
        let ys = self.ys.iter().map(|a| row_range(a, start, end)).collect();
        Ok(Batch::with_targets(x, ys))
    }
}
