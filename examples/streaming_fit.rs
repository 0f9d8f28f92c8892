//! Trains an MLP from a generator of random-but-seeded batches (at least 2 GB by default) that is never held
//! in memory: `cargo run --release --example streaming_fit -- --gigabytes 2 --compare`.
//!
//! Each batch is drawn from its own seed on the source's reading thread, which runs `--queue` batches ahead of
//! training; the label of a sample is the index of its largest of the first 10 features, so the model learns.
//! At the end one JSON line gives `samples`, `bytes_streamed`, `samples_per_sec` and `peak_rss_mb`; with
//! `--compare` the same model is then fit on in-memory arrays of `--in-memory-mb` for the throughput ratio.

#[allow(dead_code)]
#[path = "common/mod.rs"]
mod common;

use clap::Parser;
use ndarray::{Array1, Array2};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rkeras::engine::source::{Batch, DataSource};
use rkeras::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Gigabytes of batches to stream (inputs and labels, as float32).
    #[arg(long, default_value_t = 2.0)]
    gigabytes: f64,
    /// Input features per sample.
    #[arg(long, default_value_t = 128)]
    features: usize,
    /// Hidden units.
    #[arg(long, default_value_t = 64)]
    hidden: usize,
    /// Samples per batch.
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    /// Batches read ahead of training.
    #[arg(long, default_value_t = 10)]
    queue: usize,
    /// The seed of the batches and of training.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also fit the model on in-memory arrays and report the throughput ratio.
    #[arg(long)]
    compare: bool,
    /// Megabytes of in-memory arrays for `--compare`.
    #[arg(long, default_value_t = 256.0)]
    in_memory_mb: f64,
}

const CLASSES: usize = 10;

/// Batch `index`: standard-uniform features from the batch's own seed, labels from the features.
fn batch(
    seed: u64,
    index: usize,
    batch_size: usize,
    features: usize,
) -> (Array2<f32>, Array1<f32>) {
    let mut rng =
        SmallRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let x = Array2::from_shape_simple_fn((batch_size, features), || rng.random::<f32>() - 0.5);
    let y = x
        .rows()
        .into_iter()
        .map(|row| {
            let head = row.iter().take(CLASSES);
            head.enumerate()
                .fold(
                    (0, f32::MIN),
                    |best, (i, &v)| if v > best.1 { (i, v) } else { best },
                )
                .0 as f32
        })
        .collect();
    (x, y)
}

fn model(args: &Args) -> Result<Model, Box<dyn std::error::Error>> {
    set_random_seed(args.seed);
    let mut model = Sequential::new(&[args.features])
        .add(Dense::new(args.hidden).with_activation("relu")?)?
        .add(Dense::new(CLASSES).with_activation("softmax")?)?
        .build()?;
    model.compile("adam", "sparse_categorical_crossentropy", &["accuracy"])?;
    Ok(model)
}

/// CPU seconds (user + system, all threads) this process has used so far (Linux's /proc/self/stat, in clock
/// ticks of 1/100 s), so that throughput can be compared on a loaded machine where wall time measures the
/// scheduler's share.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the command name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> std::process::ExitCode {
    common::exit_code(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let sample_bytes = (args.features + 1) * std::mem::size_of::<f32>();
    let batches =
        ((args.gigabytes * 1e9) / (sample_bytes * args.batch_size) as f64).ceil() as usize;
    let streamed = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&streamed);
    let (seed, batch_size, features) = (args.seed, args.batch_size, args.features);
    let source = DataSource::generator((0..batches).map(move |i| {
        let (x, y) = batch(seed, i, batch_size, features);
        let b = Batch::new(vec![x.into_dyn()], y.into_dyn());
        counter.fetch_add(b.bytes(), Ordering::Relaxed);
        Ok(b)
    }));
    let mut model = model(&args)?;
    let config = FitConfig::new()
        .verbose(0)
        .seed(args.seed)
        .max_queue_size(args.queue);
    let (started, cpu_started) = (Instant::now(), cpu_seconds());
    let history = model.fit_source(source, config)?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_started;
    let samples = batches * args.batch_size;
    let mut report = serde_json::json!({
        "samples": samples,
        "bytes_streamed": streamed.load(Ordering::Relaxed),
        "samples_per_sec": (samples as f64 / seconds).round(),
        "samples_per_cpu_sec": (samples as f64 / cpu).round(),
        "peak_rss_mb": (common::peak_rss_mb() * 10.0).round() / 10.0,
        "loss": history.get("loss").and_then(|l| l.last()).copied(),
        "accuracy": history.get("accuracy").and_then(|l| l.last()).copied(),
    });
    if args.compare {
        let rows =
            ((args.in_memory_mb * 1e6) / (sample_bytes * args.batch_size) as f64).ceil() as usize;
        let parts: Vec<_> = (0..rows)
            .map(|i| batch(seed, i, batch_size, features))
            .collect();
        let xs: Vec<_> = parts.iter().map(|(x, _)| x.view()).collect();
        let ys: Vec<_> = parts.iter().map(|(_, y)| y.view()).collect();
        let x = ndarray::concatenate(ndarray::Axis(0), &xs)?.into_dyn();
        let y = ndarray::concatenate(ndarray::Axis(0), &ys)?.into_dyn();
        drop(parts);
        let mut in_memory = self::model(&args)?;
        let config = FitConfig::new()
            .verbose(0)
            .seed(args.seed)
            .batch_size(args.batch_size)
            .shuffle(false);
        let (started, cpu_started) = (Instant::now(), cpu_seconds());
        in_memory.fit(&[x], &y, config)?;
        let rate = (rows * args.batch_size) as f64 / started.elapsed().as_secs_f64();
        let cpu_rate = (rows * args.batch_size) as f64 / (cpu_seconds() - cpu_started);
        report["in_memory_samples_per_sec"] = rate.round().into();
        report["in_memory_samples_per_cpu_sec"] = cpu_rate.round().into();
        report["streaming_to_in_memory_cpu"] =
            ((samples as f64 / cpu / cpu_rate * 1000.0).round() / 1000.0).into();
        report["streaming_to_in_memory"] =
            ((samples as f64 / seconds / rate * 1000.0).round() / 1000.0).into();
    }
    println!("{report}");
    Ok(())
}
