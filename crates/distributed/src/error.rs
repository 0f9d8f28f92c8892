//! The crate's error type.

/// Errors of starting or running MPI.
#[derive(Debug, thiserror::Error)]
pub enum DistributedError {
    /// MPI could not be started (it was started before in this process, or the launcher failed).
    #[error("MPI could not be initialized: {0}")]
    Init(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, DistributedError>;
