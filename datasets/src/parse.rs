//! The bAbI text format and its parser.
//!
//! Each line is `<id> <text>`. Ids count up from 1 within a story, and id 1 starts a new story. A statement is
//! plain text (`3 Mary moved to the bathroom.`); a question carries its answer and the ids of its supporting
//! statements after TABs (`4 Where is Mary? \tbathroom\t3`). Blank lines are skipped.
//!
//! [`parse_babi`] turns every question into a [`QaExample`] exactly as the Keras bAbI examples do: the story is
//! the tokens of all the statements before the question, flattened into one list (question lines are not part
//! of the story); the question is tokenised with [`tokenize`](crate::tokenize()); the answer is kept verbatim, so
//! a list answer such as `apple,football` is one token. With `only_supporting`, the story holds only the
//! supporting statements, in the order the question lists them (Keras's `get_stories(only_supporting=True)`).
//! Whitespace around the answer is dropped, so `bathroom ` is the answer `bathroom`, the one token Keras's
//! tokenizer makes of it (Keras itself keeps the space and gets a second, different word).
//! Each statement is tokenised once: the examples of a file view one shared [`Tokens`] store, so the stories
//! of a story's questions, which grow by prefix, are not copied.
//!
//! Beyond what Keras checks, the parser rejects, with the source name and 1-based line: a line without an id,
//! ids that do not count up, a question without its answer (or a TAB-less line holding a `?`, whose TABs became
//! spaces), supporting ids that are not numbers or do not name an earlier statement of the story, a control
//! character (NUL, …; Keras would make it a word), and a text without any question (empty or blank). Errors
//! quote at most [`MAX_QUOTED_CHARS`](crate::error::MAX_QUOTED_CHARS) characters of a line.
//!
//! ```
//! use rkeras_datasets::parse_babi;
//! let text = "1 Mary moved to the bathroom.\n2 John went to the hallway.\n3 Where is Mary? \tbathroom\t1\n";
//! let examples = parse_babi(text, "inline", false)?;
//! assert_eq!(examples.len(), 1);
//! assert_eq!(examples[0].story.len(), 12);
//! assert_eq!(examples[0].question, ["Where", "is", "Mary", "?"]);
//! assert_eq!(examples[0].answer, "bathroom");
//! assert_eq!(examples[0].supporting, [1]);
//! let only = parse_babi(text, "inline", true)?;
//! assert_eq!(only[0].story, ["Mary", "moved", "to", "the", "bathroom", "."]);
//! # Ok::<(), rkeras_datasets::DatasetError>(())
//! ```

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result, quote};
use crate::token_store::Interner;
use crate::tokenize::split_tokens;
use crate::tokens::Tokens;

/// One question with its story, as the Keras bAbI examples build it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaExample {
    /// The tokens of the story's statements before the question (or of its supporting statements only),
    /// flattened into one list. The statements are shared with the other questions of the file.
    pub story: Tokens,
    /// The question's tokens.
    pub question: Tokens,
    /// The answer, verbatim (one token even when it is a list such as `apple,football`).
    pub answer: String,
    /// The ids of the supporting statements, in the order the question lists them.
    pub supporting: Vec<usize>,
}

impl QaExample {
    /// An example from its story and question tokens, answer and supporting-statement ids.
    ///
    /// ```
    /// use rkeras_datasets::QaExample;
    /// let example = QaExample::new(["Mary", "moved", "."], ["Where", "is", "Mary", "?"], "hallway", vec![1]);
    /// assert_eq!((example.story.len(), example.question.last()), (3, Some("?")));
    /// ```
    pub fn new<S: AsRef<str>, Q: AsRef<str>>(
        story: impl IntoIterator<Item = S>,
        question: impl IntoIterator<Item = Q>,
        answer: impl Into<String>,
        supporting: Vec<usize>,
    ) -> QaExample {
        QaExample {
            story: Tokens::new(story),
            question: Tokens::new(question),
            answer: answer.into(),
            supporting,
        }
    }
}

