//! The command line's errors and their exit codes.

use std::path::PathBuf;

/// Everything a command can fail with; [`CliError::exit_code`] maps each to a documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A path that does not exist.
    #[error("{path}: no such file")]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// A file that exists but is not a valid model, weights, log or array file.
    #[error("{path}: {reason}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Arguments that do not fit together (e.g. a weights-only file without `--like`).
    #[error("{0}")]
    Usage(String),
    /// The model refused the inputs (shapes, an uncompiled model for `evaluate`).
    #[error(transparent)]
    Model(rkeras_engine::EngineError),
    /// Drawing failed or a tool it needs is missing.
    #[error(transparent)]
    Plot(#[from] rkeras_plot::PlotError),
    /// Writing an output file failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl CliError {
    /// The process exit code: 1 model or drawing failure, 2 bad usage (also clap's), 3 missing file, 4 bad
    /// file, 5 missing external tool, 6 output not writable.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Model(_) => 1,
            CliError::Plot(rkeras_plot::PlotError::MissingTool { .. }) => 5,
            CliError::Plot(rkeras_plot::PlotError::Csv { .. }) => 4,
            CliError::Plot(rkeras_plot::PlotError::Format { .. }) => 2,
            CliError::Plot(_) => 1,
            CliError::Usage(_) => 2,
            CliError::NotFound { .. } => 3,
            CliError::BadFile { .. } => 4,
            CliError::Write { .. } => 6,
        }
    }

    /// An engine error while loading `path`: a file problem (damaged, foreign, truncated) or a model one.
    pub fn loading(path: &std::path::Path, error: rkeras_engine::EngineError) -> Self {
        use rkeras_engine::EngineError as E;
        match error {
            E::Io(_) | E::File { .. } => CliError::BadFile {
                path: path.to_path_buf(),
                reason: error.to_string(),
            },
            other => CliError::BadFile {
                path: path.to_path_buf(),
                reason: format!("cannot rebuild the model: {other}"),
            },
        }
    }
}

/// The command line's result type.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// Fails with [`CliError::NotFound`] unless `path` exists.
pub fn existing(path: &std::path::Path) -> Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(CliError::NotFound {
            path: path.to_path_buf(),
        })
    }
}
