//! `rkeras evaluate MODEL --x X.npy [--x X2.npy] --y Y.npy`: the compiled loss and metrics, one `name: value`
//! line each.

use crate::error::{CliError, Result};
use crate::npy;
use std::path::{Path, PathBuf};

/// Evaluates a model saved with its compile configuration.
pub fn run(model_path: &Path, x: &[PathBuf], y: &Path, batch_size: usize) -> Result<String> {
    let model = super::load(model_path)?;
    if !model.is_compiled() {
        return Err(CliError::Usage(format!(
            "{}: the model was saved without its compile configuration (loss, metrics); evaluate needs them",
            model_path.display()
        )));
    }
    let x = x.iter().map(|p| npy::read(p)).collect::<Result<Vec<_>>>()?;
    let y = npy::read(y)?;
    let logs = model
        .evaluate(&x, &y, batch_size)
        .map_err(CliError::Model)?;
    Ok(logs.iter().map(|(k, v)| format!("{k}: {v}\n")).collect())
}
