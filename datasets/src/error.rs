//! The datasets crate's error type.
//!
//! Policy: every loader, parser and vectoriser returns [`Result`]. A parse error names the source (a file path,
//! or `archive.tar.gz:member` for a file read from an archive) and the 1-based line at fault; a missing file names
//! the directory or archive searched and the task; a vectorisation error names the word and the example.

use std::path::PathBuf;

/// The most characters of a line (or token, or argument) that an error quotes: a damaged file can hold one line
/// of gigabytes, and the message must stay readable and small.
pub const MAX_QUOTED_CHARS: usize = 120;

/// `text` as errors quote it: whole when it has at most [`MAX_QUOTED_CHARS`] characters, else its first
/// [`MAX_QUOTED_CHARS`] characters followed by `… (N bytes in all)`.
///
/// ```
/// use rkeras_datasets::error::quote;
/// assert_eq!(quote("1 Mary moved."), "1 Mary moved.");
/// let long = "x".repeat(1_000_000);
/// assert_eq!(quote(&long), format!("{}… (1000000 bytes in all)", "x".repeat(120)));
/// ```
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
    }
}

/// Errors of the bAbI parser, loaders, vectoriser and generators.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A line that does not start with `<id> <text>`.
    #[error("{file}:{line}: expected a line of the form '<id> <text>', received {text:?}")]
    MissingLineNumber {
        /// The source the line was read from.
        file: String,
        /// The 1-based line number.
        line: usize,
        /// The line as read (whitespace trimmed), at most [`MAX_QUOTED_CHARS`] characters ([`quote`]).
        text: String,
    },
    /// A line id that is not the next one of the story (stories number their lines 1, 2, 3, …).
    #[error("{file}:{line}: expected line id 1 (a new story) or {expected}, received {found}")]
    UnexpectedLineId {
        /// The source the line was read from.
        file: String,
        /// The 1-based line number.
        line: usize,
        /// The id that would continue the current story.
        expected: usize,
        /// The id found.
        found: usize,
    },
    /// A question without its TAB-separated answer, or with the wrong number of TAB-separated fields.
    #[error(
        "{file}:{line}: a question needs the form '<id> <question>\\t<answer>\\t<supporting ids>', \
         received {text:?}"
    )]
    MissingAnswer {
        /// The source the line was read from.
        file: String,
        /// The 1-based line number.
        line: usize,
        /// The line as read (whitespace trimmed), at most [`MAX_QUOTED_CHARS`] characters ([`quote`]).
        text: String,
    },
    /// A supporting-fact field that is not a whitespace-separated list of line ids.
    #[error("{file}:{line}: supporting fact {token:?} is not a line id")]
    InvalidSupportingFact {
        /// The source the line was read from.
        file: String,
        /// The 1-based line number.
        line: usize,
        /// The offending token, at most [`MAX_QUOTED_CHARS`] characters ([`quote`]).
        token: String,
    },
    /// A supporting-fact id that does not name an earlier statement of the same story.
    #[error(
        "{file}:{line}: supporting fact {id} is out of range: the question has id {question_id}, \
         so a supporting fact must be a statement with an id in 1..{question_id}"
    )]
    SupportingFactOutOfRange {
        /// The source the line was read from.
        file: String,
        /// The 1-based line number.
        line: usize,
        /// The offending id.
        id: usize,
        /// The question's own id.
        question_id: usize,
    },
    /// A supporting-fact id that names a question line rather than a statement.
    #[error("{file}:{line}: supporting fact {id} names a question, not a statement")]
    SupportingFactIsQuestion {
        /// The source the line was read from.
        file: String,
        /// The 1-based line number.
        line: usize,
        /// The offending id.
        id: usize,
    },
    /// A control character (NUL, a bare carriage return, …) in a line: bAbI text is printable, and only TAB
    /// separates fields. Keras's tokenizer would make it a word of its own.
    #[error(
        "{file}:{line}:{column}: control character U+{code:04X} in the text; bAbI lines hold printable text and TABs only"
    )]
    ControlCharacter {
        /// The source the line was read from.
        file: String,
        /// The 1-based line number.
        line: usize,
        /// The 1-based character column.
        column: usize,
        /// The character's code point.
        code: u32,
    },
    /// A text without any question: empty, blank, or statements only.
    #[error(
        "{file}:{line}: reached the end of the text without a question line \
         ('<id> <question>\\t<answer>\\t<supporting ids>'); the text is empty, blank or holds statements only"
    )]
    NoQuestions {
        /// The source the text was read from.
        file: String,
        /// The last line of the text (1 for an empty text).
        line: usize,
    },
    /// Bytes that are not valid UTF-8.
    #[error("{file}:{line}: the text is not valid UTF-8")]
    InvalidUtf8 {
        /// The source the bytes were read from.
        file: String,
        /// The 1-based line holding the first invalid byte.
        line: usize,
    },
    /// A task given by a number or name that is not one of qa1 … qa20.
    #[error("invalid bAbI task {value:?}: expected a number 1..=20 or a name 'qa1' … 'qa20'")]
    InvalidTask {
        /// The value received, at most [`MAX_QUOTED_CHARS`] characters ([`quote`]).
        value: String,
    },
    /// No file for the task and split in a directory.
    #[error("bAbI task {task}: no {split} file 'qa{number}_*_{split}.txt' in {dir}", number = task.trim_start_matches("qa"))]
    MissingTaskFile {
        /// The task (`qa1` …).
        task: String,
        /// `train` or `test`.
        split: &'static str,
        /// The directory searched.
        dir: PathBuf,
    },
    /// More than one file for the task and split in a directory.
    #[error("bAbI task {task}: several {split} files in {dir}: {matches:?}")]
    AmbiguousTaskFile {
        /// The task (`qa1` …).
        task: String,
        /// `train` or `test`.
        split: &'static str,
        /// The directory searched.
        dir: PathBuf,
        /// The file names that matched.
        matches: Vec<String>,
    },
    /// No member for the task, subset and split in a bAbI archive.
    #[error("bAbI task {task}: no {split} file '{subset}/qa{number}_*_{split}.txt' in archive {archive}", number = task.trim_start_matches("qa"))]
    MissingArchiveEntry {
        /// The task (`qa1` …).
        task: String,
        /// The subset directory (`en-10k`, `en`, …).
        subset: String,
        /// `train` or `test`.
        split: &'static str,
        /// The archive searched.
        archive: PathBuf,
    },
    /// A file or archive that could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path at fault.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A word that is not in the vectoriser's vocabulary.
    #[error(
        "vectorize: word {word:?} in the {field} of example {example} is not in the vocabulary"
    )]
    UnknownWord {
        /// The word, at most [`MAX_QUOTED_CHARS`] characters ([`quote`]).
        word: String,
        /// `story`, `question` or `answer`.
        field: &'static str,
        /// The example's index in the slice given.
        example: usize,
    },
    /// An operation that needs at least one example received none.
    #[error("{op}: received no examples")]
    EmptyDataset {
        /// The operation.
        op: &'static str,
    },
    /// A task the built-in generator does not produce.
    #[error("the built-in generator produces tasks qa1 and qa2 only, received {task}")]
    GeneratorUnsupported {
        /// The task requested.
        task: String,
    },
    /// An IDX file whose magic number is not the expected one (2051 for images, 2049 for labels).
    #[error("{file}: IDX magic number {found}, expected {expected}")]
    IdxMagic {
        /// The file.
        file: String,
        /// The magic number expected.
        expected: u32,
        /// The magic number found.
        found: u32,
    },
    /// An IDX file shorter (or longer) than its header announces.
    #[error("{file}: truncated IDX file: the header announces {expected} bytes, found {found}")]
    IdxTruncated {
        /// The file.
        file: String,
        /// The length the header implies.
        expected: usize,
        /// The length read.
        found: usize,
    },
    /// Image and label files of one MNIST split that disagree in number.
    #[error("MNIST: {images} images in {images_file} but {labels} labels in {labels_file}")]
    MnistCountMismatch {
        /// The image file.
        images_file: PathBuf,
        /// Its number of images.
        images: usize,
        /// The label file.
        labels_file: PathBuf,
        /// Its number of labels.
        labels: usize,
    },
    /// An MNIST file missing from a directory.
    #[error("MNIST: no file {file} in {dir}")]
    MissingMnistFile {
        /// The file name looked for.
        file: String,
        /// The directory searched.
        dir: PathBuf,
    },
    /// A `.npz` archive, or an `.npy` member of one, that cannot be read as expected.
    #[error("{file}: {member}: {reason}")]
    Npz {
        /// The archive.
        file: PathBuf,
        /// The member (`x.npy`, `y.npy`, …).
        member: String,
        /// What is wrong.
        reason: String,
    },
    /// A JSON file that cannot be read as expected (e.g. a word index that is not an object of word → integer).
    #[error("{file}: {reason}")]
    Json {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An argument outside its valid range.
    #[error("{op}: invalid argument: {reason}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong with the argument.
        reason: String,
    },
}

