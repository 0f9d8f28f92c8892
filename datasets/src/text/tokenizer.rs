//! Keras's `Tokenizer`: a word index by frequency, texts as index sequences.

use super::word_sequence::{DEFAULT_FILTERS, text_to_word_sequence};
use crate::error::{DatasetError, Result};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};

/// The arguments of Keras's `Tokenizer(...)`, Keras's defaults by [`Default`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenizerConfig {
    /// Keep only the words of index below `num_words` in sequences and matrices (the `num_words - 1` most
    /// frequent); `None` keeps all. As in Keras, `Some(0)` means `None`.
    pub num_words: Option<usize>,
    /// Characters replaced by `split` before splitting. Default [`DEFAULT_FILTERS`].
    pub filters: String,
    /// Lower-case the texts first. Default `true`.
    pub lower: bool,
    /// The word separator. Default `" "`; must not be empty unless `char_level`.
    pub split: String,
    /// Every character is a token (no filtering, no splitting). Default `false`.
    pub char_level: bool,
    /// A token given index 1 and used for words out of the vocabulary (or beyond `num_words`). Default `None`:
    /// such words are dropped.
    pub oov_token: Option<String>,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        TokenizerConfig {
            num_words: None,
            filters: DEFAULT_FILTERS.to_string(),
            lower: true,
            split: " ".to_string(),
            char_level: false,
            oov_token: None,
        }
    }
}

/// Keras's `keras.preprocessing.text.Tokenizer` (Keras 2 / tf.keras): [`fit_on_texts`](Self::fit_on_texts)
/// counts words and indexes them from 1 by decreasing frequency (ties in order of first appearance; index 0 is
/// never a word; an `oov_token` takes index 1); [`texts_to_sequences`](Self::texts_to_sequences) maps texts to
/// indices; [`sequences_to_matrix`](Self::sequences_to_matrix) builds document-term matrices.
///
/// ```
/// use rkeras_datasets::text::{Tokenizer, TokenizerConfig};
/// let config = TokenizerConfig { num_words: Some(3), oov_token: Some("<oov>".into()), ..Default::default() };
/// let mut tokenizer = Tokenizer::new(config)?;
/// tokenizer.fit_on_texts(&["b a b c b a"]);
/// // "<oov>" 1, "b" 2, "a" 3, "c" 4; num_words 3 keeps indices below 3.
/// assert_eq!(tokenizer.texts_to_sequences(&["a b z"]), vec![vec![1, 2, 1]]);
/// # Ok::<(), rkeras_datasets::DatasetError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Tokenizer {
    config: TokenizerConfig,
    document_count: usize,
    word_counts: IndexMap<String, usize>,
    word_docs: HashMap<String, usize>,
    index_docs: HashMap<usize, usize>,
    word_index: HashMap<String, usize>,
    index_word: HashMap<usize, String>,
}

