//! rkeras-datasets: the bAbI question-answering tasks, read and vectorised exactly as the Keras bAbI
//! memory-network example does, with a built-in seeded generator for tasks qa1 and qa2 so that nothing needs
//! downloading.
//!
//! - [`parse_babi`] reads the bAbI text format into [`QaExample`]s (story tokens up to each question, question
//!   tokens, answer, supporting-fact ids), with typed errors naming the file and line; the stories and
//!   questions are [`Tokens`], views of one store per file in which each statement is tokenised once;
//! - [`tokenize()`] splits sentences as the example's `re.split(r"(\W+)", …)`;
//! - [`load_task_dir`], [`load_task_archive`] and [`BabiSource`] (with the `BABI_DIR` variable) load a task's
//!   train and test files from a directory or from the official `tasks_1-20_v1-2.tar.gz`;
//! - [`Vectorizer`] builds the vocabulary (index 0 is padding) and the front-padded `f32` arrays;
//! - [`text`] is Keras's text [`Tokenizer`](text::Tokenizer) (word index, sequences, document-term matrices);
//! - [`reuters`] loads Keras's Reuters newswires (`reuters.npz`) as `keras.datasets.reuters.load_data` does;
//! - [`mnist`] reads MNIST's four IDX files as Keras's `mnist.load_data()` returns them;
//! - [`generate`] writes qa1 / qa2 stories in the same text format.
//!
//! ```
//! use rkeras_datasets::{BabiSource, Task, Vectorizer};
//! let source = BabiSource::from_env_or(BabiSource::Generated { train_stories: 100, test_stories: 20, seed: 1 });
//! let splits = source.load(Task::QA1, false)?;
//! let vectorizer = Vectorizer::fit(&splits.train, &splits.test)?;
//! let train = vectorizer.vectorize(&splits.train)?;
//! assert_eq!(train.stories.ncols(), vectorizer.story_maxlen());
//! assert_eq!(train.queries.nrows(), splits.train.len());
//! assert!(train.answers.iter().all(|&a| a >= 1.0 && (a as usize) < vectorizer.vocab_size()));
//! # Ok::<(), rkeras_datasets::DatasetError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod archive;
pub mod error;
pub mod generate;
pub mod load;
pub mod mnist;
pub mod numpy_random;
pub mod parse;
pub mod reuters;
pub mod sequence;
pub mod source;
pub mod task;
pub mod text;
mod token_store;
pub mod tokenize;
pub mod tokens;
pub mod vectorize;

pub use archive::{DEFAULT_SUBSET, load_task_archive};
pub use error::{DatasetError, Result};
pub use load::{
    BABI_DIR_ENV, BabiSplits, data_dir_from_env, find_task_file, load_file, load_task_dir,
};
pub use parse::{QaExample, parse_babi, parse_babi_bytes};
pub use source::{BABI_SUBSET_ENV, BabiSource};
pub use task::{Split, Task};
pub use tokenize::{split_tokens, tokenize};
pub use tokens::{Tokens, TokensIter};
pub use vectorize::{PAD, Vectorized, Vectorizer};
