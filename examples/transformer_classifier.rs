//! Keras's "Text classification with Transformer" on the Reuters topics, end to end:
//! `cargo run --release --example transformer_classifier -- --data DIR`.
//!
//! The 10 000 most frequent words (`reuters.load_data(num_words=10000)`), newswires padded or cut to their last
//! 200 words (`pad_sequences(maxlen=200)`); the model of keras.io's example (embed_dim 32, 2 heads, ff_dim 32)
//! with a softmax over the 46 topics; Adam; sparse categorical cross-entropy; batch 32; `validation_split=0.1`.
//! Its Keras twin is `scripts/keras_transformer_classifier.py`; both runs are in docs/results.md.
//! `--data DIR` (or $REUTERS_DIR) names the folder of Keras's `reuters.npz`.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "seq_common/mod.rs"]
mod seq_common;
#[allow(dead_code)]
#[path = "seq_common/token_position.rs"]
mod token_position;
#[path = "seq_common/transformer.rs"]
mod transformer;

use clap::Parser;
use rkeras::prelude::*;
use seq_common::{Args, Run, Validation, train_and_report};

/// Keras's `num_words` and `maxlen`.
const VOCAB_SIZE: usize = 10_000;
const MAXLEN: usize = 200;

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let seq_common::reuters::Newswires { dir, data, classes } =
        seq_common::reuters::load_newswires(args.data.as_deref(), VOCAB_SIZE)?;
    set_random_seed(args.seed);
    let mut model = transformer::model(MAXLEN, VOCAB_SIZE, classes)?;
    model.compile("adam", "sparse_categorical_crossentropy", &["accuracy"])?;
    let run = Run {
        model,
        x_train: vec![transformer::pad(&data.x_train, MAXLEN)],
        y_train: transformer::labels(&data.y_train),
        x_test: vec![transformer::pad(&data.x_test, MAXLEN)],
        y_test: transformer::labels(&data.y_test),
        validation: Validation::Split(0.1),
        default_epochs: 2,
        default_batch_size: 32,
        data: dir.display().to_string(),
        extra: serde_json::Map::from_iter([
            ("num_words".into(), VOCAB_SIZE.into()),
            ("maxlen".into(), MAXLEN.into()),
        ]),
    };
    train_and_report(&args, run, None)?;
    Ok(())
}
