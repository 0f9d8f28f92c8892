//! Keras's character-level text generation (`lstm_text_generation.py`), end to end: `cargo run --release
//! --example text_generation -- --data ../shared/datasets/nietzsche/nietzsche.txt`.
//!
//! Nietzsche's text lower-cased; sentences of 40 characters every 3 characters, the next character as target
//! (600 893 characters, 57 distinct, 200 285 sentences); LSTM(128), Dense softmax; RMSprop(learning_rate=0.01);
//! batch 128; after each epoch 400 characters are generated from a random seed sentence at temperatures 0.2,
//! 0.5, 1.0 and 1.2 with a seeded sampler. Keras trains 60 epochs; its text reads as English-like after ≈ 20.
//! The full one-hot corpus takes 1.8 GB as `f32`: `--max-chars N` trains on the first N characters.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "seq_common/mod.rs"]
mod seq_common;

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras::optim::RMSpropConfig;
use rkeras::prelude::*;
use seq_common::charlm::{generate, model, prepare};
use seq_common::{Run, TextArgs, Validation, print_samples, train_and_report};

const MAXLEN: usize = 40;
const STEP: usize = 3;

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let text_args = TextArgs::parse();
    let (path, text) = text_args.read_text()?;
    let (args, generate_chars) = (text_args.common, text_args.generate_chars);
    let data = prepare(&text, MAXLEN, STEP);
    let sentences = data.y.shape()[0];
    println!(
        "data: {} · corpus length {} · {} distinct characters · {sentences} sentences",
        path.display(),
        data.text.len(),
        data.chars.len()
    );
    set_random_seed(args.seed);
    let mut network = model(MAXLEN, data.chars.len(), 128)?;
    let optimizer: Box<dyn Optimizer> =
        Box::new(RMSpropConfig::default().with_learning_rate(0.01).build()?);
    network.compile(optimizer, "categorical_crossentropy", &["accuracy"])?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut show = |model: &Model, epoch: usize| -> Result<(), Box<dyn std::error::Error>> {
        let start = rng.random_range(0..data.text.len() - MAXLEN - 1);
        let seed = &data.text[start..start + MAXLEN];
        println!("----- epoch {epoch}");
        print_samples(seed, |temperature| {
            generate(model, &data, seed, generate_chars, temperature, &mut rng)
        })?;
        Ok(())
    };
    // Keras's script evaluates nothing: the loss and accuracy reported are on the last 5% of the sentences,
    // held out of training.
    let held_out = sentences / 20;
    let cut = sentences - held_out;
    let rows = |a: &ndarray::ArrayD<f32>, r: std::ops::Range<usize>| {
        a.slice_axis(ndarray::Axis(0), r.into()).to_owned()
    };
    let run = Run {
        model: network,
        x_train: vec![rows(&data.x, 0..cut)],
        y_train: rows(&data.y, 0..cut),
        x_test: vec![rows(&data.x, cut..sentences)],
        y_test: rows(&data.y, cut..sentences),
        validation: Validation::TestData,
        default_epochs: 60,
        default_batch_size: 128,
        data: path.display().to_string(),
        extra: serde_json::Map::from_iter([
            ("corpus_chars".into(), data.text.len().into()),
            ("distinct_chars".into(), data.chars.len().into()),
        ]),
    };
    train_and_report(&args, run, Some(&mut show))?;
    Ok(())
}
