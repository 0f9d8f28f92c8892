//! What the sequence examples (reuters_mlp, addition_rnn, babi_rnn, text_generation) share: the flags of the
//! bAbI and MNIST examples, training with the usual callbacks (optionally one epoch at a time with a hook after
//! each, as Keras's addition and text-generation scripts do), evaluation and the JSON summary.

pub mod addition;
pub mod charlm;
pub mod reuters;

use crate::common::{epoch_timer, history_rows, peak_rss_mb, samples_per_sec, weights_sha256};
use clap::Parser;
use ndarray::ArrayD;
use rkeras::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of the sequence examples.
#[derive(Parser, Debug, Clone)]
pub struct Args {
    /// The data: a file or directory, as each example says.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Epochs to train (0: evaluate only, e.g. with --initial-weights). Default: the Keras script's.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Samples per step. Default: the Keras script's.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Seed of initialisation, shuffling, dropout, generated data and sampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Save a checkpoint here every epoch (ModelCheckpoint).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Log every epoch's metrics here (CSVLogger).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Back the training state up in this directory every epoch and, when a backup is there, resume from it
    /// (BackupAndRestore): a long run that is stopped continues where it stopped when started again. Not for
    /// the examples that train one epoch at a time (text_generation, addition_rnn): an error there.
    #[arg(long)]
    pub backup: Option<PathBuf>,
    /// Write a JSON summary (test loss/accuracy, throughput, memory, history) here.
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
    /// Start from these weights (an rkeras or Keras .h5 of the same model).
    #[arg(long)]
    pub initial_weights: Option<PathBuf>,
    /// Train on the first N training samples only.
    #[arg(long)]
    pub train_samples: Option<usize>,
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    #[arg(long, default_value_t = 1)]
    pub verbose: u8,
    /// Train in data order every epoch (Keras's `shuffle=False`) instead of reshuffling.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Data-parallel shards per batch (FitConfig::shards). Default: the thread pool's size.
    #[arg(long)]
    pub shards: Option<usize>,
    /// --plot and --tensorboard.
    #[command(flatten)]
    pub pictures: crate::common::pictures::Pictures,
}

/// The flags of the character-level examples (text_generation, char_transformer): the shared arguments, the
/// share of the text and the sampling.
#[derive(Parser, Debug, Clone)]
pub struct TextArgs {
    #[command(flatten)]
    pub common: Args,
    /// Train on the first N characters of the text only (all by default).
    #[arg(long)]
    pub max_chars: Option<usize>,
    /// Characters generated per temperature (Keras: 400).
    #[arg(long, default_value_t = 400)]
    pub generate_chars: usize,
}

impl TextArgs {
    /// The file `--data` names and its text (the first `--max-chars` characters when given).
    pub fn read_text(&self) -> Result<(PathBuf, String), Box<dyn std::error::Error>> {
        let path = self
            .common
            .data
            .clone()
            .ok_or("pass --data PATH/nietzsche.txt (the text to learn)")?;
        let mut text = std::fs::read_to_string(&path)?;
        if let Some(n) = self.max_chars {
            text = text.chars().take(n).collect();
        }
        Ok((path, text))
    }
}

/// Prints `generate(temperature)` after `seed` at Keras's temperatures 0.2, 0.5, 1.0 and 1.2.
pub fn print_samples(
    seed: &[char],
    mut generate: impl FnMut(f64) -> rkeras::Result<String>,
) -> rkeras::Result<()> {
    let seed_text: String = seed.iter().collect();
    println!("----- generating with seed: \"{seed_text}\"");
    for temperature in [0.2, 0.5, 1.0, 1.2] {
        println!(
            "----- temperature {temperature}:\n{seed_text}{}\n",
            generate(temperature)?
        );
    }
    Ok(())
}

/// A hook called after every epoch with the model and the number of epochs done.
pub type AfterEpoch<'a> = dyn FnMut(&Model, usize) -> Result<(), Box<dyn std::error::Error>> + 'a;

/// How the run validates during training.
pub enum Validation {
    /// The last share of the training data (Keras's `validation_split`).
    Split(f64),
    /// The test data (Keras's `validation_data`).
    TestData,
}

