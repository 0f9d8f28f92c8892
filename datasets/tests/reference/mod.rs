//! A straightforward reference of parsing and vectorising, kept as the crate first wrote it: every question
//! copies its story's tokens as owned strings, the vocabulary is a `BTreeSet` of every token, and each word is
//! looked up in a `HashMap` when vectorising. The fast path (a shared token store per file, interned symbol
//! ids, per-store remap tables) must give exactly what this gives.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};

use ndarray::{Array1, Array2};
use rkeras_datasets::DatasetError;
use rkeras_datasets::error::quote;

type Result<T> = std::result::Result<T, DatasetError>;

/// `[t.strip() for t in re.split(r"(\W+)", sentence) if t.strip()]`, one character at a time.
pub fn tokenize(sentence: &str) -> Vec<String> {
    let is_word = |c: char| c == '_' || c.is_alphanumeric();
    let mut tokens = Vec::new();
    let mut push = |run: &str| {
        if !run.trim().is_empty() {
            tokens.push(run.trim().to_string());
        }
    };
    let mut run_start = 0;
    let mut run_is_word: Option<bool> = None;
    for (pos, c) in sentence.char_indices() {
        match run_is_word {
            Some(current) if current == is_word(c) => {}
            Some(_) => {
                push(&sentence[run_start..pos]);
                run_start = pos;
                run_is_word = Some(is_word(c));
            }
            None => run_is_word = Some(is_word(c)),
        }
    }
    push(&sentence[run_start..]);
    tokens
}

/// One question with its story as owned strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub story: Vec<String>,
    pub question: Vec<String>,
    pub answer: String,
    pub supporting: Vec<usize>,
}

/// Parses bAbI text, copying each question's story.
pub fn parse(text: &str, source: &str, only_supporting: bool) -> Result<Vec<Example>> {
    let mut parser = Parser {
        source,
        only_supporting,
        lines: Vec::new(),
        examples: Vec::new(),
    };
    let lines: Vec<&str> = text.lines().collect();
    for (index, raw_line) in lines.iter().enumerate() {
        parser.line(index + 1, raw_line)?;
    }
    if parser.examples.is_empty() {
        return Err(DatasetError::NoQuestions {
            file: source.to_string(),
            line: lines.len().max(1),
        });
    }
    Ok(parser.examples)
}

/// Like [`parse`], from bytes.
pub fn parse_bytes(bytes: &[u8], source: &str, only_supporting: bool) -> Result<Vec<Example>> {
    let text = std::str::from_utf8(bytes).map_err(|err| DatasetError::InvalidUtf8 {
        file: source.to_string(),
        line: 1 + bytes[..err.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })?;
    parse(text, source, only_supporting)
}

struct Parser<'a> {
    source: &'a str,
    only_supporting: bool,
    lines: Vec<Option<Vec<String>>>,
    examples: Vec<Example>,
}

