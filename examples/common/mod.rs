//! What the two bAbI examples share: arguments, data loading, epoch timing and the JSON summary.

#[allow(dead_code)]
#[path = "../distributed/mod.rs"]
pub mod distributed;
pub mod pictures;

use clap::Parser;
use rkeras::datasets::{BabiSource, Task, Vectorized, Vectorizer};
use rkeras::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Arguments of the bAbI examples.
#[derive(Parser, Debug)]
pub struct Args {
    /// A bAbI directory (e.g. tasks_1-20_v1-2/en-10k) or the tasks_1-20_v1-2.tar.gz archive. Defaults to
    /// $BABI_DIR, else built-in generated stories.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The task: qa1 … qa20 (generated data exists for qa1 and qa2).
    #[arg(long, default_value = "qa1")]
    pub task: String,
    /// Epochs to train (0: evaluate only).
    #[arg(long, default_value_t = 120)]
    pub epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Seed of initialisation, shuffling, dropout and the generator.
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
    /// Use N generated training stories (and N/10 test stories) instead of files.
    #[arg(long)]
    pub generate: Option<usize>,
    /// 0 silent, 1 progress bar, 2 one line per epoch.
    #[arg(long, default_value_t = 1)]
    pub verbose: u8,
    /// Train in file order every epoch (Keras's `shuffle=False`) instead of reshuffling.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Data-parallel shards per batch (FitConfig::shards); results are bit-identical for a given N whatever
    /// the thread count. Defaults to the number of threads.
    #[arg(long)]
    pub shards: Option<usize>,
    /// Train across the processes of `mpirun`/`srun` (MPI; needs the `mpi` feature). Each rank computes its
    /// block of every batch's shards (see --shards); rank 0 alone prints progress and writes checkpoints and CSV.
    #[arg(long)]
    pub distributed: bool,
    /// --plot and --tensorboard.
    #[command(flatten)]
    pub pictures: pictures::Pictures,
}

/// The vectorised splits.
pub struct Data {
    pub vectorizer: Vectorizer,
    pub train: Vectorized,
    pub test: Vectorized,
    pub source: String,
}

/// Loads and vectorises the data the arguments name.
pub fn load_data(args: &Args) -> Result<Data, Box<dyn std::error::Error>> {
    let task: Task = args.task.parse()?;
    let generated = |stories: usize| BabiSource::Generated {
        train_stories: stories,
        test_stories: (stories / 10).max(1),
        seed: args.seed,
    };
    let source = match (&args.generate, &args.data) {
        (Some(n), _) => generated(*n),
        (None, Some(path)) if path.is_file() => BabiSource::Archive {
            path: path.clone(),
            subset: "en-10k".into(),
        },
        (None, Some(path)) => BabiSource::Dir(path.clone()),
        (None, None) => BabiSource::from_env_or(generated(2000)),
    };
    let splits = source.load(task, false)?;
    let vectorizer = Vectorizer::fit(&splits.train, &splits.test)?;
    let train = vectorizer.vectorize(&splits.train)?;
    let test = vectorizer.vectorize(&splits.test)?;
    Ok(Data {
        vectorizer,
        train,
        test,
        source: source.to_string(),
    })
}

impl Data {
    /// `(vocabulary size, story length, query length)`: the model's input sizes.
    pub fn sizes(&self) -> (usize, usize, usize) {
        (
            self.vectorizer.vocab_size(),
            self.vectorizer.story_maxlen(),
            self.vectorizer.query_maxlen(),
        )
    }

    /// One line describing the data.
    pub fn describe(&self) -> String {
        let (vocab, story, query) = self.sizes();
        format!(
            "data: {} · {} train / {} test questions · vocabulary {vocab} · story {story} · query {query}",
            self.source,
            self.train.len(),
            self.test.len()
        )
    }
}

/// The examples' `fit` arguments: the command line's epochs, batch size, verbosity, seed and shuffling,
/// validating on the test split.
pub fn fit_config<'a>(
    args: &Args,
    x_test: &[ndarray::ArrayD<f32>],
    y_test: &ndarray::ArrayD<f32>,
) -> FitConfig<'a> {
    let config = FitConfig::new()
        .epochs(args.epochs)
        .batch_size(args.batch_size)
        .verbose(args.verbose)
        .seed(args.seed)
        .shuffle(!args.no_shuffle)
        .validation_data(x_test.to_vec(), y_test.clone());
    match args.shards {
        Some(shards) => config.shards(shards),
        None => config,
    }
}