/// One training run: the compiled model, the data, Keras's defaults and extra summary fields.
pub struct Run {
    pub model: Model,
    pub x_train: Vec<ArrayD<f32>>,
    pub y_train: ArrayD<f32>,
    pub x_test: Vec<ArrayD<f32>>,
    pub y_test: ArrayD<f32>,
    pub validation: Validation,
    pub default_epochs: usize,
    pub default_batch_size: usize,
    /// What `--data` named (or the generator), for the summary.
    pub data: String,
    /// Extra fields of the JSON summary.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The outcome: the trained model, its history and the test metrics.
pub struct Outcome {
    pub model: Model,
    pub history: History,
    pub test: Logs,
}

/// The first `n` rows of `a` (all when `n` is `None` or larger).
pub fn head(a: &ArrayD<f32>, n: Option<usize>) -> ArrayD<f32> {
    let n = n.unwrap_or(usize::MAX).min(a.shape()[0]);
    a.slice_axis(ndarray::Axis(0), (0..n).into()).to_owned()
}

/// Trains (unless `--epochs 0`), evaluates on the test data and writes the summary. With `after_epoch`,
/// trains one epoch per `fit` call and calls it after each (Keras's addition and text-generation scripts).
pub fn train_and_report(
    args: &Args,
    mut run: Run,
    mut after_epoch: Option<&mut AfterEpoch>,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let started = Instant::now();
    if args.verbose > 0 {
        println!("{}", run.model.summary());
    }
    if let Some(path) = &args.initial_weights {
        run.model.load_weights(path)?;
    }
    let x_train: Vec<ArrayD<f32>> = run
        .x_train
        .iter()
        .map(|x| head(x, args.train_samples))
        .collect();
    let y_train = head(&run.y_train, args.train_samples);
    let train_len = y_train.shape()[0];
    let epochs = args.epochs.unwrap_or(run.default_epochs);
    let batch_size = args.batch_size.unwrap_or(run.default_batch_size);

    let (mut timer, epoch_times) = epoch_timer();
    let mut checkpoint = args
        .checkpoint
        .as_ref()
        .map(ModelCheckpoint::new)
        .transpose()?;
    let mut csv = args.csv.as_ref().map(CSVLogger::new);
    if after_epoch.is_some() && args.backup.is_some() {
        return Err(
            "--backup needs one fit call over all epochs; this example trains one epoch at a time"
                .into(),
        );
    }
    let mut backup = args
        .backup
        .as_ref()
        .map(BackupAndRestore::new)
        .transpose()?;
    let mut tensorboard = args.pictures.tensorboard_callback();
    let mut history = History::default();
    let rounds: Vec<(usize, usize)> = match after_epoch {
        Some(_) => (0..epochs).map(|e| (e, e + 1)).collect(),
        None if epochs > 0 => vec![(0, epochs)],
        None => vec![],
    };
    for (first, last) in rounds {
        let mut config = FitConfig::new()
            .epochs(last)
            .initial_epoch(first)
            .batch_size(batch_size)
            .verbose(args.verbose)
            .seed(args.seed.wrapping_add(first as u64))
            .shuffle(!args.no_shuffle)
            .callback(&mut timer);
        config = match run.validation {
            Validation::Split(share) => config.validation_split(share),
            Validation::TestData => config.validation_data(run.x_test.clone(), run.y_test.clone()),
        };
        if let Some(shards) = args.shards {
            config = config.shards(shards);
        }
        if let Some(cb) = checkpoint.as_mut() {
            config = config.callback(cb);
        }
        if let Some(cb) = csv.as_mut() {
            config = config.callback(cb);
        }
        if let Some(cb) = backup.as_mut() {
            config = config.callback(cb);
        }
        if let Some(cb) = tensorboard.as_mut() {
            config = config.callback(cb);
        }
        let round = run.model.fit(&x_train, &y_train, config)?;
        history.epoch.extend(round.epoch.iter().copied());
        for (key, values) in round.history {
            history.history.entry(key).or_default().extend(values);
        }
        if let Some(hook) = after_epoch.as_mut() {
            hook(&run.model, last)?;
        }
    }
    args.pictures.plot_history(&history)?;
    let test = run.model.evaluate(&run.x_test, &run.y_test, batch_size)?;
    let times = epoch_times.lock().map(|t| t.clone()).unwrap_or_default();
    let throughput = samples_per_sec(train_len, &times);
    println!(
        "test loss {:.4} · test accuracy {:.4} · {throughput:.0} training samples/s",
        test["loss"], test["accuracy"],
    );
    if let Some(path) = &args.summary_json {
        let mut summary = serde_json::json!({
            "framework": "rkeras",
            "data": run.data,
            "seed": args.seed,
            "train_samples": train_len,
            "test_samples": run.y_test.shape()[0],
            "epochs": epochs,
            "batch_size": batch_size,
            "shards": args.shards.unwrap_or_else(rayon::current_num_threads),
            "weights_sha256": weights_sha256(&run.model.get_weights()),
            "test_loss": test.get("loss"),
            "test_accuracy": test.get("accuracy"),
            "train_samples_per_sec": throughput,
            "wall_seconds": started.elapsed().as_secs_f64(),
            "peak_rss_mb": peak_rss_mb(),
            "history": history_rows(&history, &times),
        });
        if let Some(map) = summary.as_object_mut() {
            map.extend(run.extra);
        }
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
    }
    Ok(Outcome {
        model: run.model,
        history,
        test,
    })
}
