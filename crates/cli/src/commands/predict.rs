//! `rkeras predict MODEL --input X.npy [--input X2.npy] --output Y.npy [--output Y2.npy]`.

use crate::error::{CliError, Result};
use crate::npy;
use std::path::{Path, PathBuf};

/// Runs the model on the inputs (one `.npy` per model input, in order) and writes one `.npy` per output.
pub fn run(
    model: &Path,
    inputs: &[PathBuf],
    outputs: &[PathBuf],
    batch_size: usize,
) -> Result<String> {
    let model = super::load(model)?;
    let x = inputs
        .iter()
        .map(|p| npy::read(p))
        .collect::<Result<Vec<_>>>()?;
    let y = model
        .predict_outputs(&x, batch_size)
        .map_err(CliError::Model)?;
    if y.len() != outputs.len() {
        return Err(CliError::Usage(format!(
            "the model has {} output(s); pass as many --output paths (got {})",
            y.len(),
            outputs.len()
        )));
    }
    let mut report = String::new();
    for (array, path) in y.iter().zip(outputs) {
        npy::write(path, array)?;
        report.push_str(&format!("{}: {:?}\n", path.display(), array.shape()));
    }
    Ok(report)
}
