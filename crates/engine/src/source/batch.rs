//! [`Batch`]: one batch from a data source.

use ndarray::{Array1, ArrayD};

/// One batch: one array per model input (`[batch, ...]`), the targets (absent for `predict`), and optional
/// per-sample loss weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// One array per model input.
    pub x: Vec<ArrayD<f32>>,
    /// The targets (`None` for `predict`); the first output's when the model has several.
    pub y: Option<ArrayD<f32>>,
    /// The targets of the second and later outputs, in output order (empty for a single-output model).
    pub more_y: Vec<ArrayD<f32>>,
    /// One loss weight per sample.
    pub sample_weight: Option<Array1<f32>>,
}

impl Batch {
    /// A batch of inputs and targets.
    pub fn new(x: Vec<ArrayD<f32>>, y: ArrayD<f32>) -> Self {
        Batch {
            x,
            y: Some(y),
            more_y: Vec::new(),
            sample_weight: None,
        }
    }

    /// A batch of inputs and one target array per output (a model with several outputs).
    pub fn with_targets(x: Vec<ArrayD<f32>>, ys: Vec<ArrayD<f32>>) -> Self {
        let mut ys = ys.into_iter();
        Batch {
            x,
            y: ys.next(),
            more_y: ys.collect(),
            sample_weight: None,
        }
    }

    /// Every target array, in output order.
    pub fn targets(&self) -> Vec<&ArrayD<f32>> {
        self.y.iter().chain(&self.more_y).collect()
    }

    /// A batch of inputs only (for `predict`).
    pub fn inputs(x: Vec<ArrayD<f32>>) -> Self {
        Batch {
            x,
            y: None,
            more_y: Vec::new(),
            sample_weight: None,
        }
    }

    /// Adds per-sample loss weights.
    pub fn with_sample_weight(mut self, weights: Array1<f32>) -> Self {
        self.sample_weight = Some(weights);
        self
    }

    /// The number of samples (rows of the first input).
    pub fn len(&self) -> usize {
        self.x
            .first()
            .and_then(|a| a.shape().first().copied())
            .unwrap_or(0)
    }

    /// Whether the batch has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of the batch's arrays.
    pub fn bytes(&self) -> usize {
        let floats: usize = self.x.iter().map(ArrayD::len).sum::<usize>()
            + self.targets().into_iter().map(ArrayD::len).sum::<usize>()
            + self.sample_weight.as_ref().map_or(0, Array1::len);
        floats * std::mem::size_of::<f32>()
    }
}
