//! Keras's classic MNIST MLP, end to end: `cargo run --release --example mnist_mlp -- --data DIR`.
//!
//! Dense 512 relu, Dropout 0.2, Dense 512 relu, Dropout 0.2, Dense 10 softmax; RMSprop; batch 128; 20 epochs.
//! Keras reports 98.40% test accuracy. `--data DIR` (or $MNIST_DIR) names the four IDX files.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;
#[path = "mnist_common/mod.rs"]
mod mnist_common;

use clap::Parser;
use rkeras::optim::RMSpropConfig;
use rkeras::prelude::*;

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = mnist_common::Args::parse();
    set_random_seed(args.seed);
    let model = rkeras::models::mnist_mlp()?;
    let optimizer = RMSpropConfig::default()
        .with_learning_rate(args.learning_rate.unwrap_or(0.001))
        .build()?;
    mnist_common::train_and_report(&args, model, Box::new(optimizer), true, 20)
}