impl Tokenizer {
    /// An unfitted tokenizer; an empty `split` (without `char_level`) is an error naming it.
    pub fn new(config: TokenizerConfig) -> Result<Self> {
        if config.split.is_empty() && !config.char_level {
            return Err(DatasetError::InvalidArgument {
                op: "Tokenizer",
                reason: "`split` must not be empty".into(),
            });
        }
        Ok(Tokenizer {
            config,
            document_count: 0,
            word_counts: IndexMap::new(),
            word_docs: HashMap::new(),
            index_docs: HashMap::new(),
            word_index: HashMap::new(),
            index_word: HashMap::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TokenizerConfig {
        &self.config
    }

    /// The number of texts fitted on.
    pub fn document_count(&self) -> usize {
        self.document_count
    }

    /// Word → index (from 1).
    pub fn word_index(&self) -> &HashMap<String, usize> {
        &self.word_index
    }

    /// Index → word.
    pub fn index_word(&self) -> &HashMap<usize, String> {
        &self.index_word
    }

    /// Word → number of occurrences in the fitted texts, in order of first appearance.
    pub fn word_counts(&self) -> &IndexMap<String, usize> {
        &self.word_counts
    }

    /// Word → number of fitted texts holding it.
    pub fn word_docs(&self) -> &HashMap<String, usize> {
        &self.word_docs
    }

    /// Index → number of fitted texts holding its word (used by the tf-idf mode).
    pub fn index_docs(&self) -> &HashMap<usize, usize> {
        &self.index_docs
    }

    /// The tokens of one text: its characters (lower-cased when `lower`) with `char_level`, else
    /// [`text_to_word_sequence`] with the configured filters, case and split.
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let config = &self.config;
        if config.char_level {
            let text = if config.lower {
                text.to_lowercase()
            } else {
                text.to_string()
            };
            return text.chars().map(String::from).collect();
        }
        // `new` rejected an empty split, the only error of `text_to_word_sequence`.
        text_to_word_sequence(text, &config.filters, config.lower, &config.split)
            .unwrap_or_default()
    }

    /// Keras's `fit_on_texts`: counts the texts' tokens (adding to earlier fits) and rebuilds the word index.
    pub fn fit_on_texts<S: AsRef<str>>(&mut self, texts: &[S]) {
        for text in texts {
            self.document_count += 1;
            let tokens = self.tokens(text.as_ref());
            for token in &tokens {
                *self.word_counts.entry(token.clone()).or_insert(0) += 1;
            }
            let distinct: HashSet<&String> = tokens.iter().collect();
            for token in distinct {
                *self.word_docs.entry(token.clone()).or_insert(0) += 1;
            }
        }
        // Python's sort is stable, also with `reverse=True`: equal counts keep their first-appearance order.
        let mut by_count: Vec<(&String, usize)> =
            self.word_counts.iter().map(|(w, &c)| (w, c)).collect();
        by_count.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
        let vocabulary = self
            .config
            .oov_token
            .iter()
            .chain(by_count.into_iter().map(|(word, _)| word));
        // `dict(zip(vocabulary, 1..))`: a word listed twice (the oov token also seen in the texts) keeps its
        // last index.
        self.word_index = HashMap::new();
        for (index, word) in vocabulary.enumerate() {
            self.word_index.insert(word.clone(), index + 1);
        }
        self.index_word = self
            .word_index
            .iter()
            .map(|(word, &index)| (index, word.clone()))
            .collect();
        for (word, &docs) in &self.word_docs {
            if let Some(&index) = self.word_index.get(word) {
                self.index_docs.insert(index, docs);
            }
        }
    }

    /// Keras's `texts_to_sequences`: each text's tokens as word indices. Unknown words, and words of index
    /// `num_words` or more, become the `oov_token`'s index, or are dropped without one.
    pub fn texts_to_sequences<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Vec<usize>> {
        let num_words = self.num_words();
        let oov_index = self
            .config
            .oov_token
            .as_ref()
            .and_then(|token| self.word_index.get(token).copied());
        texts
            .iter()
            .map(|text| {
                self.tokens(text.as_ref())
                    .iter()
                    .filter_map(|token| match self.word_index.get(token) {
                        Some(&index) if num_words.is_some_and(|n| index >= n) => oov_index,
                        Some(&index) => Some(index),
                        None => oov_index,
                    })
                    .collect()
            })
            .collect()
    }

    /// `num_words`, with Keras's `Some(0)` read as `None`.
    pub(super) fn num_words(&self) -> Option<usize> {
        self.config.num_words.filter(|&n| n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_by_frequency_ties_in_first_appearance_order() {
        let mut tokenizer = Tokenizer::new(TokenizerConfig::default()).unwrap();
        tokenizer.fit_on_texts(&["c b a", "a b", "d"]);
        let index = tokenizer.word_index();
        // counts: c 1, b 2, a 2, d 1 → b, a (first seen b) then c, d.
        assert_eq!(
            [index["b"], index["a"], index["c"], index["d"]],
            [1, 2, 3, 4]
        );
        assert_eq!(tokenizer.word_docs()["a"], 2);
        assert_eq!(tokenizer.index_docs()[&4], 1);
        assert_eq!(tokenizer.document_count(), 3);
    }

    #[test]
    fn oov_token_seen_in_texts_keeps_its_last_index() {
        // Keras: dict(zip(['x', 'x', 'y'], [1, 2, 3])) gives x → 2; index 1 names no word.
        let config = TokenizerConfig {
            oov_token: Some("x".into()),
            ..Default::default()
        };
        let mut tokenizer = Tokenizer::new(config).unwrap();
        tokenizer.fit_on_texts(&["x x y"]);
        assert_eq!(tokenizer.word_index()["x"], 2);
        assert_eq!(tokenizer.word_index()["y"], 3);
        assert!(!tokenizer.index_word().contains_key(&1));
        assert_eq!(tokenizer.texts_to_sequences(&["z y"]), vec![vec![2, 3]]);
    }

    #[test]
    fn char_level_keeps_every_character() {
        let config = TokenizerConfig {
            char_level: true,
            ..Default::default()
        };
        let mut tokenizer = Tokenizer::new(config).unwrap();
        tokenizer.fit_on_texts(&["Ab, a"]);
        assert_eq!(tokenizer.word_index()["a"], 1);
        assert_eq!(tokenizer.word_index()[","], 3);
        assert_eq!(tokenizer.texts_to_sequences(&["ba!"]), vec![vec![2, 1]]);
    }

    #[test]
    fn empty_split_is_an_error() {
        let config = TokenizerConfig {
            split: String::new(),
            ..Default::default()
        };
        assert!(
            Tokenizer::new(config)
                .unwrap_err()
                .to_string()
                .contains("split")
        );
    }
}