impl Parser<'_> {
    fn line(&mut self, line_no: usize, raw_line: &str) -> Result<()> {
        let content = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        for (i, c) in content.chars().enumerate() {
            if c != '\t' && c.is_control() {
                return Err(DatasetError::ControlCharacter {
                    file: self.source.to_string(),
                    line: line_no,
                    column: i + 1,
                    code: c as u32,
                });
            }
        }
        let line = raw_line.trim();
        if line.is_empty() {
            return Ok(());
        }
        let missing_id = || DatasetError::MissingLineNumber {
            file: self.source.to_string(),
            line: line_no,
            text: quote(line),
        };
        let (id_text, text) = line.split_once(' ').ok_or_else(missing_id)?;
        if id_text.is_empty() || !id_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(missing_id());
        }
        let id: usize = id_text.parse().map_err(|_| missing_id())?;
        if id == 1 {
            self.lines.clear();
        } else if id != self.lines.len() + 1 {
            return Err(DatasetError::UnexpectedLineId {
                file: self.source.to_string(),
                line: line_no,
                expected: self.lines.len() + 1,
                found: id,
            });
        }
        if text.contains('\t') {
            let example = self.question(line_no, line, id, text)?;
            self.examples.push(example);
            self.lines.push(None);
        } else if text.contains('?') {
            return Err(self.missing_answer(line_no, line));
        } else {
            self.lines.push(Some(tokenize(text)));
        }
        Ok(())
    }

    fn question(&self, line_no: usize, line: &str, id: usize, text: &str) -> Result<Example> {
        let fields: Vec<&str> = text.split('\t').collect();
        let [question, answer, supporting] = fields[..] else {
            return Err(self.missing_answer(line_no, line));
        };
        if answer.trim().is_empty() {
            return Err(self.missing_answer(line_no, line));
        }
        let supporting = self.supporting_ids(line_no, id, supporting)?;
        let story = if self.only_supporting {
            supporting
                .iter()
                .filter_map(|&fact| self.lines[fact - 1].as_ref())
                .flatten()
                .cloned()
                .collect()
        } else {
            self.lines.iter().flatten().flatten().cloned().collect()
        };
        Ok(Example {
            story,
            question: tokenize(question),
            answer: answer.trim().to_string(),
            supporting,
        })
    }

    fn supporting_ids(
        &self,
        line_no: usize,
        question_id: usize,
        field: &str,
    ) -> Result<Vec<usize>> {
        let file = || self.source.to_string();
        field
            .split_whitespace()
            .map(|token| {
                let id: usize = token
                    .parse()
                    .map_err(|_| DatasetError::InvalidSupportingFact {
                        file: file(),
                        line: line_no,
                        token: quote(token),
                    })?;
                if id == 0 || id >= question_id {
                    return Err(DatasetError::SupportingFactOutOfRange {
                        file: file(),
                        line: line_no,
                        id,
                        question_id,
                    });
                }
                match self.lines.get(id - 1) {
                    Some(Some(_)) => Ok(id),
                    _ => Err(DatasetError::SupportingFactIsQuestion {
                        file: file(),
                        line: line_no,
                        id,
                    }),
                }
            })
            .collect()
    }

    fn missing_answer(&self, line_no: usize, line: &str) -> DatasetError {
        DatasetError::MissingAnswer {
            file: self.source.to_string(),
            line: line_no,
            text: quote(line),
        }
    }
}

/// The sorted vocabulary (without padding) and the longest story and question over both splits.
pub fn fit(train: &[Example], test: &[Example]) -> (Vec<String>, usize, usize) {
    let all = || train.iter().chain(test);
    let mut words = BTreeSet::new();
    for example in all() {
        words.extend(example.story.iter().cloned());
        words.extend(example.question.iter().cloned());
        words.insert(example.answer.clone());
    }
    let story_maxlen = all().map(|e| e.story.len()).max().unwrap_or(0);
    let query_maxlen = all().map(|e| e.question.len()).max().unwrap_or(0);
    (words.into_iter().collect(), story_maxlen, query_maxlen)
}

/// Stories, queries and answers as index arrays, padded and truncated at the front.
pub type Arrays = (Array2<f32>, Array2<f32>, Array1<f32>);

/// Vectorises with a word list (word `i` has index `i + 1`) and fixed lengths.
pub fn vectorize(
    words: &[String],
    story_maxlen: usize,
    query_maxlen: usize,
    examples: &[Example],
) -> Result<Arrays> {
    let index: HashMap<&str, usize> = words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_str(), i + 1))
        .collect();
    let lookup = |word: &String, field: &'static str, example: usize| {
        index
            .get(word.as_str())
            .copied()
            .ok_or_else(|| DatasetError::UnknownWord {
                word: quote(word),
                field,
                example,
            })
    };
    let n = examples.len();
    let mut stories = Array2::zeros((n, story_maxlen));
    let mut queries = Array2::zeros((n, query_maxlen));
    let mut answers = Array1::zeros(n);
    for (i, example) in examples.iter().enumerate() {
        let story: Vec<usize> = (example.story.iter())
            .map(|w| lookup(w, "story", i))
            .collect::<Result<_>>()?;
        pad_pre(&story, stories.row_mut(i));
        let query: Vec<usize> = (example.question.iter())
            .map(|w| lookup(w, "question", i))
            .collect::<Result<_>>()?;
        pad_pre(&query, queries.row_mut(i));
        answers[i] = lookup(&example.answer, "answer", i)? as f32;
    }
    Ok((stories, queries, answers))
}

/// Keras `pad_sequences(padding='pre', truncating='pre')` of one sequence into a zero-filled row.
fn pad_pre(seq: &[usize], mut row: ndarray::ArrayViewMut1<'_, f32>) {
    let len = row.len();
    let kept = &seq[seq.len().saturating_sub(len)..];
    for (slot, &value) in row.iter_mut().skip(len - kept.len()).zip(kept) {
        *slot = value as f32;
    }
}
