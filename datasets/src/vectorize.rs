//! Vocabulary and padded index arrays, identical to the Keras bAbI memory-network example.
//!
//! [`Vectorizer::fit`] builds the vocabulary as the sorted set of every token of the train and test examples
//! (stories, questions and answers). Index 0 is padding, so the i-th word (0-based) of the sorted list gets index
//! i + 1, and the embedding needs [`vocab_size`](Vectorizer::vocab_size) = words + 1 rows. `story_maxlen` and
//! `query_maxlen` are the longest story and question over both splits.
//!
//! [`Vectorizer::vectorize`] maps words to indices and pads every sequence to its maximum length at the front,
//! truncating at the front too (Keras `pad_sequences` defaults: `padding='pre'`, `truncating='pre'`, value 0).
//! Answers are sparse indices (for sparse categorical cross-entropy), or one-hot rows of length `vocab_size`
//! with [`Vectorized::one_hot_answers`]. All arrays are `f32`, the models' input type.
//! [`with_story_maxlen`](Vectorizer::with_story_maxlen) / [`with_query_maxlen`](Vectorizer::with_query_maxlen)
//! fix the lengths instead, e.g. to the input shape of a model trained on other data.
//!
//! Both work on the symbol ids of the examples' [`Tokens`] stores: `fit` marks the symbols the examples use and
//! sorts those words once, and `vectorize` maps each store's symbols to vocabulary indices once, so that every
//! token costs an array lookup rather than a string hash.
//!
//! ```
//! use rkeras_datasets::{parse_babi, Vectorizer};
//! let text = "1 Mary moved to the bathroom.\n2 Where is Mary? \tbathroom\t1\n";
//! let train = parse_babi(text, "inline", false)?;
//! let vectorizer = Vectorizer::fit(&train, &[])?;
//! assert_eq!(vectorizer.vocab(), ["<pad>", ".", "?", "Mary", "Where", "bathroom", "is", "moved", "the", "to"]);
//! assert_eq!((vectorizer.story_maxlen(), vectorizer.query_maxlen()), (6, 4));
//! let data = vectorizer.vectorize(&train)?;
//! assert_eq!(data.stories.row(0).to_vec(), [3.0, 7.0, 9.0, 8.0, 5.0, 1.0]);
//! assert_eq!(data.queries.row(0).to_vec(), [4.0, 6.0, 3.0, 2.0]);
//! assert_eq!(data.answers.to_vec(), [5.0]);
//! # Ok::<(), rkeras_datasets::DatasetError>(())
//! ```

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayViewMut1};

use crate::error::{DatasetError, Result, quote};
use crate::parse::QaExample;
use crate::token_store::{PerStore, TokenStore};
use crate::tokens::Tokens;

/// The name shown for index 0 (padding) in [`Vectorizer::vocab`].
pub const PAD: &str = "<pad>";

/// Word ↔ index mapping and sequence lengths fitted on a task's train and test examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vectorizer {
    /// The sorted words; word `words[i]` has index `i + 1`.
    words: Vec<String>,
    index: HashMap<String, usize>,
    story_maxlen: usize,
    query_maxlen: usize,
}

/// A split turned into padded index arrays.
///
/// # Shapes
/// - `stories`: `(n, story_maxlen)`
/// - `queries`: `(n, query_maxlen)`
/// - `answers`: `(n,)`, each a word index in `1..vocab_size`
#[derive(Debug, Clone, PartialEq)]
pub struct Vectorized {
    /// The stories' word indices, padded and truncated at the front.
    pub stories: Array2<f32>,
    /// The questions' word indices, padded and truncated at the front.
    pub queries: Array2<f32>,
    /// The answers' word indices.
    pub answers: Array1<f32>,
    /// The vocabulary size (words + 1 for padding), the length of a one-hot answer.
    pub vocab_size: usize,
}

impl Vectorizer {
    /// Fits the vocabulary and lengths on the train and test examples, as the Keras example does.
    pub fn fit(train: &[QaExample], test: &[QaExample]) -> Result<Vectorizer> {
        let all = || train.iter().chain(test);
        if train.is_empty() && test.is_empty() {
            return Err(DatasetError::EmptyDataset {
                op: "Vectorizer::fit",
            });
        }
        // The symbols each store's examples use: a store also holds statements that no question's story includes.
        let mut used: PerStore<(Arc<TokenStore>, Vec<bool>)> = PerStore::default();
        for example in all() {
            for tokens in [&example.story, &example.question] {
                let (_, flags) = used.get_or_insert_with(tokens.store(), |store| {
                    (Arc::clone(store), vec![false; store.symbols().len()])
                });
                for &id in tokens.ids() {
                    if let Some(flag) = flags.get_mut(id) {
                        *flag = true;
                    }
                }
            }
        }
        let mut words: BTreeSet<&str> = all().map(|example| example.answer.as_str()).collect();
        for (store, flags) in used.values() {
            let symbols = store.symbols().iter().zip(flags);
            words.extend(symbols.filter(|&(_, &used)| used).map(|(word, _)| &**word));
        }
        let story_maxlen = all().map(|e| e.story.len()).max().unwrap_or(0);
        let query_maxlen = all().map(|e| e.question.len()).max().unwrap_or(0);
        let words = words.into_iter().map(str::to_string).collect();
        Vectorizer::from_parts(words, story_maxlen, query_maxlen)
    }

