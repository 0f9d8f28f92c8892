//! One file per subcommand.

pub mod convert;
pub mod evaluate;
pub mod inspect;
pub mod plot;
pub mod predict;
pub mod summary;

use crate::error::{CliError, Result, existing};
use rkeras_engine::Model;
use std::path::Path;

/// Loads a whole model (`.keras` or `.h5`), mapping failures to exit codes.
pub fn load(path: &Path) -> Result<Model> {
    existing(path)?;
    rkeras_engine::load_model(path).map_err(|e| CliError::loading(path, e))
}

/// Whether `path` names a weights-only file (`*.weights.h5`).
pub fn is_weights_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        n.to_string_lossy()
            .to_ascii_lowercase()
            .ends_with(".weights.h5")
    })
}
