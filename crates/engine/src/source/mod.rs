//! Data sources for `fit`, `evaluate` and `predict` besides arrays: a generator of batches, an indexed dataset
//! (Keras's `PyDataset`: length, indexing, `on_epoch_end`), and ready-made sources over arrays
//! ([`ArrayDataset`]), a directory of `.npy` shards ([`NpyShards`]) and a text file read lazily ([`TextLines`]).
//!
//! A source is read on a background thread that runs a bounded queue ahead of training (see
//! [`crate::fit_config::FitConfig::max_queue_size`]), so that reading and training overlap.

mod array_dataset;
mod batch;
pub(crate) mod loader;
mod npy_shards;
mod text_lines;

pub use array_dataset::ArrayDataset;
pub use batch::Batch;
pub use npy_shards::NpyShards;
pub use text_lines::TextLines;

use crate::error::Result;

/// Keras's `PyDataset`: a fixed number of batches, read by index. `fit` reads indices `0..len()` every
/// epoch (in a seeded random order when `shuffle` is on, as Keras shuffles a `PyDataset`'s batches) and calls
/// [`Dataset::on_epoch_end`] after each pass.
///
/// ```
/// use rkeras_engine::source::{Batch, Dataset};
/// struct Squares;
/// impl Dataset for Squares {
///     fn len(&self) -> usize { 3 }
///     fn get(&mut self, index: usize) -> rkeras_engine::Result<Batch> {
///         let x = ndarray::arr2(&[[index as f32]]).into_dyn();
///         let y = ndarray::arr2(&[[(index * index) as f32]]).into_dyn();
///         Ok(Batch::new(vec![x], y))
///     }
/// }
/// assert_eq!(Squares.get(2)?.y.unwrap()[[0, 0]], 4.0);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub trait Dataset: Send {
    /// The number of batches in one pass.
    fn len(&self) -> usize;
    /// Whether the dataset has no batches.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The batch at `index` (in `0..len()`); an error stops training with its message.
    fn get(&mut self, index: usize) -> Result<Batch>;
    /// Called after every pass (epoch, or evaluation run) over the dataset.
    fn on_epoch_end(&mut self) -> Result<()> {
        Ok(())
    }
}

/// What `fit_source` / `evaluate_source` / `predict_source` read: an indexed [`Dataset`] or a generator (any
/// iterator of batches; an `Err` item stops the run with its message).
///
/// A generator is read once, continuously: with `steps_per_epoch` each epoch takes the next that many
/// batches; without, the first epoch reads it to its end. When it runs out, Keras's warning is printed ("Your
/// input ran out of data; interrupting training. …"), the epoch ends with the batches it had, and training
/// stops if an epoch got no batch at all.
pub enum DataSource<'a> {
    /// An indexed dataset.
    Indexed(Box<dyn Dataset + 'a>),
    /// A generator of batches.
    Generator(Box<dyn Iterator<Item = Result<Batch>> + Send + 'a>),
}

impl<'a> DataSource<'a> {
    /// A source over an indexed dataset.
    pub fn dataset(dataset: impl Dataset + 'a) -> Self {
        DataSource::Indexed(Box::new(dataset))
    }

    /// A source over a generator of batches.
    pub fn generator(
        batches: impl IntoIterator<Item = Result<Batch>, IntoIter: Send + 'a>,
    ) -> Self {
        DataSource::Generator(Box::new(batches.into_iter()))
    }

    /// The number of batches in one pass, when known (an indexed dataset's `len`).
    pub fn batches(&self) -> Option<usize> {
        match self {
            DataSource::Indexed(d) => Some(d.len()),
            DataSource::Generator(_) => None,
        }
    }
}