    /// Rebuilds a vectoriser from a saved word list (sorted, without the padding entry) and lengths.
    pub fn from_parts(
        words: Vec<String>,
        story_maxlen: usize,
        query_maxlen: usize,
    ) -> Result<Vectorizer> {
        let index: HashMap<String, usize> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i + 1))
            .collect();
        if index.len() != words.len() {
            return Err(DatasetError::InvalidArgument {
                op: "Vectorizer::from_parts",
                reason: "the word list holds a word twice".to_string(),
            });
        }
        Ok(Vectorizer {
            words,
            index,
            story_maxlen,
            query_maxlen,
        })
    }

    /// Sets the length stories are padded (or truncated, at the front) to, e.g. to match a trained model's input.
    pub fn with_story_maxlen(mut self, story_maxlen: usize) -> Self {
        self.story_maxlen = story_maxlen;
        self
    }

    /// Sets the length questions are padded (or truncated, at the front) to.
    pub fn with_query_maxlen(mut self, query_maxlen: usize) -> Self {
        self.query_maxlen = query_maxlen;
        self
    }

    /// The sorted words, without padding: `words()[i]` has index `i + 1`.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The vocabulary by index: `"<pad>"` ([`PAD`]) at index 0, then the sorted words.
    pub fn vocab(&self) -> Vec<&str> {
        std::iter::once(PAD)
            .chain(self.words.iter().map(String::as_str))
            .collect()
    }

    /// The number of indices, words + 1 (the embedding's input dimension and the answer classes).
    pub fn vocab_size(&self) -> usize {
        self.words.len() + 1
    }

    /// The index of a word, in `1..vocab_size`, or `None` if it is not in the vocabulary.
    pub fn index_of(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// The word at an index; index 0 is [`PAD`].
    pub fn word(&self, index: usize) -> Option<&str> {
        match index {
            0 => Some(PAD),
            i => self.words.get(i - 1).map(String::as_str),
        }
    }

    /// The length stories are padded to: the longest story of the fitted examples.
    pub fn story_maxlen(&self) -> usize {
        self.story_maxlen
    }

    /// The length questions are padded to: the longest question of the fitted examples.
    pub fn query_maxlen(&self) -> usize {
        self.query_maxlen
    }

    /// Turns examples into padded index arrays; a word outside the vocabulary is an error.
    pub fn vectorize(&self, examples: &[QaExample]) -> Result<Vectorized> {
        let n = examples.len();
        let mut stories = Array2::zeros((n, self.story_maxlen));
        let mut queries = Array2::zeros((n, self.query_maxlen));
        let mut answers = Array1::zeros(n);
        let mut remaps = PerStore::default();
        for (i, example) in examples.iter().enumerate() {
            let story = Field::new(&example.story, "story", i);
            self.write_padded(story, &mut remaps, stories.row_mut(i))?;
            let question = Field::new(&example.question, "question", i);
            self.write_padded(question, &mut remaps, queries.row_mut(i))?;
            answers[i] = self.lookup(&example.answer, "answer", i)? as f32;
        }
        Ok(Vectorized {
            stories,
            queries,
            answers,
            vocab_size: self.vocab_size(),
        })
    }

    /// Writes a field's word indices into the zero-filled `row` as Keras `pad_sequences` does with
    /// `padding='pre'` and `truncating='pre'`: a short sequence ends at the row's end, a long one keeps its last
    /// `row.len()` items. Every token must be in the vocabulary, the truncated ones too.
    fn write_padded(
        &self,
        field: Field<'_>,
        remaps: &mut PerStore<Vec<Option<usize>>>,
        mut row: ArrayViewMut1<'_, f32>,
    ) -> Result<()> {
        let store = field.tokens.store();
        let remap = remaps.get_or_insert_with(store, |store| self.remap(store));
        let ids = field.tokens.ids();
        let kept = ids.len().min(row.len());
        let truncated = ids.len() - kept;
        let padding = row.len() - kept;
        let mut slots = row.iter_mut().skip(padding);
        for (position, &id) in ids.iter().enumerate() {
            let index = remap
                .get(id)
                .copied()
                .flatten()
                .ok_or_else(|| field.unknown_word(store.symbol(id).unwrap_or_default()))?;
            if position >= truncated {
                if let Some(slot) = slots.next() {
                    *slot = index as f32;
                }
            }
        }
        Ok(())
    }

    /// The vocabulary index of each of a store's symbols, `None` for a word outside the vocabulary.
    fn remap(&self, store: &TokenStore) -> Vec<Option<usize>> {
        store
            .symbols()
            .iter()
            .map(|word| self.index_of(word))
            .collect()
    }

    fn lookup(&self, word: &str, field: &'static str, example: usize) -> Result<usize> {
        self.index_of(word)
            .ok_or_else(|| DatasetError::UnknownWord {
                word: quote(word),
                field,
                example,
            })
    }
}

