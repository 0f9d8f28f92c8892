//! `rkeras plot LOG.csv [LOG2.csv ...] -o curves.png|svg` and `rkeras plot-model MODEL -o model.svg|png|dot`.

use crate::error::{Result, existing};
use rkeras_plot::Run;
use std::path::{Path, PathBuf};

/// Draws the CSVLogger files' curves, overlaid, each labelled by its file stem (or `labels`).
pub fn curves(logs: &[PathBuf], labels: &[String], output: &Path) -> Result<String> {
    let mut runs = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        existing(log)?;
        let mut run = Run::from_csv(log)?;
        if let Some(label) = labels.get(i) {
            run.label.clone_from(label);
        }
        runs.push(run);
    }
    rkeras_plot::plot_curves(&runs, output)?;
    Ok(format!("{}\n", output.display()))
}

/// Draws the model's graph.
pub fn model(model: &Path, output: &Path, show_shapes: bool) -> Result<String> {
    let model = super::load(model)?;
    rkeras_plot::plot_model(&model, output, show_shapes)?;
    Ok(format!("{}\n", output.display()))
}