impl DatasetError {
    /// The 1-based line of a parse error, if this is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::MissingLineNumber { line, .. }
            | Self::UnexpectedLineId { line, .. }
            | Self::MissingAnswer { line, .. }
            | Self::InvalidSupportingFact { line, .. }
            | Self::SupportingFactOutOfRange { line, .. }
            | Self::SupportingFactIsQuestion { line, .. }
            | Self::ControlCharacter { line, .. }
            | Self::NoQuestions { line, .. }
            | Self::InvalidUtf8 { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The source (file name) of a parse error, if this is one.
    pub fn file(&self) -> Option<&str> {
        match self {
            Self::MissingLineNumber { file, .. }
            | Self::UnexpectedLineId { file, .. }
            | Self::MissingAnswer { file, .. }
            | Self::InvalidSupportingFact { file, .. }
            | Self::SupportingFactOutOfRange { file, .. }
            | Self::SupportingFactIsQuestion { file, .. }
            | Self::ControlCharacter { file, .. }
            | Self::NoQuestions { file, .. }
            | Self::InvalidUtf8 { file, .. } => Some(file),
            _ => None,
        }
    }
}

/// The datasets crate's result type.
pub type Result<T> = std::result::Result<T, DatasetError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_report_file_and_line() {
        let err = DatasetError::MissingAnswer {
            file: "qa1_train.txt".into(),
            line: 7,
            text: "7 Where is Mary?".into(),
        };
        assert_eq!(err.line(), Some(7));
        assert_eq!(err.file(), Some("qa1_train.txt"));
        assert!(err.to_string().starts_with("qa1_train.txt:7: "));
    }

    #[test]
    fn missing_file_names_task_and_dir() {
        let err = DatasetError::MissingTaskFile {
            task: "qa12".into(),
            split: "test",
            dir: PathBuf::from("/data/en"),
        };
        let msg = err.to_string();
        assert!(msg.contains("qa12_*_test.txt"), "{msg}");
        assert!(msg.contains("/data/en"), "{msg}");
        assert_eq!(err.line(), None);
    }
}
