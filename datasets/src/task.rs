//! The twenty bAbI tasks, named `qa1` … `qa20`.
//!
//! A [`Task`] is built from its number or parsed from a name: `"qa3"`, `"3"`, `"QA3"` or the full file stem
//! `"qa3_three-supporting-facts"`. Its [`file_prefix`](Task::file_prefix) (`"qa3_"`) is how the task's files
//! are found in a directory or archive.
//!
//! ```
//! use rkeras_datasets::Task;
//! let task: Task = "qa2".parse()?;
//! assert_eq!(task.number(), 2);
//! assert_eq!(task.title(), "two-supporting-facts");
//! assert_eq!(task.file_prefix(), "qa2_");
//! assert!(Task::new(21).is_err());
//! # Ok::<(), rkeras_datasets::DatasetError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::{DatasetError, Result, quote};

/// The titles of the twenty tasks, as in the official file names (`qa1_single-supporting-fact_train.txt`).
const TITLES: [&str; 20] = [
    "single-supporting-fact",
    "two-supporting-facts",
    "three-supporting-facts",
    "two-arg-relations",
    "three-arg-relations",
    "yes-no-questions",
    "counting",
    "lists-sets",
    "simple-negation",
    "indefinite-knowledge",
    "basic-coreference",
    "conjunction",
    "compound-coreference",
    "time-reasoning",
    "basic-deduction",
    "basic-induction",
    "positional-reasoning",
    "size-reasoning",
    "path-finding",
    "agents-motivations",
];

/// One of the twenty bAbI tasks (`qa1` … `qa20`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Task(u8);

impl Task {
    /// Task qa1, single supporting fact.
    pub const QA1: Task = Task(1);
    /// Task qa2, two supporting facts.
    pub const QA2: Task = Task(2);

    /// The task with this number, 1..=20.
    pub fn new(number: usize) -> Result<Task> {
        match u8::try_from(number) {
            Ok(n @ 1..=20) => Ok(Task(n)),
            _ => Err(DatasetError::InvalidTask {
                value: number.to_string(),
            }),
        }
    }

    /// The task's number, 1..=20.
    pub fn number(self) -> usize {
        usize::from(self.0)
    }

    /// The task's short name, `qa1` … `qa20`.
    pub fn name(self) -> String {
        format!("qa{}", self.0)
    }

    /// The task's title as in the official file names, e.g. `single-supporting-fact`.
    pub fn title(self) -> &'static str {
        TITLES.get(self.number() - 1).copied().unwrap_or("")
    }

    /// The prefix of the task's file names, e.g. `qa1_` (which does not match `qa10_…`).
    pub fn file_prefix(self) -> String {
        format!("qa{}_", self.0)
    }

    /// The official file name of one split, e.g. `qa1_single-supporting-fact_train.txt`.
    pub fn file_name(self, split: Split) -> String {
        format!("qa{}_{}_{}.txt", self.0, self.title(), split.name())
    }

    /// All twenty tasks in order.
    pub fn all() -> impl Iterator<Item = Task> {
        (1..=20).map(Task)
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "qa{}", self.0)
    }
}

impl FromStr for Task {
    type Err = DatasetError;

    /// Parses `"3"`, `"qa3"`, `"QA3"` or `"qa3_three-supporting-facts"`.
    fn from_str(value: &str) -> Result<Task> {
        let invalid = || DatasetError::InvalidTask {
            value: quote(value),
        };
        let trimmed = value.trim();
        let lower = trimmed.to_ascii_lowercase();
        let rest = lower.strip_prefix("qa").unwrap_or(&lower);
        let (digits, title) = match rest.split_once('_') {
            Some((digits, title)) => (digits, Some(title)),
            None => (rest, None),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let number: usize = digits.parse().map_err(|_| invalid())?;
        let task = Task::new(number).map_err(|_| invalid())?;
        match title {
            Some(title) if title != task.title() => Err(invalid()),
            _ => Ok(task),
        }
    }
}

/// One split of a task's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training file, `…_train.txt`.
    Train,
    /// The test file, `…_test.txt`.
    Test,
}

impl Split {
    /// `train` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }

    /// The suffix of the split's file names, `_train.txt` or `_test.txt`.
    pub fn file_suffix(self) -> &'static str {
        match self {
            Split::Train => "_train.txt",
            Split::Test => "_test.txt",
        }
    }

    /// Whether `file_name` is this task's file for this split (`qa{N}_…_{split}.txt`).
    pub fn matches(self, task: Task, file_name: &str) -> bool {
        file_name.starts_with(&task.file_prefix()) && file_name.ends_with(self.file_suffix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_names() {
        for (text, number) in [
            ("1", 1),
            ("qa1", 1),
            ("QA20", 20),
            (" qa7 ", 7),
            ("qa19_path-finding", 19),
        ] {
            assert_eq!(text.parse::<Task>().unwrap().number(), number, "{text}");
        }
    }

    #[test]
    fn rejects_out_of_range_and_garbage() {
        for text in [
            "0",
            "21",
            "qa",
            "qa-1",
            "qa1x",
            "",
            "qa1_two-supporting-facts",
            "300",
        ] {
            let err = text.parse::<Task>().unwrap_err();
            assert!(matches!(err, DatasetError::InvalidTask { .. }), "{text}");
        }
        assert!(Task::new(0).is_err());
        assert!(Task::new(256).is_err());
    }

    #[test]
    fn file_names_follow_the_official_layout() {
        assert_eq!(
            Task::QA1.file_name(Split::Train),
            "qa1_single-supporting-fact_train.txt"
        );
        assert_eq!(
            Task::new(20).unwrap().file_name(Split::Test),
            "qa20_agents-motivations_test.txt"
        );
        assert_eq!(Task::all().count(), 20);
    }

    #[test]
    fn prefix_does_not_confuse_qa1_and_qa10() {
        let qa1 = Task::QA1;
        assert!(Split::Train.matches(qa1, "qa1_single-supporting-fact_train.txt"));
        assert!(!Split::Train.matches(qa1, "qa10_indefinite-knowledge_train.txt"));
        assert!(!Split::Test.matches(qa1, "qa1_single-supporting-fact_train.txt"));
    }

    #[test]
    fn display_round_trips() {
        for task in Task::all() {
            assert_eq!(task.to_string().parse::<Task>().unwrap(), task);
        }
    }
}
