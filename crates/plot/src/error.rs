//! The plot crate's error type.

use std::path::PathBuf;

/// Errors of reading training logs and drawing pictures.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A file that cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV log that is not what CSVLogger writes; names the file and the line.
    #[error("{path}:{line}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// An output path whose extension names no format this function writes.
    #[error("{path}: unknown picture format; use {expected}")]
    Format {
        /// The path.
        path: PathBuf,
        /// The extensions accepted.
        expected: &'static str,
    },
    /// Nothing to draw (no runs, or runs without values).
    #[error("nothing to plot: {0}")]
    Empty(String),
    /// The plotting backend failed.
    #[error("drawing {path}: {reason}")]
    Draw {
        /// The picture.
        path: PathBuf,
        /// The backend's message.
        reason: String,
    },
    /// An external program that is needed but not on PATH.
    #[error("`{tool}` was not found on PATH; {hint}")]
    MissingTool {
        /// The program (`dot`).
        tool: &'static str,
        /// How to get it.
        hint: &'static str,
    },
    /// An external program that failed.
    #[error("`{tool}` failed ({status}): {stderr}")]
    Tool {
        /// The program.
        tool: &'static str,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
}

/// The plot crate's result type.
pub type Result<T, E = PlotError> = std::result::Result<T, E>;
