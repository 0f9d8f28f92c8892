//! [`EvaluateConfig`] and [`PredictConfig`]: the arguments of `evaluate_with` / `predict_with` (and their
//! data-source twins), with Keras's names and defaults.

use rkeras_callbacks::Callback;

/// The arguments of [`crate::Model::evaluate_with`] and [`crate::Model::evaluate_source`], with Keras's
/// defaults: batch_size 32, verbose 1, max_queue_size 10.
///
/// ```
/// use rkeras_engine::EvaluateConfig;
/// let config = EvaluateConfig::new().batch_size(64).verbose(0).steps(10);
/// assert_eq!((config.batch_size, config.verbose, config.steps), (64, 0, Some(10)));
/// ```
pub struct EvaluateConfig<'a> {
    /// Samples per batch (arrays only). Defaults to 32.
    pub batch_size: usize,
    /// 0 silent, 1 progress bar, 2 one line. Defaults to 1.
    pub verbose: u8,
    /// Callbacks, run in this order (then the progress bar when `verbose` is not 0).
    pub callbacks: Vec<&'a mut dyn Callback>,
    /// Batches to read from a source (`None`: all of it).
    pub steps: Option<usize>,
    /// Batches a source's reading thread may run ahead. Defaults to 10.
    pub max_queue_size: usize,
}

impl Default for EvaluateConfig<'_> {
    fn default() -> Self {
        EvaluateConfig {
            batch_size: 32,
            verbose: 1,
            callbacks: Vec::new(),
            steps: None,
            max_queue_size: 10,
        }
    }
}

impl<'a> EvaluateConfig<'a> {
    /// Keras's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `batch_size`.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Sets `verbose`.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
    /// Adds a callback.
    pub fn callback(mut self, callback: &'a mut dyn Callback) -> Self {
        self.callbacks.push(callback);
        self
    }
    /// Sets `steps`.
    pub fn steps(mut self, steps: usize) -> Self {
        self.steps = Some(steps);
        self
    }
    /// Sets `max_queue_size`.
    pub fn max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size;
        self
    }
}

/// The arguments of [`crate::Model::predict_with`] and [`crate::Model::predict_source`]: the same as
/// [`EvaluateConfig`] (Keras's `predict` takes the same `batch_size`, `verbose`, `steps`, `callbacks`).
pub type PredictConfig<'a> = EvaluateConfig<'a>;
