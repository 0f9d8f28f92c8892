//! Keras's `sequences_to_matrix` and `texts_to_matrix`: document-term matrices.

use super::tokenizer::Tokenizer;
use crate::error::{DatasetError, Result};
use indexmap::IndexMap;
use ndarray::Array2;

/// The `mode` of Keras's `sequences_to_matrix`: what a row holds for word `j` seen `c` times in a sequence of
/// length `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MatrixMode {
    /// 1 (Keras's default).
    #[default]
    Binary,
    /// `c`.
    Count,
    /// `c / n`.
    Freq,
    /// `(1 + ln c) · ln(1 + documents / (1 + documents holding j))`.
    Tfidf,
}

impl MatrixMode {
    /// Keras's name (`"binary"`, `"count"`, `"freq"`, `"tfidf"`), or an error naming the value.
    pub fn from_name(name: &str) -> Result<MatrixMode> {
        match name {
            "binary" => Ok(MatrixMode::Binary),
            "count" => Ok(MatrixMode::Count),
            "freq" => Ok(MatrixMode::Freq),
            "tfidf" => Ok(MatrixMode::Tfidf),
            other => Err(DatasetError::InvalidArgument {
                op: "sequences_to_matrix",
                reason: format!(
                    "`mode` must be \"binary\", \"count\", \"freq\" or \"tfidf\", received {other:?}"
                ),
            }),
        }
    }
}

impl Tokenizer {
    /// Keras's `sequences_to_matrix`: one row per sequence, `num_words` columns (or the word index's size + 1
    /// when `num_words` is unset); indices of `num_words` or more are skipped (but count in `freq`'s length).
    /// Errors when there is neither `num_words` nor a fitted word index, or for `tfidf` before any fit.
    ///
    /// ```
    /// use rkeras_datasets::text::{MatrixMode, Tokenizer, TokenizerConfig};
    /// let config = TokenizerConfig { num_words: Some(4), ..Default::default() };
    /// let tokenizer = Tokenizer::new(config)?;
    /// let freq = tokenizer.sequences_to_matrix(&[vec![1, 1, 3, 9]], MatrixMode::Freq)?;
    /// assert_eq!(freq.row(0).to_vec(), vec![0.0, 0.5, 0.0, 0.25]);
    /// # Ok::<(), rkeras_datasets::DatasetError>(())
    /// ```
    pub fn sequences_to_matrix(
        &self,
        sequences: &[Vec<usize>],
        mode: MatrixMode,
    ) -> Result<Array2<f32>> {
        let columns = match self.num_words() {
            Some(n) => n,
            None if !self.word_index().is_empty() => self.word_index().len() + 1,
            None => {
                return Err(DatasetError::InvalidArgument {
                    op: "sequences_to_matrix",
                    reason: "specify a dimension (`num_words`), or fit on some text data first"
                        .into(),
                });
            }
        };
        if mode == MatrixMode::Tfidf && self.document_count() == 0 {
            return Err(DatasetError::InvalidArgument {
                op: "sequences_to_matrix",
                reason: "fit the Tokenizer on some data before using tfidf mode".into(),
            });
        }
        let documents = self.document_count() as f64;
        let mut matrix = Array2::zeros((sequences.len(), columns));
        for (row, sequence) in sequences.iter().enumerate() {
            let mut counts: IndexMap<usize, usize> = IndexMap::new();
            for &j in sequence.iter().filter(|&&j| j < columns) {
                *counts.entry(j).or_insert(0) += 1;
            }
            for (j, c) in counts {
                let c = c as f64;
                let value = match mode {
                    MatrixMode::Binary => 1.0,
                    MatrixMode::Count => c,
                    MatrixMode::Freq => c / sequence.len() as f64,
                    MatrixMode::Tfidf => {
                        let holding = self.index_docs().get(&j).copied().unwrap_or(0) as f64;
                        (1.0 + c.ln()) * (1.0 + documents / (1.0 + holding)).ln()
                    }
                };
                matrix[[row, j]] = value as f32;
            }
        }
        Ok(matrix)
    }

    /// Keras's `texts_to_matrix`: [`texts_to_sequences`](Self::texts_to_sequences) then
    /// [`sequences_to_matrix`](Self::sequences_to_matrix).
    pub fn texts_to_matrix<S: AsRef<str>>(
        &self,
        texts: &[S],
        mode: MatrixMode,
    ) -> Result<Array2<f32>> {
        self.sequences_to_matrix(&self.texts_to_sequences(texts), mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::TokenizerConfig;

    #[test]
    fn tfidf_by_hand() {
        let mut tokenizer = Tokenizer::new(TokenizerConfig::default()).unwrap();
        tokenizer.fit_on_texts(&["a a b", "a c", "d"]);
        // a: index 1, in 2 of 3 documents; seen twice → (1 + ln 2) · ln(1 + 3/3).
        let m = tokenizer
            .sequences_to_matrix(&[vec![1, 1]], MatrixMode::Tfidf)
            .unwrap();
        let expected = (1.0 + 2f64.ln()) * 2f64.ln();
        assert!((f64::from(m[[0, 1]]) - expected).abs() < 1e-6);
        assert_eq!(m.dim(), (1, 5));
    }

    #[test]
    fn errors_name_the_problem() {
        let tokenizer = Tokenizer::new(TokenizerConfig::default()).unwrap();
        let error = tokenizer
            .sequences_to_matrix(&[vec![1]], MatrixMode::Binary)
            .unwrap_err();
        assert!(error.to_string().contains("num_words"), "{error}");
        let sized = Tokenizer::new(TokenizerConfig {
            num_words: Some(3),
            ..Default::default()
        })
        .unwrap();
        let error = sized
            .sequences_to_matrix(&[vec![1]], MatrixMode::Tfidf)
            .unwrap_err();
        assert!(error.to_string().contains("tfidf"), "{error}");
        assert!(
            MatrixMode::from_name("tf")
                .unwrap_err()
                .to_string()
                .contains("\"tf\"")
        );
        assert_eq!(MatrixMode::from_name("freq").unwrap(), MatrixMode::Freq);
    }
}