/// Parses bAbI text into one [`QaExample`] per question.
///
/// `source` names the text in errors (a file name). With `only_supporting`, each story keeps only the question's
/// supporting statements.
pub fn parse_babi(text: &str, source: &str, only_supporting: bool) -> Result<Vec<QaExample>> {
    let mut parser = StoryParser::new(source, only_supporting, text.len());
    let mut last_line = 1;
    for (index, raw_line) in text.lines().enumerate() {
        last_line = index + 1;
        parser.line(last_line, raw_line)?;
    }
    if parser.questions.is_empty() {
        return Err(DatasetError::NoQuestions {
            file: source.to_string(),
            line: last_line,
        });
    }
    Ok(parser.finish())
}

/// Like [`parse_babi`], from raw bytes: bytes that are not UTF-8 are an error naming the line at fault.
pub fn parse_babi_bytes(
    bytes: &[u8],
    source: &str,
    only_supporting: bool,
) -> Result<Vec<QaExample>> {
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let valid = bytes.get(..err.valid_up_to()).unwrap_or_default();
        DatasetError::InvalidUtf8 {
            file: source.to_string(),
            line: 1 + valid.iter().filter(|&&b| b == b'\n').count(),
        }
    })?;
    parse_babi(text, source, only_supporting)
}

/// A question as parsed: its story and question as ranges of the parser's token buffers.
struct ParsedQuestion<'t> {
    story: Range<usize>,
    question: Range<usize>,
    answer: &'t str,
    supporting: Vec<usize>,
}

/// Parser state: the file's tokens as symbol ids, and the statements of the current story, indexed by line id.
struct StoryParser<'s, 't> {
    source: &'s str,
    only_supporting: bool,
    interner: Interner<'t>,
    /// Every statement's tokens, in file order, so the statements of a story are one range; with
    /// `only_supporting`, the stories gathered from the supporting statements follow the statements they copy.
    story_ids: Vec<usize>,
    /// Every question's tokens, in file order.
    question_ids: Vec<usize>,
    /// Where the current story's statements start in `story_ids`.
    story_start: usize,
    /// Entry `id - 1` holds the range of statement `id` in `story_ids`, or `None` when line `id` is a question.
    lines: Vec<Option<Range<usize>>>,
    questions: Vec<ParsedQuestion<'t>>,
}

impl<'s, 't> StoryParser<'s, 't> {
    fn new(source: &'s str, only_supporting: bool, text_len: usize) -> Self {
        Self {
            source,
            only_supporting,
            interner: Interner::default(),
            // bAbI text averages about five bytes per token.
            story_ids: Vec::with_capacity(text_len / 5),
            question_ids: Vec::new(),
            story_start: 0,
            lines: Vec::new(),
            questions: Vec::new(),
        }
    }

