//! Keras's addition example (`addition_rnn.py`), end to end: `cargo run --release --example addition_rnn`.
//!
//! Learns to add two numbers of up to 3 digits from text: 50 000 generated questions such as "535+61" (padded
//! with spaces and reversed), answers such as "596 ", one-hot over "0123456789+ "; the last tenth validates.
//! LSTM(128) encoder, RepeatVector(4), LSTM(128, return_sequences) decoder, Dense(12, softmax) on every step;
//! Adam; batch 32; 30 epochs, one `fit` per epoch with ten validation questions shown after each. Keras reports
//! ≈ 99% validation accuracy (per character) for 3 digits. `--digits`, `--questions` change the task's size.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "seq_common/mod.rs"]
mod seq_common;

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras::prelude::*;
use seq_common::addition::{answer_accuracy, decode, generate, model};
use seq_common::{Args, Run, Validation, train_and_report};

/// The shared arguments and the task's size.
#[derive(Parser, Debug)]
struct AdditionArgs {
    #[command(flatten)]
    common: Args,
    /// Digits of each number (Keras: 3).
    #[arg(long, default_value_t = 3)]
    digits: u32,
    /// Generated questions, a tenth of them for validation (Keras: 50 000).
    #[arg(long, default_value_t = 50_000)]
    questions: usize,
    /// Reverse the questions (Keras: yes).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    reverse: bool,
}

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let AdditionArgs {
        common: args,
        digits,
        questions,
        reverse,
    } = AdditionArgs::parse();
    let data = generate(questions, digits, reverse, args.seed);
    let split = questions - questions / 10;
    let rows = |a: &ndarray::ArrayD<f32>, r: std::ops::Range<usize>| {
        a.slice_axis(ndarray::Axis(0), r.into()).to_owned()
    };
    let (x_val, y_val) = (
        rows(&data.x, split..questions),
        rows(&data.y, split..questions),
    );
    let val_answers = data.answers[split..].to_vec();
    let val_questions = data.questions[split..].to_vec();
    println!("data: {questions} generated questions of {digits}-digit numbers · {split} train");

    set_random_seed(args.seed);
    let mut network = model(digits as usize, 128)?;
    network.compile("adam", "categorical_crossentropy", &["accuracy"])?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut show = |model: &Model, epoch: usize| -> Result<(), Box<dyn std::error::Error>> {
        let predictions = model.predict(std::slice::from_ref(&x_val), 256)?;
        println!(
            "epoch {epoch}: whole answers right {:.4}",
            answer_accuracy(&predictions, &val_answers)
        );
        for _ in 0..10 {
            let i = rng.random_range(0..val_answers.len());
            let guess = decode(
                predictions
                    .index_axis(ndarray::Axis(0), i)
                    .into_dimensionality()?,
            );
            let mark = if guess == val_answers[i] {
                "☑"
            } else {
                "☒"
            };
            println!("Q {} T {} {mark} {guess}", val_questions[i], val_answers[i]);
        }
        Ok(())
    };
    let run = Run {
        model: network,
        x_train: vec![rows(&data.x, 0..split)],
        y_train: rows(&data.y, 0..split),
        x_test: vec![x_val.clone()],
        y_test: y_val,
        validation: Validation::TestData,
        default_epochs: 30,
        default_batch_size: 32,
        data: format!("generated: {questions} questions, {digits} digits, reversed {reverse}"),
        extra: serde_json::Map::new(),
    };
    let outcome = train_and_report(&args, run, Some(&mut show))?;
    let predictions = outcome.model.predict(&[x_val], 256)?;
    println!(
        "whole answers right on validation: {:.4}",
        answer_accuracy(&predictions, &data.answers[split..])
    );
    Ok(())
}
