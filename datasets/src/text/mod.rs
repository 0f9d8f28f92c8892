//! Keras's text preprocessing (`keras.preprocessing.text` of Keras 2 / tf.keras, kept in Keras 3 as
//! `keras.src.legacy.preprocessing.text`): [`text_to_word_sequence`] and the [`Tokenizer`] with its word index
//! by frequency, sequences and document-term matrices ([`MatrixMode`]).
//!
//! ```
//! use rkeras_datasets::text::{MatrixMode, Tokenizer, TokenizerConfig};
//! let mut tokenizer = Tokenizer::new(TokenizerConfig::default())?;
//! tokenizer.fit_on_texts(&["The cat sat.", "The dog sat on the cat!"]);
//! // "the" 3 times, "cat" and "sat" twice ("cat" seen first), "dog" and "on" once.
//! assert_eq!((tokenizer.word_index()["the"], tokenizer.word_index()["sat"]), (1, 3));
//! assert_eq!(tokenizer.texts_to_sequences(&["the cat, the bird"]), vec![vec![1, 2, 1]]);
//! let counts = tokenizer.texts_to_matrix(&["the cat, the bird"], MatrixMode::Count)?;
//! assert_eq!(counts.row(0).to_vec(), vec![0.0, 2.0, 1.0, 0.0, 0.0, 0.0]);
//! # Ok::<(), rkeras_datasets::DatasetError>(())
//! ```

mod matrix;
mod tokenizer;
mod word_sequence;

pub use matrix::MatrixMode;
pub use tokenizer::{Tokenizer, TokenizerConfig};
pub use word_sequence::{DEFAULT_FILTERS, text_to_word_sequence};
