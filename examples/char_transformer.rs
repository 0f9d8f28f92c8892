//! A small causal Transformer language model on Nietzsche's text, beside Keras's character LSTM
//! (`text_generation`): `cargo run --release --example char_transformer -- --data
//! ../shared/datasets/nietzsche/nietzsche.txt`.
//!
//! The sentences of Keras's `lstm_text_generation.py` (40 characters every 3, lower-cased), as character ids;
//! every position predicts the character after it under a causal mask. Token and position embedding (64
//! features), two Transformer blocks (MultiHeadAttention with 2 heads and `use_causal_mask`, feed-forward 128,
//! dropout 0.1, Add & LayerNormalization), Dense softmax over the characters; Adam; sparse categorical
//! cross-entropy; batch 128. The last 5% of the sentences are held out, as in `text_generation`: the validation
//! loss is reported per character over all positions (`val_loss`) and at the last position only
//! (`val_loss_last_char`, the LSTM's task: the character after 40 characters). `--compare-lstm` also trains
//! `text_generation`'s LSTM(128) on the same sentences for the same epochs and reports its validation loss
//! beside. At the end 400 characters are sampled at temperatures 0.2, 0.5, 1.0 and 1.2 from a random seed
//! sentence with a seeded sampler. `--max-chars N` trains on the first N characters.

#[path = "seq_common/causal_lm.rs"]
mod causal_lm;
#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "seq_common/mod.rs"]
mod seq_common;
#[allow(dead_code)]
#[path = "seq_common/token_position.rs"]
mod token_position;
#[allow(dead_code)]
#[path = "seq_common/transformer.rs"]
mod transformer;

use clap::Parser;
use ndarray::{ArrayD, Axis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras::optim::RMSpropConfig;
use rkeras::prelude::*;
use seq_common::charlm;
use seq_common::{Args, Run, TextArgs, Validation, print_samples, train_and_report};

const MAXLEN: usize = 40;
const STEP: usize = 3;

/// The flags of text_generation and the LSTM comparison.
#[derive(Parser, Debug)]
struct CharArgs {
    #[command(flatten)]
    text: TextArgs,
    /// Also train text_generation's LSTM on the same sentences and epochs, and report its validation loss.
    #[arg(long)]
    compare_lstm: bool,
}

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

/// Rows `r` of `a`.
fn rows(a: &ArrayD<f32>, r: std::ops::Range<usize>) -> ArrayD<f32> {
    a.slice_axis(Axis(0), r.into()).to_owned()
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let CharArgs {
        text: text_args,
        compare_lstm,
    } = CharArgs::parse();
    let (path, text) = text_args.read_text()?;
    let (args, generate_chars) = (text_args.common, text_args.generate_chars);
    let data = causal_lm::prepare(&text, MAXLEN, STEP);
    let sentences = data.y.shape()[0];
    let uniform = (data.chars.len() as f64).ln();
    println!(
        "data: {} · corpus length {} · {} distinct characters · {sentences} sentences · uniform loss {uniform:.3}",
        path.display(),
        data.text.len(),
        data.chars.len()
    );
    set_random_seed(args.seed);
    let mut network = causal_lm::model(MAXLEN, data.chars.len())?;
    network.compile("adam", "sparse_categorical_crossentropy", &["accuracy"])?;
    // The last 5% of the sentences are held out, as in text_generation.
    let cut = sentences - sentences / 20;
    let (x_val, y_val) = (rows(&data.x, cut..sentences), rows(&data.y, cut..sentences));
    let run = Run {
        model: network,
        x_train: vec![rows(&data.x, 0..cut)],
        y_train: rows(&data.y, 0..cut),
        x_test: vec![x_val.clone()],
        y_test: y_val.clone(),
        validation: Validation::TestData,
        default_epochs: 60,
        default_batch_size: 128,
        data: path.display().to_string(),
        extra: serde_json::Map::from_iter([
            ("corpus_chars".into(), data.text.len().into()),
            ("distinct_chars".into(), data.chars.len().into()),
            ("uniform_loss".into(), uniform.into()),
        ]),
    };
    let outcome = train_and_report(&args, run, None)?;
    let val_loss = outcome.test["loss"];
    let last_char = causal_lm::last_position_loss(&outcome.model, &x_val, &y_val)?;
    println!(
        "transformer: validation loss per character {val_loss:.4} (all positions), {last_char:.4} (after 40 \
         characters) · uniform {uniform:.4}"
    );
    let mut summary = serde_json::Map::from_iter([
        ("val_loss".into(), val_loss.into()),
        ("val_loss_last_char".into(), last_char.into()),
    ]);
    if compare_lstm {
        let lstm = train_lstm(&args, &text)?;
        println!(
            "lstm: validation loss per character {lstm:.4} (after 40 characters) · transformer {last_char:.4}"
        );
        summary.insert("lstm_val_loss".into(), lstm.into());
    }
    if let Some(path) = &args.summary_json {
        let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        if let Some(map) = json.as_object_mut() {
            map.extend(summary);
        }
        std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    }

    let mut rng = StdRng::seed_from_u64(args.seed);
    let start = rng.random_range(0..data.text.len() - MAXLEN - 1);
    let seed = &data.text[start..start + MAXLEN];
    print_samples(seed, |temperature| {
        causal_lm::generate(
            &outcome.model,
            &data,
            seed,
            generate_chars,
            temperature,
            &mut rng,
        )
    })?;
    Ok(())
}

/// text_generation's LSTM trained on the same sentences, epochs, batch size and seed; its validation loss.
fn train_lstm(args: &Args, text: &str) -> Result<f64, Box<dyn std::error::Error>> {
    let data = charlm::prepare(text, MAXLEN, STEP);
    let sentences = data.y.shape()[0];
    let cut = sentences - sentences / 20;
    set_random_seed(args.seed);
    let mut network = charlm::model(MAXLEN, data.chars.len(), 128)?;
    let optimizer: Box<dyn Optimizer> =
        Box::new(RMSpropConfig::default().with_learning_rate(0.01).build()?);
    network.compile(optimizer, "categorical_crossentropy", &["accuracy"])?;
    let lstm_args = Args {
        summary_json: None,
        checkpoint: None,
        csv: None,
        initial_weights: None,
        pictures: Default::default(),
        // The LSTM's own backup, beside the Transformer's: a directory holds one run's backup.
        backup: args.backup.as_ref().map(|dir| dir.with_extension("lstm")),
        ..args.clone()
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
        data: String::new(),
        extra: serde_json::Map::new(),
    };
    Ok(train_and_report(&lstm_args, run, None)?.test["loss"])
}
