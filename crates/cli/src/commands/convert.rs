//! `rkeras convert A B [--like MODEL]`: between `.h5`, `.keras` and `.weights.h5`, by extension.

use super::{is_weights_file, load};
use crate::error::{CliError, Result, existing};
use std::path::Path;

/// Converts `from` to `to`. A weights-only source needs `like`, a model file with the architecture.
pub fn run(from: &Path, to: &Path, like: Option<&Path>) -> Result<String> {
    existing(from)?;
    let model = if is_weights_file(from) {
        let like = like.ok_or_else(|| {
            CliError::Usage(format!(
                "{}: a weights-only file holds no architecture; pass --like MODEL (a .keras or .h5 of the same model)",
                from.display()
            ))
        })?;
        let mut model = load(like)?;
        model
            .load_weights(from)
            .map_err(|e| CliError::loading(from, e))?;
        model
    } else {
        load(from)?
    };
    let saved = if is_weights_file(to) {
        model.save_weights(to)
    } else {
        model.save(to)
    };
    saved.map_err(|e| CliError::BadFile {
        path: to.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(format!("{} -> {}\n", from.display(), to.display()))
}