/// The story or question of one example, for error messages.
#[derive(Clone, Copy)]
struct Field<'a> {
    tokens: &'a Tokens,
    name: &'static str,
    example: usize,
}

impl<'a> Field<'a> {
    fn new(tokens: &'a Tokens, name: &'static str, example: usize) -> Self {
        Self {
            tokens,
            name,
            example,
        }
    }

    fn unknown_word(&self, word: &str) -> DatasetError {
        DatasetError::UnknownWord {
            word: quote(word),
            field: self.name,
            example: self.example,
        }
    }
}

impl Vectorized {
    /// The number of examples.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// The answers as one-hot rows, shape `(n, vocab_size)`, for categorical cross-entropy.
    pub fn one_hot_answers(&self) -> Array2<f32> {
        let mut one_hot = Array2::zeros((self.len(), self.vocab_size));
        for (mut row, &answer) in one_hot.rows_mut().into_iter().zip(&self.answers) {
            if let Some(slot) = row.get_mut(answer as usize) {
                *slot = 1.0;
            }
        }
        one_hot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(story: &str, question: &str, answer: &str) -> QaExample {
        QaExample::new(
            story.split_whitespace(),
            question.split_whitespace(),
            answer,
            vec![1],
        )
    }

    #[test]
    fn vocabulary_is_sorted_over_both_splits_with_padding_first() {
        let train = [example("b a", "q", "x")];
        let test = [example("c a a", "q q", "B")];
        let v = Vectorizer::fit(&train, &test).unwrap();
        // Byte order puts upper case first, as Python's sorted() does.
        assert_eq!(v.vocab(), [PAD, "B", "a", "b", "c", "q", "x"]);
        assert_eq!(v.vocab_size(), 7);
        assert_eq!(
            (v.index_of("B"), v.index_of("x"), v.index_of("zz")),
            (Some(1), Some(6), None)
        );
        assert_eq!(
            (v.word(0), v.word(3), v.word(7)),
            (Some(PAD), Some("b"), None)
        );
        assert_eq!((v.story_maxlen(), v.query_maxlen()), (3, 2));
    }

    #[test]
    fn pads_and_truncates_at_the_front() {
        let v = Vectorizer::from_parts(vec!["a".into(), "b".into(), "c".into()], 2, 3).unwrap();
        let data = v
            .vectorize(&[example("a b c", "c", "b"), example("", "a b", "a")])
            .unwrap();
        // Story "a b c" (1 2 3) truncated 'pre' to the last 2; empty story all padding.
        assert_eq!(data.stories, ndarray::array![[2.0, 3.0], [0.0, 0.0]]);
        assert_eq!(
            data.queries,
            ndarray::array![[0.0, 0.0, 3.0], [0.0, 1.0, 2.0]]
        );
        assert_eq!(data.answers, ndarray::array![2.0, 1.0]);
        let longer = v.clone().with_story_maxlen(4).with_query_maxlen(1);
        let data_longer = longer.vectorize(&[example("a b c", "c a", "b")]).unwrap();
        assert_eq!(data_longer.stories, ndarray::array![[0.0, 1.0, 2.0, 3.0]]);
        assert_eq!(data_longer.queries, ndarray::array![[1.0]]);
        assert_eq!(
            data.one_hot_answers(),
            ndarray::array![[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]]
        );
    }

    #[test]
    fn statements_no_story_includes_stay_out_of_the_vocabulary() {
        let text = "1 Mary moved to the bathroom.\n2 John went to the hallway.\n\
                    3 Where is Mary? \tbathroom\t1\n4 Sandra journeyed away.\n";
        let all = crate::parse_babi(text, "t", false).unwrap();
        let v = Vectorizer::fit(&all, &[]).unwrap();
        // Statement 4 follows the last question; Keras never sees it.
        assert_eq!(v.index_of("Sandra"), None);
        assert_eq!(v.vocab_size(), 13);
        let only = crate::parse_babi(text, "t", true).unwrap();
        let v = Vectorizer::fit(&only, &[]).unwrap();
        // Only statement 1 supports the question: John's statement is left out too.
        assert_eq!((v.index_of("John"), v.index_of("hallway")), (None, None));
        assert_eq!(
            v.vocab(),
            [
                PAD, ".", "?", "Mary", "Where", "bathroom", "is", "moved", "the", "to"
            ]
        );
    }

    #[test]
    fn unknown_words_and_empty_data_are_errors() {
        let v = Vectorizer::fit(&[example("a", "b", "c")], &[]).unwrap();
        let err = v
            .vectorize(&[example("a", "b", "c"), example("a", "zz", "c")])
            .unwrap_err();
        assert!(
            matches!(
                err,
                DatasetError::UnknownWord {
                    field: "question",
                    example: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            Vectorizer::fit(&[], &[]),
            Err(DatasetError::EmptyDataset { .. })
        ));
        assert!(Vectorizer::from_parts(vec!["a".into(), "a".into()], 1, 1).is_err());
    }
}
