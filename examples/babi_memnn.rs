//! Keras's bAbI memory network, end to end: `cargo run --release --example babi_memnn`.
//!
//! Trains on built-in generated qa1 stories by default (no download); `--data DIR` (or $BABI_DIR) reads the real
//! bAbI files. On the real qa1 en-10k task this reaches ≈ 0.96 test accuracy after 120 epochs, as Keras does.

#[path = "common/mod.rs"]
mod common;

use clap::Parser;
use common::{Args, epoch_timer, fit_config, fit_unless_zero, load_data, write_summary};
use rkeras::prelude::*;
use std::time::Instant;

/// The shared arguments and this network's dropout rate.
#[derive(Parser, Debug)]
struct MemnnArgs {
    #[command(flatten)]
    common: Args,
    /// The rate of the network's four Dropout layers (Keras's example: 0.3). With 0 and --no-shuffle nothing in
    /// training is random, so a run can be compared step by step with Keras's (scripts/keras_lockstep.py).
    #[arg(long, default_value_t = 0.3)]
    dropout: f32,
}

fn main() -> std::process::ExitCode {
    let parsed = MemnnArgs::parse();
    match common::distributed::Ranks::start(parsed.common.distributed) {
        Ok(ranks) => {
            let result = run(parsed, &ranks);
            ranks.finish(result)
        }
        Err(e) => common::exit_code(Err(e)),
    }
}

fn run(
    parsed: MemnnArgs,
    ranks: &common::distributed::Ranks,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let MemnnArgs {
        common: args,
        dropout,
    } = parsed;
    let data = load_data(&args)?;
    let (vocab, story_len, query_len) = data.sizes();
    println!("{}", data.describe());
    set_random_seed(args.seed);
    let mut model =
        rkeras::models::memory_network_with_dropout(vocab, story_len, query_len, dropout)?;
    model.compile("rmsprop", "sparse_categorical_crossentropy", &["accuracy"])?;
    if args.verbose > 0 {
        println!("{}", model.summary());
    }
    if let Some(path) = &args.initial_weights {
        model.load_weights(path)?;
    }
    let x_train = vec![
        data.train.stories.clone().into_dyn(),
        data.train.queries.clone().into_dyn(),
    ];
    let x_test = vec![
        data.test.stories.clone().into_dyn(),
        data.test.queries.clone().into_dyn(),
    ];
    let y_train = data.train.answers.clone().into_dyn();
    let y_test = data.test.answers.clone().into_dyn();

    let (mut timer, epoch_times) = epoch_timer();
    let mut checkpoint = args
        .checkpoint
        .as_ref()
        .map(ModelCheckpoint::new)
        .transpose()?;
    let mut csv = args.csv.as_ref().map(CSVLogger::new);
    let mut tensorboard = args.pictures.tensorboard_callback();
    let mut config = ranks.configure(fit_config(&args, &x_test, &y_test).callback(&mut timer));
    if let Some(cb) = checkpoint.as_mut() {
        config = config.callback(cb);
    }
    if let Some(cb) = csv.as_mut() {
        config = config.callback(cb);
    }
    if let Some(cb) = tensorboard.as_mut() {
        config = config.callback(cb);
    }
    let history = fit_unless_zero(&mut model, &args, &x_train, &y_train, config)?;
    if ranks.is_first() {
        args.pictures.plot_history(&history)?;
    }
    let test = model.evaluate(&x_test, &y_test, args.batch_size)?;
    let times = epoch_times.lock().map(|t| t.clone()).unwrap_or_default();
    println!(
        "test loss {:.4} · test accuracy {:.4} · {:.0} training samples/s",
        test["loss"],
        test["accuracy"],
        common::samples_per_sec(data.train.len(), &times)
    );
    if let Some(path) = &args.summary_json {
        write_summary(
            path,
            &args,
            &data,
            &test,
            &history,
            &times,
            started.elapsed().as_secs_f64(),
            &model.get_weights(),
        )?;
    }
    Ok(())
}
