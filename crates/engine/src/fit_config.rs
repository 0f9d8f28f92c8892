//! [`FitConfig`]: `fit`'s arguments with Keras's names and defaults.

use crate::source::DataSource;
use ndarray::{Array1, ArrayD};
use rkeras_callbacks::Callback;
use std::collections::HashMap;

/// Validation inputs (one per model input: f32 values or bytes made f32 per batch) and targets (one array per
/// output).
pub type ValidationData = (Vec<crate::inputs::InputArray>, Vec<ArrayD<f32>>);

/// The arguments of [`crate::Model::fit`], with Keras's defaults: batch_size 32, epochs 1, verbose 1,
/// shuffle true, validation_freq 1.
///
/// ```
/// use rkeras_engine::FitConfig;
/// let config = FitConfig::new().epochs(120).batch_size(32).validation_split(0.1);
/// assert_eq!((config.epochs, config.batch_size, config.shuffle), (120, 32, true));
/// ```
pub struct FitConfig<'a> {
    /// Samples per gradient step. Defaults to 32.
    pub batch_size: usize,
    /// The index one past the last epoch (with `initial_epoch`, as in Keras). Defaults to 1.
    pub epochs: usize,
    /// 0 silent, 1 progress bar, 2 one line per epoch. Defaults to 1.
    pub verbose: u8,
    /// Callbacks, run in this order (then History, then the progress bar).
    pub callbacks: Vec<&'a mut dyn Callback>,
    /// The LAST fraction of the samples, taken before shuffling, used for validation. Defaults to 0.
    pub validation_split: f64,
    /// Explicit validation inputs and targets (one array per output); overrides `validation_split`.
    pub validation_data: Option<ValidationData>,
    /// Reshuffle the training samples every epoch (seeded). Defaults to true.
    pub shuffle: bool,
    /// The epoch to start at (resuming). Defaults to 0.
    pub initial_epoch: usize,
    /// Validate every `validation_freq` epochs. Defaults to 1.
    pub validation_freq: usize,
    /// Class id → loss weight (for integer or one-hot targets).
    pub class_weight: Option<HashMap<usize, f32>>,
    /// One loss weight per training sample.
    pub sample_weight: Option<Array1<f32>>,
    /// The seed of shuffling and dropout; one seed reproduces a run bit for bit. Defaults to 0.
    pub seed: u64,
    /// Data-parallel shards per training batch: each batch is split into this many slices (fewer for batches
    /// under 8 samples a shard) that run forward and backward side by side, their gradients summed in shard
    /// order. A given shard count gives the same bits whatever the number of threads; another shard count
    /// rounds differently. `None` (the default) uses the number of threads of the rayon pool `fit` runs in.
    pub shards: Option<usize>,
    /// With a data source ([`crate::Model::fit_source`]): batches per epoch (`None`: the whole source, an
    /// indexed dataset's `len` or a generator to its end).
    pub steps_per_epoch: Option<usize>,
    /// A data source to validate on (with `fit_source`; overrides nothing else: arrays use `validation_data`).
    pub validation_source: Option<DataSource<'a>>,
    /// Batches per validation pass over `validation_source` (`None`: all of it).
    pub validation_steps: Option<usize>,
    /// Batches a source's reading thread may run ahead of training. Defaults to 10 (Keras's
    /// `max_queue_size`).
    pub max_queue_size: usize,
    /// Train across processes: every rank runs the same `fit` on the same data; each computes its block of
    /// every batch's shards ([`crate::collective::owned_shards`]) and receives the others', so every rank makes
    /// the same update, and the weights equal those of one process with the same shards. Only rank 0 shows
    /// progress and runs `ModelCheckpoint`, `CSVLogger` and `TensorBoard`. `None` (the default): this process
    /// alone.
    pub collective: Option<std::sync::Arc<dyn crate::Collective>>,
    /// Across ranks, step the optimizer block by block (ZeRO-1's idea): each rank updates the block of every
    /// weight whose summed gradient it holds and the ranks gather the updated weights, with the bits of the
    /// whole step. Used when the optimizer allows it (no `clipnorm` or `global_clipnorm`, no weight-decay
    /// exclusions) and no callback saves in the middle of an epoch; otherwise every rank steps the whole
    /// model. Defaults to `true`.
    pub shard_optimizer: bool,
}

