//! `rkeras`: look at, run and convert saved Keras and rkeras models from the shell.
//!
//! Exit codes: 0 success; 1 the model or a drawing failed; 2 bad usage; 3 a file does not exist; 4 a file is
//! damaged or not what the command expects; 5 an external tool (Graphviz `dot`) is missing; 6 an output cannot be
//! written. See docs/cli.md.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod commands;
mod error;
mod npy;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Look at, run and convert saved Keras and rkeras models (.keras, .h5, .weights.h5).
#[derive(Parser, Debug)]
#[command(name = "rkeras", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the model's summary table (Keras's `model.summary()`).
    Summary {
        /// A .keras or .h5 model file.
        model: PathBuf,
    },
    /// Run the model on .npy inputs and write its outputs as float32 .npy.
    Predict {
        /// A .keras or .h5 model file.
        model: PathBuf,
        /// One .npy per model input, in the model's input order.
        #[arg(long = "input", required = true)]
        inputs: Vec<PathBuf>,
        /// One .npy per model output.
        #[arg(long = "output", required = true)]
        outputs: Vec<PathBuf>,
        /// Samples per batch.
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
    },
    /// Print the compiled loss and metrics on .npy data.
    Evaluate {
        /// A .keras or .h5 model saved with its compile configuration.
        model: PathBuf,
        /// One .npy per model input.
        #[arg(long = "x", required = true)]
        x: Vec<PathBuf>,
        /// The targets.
        #[arg(long = "y")]
        y: PathBuf,
        /// Samples per batch.
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
    },
    /// Convert between .h5, .keras and .weights.h5 (chosen by extension).
    Convert {
        /// The source file.
        from: PathBuf,
        /// The file to write.
        to: PathBuf,
        /// For a .weights.h5 source: a model file with the same architecture.
        #[arg(long)]
        like: Option<PathBuf>,
    },
    /// List layers, weights with shapes and optimizer state, and check the file reads back whole.
    Inspect {
        /// A .keras or .h5 model file.
        model: PathBuf,
    },
    /// Draw training curves from CSVLogger files, overlaid (PNG or SVG by extension).
    Plot {
        /// CSVLogger files (rkeras's or Keras's).
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// The picture to write (.png or .svg).
        #[arg(short, long)]
        output: PathBuf,
        /// Legend labels, one per log, in order (default: the files' names).
        #[arg(long = "label")]
        labels: Vec<String>,
    },
    /// Draw the model's graph (Keras's plot_model): .dot, or .svg/.png through Graphviz's `dot`.
    PlotModel {
        /// A .keras or .h5 model file.
        model: PathBuf,
        /// The picture to write (.dot, .svg or .png).
        #[arg(short, long)]
        output: PathBuf,
        /// Leave out the input and output shapes.
        #[arg(long)]
        no_shapes: bool,
    },
}

fn run(command: Command) -> error::Result<String> {
    use commands::*;
    match command {
        Command::Summary { model } => summary::run(&model),
        Command::Predict {
            model,
            inputs,
            outputs,
            batch_size,
        } => predict::run(&model, &inputs, &outputs, batch_size),
        Command::Evaluate {
            model,
            x,
            y,
            batch_size,
        } => evaluate::run(&model, &x, &y, batch_size),
        Command::Convert { from, to, like } => convert::run(&from, &to, like.as_deref()),
        Command::Inspect { model } => inspect::run(&model),
        Command::Plot {
            logs,
            output,
            labels,
        } => plot::curves(&logs, &labels, &output),
        Command::PlotModel {
            model,
            output,
            no_shapes,
        } => plot::model(&model, &output, !no_shapes),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("rkeras: error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