/// The SHA-256 of the weights' bytes (little-endian float32), weight after weight in the model's order: two
/// runs with the same hash ended with the same weights bit for bit.
pub fn weights_sha256(weights: &[ndarray::ArrayD<f32>]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for w in weights {
        for v in w.iter() {
            hasher.update(v.to_le_bytes());
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Trains unless `--epochs 0` asked for evaluation only.
pub fn fit_unless_zero(
    model: &mut Model,
    args: &Args,
    x: &[ndarray::ArrayD<f32>],
    y: &ndarray::ArrayD<f32>,
    config: FitConfig<'_>,
) -> Result<History, Box<dyn std::error::Error>> {
    Ok(if args.epochs > 0 {
        model.fit(x, y, config)?
    } else {
        History::default()
    })
}

/// Records every epoch's wall time (its validation pass included, as Keras's epoch time).
pub fn epoch_timer() -> (LambdaCallback, Arc<Mutex<Vec<f64>>>) {
    let times = Arc::new(Mutex::new(Vec::new()));
    let start = Arc::new(Mutex::new(Instant::now()));
    let (s1, s2, t) = (start.clone(), start, times.clone());
    let callback = LambdaCallback::new()
        .on_epoch_begin(move |_| {
            *s1.lock().unwrap() = Instant::now();
        })
        .on_epoch_end(move |_, _| {
            t.lock()
                .unwrap()
                .push(s2.lock().unwrap().elapsed().as_secs_f64());
        });
    (callback, times)
}

/// Prints an error with its message (not its debug form) and turns the outcome into the exit code.
pub fn exit_code(result: Result<(), Box<dyn std::error::Error>>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Peak resident memory of this process, in MB (Linux's VmHWM).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_string)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Training samples per second in the steady state: the median epoch after the first.
pub fn samples_per_sec(train_samples: usize, epoch_times: &[f64]) -> f64 {
    let mut steady: Vec<f64> = if epoch_times.len() > 1 {
        epoch_times[1..].to_vec()
    } else {
        epoch_times.to_vec()
    };
    if steady.is_empty() {
        return 0.0;
    }
    steady.sort_by(|a, b| a.total_cmp(b));
    train_samples as f64 / steady[steady.len() / 2]
}

/// Writes the run's JSON summary.
#[allow(clippy::too_many_arguments)]
pub fn write_summary(
    path: &std::path::Path,
    args: &Args,
    data: &Data,
    test: &Logs,
    history: &History,
    epoch_times: &[f64],
    wall_seconds: f64,
    weights: &[ndarray::ArrayD<f32>],
) -> Result<(), Box<dyn std::error::Error>> {
    let summary = serde_json::json!({
        "framework": "rkeras",
        "task": args.task,
        "data": data.source,
        "seed": args.seed,
        "train_samples": data.train.len(),
        "test_samples": data.test.len(),
        "vocab_size": data.vectorizer.vocab_size(),
        "story_maxlen": data.vectorizer.story_maxlen(),
        "query_maxlen": data.vectorizer.query_maxlen(),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "shards": args.shards.unwrap_or_else(rayon::current_num_threads),
        "weights_sha256": weights_sha256(weights),
        "ranks": distributed::place().1,
        "rank": distributed::place().0,
        "collective_per_step": distributed::collective_summary(),
        "test_loss": test.get("loss"),
        "test_accuracy": test.get("accuracy").or(test.get("acc")),
        "train_samples_per_sec": samples_per_sec(data.train.len(), epoch_times),
        "wall_seconds": wall_seconds,
        "peak_rss_mb": peak_rss_mb(),
        "history": history_rows(history, epoch_times),
    });
    std::fs::write(
        distributed::rank_path(path),
        serde_json::to_string_pretty(&summary)?,
    )?;
    Ok(())
}

/// One JSON row per epoch of `history`: its number (from 1), its wall time and every logged value.
pub fn history_rows(history: &History, epoch_times: &[f64]) -> Vec<serde_json::Value> {
    (0..history.len())
        .map(|i| {
            let mut row = serde_json::Map::new();
            row.insert(
                "epoch".into(),
                serde_json::json!(history.epoch.get(i).map(|e| e + 1)),
            );
            row.insert("seconds".into(), serde_json::json!(epoch_times.get(i)));
            for key in history.keys() {
                row.insert(
                    key.to_string(),
                    serde_json::json!(history.get(key).and_then(|v| v.get(i))),
                );
            }
            serde_json::Value::Object(row)
        })
        .collect()
}
