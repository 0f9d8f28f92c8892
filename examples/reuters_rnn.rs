//! Reuters topics with a masked bidirectional GRU, end to end: `cargo run --release --example reuters_rnn --
//! --data DIR`.
//!
//! The 10 000 most frequent words (`reuters.load_data(num_words=10000)`), each newswire padded or cut to its
//! last 200 words (`pad_sequences(maxlen=200)`: zeros in front), one-hot topics; Embedding(10000, 64,
//! mask_zero=True), Bidirectional(GRU(32)) (both directions skip the padding), Dense 46 softmax; Adam; batch 32;
//! 5 epochs; `validation_split=0.1`. `scripts/keras_reuters_rnn.py` is the same model in Keras, on the same
//! file. `--data DIR` (or $REUTERS_DIR) names the folder of Keras's `reuters.npz`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "seq_common/mod.rs"]
mod seq_common;

use clap::Parser;
use rkeras::datasets::sequence::{PadOptions, pad_sequences, to_categorical};
use rkeras::prelude::*;
use seq_common::{Args, Run, Validation, train_and_report};

/// Keras's `num_words`.
const NUM_WORDS: usize = 10_000;
/// Words kept per newswire (the last ones).
const MAXLEN: usize = 200;
const EMBED_DIM: usize = 64;
const UNITS: usize = 32;

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let seq_common::reuters::Newswires { dir, data, classes } =
        seq_common::reuters::load_newswires(args.data.as_deref(), NUM_WORDS)?;
    let pad = PadOptions {
        maxlen: Some(MAXLEN),
        ..Default::default()
    };
    let ids = |rows: &[Vec<usize>]| -> Vec<Vec<u32>> {
        rows.iter()
            .map(|row| row.iter().map(|&w| w as u32).collect())
            .collect()
    };
    let x_train = pad_sequences(&ids(&data.x_train), pad);
    let x_test = pad_sequences(&ids(&data.x_test), pad);
    let y_train = to_categorical(&data.y_train, Some(classes))?;
    let y_test = to_categorical(&data.y_test, Some(classes))?;

    set_random_seed(args.seed);
    let mut model = seq_common::reuters::rnn_model(MAXLEN, NUM_WORDS, EMBED_DIM, UNITS, classes)?;
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
        extra: serde_json::Map::from_iter([
            ("num_words".into(), NUM_WORDS.into()),
            ("maxlen".into(), MAXLEN.into()),
        ]),
    };
    train_and_report(&args, run, None)?;
    Ok(())
}
