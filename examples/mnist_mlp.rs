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
    let args = mnist_common::Args::parse();
    match common::distributed::Ranks::start(args.distributed) {
        Ok(ranks) => {
            let result = run(args, &ranks);
            ranks.finish(result)
        }
        Err(e) => common::exit_code(Err(e)),
    }
}

fn run(
    args: mnist_common::Args,
    ranks: &common::distributed::Ranks,
) -> Result<(), Box<dyn std::error::Error>> {
    set_random_seed(args.seed);
    let model = rkeras::models::mnist_mlp()?;
    let optimizer = RMSpropConfig::default()
        .with_learning_rate(args.learning_rate.unwrap_or(0.001))
        .build()?;
    mnist_common::train_and_report(&args, ranks, model, Box::new(optimizer), true, 20)
}
