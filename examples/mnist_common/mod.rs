//! What the two MNIST examples share: arguments (the bAbI examples' flags), data, training and the JSON summary.

use crate::common::{epoch_timer, history_rows, peak_rss_mb, samples_per_sec, weights_sha256};
use clap::Parser;
use rkeras::datasets::mnist::{MNIST_DIR_ENV, Mnist, load_mnist, mnist_dir};
use rkeras::engine::{ByteArray, InputArray};
use rkeras::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of the MNIST examples.
#[derive(Parser, Debug)]
pub struct Args {
    /// The directory of MNIST's four IDX files (gzipped or not). Defaults to $MNIST_DIR.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Epochs to train (0: evaluate only, e.g. with --initial-weights).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Samples per step.
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    /// Seed of initialisation, shuffling and dropout.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Save a checkpoint here every epoch (ModelCheckpoint).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Log every epoch's metrics here (CSVLogger).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write a JSON summary (test loss/accuracy, throughput, memory, history) here.
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
    /// Start from these weights (an rkeras or Keras .h5 of the same model).
    #[arg(long)]
    pub initial_weights: Option<PathBuf>,
    /// Train on the first N training images only (all 60 000 by default).
    #[arg(long)]
    pub train_samples: Option<usize>,
    /// The optimizer's learning rate (defaults to the example's).
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    #[arg(long, default_value_t = 1)]
    pub verbose: u8,
    /// Train in file order every epoch (Keras's `shuffle=False`) instead of reshuffling.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Data-parallel shards per batch (FitConfig::shards); results are bit-identical for a given N whatever
    /// the thread count. Default: the thread pool's size.
    #[arg(long)]
    pub shards: Option<usize>,
    /// Train across the processes of `mpirun`/`srun` (MPI; needs the `mpi` feature; see docs/distributed.md).
    #[arg(long)]
    pub distributed: bool,
    /// --plot and --tensorboard.
    #[command(flatten)]
    pub pictures: crate::common::pictures::Pictures,
}

/// Loads MNIST from --data or $MNIST_DIR.
pub fn load(args: &Args) -> Result<(Mnist, PathBuf), Box<dyn std::error::Error>> {
    let dir = mnist_dir(args.data.as_deref())?;
    let mut mnist =
        load_mnist(&dir).map_err(|e| format!("{e} (pass --data DIR or set {MNIST_DIR_ENV})"))?;
    if let Some(n) = args.train_samples {
        mnist.train = mnist.train.head(n);
    }
    Ok((mnist, dir))
}

/// Compiles, trains (unless `--epochs 0`), evaluates and reports `model` on MNIST: images flattened to 784
/// values when `flatten`, else `(28, 28, 1)`; one-hot labels and categorical cross-entropy as Keras's scripts.
pub fn train_and_report(
    args: &Args,
    ranks: &crate::common::distributed::Ranks,
    mut model: Model,
    optimizer: Box<dyn Optimizer>,
    flatten: bool,
    default_epochs: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let (mnist, dir) = load(args)?;
    println!(
        "data: {} · {} train / {} test images",
        dir.display(),
        mnist.train.len(),
        mnist.test.len()
    );
    model.compile(optimizer, "categorical_crossentropy", &["accuracy"])?;
    if args.verbose > 0 {
        println!("{}", model.summary());
    }
    if let Some(path) = &args.initial_weights {
        model.load_weights(path)?;
    }
    // The images stay bytes while training (a quarter of their f32 size); `fit` scales each batch by 1/255.
    let bytes = |split: &rkeras::datasets::mnist::MnistSplit| -> rkeras::Result<InputArray> {
        Ok(ByteArray::new(split.images_u8(flatten), 255.0)?.into())
    };
    let x_train = vec![bytes(&mnist.train)?];
    let x_validation = vec![bytes(&mnist.test)?];
    let y_train = mnist.train.labels_one_hot(10).into_dyn();
    let y_test = mnist.test.labels_one_hot(10).into_dyn();
    let epochs = args.epochs.unwrap_or(default_epochs);

    let (mut timer, epoch_times) = epoch_timer();
    let mut checkpoint = args
        .checkpoint
        .as_ref()
        .map(ModelCheckpoint::new)
        .transpose()?;
    let mut csv = args.csv.as_ref().map(CSVLogger::new);
    let mut tensorboard = args.pictures.tensorboard_callback();
    let mut config = ranks
        .configure(FitConfig::new())
        .epochs(epochs)
        .batch_size(args.batch_size)
        .verbose(args.verbose)
        .seed(args.seed)
        .shuffle(!args.no_shuffle)
        .validation_data(x_validation, y_test.clone())
        .callback(&mut timer);
    if let Some(shards) = args.shards {
        config = config.shards(shards);
    }
    if let Some(cb) = checkpoint.as_mut() {
        config = config.callback(cb);
    }
    if let Some(cb) = csv.as_mut() {
        config = config.callback(cb);
    }
    if let Some(cb) = tensorboard.as_mut() {
        config = config.callback(cb);
    }
    let history = if epochs > 0 {
        model.fit(&x_train, &y_train, config)?
    } else {
        History::default()
    };
    if ranks.is_first() {
        args.pictures.plot_history(&history)?;
    }
    let test = model.evaluate(&[mnist.test.images_f32(flatten)], &y_test, args.batch_size)?;
    let times = epoch_times.lock().map(|t| t.clone()).unwrap_or_default();
    let throughput = samples_per_sec(mnist.train.len(), &times);
    println!(
        "test loss {:.4} · test accuracy {:.4} · {throughput:.0} training samples/s",
        test["loss"], test["accuracy"],
    );
    if let Some(path) = &args.summary_json {
        let summary = serde_json::json!({
            "framework": "rkeras",
            "data": dir.display().to_string(),
            "seed": args.seed,
            "train_samples": mnist.train.len(),
            "test_samples": mnist.test.len(),
            "epochs": epochs,
            "batch_size": args.batch_size,
            "shards": args.shards.unwrap_or_else(rayon::current_num_threads),
            "weights_sha256": weights_sha256(&model.get_weights()),
            "ranks": crate::common::distributed::place().1,
            "rank": crate::common::distributed::place().0,
            "collective_per_step": crate::common::distributed::collective_summary(),
            "test_loss": test.get("loss"),
            "test_accuracy": test.get("accuracy"),
            "train_samples_per_sec": throughput,
            "wall_seconds": started.elapsed().as_secs_f64(),
            "peak_rss_mb": peak_rss_mb(),
            "history": history_rows(&history, &times),
        });
        std::fs::write(
            crate::common::distributed::rank_path(path),
            serde_json::to_string_pretty(&summary)?,
        )?;
    }
    Ok(())
}
