//! Keras's Reuters MLP (`reuters_mlp.py`), end to end: `cargo run --release --example reuters_mlp -- --data DIR`.
//!
//! The 1 000 most frequent words (`reuters.load_data(num_words=1000)`), each newswire as a binary bag of words
//! (`Tokenizer(num_words=1000).sequences_to_matrix(mode="binary")`), one-hot topics; Dense 512 relu, Dropout
//! 0.5, Dense 46 softmax; Adam; batch 32; 5 epochs; `validation_split=0.1`. Keras reports ≈ 0.79–0.80 test
//! accuracy. `--data DIR` (or $REUTERS_DIR) names the folder of Keras's `reuters.npz`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "seq_common/mod.rs"]
mod seq_common;

use clap::Parser;
use rkeras::datasets::sequence::to_categorical;
use rkeras::datasets::text::{MatrixMode, Tokenizer, TokenizerConfig};
use rkeras::prelude::*;
use seq_common::{Args, Run, Validation, train_and_report};

/// Keras's `max_words`.
const MAX_WORDS: usize = 1000;

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let seq_common::reuters::Newswires { dir, data, classes } =
        seq_common::reuters::load_newswires(args.data.as_deref(), MAX_WORDS)?;
    let tokenizer = Tokenizer::new(TokenizerConfig {
        num_words: Some(MAX_WORDS),
        ..Default::default()
    })?;
    let x_train = tokenizer.sequences_to_matrix(&data.x_train, MatrixMode::Binary)?;
    let x_test = tokenizer.sequences_to_matrix(&data.x_test, MatrixMode::Binary)?;
    let y_train = to_categorical(&data.y_train, Some(classes))?;
    let y_test = to_categorical(&data.y_test, Some(classes))?;

    set_random_seed(args.seed);
    let mut model = seq_common::reuters::model(MAX_WORDS, classes, 0.5)?;
    model.compile("adam", "categorical_crossentropy", &["accuracy"])?;
    let run = Run {
        model,
        x_train: vec![x_train.into_dyn()],
        y_train: y_train.into_dyn(),
        x_test: vec![x_test.into_dyn()],
        y_test: y_test.into_dyn(),
        validation: Validation::Split(0.1),
        default_epochs: 5,
        default_batch_size: 32,
        data: dir.display().to_string(),
        extra: serde_json::Map::from_iter([("max_words".into(), MAX_WORDS.into())]),
    };
    train_and_report(&args, run, None)?;
    Ok(())
}