impl Default for FitConfig<'_> {
    fn default() -> Self {
        FitConfig {
            batch_size: 32,
            epochs: 1,
            verbose: 1,
            callbacks: Vec::new(),
            validation_split: 0.0,
            validation_data: None,
            shuffle: true,
            initial_epoch: 0,
            validation_freq: 1,
            class_weight: None,
            sample_weight: None,
            seed: 0,
            shards: None,
            steps_per_epoch: None,
            validation_source: None,
            validation_steps: None,
            max_queue_size: 10,
            collective: None,
            shard_optimizer: true,
        }
    }
}

impl<'a> FitConfig<'a> {
    /// Keras's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `batch_size`.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Sets `epochs`.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }
    /// Sets `verbose`.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
    /// Adds a callback (kept by reference, so it can be inspected after `fit`).
    pub fn callback(mut self, callback: &'a mut dyn Callback) -> Self {
        self.callbacks.push(callback);
        self
    }
    /// Sets `validation_split`.
    pub fn validation_split(mut self, split: f64) -> Self {
        self.validation_split = split;
        self
    }
    /// Sets `validation_data`: the inputs (f32 arrays, or [`crate::inputs::InputArray`]s) and the targets (an
    /// array, or one array per output).
    pub fn validation_data(
        mut self,
        x: impl crate::inputs::IntoInputs,
        y: impl crate::IntoTargets,
    ) -> Self {
        self.validation_data = Some((x.into_inputs(), y.into_targets()));
        self
    }
    /// Sets `shuffle`.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }
    /// Sets `initial_epoch`.
    pub fn initial_epoch(mut self, epoch: usize) -> Self {
        self.initial_epoch = epoch;
        self
    }
    /// Sets `validation_freq`.
    pub fn validation_freq(mut self, freq: usize) -> Self {
        self.validation_freq = freq;
        self
    }
    /// Sets `class_weight`.
    pub fn class_weight(mut self, weights: HashMap<usize, f32>) -> Self {
        self.class_weight = Some(weights);
        self
    }
    /// Sets `sample_weight`.
    pub fn sample_weight(mut self, weights: Array1<f32>) -> Self {
        self.sample_weight = Some(weights);
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Trains across the processes of `collective` (see [`FitConfig::collective`]).
    pub fn collective(mut self, collective: std::sync::Arc<dyn crate::Collective>) -> Self {
        self.collective = Some(collective);
        self
    }

    /// Whether ranks step the optimizer block by block (see [`FitConfig::shard_optimizer`]).
    pub fn shard_optimizer(mut self, shard_optimizer: bool) -> Self {
        self.shard_optimizer = shard_optimizer;
        self
    }

    /// Sets the number of data-parallel shards per batch (at least 1).
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = Some(shards);
        self
    }
    /// Sets `steps_per_epoch`.
    pub fn steps_per_epoch(mut self, steps: usize) -> Self {
        self.steps_per_epoch = Some(steps);
        self
    }
    /// Sets the validation source.
    pub fn validation_source(mut self, source: DataSource<'a>) -> Self {
        self.validation_source = Some(source);
        self
    }
    /// Sets `validation_steps`.
    pub fn validation_steps(mut self, steps: usize) -> Self {
        self.validation_steps = Some(steps);
        self
    }
    /// Sets `max_queue_size` (at least 1).
    pub fn max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size;
        self
    }
    /// The shard count `fit` uses: `shards`, or the current rayon pool's thread count.
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.unwrap_or_else(rayon::current_num_threads)
    }
}