    fn line(&mut self, line_no: usize, raw_line: &'t str) -> Result<()> {
        self.reject_control_characters(line_no, raw_line)?;
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
            self.story_start = self.story_ids.len();
        } else if id != self.lines.len() + 1 {
            return Err(DatasetError::UnexpectedLineId {
                file: self.source.to_string(),
                line: line_no,
                expected: self.lines.len() + 1,
                found: id,
            });
        }
        if text.contains('\t') {
            self.question(line_no, line, id, text)?;
            self.lines.push(None);
        } else if text.contains('?') {
            return Err(self.missing_answer(line_no, line));
        } else {
            let start = self.story_ids.len();
            for token in split_tokens(text) {
                self.story_ids.push(self.interner.intern(token));
            }
            self.lines.push(Some(start..self.story_ids.len()));
        }
        Ok(())
    }

    fn question(&mut self, line_no: usize, line: &str, id: usize, text: &'t str) -> Result<()> {
        let mut fields = text.split('\t');
        let (Some(question), Some(answer), Some(supporting), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(self.missing_answer(line_no, line));
        };
        let answer = answer.trim();
        if answer.is_empty() {
            return Err(self.missing_answer(line_no, line));
        }
        let supporting = self.supporting_ids(line_no, id, supporting)?;
        let story = if self.only_supporting {
            let start = self.story_ids.len();
            for &fact in &supporting {
                let statement = fact.checked_sub(1).and_then(|i| self.lines.get(i));
                if let Some(Some(range)) = statement {
                    self.story_ids.extend_from_within(range.clone());
                }
            }
            start..self.story_ids.len()
        } else {
            self.story_start..self.story_ids.len()
        };
        let question_start = self.question_ids.len();
        for token in split_tokens(question) {
            self.question_ids.push(self.interner.intern(token));
        }
        self.questions.push(ParsedQuestion {
            story,
            question: question_start..self.question_ids.len(),
            answer,
            supporting,
        });
        Ok(())
    }

    /// The examples, viewing one store that holds the statements and then the questions.
    fn finish(self) -> Vec<QaExample> {
        let question_offset = self.story_ids.len();
        let mut ids = self.story_ids;
        ids.extend(self.question_ids);
        let store = self.interner.into_store(ids);
        self.questions
            .into_iter()
            .map(|parsed| {
                let question = parsed.question;
                QaExample {
                    story: Tokens::in_store(
                        Arc::clone(&store),
                        parsed.story.start,
                        parsed.story.end,
                    ),
                    question: Tokens::in_store(
                        Arc::clone(&store),
                        question_offset + question.start,
                        question_offset + question.end,
                    ),
                    answer: parsed.answer.to_string(),
                    supporting: parsed.supporting,
                }
            })
            .collect()
    }

    /// Parses and checks the supporting-fact ids: each must name a statement before the question.
    fn supporting_ids(
        &self,
        line_no: usize,
        question_id: usize,
        field: &str,
    ) -> Result<Vec<usize>> {
        field
            .split_whitespace()
            .map(|token| {
                let id: usize = token
                    .parse()
                    .map_err(|_| DatasetError::InvalidSupportingFact {
                        file: self.source.to_string(),
                        line: line_no,
                        token: quote(token),
                    })?;
                if id == 0 || id >= question_id {
                    return Err(DatasetError::SupportingFactOutOfRange {
                        file: self.source.to_string(),
                        line: line_no,
                        id,
                        question_id,
                    });
                }
                match self.lines.get(id - 1) {
                    Some(Some(_)) => Ok(id),
                    _ => Err(DatasetError::SupportingFactIsQuestion {
                        file: self.source.to_string(),
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

    /// A control character other than TAB (and the CR of a CRLF line end) is an error naming its column.
    fn reject_control_characters(&self, line_no: usize, raw_line: &str) -> Result<()> {
        let content = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        match content
            .char_indices()
            .find(|&(_, c)| c.is_control() && c != '\t')
        {
            None => Ok(()),
            Some((at, c)) => Err(DatasetError::ControlCharacter {
                file: self.source.to_string(),
                line: line_no,
                column: content[..at].chars().count() + 1,
                code: u32::from(c),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_STORIES: &str = "\
1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Where is Daniel? \thallway\t4
1 Sandra travelled to the office.
2 Where is Sandra? \toffice\t1
";

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn stories_accumulate_statements_and_restart_at_id_one() {
        let ex = parse_babi(TWO_STORIES, "t", false).unwrap();
        assert_eq!(ex.len(), 3);
        assert_eq!(
            ex[0].story,
            words("Mary moved to the bathroom . John went to the hallway .")
        );
        // The question line (id 3) is not part of the story.
        assert_eq!(
            ex[1].story,
            words(
                "Mary moved to the bathroom . John went to the hallway . Daniel went back to the hallway ."
            )
        );
        assert_eq!(ex[1].question, words("Where is Daniel ?"));
        assert_eq!(ex[2].story, words("Sandra travelled to the office ."));
        assert_eq!(ex[2].answer, "office");
    }

    #[test]
    fn questions_share_the_statements_instead_of_copying_them() {
        let ex = parse_babi(TWO_STORIES, "t", false).unwrap();
        let store = ex[0].story.store();
        for example in &ex {
            assert!(Arc::ptr_eq(example.story.store(), store));
            assert!(Arc::ptr_eq(example.question.store(), store));
        }
        // The second question's story extends the first's in place.
        let (first, second) = (ex[0].story.ids(), ex[1].story.ids());
        assert_eq!((first.len(), second.len()), (12, 19));
        assert_eq!(first.as_ptr(), second.as_ptr());
        // A new story starts after the last one's statements.
        assert_eq!(ex[2].story.ids().as_ptr(), second[second.len()..].as_ptr());
    }

    #[test]
    fn only_supporting_keeps_listed_statements_in_listed_order() {
        let text = "1 Mary got the football there.\n2 John went to the hallway.\n\
                    3 Mary went to the garden.\n4 Where is the football? \tgarden\t3 1\n";
        let ex = parse_babi(text, "t", true).unwrap();
        assert_eq!(ex[0].supporting, [3, 1]);
        assert_eq!(
            ex[0].story,
            words("Mary went to the garden . Mary got the football there .")
        );
    }

    #[test]
    fn list_answers_stay_one_token() {
        let text = "1 Mary got the apple there.\n2 What is Mary carrying? \tapple,football\t1\n";
        assert_eq!(
            parse_babi(text, "t", false).unwrap()[0].answer,
            "apple,football"
        );
    }

    #[test]
    fn blank_lines_and_crlf_are_accepted() {
        let text = "1 Mary moved to the bathroom.\r\n\r\n2 Where is Mary? \tbathroom\t1\r\n";
        let ex = parse_babi(text, "t", false).unwrap();
        assert_eq!(ex[0].supporting, [1]);
        assert_eq!(ex[0].story.last(), Some("."));
    }

    fn error_line(text: &str) -> (DatasetError, usize) {
        let err = parse_babi(text, "bad.txt", false).unwrap_err();
        assert_eq!(err.file(), Some("bad.txt"));
        let line = err.line().unwrap();
        (err, line)
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let (err, line) = error_line("1 Mary moved.\nMary moved.\n");
        assert!(
            matches!(err, DatasetError::MissingLineNumber { .. }) && line == 2,
            "{err}"
        );
        let (err, line) = error_line("1 Mary moved.\n3 John moved.\n");
        assert!(
            matches!(
                err,
                DatasetError::UnexpectedLineId {
                    expected: 2,
                    found: 3,
                    ..
                }
            ) && line == 2
        );
        let (err, line) = error_line("1 Mary moved.\n\n2 Where is Mary?\n");
        assert!(
            matches!(err, DatasetError::MissingAnswer { .. }) && line == 3,
            "{err}"
        );
        let (err, _) = error_line("1 Mary moved.\n2 Where is Mary?\t\t1\n");
        assert!(matches!(err, DatasetError::MissingAnswer { .. }), "{err}");
        let (err, _) = error_line("1 Mary moved.\n2 Where is Mary?\tkitchen\n");
        assert!(matches!(err, DatasetError::MissingAnswer { .. }), "{err}");
        let (err, _) = error_line("5\n");
        assert!(
            matches!(err, DatasetError::MissingLineNumber { .. }),
            "{err}"
        );
    }

    #[test]
    fn bad_supporting_facts_are_rejected() {
        let (err, line) = error_line("1 Mary moved.\n2 Where is Mary? \tkitchen\tx\n");
        assert!(
            matches!(err, DatasetError::InvalidSupportingFact { .. }) && line == 2,
            "{err}"
        );
        let (err, _) = error_line("1 Mary moved.\n2 Where is Mary? \tkitchen\t2\n");
        assert!(matches!(
            err,
            DatasetError::SupportingFactOutOfRange {
                id: 2,
                question_id: 2,
                ..
            }
        ));
        let (err, _) = error_line("1 Mary moved.\n2 Where is Mary? \tkitchen\t0\n");
        assert!(matches!(
            err,
            DatasetError::SupportingFactOutOfRange { id: 0, .. }
        ));
        let (err, line) = error_line(
            "1 Mary moved.\n2 Where is Mary? \tkitchen\t1\n3 Where is Mary? \tkitchen\t2\n",
        );
        assert!(matches!(err, DatasetError::SupportingFactIsQuestion { id: 2, .. }) && line == 3);
    }

    #[test]
    fn errors_quote_at_most_a_bounded_excerpt_of_the_line() {
        // Issue 12: a line of gigabytes (an archive of NULs) made an error message of gigabytes.
        let long = format!("1 Mary moved.\n{}\n", "x".repeat(4 << 20));
        let (err, line) = error_line(&long);
        assert!(matches!(err, DatasetError::MissingLineNumber { .. }) && line == 2);
        let message = err.to_string();
        assert!(message.len() < 300, "{} bytes", message.len());
        assert!(
            message.ends_with(&format!("{}… (4194304 bytes in all)\"", "x".repeat(120))),
            "{message}"
        );
        let question = format!("1 Mary moved.\n2 Where is Mary? {}\n", "y".repeat(1 << 20));
        let (err, _) = error_line(&question);
        assert!(matches!(err, DatasetError::MissingAnswer { .. }));
        assert!(err.to_string().len() < 400);
        let facts = format!(
            "1 Mary moved.\n2 Where is Mary? \tkitchen\t{}\n",
            "7".repeat(1 << 20)
        );
        let (err, _) = error_line(&facts);
        assert!(matches!(err, DatasetError::InvalidSupportingFact { .. }));
        assert!(err.to_string().len() < 300);
    }

    #[test]
    fn a_question_whose_tabs_became_spaces_is_an_error() {
        // Issue 12: parsed as the statement "Where is Mary ? bathroom 1", silently dropping the question.
        let (err, line) =
            error_line("1 Mary moved to the bathroom.\n2 Where is Mary?  bathroom  1\n");
        assert!(
            matches!(err, DatasetError::MissingAnswer { .. }) && line == 2,
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("bad.txt:2: a question needs the form")
        );
    }

    #[test]
    fn a_text_without_questions_is_an_error() {
        // Issue 12: an empty or blank file gave 0 examples and no error.
        for (text, last_line) in [
            ("", 1),
            ("\n", 1),
            ("  \n\t\n \n", 3),
            (
                "1 Mary moved to the bathroom.\n2 John went to the hallway.\n",
                2,
            ),
        ] {
            let (err, line) = error_line(text);
            assert!(
                matches!(err, DatasetError::NoQuestions { .. }),
                "{text:?}: {err}"
            );
            assert_eq!(line, last_line, "{text:?}");
        }
        let bytes_err = parse_babi_bytes(b"", "empty.txt", false).unwrap_err();
        assert!(
            bytes_err
                .to_string()
                .starts_with("empty.txt:1: reached the end of the text without a question")
        );
    }

    #[test]
    fn control_characters_are_errors_naming_line_and_column() {
        // Issue 12: a NUL became a word of the vocabulary (Keras's tokenizer would do the same).
        let rows: &[(&str, usize, usize, u32)] = &[
            (
                "1 Mary moved to the\0 bathroom.\n2 Where is Mary? \tbathroom\t1\n",
                1,
                20,
                0,
            ),
            ("1 Mary moved.\n2 Where is Mary? \tkitchen\0\t1\n", 2, 26, 0),
            ("1 Mary\rmoved.\n2 Where is Mary? \tkitchen\t1\n", 1, 7, 13),
            ("1 Mary moved.\u{1b}\n", 1, 14, 27),
            ("\0\0\0\0", 1, 1, 0),
        ];
        for &(text, want_line, want_column, want_code) in rows {
            let (err, line) = error_line(text);
            match err {
                DatasetError::ControlCharacter { column, code, .. } => {
                    assert_eq!(
                        (line, column, code),
                        (want_line, want_column, want_code),
                        "{text:?}"
                    )
                }
                other => panic!("{text:?}: expected ControlCharacter, got {other}"),
            }
        }
        let err = error_line("1 a\0b.\n").0.to_string();
        assert_eq!(
            err,
            "bad.txt:1:4: control character U+0000 in the text; bAbI lines hold printable text and TABs only"
        );
    }

    #[test]
    fn whitespace_around_the_answer_gives_keras_tokenizer_s_token() {
        // Issue 12: "bathroom " became a second answer word beside "bathroom".
        let text = "1 Mary moved to the bathroom.\n2 Where is Mary? \tbathroom \t1\n\
                    3 Where is Mary? \t bathroom\t1\n4 Where is Mary?\tbathroom\t1 \n";
        let ex = parse_babi(text, "t", false).unwrap();
        // Keras's tokenize("bathroom ") == ["bathroom"].
        assert_eq!(crate::tokenize("bathroom "), ["bathroom"]);
        for example in &ex {
            assert_eq!(example.answer, "bathroom");
            assert_eq!(example.supporting, [1]);
        }
    }

    #[test]
    fn non_utf8_names_the_line() {
        let bytes = b"1 Mary moved.\n2 John \xff moved.\n";
        let err = parse_babi_bytes(bytes, "bin.txt", false).unwrap_err();
        assert!(
            matches!(err, DatasetError::InvalidUtf8 { line: 2, .. }),
            "{err}"
        );
        assert_eq!(err.file(), Some("bin.txt"));
    }
}
