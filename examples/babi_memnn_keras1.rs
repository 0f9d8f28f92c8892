//! The Keras 1 form of the bAbI memory network, as older scripts and blog posts write it: three inputs
//! `[stories, queries, stories]`, one-hot answers with categorical cross-entropy, RMSprop, and
//! `callbacks=[ModelCheckpoint("checkpoint.h5", verbose=1), ReduceLROnPlateau(min_lr=1e-5)]`.
//!
//! `cargo run --release --example babi_memnn_keras1 -- --epochs 20`

#[path = "common/mod.rs"]
mod common;

use clap::Parser;
use common::{Args, epoch_timer, fit_config, fit_unless_zero, load_data, write_summary};
use rkeras::prelude::*;
use std::time::Instant;

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let args = Args::parse();
    let data = load_data(&args)?;
    let (vocab, story_len, query_len) = data.sizes();
    println!("{}", data.describe());
    set_random_seed(args.seed);
    let mut model = rkeras::models::memory_network_keras1(vocab, story_len, query_len)?;
    model.compile("rmsprop", "categorical_crossentropy", &["accuracy"])?;
    if let Some(path) = &args.initial_weights {
        model.load_weights(path)?;
    }
    let stories = data.train.stories.clone().into_dyn();
    let x_train = vec![
        stories.clone(),
        data.train.queries.clone().into_dyn(),
        stories,
    ];
    let test_stories = data.test.stories.clone().into_dyn();
    let x_test = vec![
        test_stories.clone(),
        data.test.queries.clone().into_dyn(),
        test_stories,
    ];
    let y_train = data.train.one_hot_answers().into_dyn();
    let y_test = data.test.one_hot_answers().into_dyn();

    let checkpoint_path = args
        .checkpoint
        .clone()
        .unwrap_or_else(|| "checkpoint.h5".into());
    let mut checkpoint = ModelCheckpoint::new(&checkpoint_path)?.with_verbose(1);
    let mut reduce_lr = ReduceLROnPlateau::new().with_min_lr(1e-5)?;
    let (mut timer, epoch_times) = epoch_timer();
    let mut csv = args.csv.as_ref().map(CSVLogger::new);
    let mut tensorboard = args.pictures.tensorboard_callback();
    let mut config = fit_config(&args, &x_test, &y_test)
        .callback(&mut checkpoint)
        .callback(&mut reduce_lr)
        .callback(&mut timer);
    if let Some(cb) = csv.as_mut() {
        config = config.callback(cb);
    }
    if let Some(cb) = tensorboard.as_mut() {
        config = config.callback(cb);
    }
    let history = fit_unless_zero(&mut model, &args, &x_train, &y_train, config)?;
    args.pictures.plot_history(&history)?;
    let test = model.evaluate(&x_test, &y_test, args.batch_size)?;
    println!(
        "test loss {:.4} · test accuracy {:.4} · checkpoint {}",
        test["loss"],
        test["accuracy"],
        checkpoint_path.display()
    );
    if args.epochs > 0 {
        // The checkpoint loads back into a working model.
        let restored = load_model(&checkpoint_path)?;
        println!(
            "checkpoint reloaded: {} parameters",
            restored.count_params()
        );
    }
    if let Some(path) = &args.summary_json {
        let times = epoch_times.lock().map(|t| t.clone()).unwrap_or_default();
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
