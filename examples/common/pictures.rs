//! The `--plot PATH` and `--tensorboard DIR` flags every example takes (flattened into its arguments).
#![allow(dead_code)]

use rkeras::callbacks::{History, TensorBoard};
use std::path::PathBuf;

/// Pictures of the run.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Pictures {
    /// Draw the training curves (loss and each metric beside its val_ twin) here, as .png or .svg.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write TensorBoard event files under this directory (train/ and validation/, as Keras writes them).
    #[arg(long)]
    pub tensorboard: Option<PathBuf>,
}

impl Pictures {
    /// The TensorBoard callback, when asked for.
    pub fn tensorboard_callback(&self) -> Option<TensorBoard> {
        self.tensorboard.as_ref().map(TensorBoard::new)
    }

    /// Draws `history`'s curves to `--plot`, when asked for.
    pub fn plot_history(&self, history: &History) -> Result<(), Box<dyn std::error::Error>> {
        if let Some(path) = &self.plot {
            rkeras_plot::plot_curves(&[rkeras_plot::Run::from_history("rkeras", history)], path)?;
            println!("training curves: {}", path.display());
        }
        Ok(())
    }
}
