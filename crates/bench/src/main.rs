//! rkeras-bench: training throughput of the bAbI memory network, an MLP and an LSTM classifier on synthetic
//! data, and Keras's MNIST convnet and MLP on MNIST, as JSON.
//!
//! `cargo run --release -p rkeras-bench -- memnn --epochs 5 --json` prints one JSON object per workload:
//! steady-state training samples/s (the median epoch after the first, each epoch including its validation pass,
//! as Keras's epoch time does), the per-batch forward / backward / optimizer split, peak resident memory,
//! start-to-first-batch time, the rayon thread count and the data used. `all` runs each workload in a process of
//! its own, so that every peak memory and start time belongs to one workload.
//!
//! `batch_micros` holds the engine's step profile over the epochs after the first (`forward`, `backward`,
//! `optimizer`: mean per step; forward and backward are summed over the shards a batch is split into, so when
//! two threads run the shards at once they add up to more than the wall time) and `wall`, the median epoch's
//! training time (its validation pass removed) per step.

mod distributed;
mod mnist;
mod reuters_rnn;
mod timer;
mod transformer;
mod workloads;

use clap::{Parser, ValueEnum};
use serde_json::{Value, json};
use std::error::Error;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Instant;
use timer::{BenchTimer, COUNTING, Run};
use workloads::{prepare, train};

pub(crate) type BenchResult<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// What to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum WorkloadKind {
    /// Keras's bAbI memory network on qa1 (24,750 parameters), RMSprop.
    Memnn,
    /// Dense 784→256 (relu)→10 (softmax) on 10,000 synthetic samples, Adam.
    Mlp,
    /// LSTM(64) over 20 steps of 32 features, then Dense(10, softmax), on 5,000 synthetic samples, Adam.
    Lstm,
    /// GRU(64) (Keras 3's `reset_after=True`) over 20 steps of 32 features, then Dense(10, softmax), on the
    /// `lstm` workload's 5,000 synthetic samples, Adam.
    Gru,
    /// Keras's MNIST convnet (examples/mnist_cnn): Conv2D 32 and 64 3×3 relu, MaxPooling2D, Dropout, Dense
    /// 128 relu, Dropout, Dense 10 softmax (1,199,882 parameters); Adadelta (learning rate 1.0); batch 128.
    Cnn,
    /// Keras's MNIST MLP (examples/mnist_mlp): Dense 512 relu, Dropout 0.2, twice, then Dense 10 softmax;
    /// RMSprop; batch 128.
    MnistMlp,
    /// The transformer classifier (examples/transformer_classifier): token and position embedding, one
    /// Transformer block (2 heads, key_dim 32, feed-forward 32), pooling, Dense 20, softmax over 46 classes, on
    /// 2,000 synthetic sequences of 200 ids; Adam; batch 32.
    Transformer,
    /// The Reuters recurrent classifier (examples/reuters_rnn): Embedding with mask_zero, Bidirectional(GRU(32)),
    /// softmax over 46 classes, on 2,000 synthetic sequences of 200 ids padded with zeros in front; Adam;
    /// batch 32.
    ReutersRnn,
    /// memnn, mlp and lstm, each in a process of its own.
    All,
}

/// Shards per batch unless `--shards` or `--distributed` says otherwise: each batch whole, as Keras computes it.
const DEFAULT_SHARDS: usize = 1;

/// Training-throughput benchmark of rkeras.
#[derive(Parser, Debug)]
#[command(name = "rkeras-bench")]
pub(crate) struct Cli {
    /// The workload.
    #[arg(value_enum)]
    pub(crate) workload: WorkloadKind,
    /// Epochs to train (at least 1); throughput is the median epoch after the first.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) epochs: u64,
    /// Samples per step (default: 128 for cnn and mnist-mlp, as Keras's scripts; 32 otherwise).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Seed of initialisation, shuffling, dropout and the synthetic data.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// memnn: a bAbI directory (e.g. tasks_1-20_v1-2/en-10k); default: 2,000 generated qa1 stories.
    /// cnn, mnist-mlp: the directory of MNIST's IDX files; default: $MNIST_DIR.
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
    /// cnn, mnist-mlp: train on the first N training images.
    #[arg(long, default_value_t = 3840)]
    pub(crate) train_samples: usize,
    /// cnn, mnist-mlp: validate on the first N test images.
    #[arg(long, default_value_t = 1000)]
    pub(crate) validation_samples: usize,
    /// memnn: the bAbI task.
    #[arg(long, default_value = "qa1")]
    pub(crate) task: String,
    /// memnn: generated training stories when no --data is given (a tenth as many test stories).
    #[arg(long, default_value_t = 2000)]
    pub(crate) generate: usize,
    /// Run in a rayon pool of this many threads (default: the global pool, one thread per core).
    #[arg(long)]
    pub(crate) threads: Option<usize>,
    /// memnn: also train in a 1-thread and a 2-thread pool (the same shards in both) and report the throughput
    /// ratio; `--shards 2` splits each batch across the two threads.
    #[arg(long)]
    pub(crate) threads_compare: bool,
    /// Count heap allocations per training step and the live heap at each epoch's end (slightly slower).
    #[arg(long)]
    pub(crate) count_allocs: bool,
    /// Shards per batch (`FitConfig::shards`; default: the ranks with --distributed, else 1). The shard count,
    /// not --threads, decides the summation order: a seeded run gives the same bits on any number of threads.
    #[arg(long)]
    pub(crate) shards: Option<usize>,
    /// Train across the ranks of `mpirun -np N` (feature `mpi`), one block of shards each; rank 0 prints the
    /// result, whose samples/s count all ranks.
    #[arg(long)]
    pub(crate) distributed: bool,
    /// With --distributed: every rank steps the optimizer over the whole model instead of its block
    /// (`FitConfig::shard_optimizer(false)`), to compare the two.
    #[arg(long)]
    pub(crate) whole_optimizer: bool,
    /// Bytes of freed tensor buffers each thread keeps for reuse, in MiB (`buffer_pool::set_limit_bytes`;
    /// default: the pool's 64 MiB). Lower trades speed for peak memory.
    #[arg(long)]
    pub(crate) pool_mib: Option<usize>,
    /// Print one JSON object per workload (default: one readable line).
    #[arg(long)]
    pub(crate) json: bool,
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The epochs after the first (all of them when there is only one).
fn steady(values: &[f64]) -> &[f64] {
    if values.len() > 1 {
        &values[1..]
    } else {
        values
    }
}

impl Cli {
    /// Shards per batch: `--shards`, else the ranks with `--distributed`, else [`DEFAULT_SHARDS`] (not the
    /// engine's default, the pool's thread count, so that `--threads` does not change a seeded run's bits).
    pub(crate) fn shards(&self) -> usize {
        self.shards
            .or(self.distributed.then(|| distributed::place().1))
            .unwrap_or(DEFAULT_SHARDS)
    }

    /// Samples per step: `--batch-size`, else the workload's default.
    pub(crate) fn batch_size(&self) -> usize {
        let default = match self.workload {
            WorkloadKind::Cnn | WorkloadKind::MnistMlp => 128,
            _ => 32,
        };
        self.batch_size.unwrap_or(default)
    }
}

/// Throughput and the per-batch split of one run.
fn throughput(run: &Run, train_samples: usize, batch_size: usize) -> Value {
    let epoch = median(steady(&run.timer.epoch_seconds));
    let validation = median(steady(&run.timer.validation_seconds));
    let steps = train_samples.div_ceil(batch_size) as f64;
    let (forward, backward, optimizer) = run.profile.per_step_micros();
    let batch_wall = (epoch - validation) / steps * 1e6;
    json!({
        "threads": run.threads,
        "train_samples_per_sec": round(train_samples as f64 / epoch, 1),
        "epoch_seconds": run.timer.epoch_seconds.iter().map(|s| round(*s, 4)).collect::<Vec<_>>(),
        "median_epoch_seconds": round(epoch, 4),
        "epoch_cpu_seconds": run.timer.epoch_cpu_seconds.iter().map(|s| round(*s, 2)).collect::<Vec<_>>(),
        "train_samples_per_cpu_sec": round(train_samples as f64 / median(steady(&run.timer.epoch_cpu_seconds)), 1),
        "median_validation_seconds": round(validation, 4),
        "batch_micros": {
            "forward": round(forward, 1), "backward": round(backward, 1), "optimizer": round(optimizer, 1),
            "step_total": round(forward + backward + optimizer, 1),
            "wall": round(batch_wall, 1),
            "steps_profiled": run.profile.steps,
        },
    })
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// Peak resident memory of this process in MB (Linux's VmHWM).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Seconds since the kernel started this process (/proc, 10 ms resolution: clock ticks of 1/100 s).
fn seconds_since_exec() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let start_ticks: f64 = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(uptime - start_ticks / 100.0)
}

/// Runs `f` in a rayon pool of `threads` threads.
fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> BenchResult<T> {
    Ok(rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?
        .install(f))
}

/// One workload: prepare, train, measure; returns its JSON object.
fn bench(
    kind: WorkloadKind,
    cli: &Cli,
    main_start: Instant,
    exec_to_main: Option<f64>,
) -> BenchResult<Value> {
    let setup_start = Instant::now();
    let mut workload = prepare(kind, cli)?;
    let run = train(&mut workload, cli)?;
    let samples = workload.train_samples();
    let since = |t: Instant| {
        run.timer
            .first_batch
            .map(|b| round(b.duration_since(t).as_secs_f64() * 1e3, 2))
    };
    let mut out = json!({
        "workload": kind.to_possible_value().map(|v| v.get_name().to_string()),
        "framework": concat!("rkeras ", env!("CARGO_PKG_VERSION")),
        "data": workload.data,
        "params": workload.model.count_params(),
        "optimizer": workload.optimizer,
        "epochs": cli.epochs,
        "batch_size": cli.batch_size(),
        "start_to_first_batch_ms": since(main_start).map(|ms| round(ms + exec_to_main.unwrap_or(0.0) * 1e3, 2)),
        "exec_to_main_ms": exec_to_main.map(|s| round(s * 1e3, 0)),
        "main_to_first_batch_ms": since(main_start),
        "setup_to_first_batch_ms": since(setup_start),
        "start_to_first_batch_without_data_ms": since(main_start)
            .map(|ms| round(ms + exec_to_main.unwrap_or(0.0) * 1e3 - workload.setup_ms.0, 2)),
        "data_ms": round(workload.setup_ms.0, 2),
        "build_ms": round(workload.setup_ms.1, 2),
        "compile_ms": round(workload.setup_ms.2, 2),
        "peak_rss_mb": peak_rss_mb().map(|m| round(m, 1)),
        "last_epoch": run.timer.last_logs,
    });
    merge(&mut out, throughput(&run, samples, cli.batch_size()));
    out["shards"] = json!(cli.shards());
    if cli.distributed {
        out["distributed"] = distributed::summary();
        // As asked for: the engine steps the whole model anyway when the optimizer needs whole gradients.
        out["distributed"]["optimizer_step"] = json!(if cli.whole_optimizer {
            "whole"
        } else {
            "sharded"
        });
    }
    if cli.count_allocs {
        out["allocations"] = allocations(&run.timer, samples.div_ceil(cli.batch_size()));
    }
    if cli.threads_compare && kind == WorkloadKind::Memnn {
        let mut by_threads = Vec::new();
        for threads in [1, 2] {
            let mut workload = prepare(kind, cli)?;
            let run = in_pool(threads, || train(&mut workload, cli))??;
            by_threads.push(throughput(&run, samples, cli.batch_size()));
        }
        let sps = |v: &Value| v["train_samples_per_sec"].as_f64().unwrap_or(f64::NAN);
        let ratio = round(sps(&by_threads[1]) / sps(&by_threads[0]), 3);
        out["threads_compare"] =
            json!({ "one": by_threads[0], "two": by_threads[1], "ratio_two_over_one": ratio });
    }
    Ok(out)
}

/// Allocations per training step in each epoch, and how the live heap at each epoch's end differs from the
/// first epoch's (the counters start with the process, so only differences are meaningful).
fn allocations(timer: &BenchTimer, steps: usize) -> Value {
    let per_step: Vec<f64> = timer
        .train_allocations
        .iter()
        .map(|&a| round(a as f64 / steps as f64, 1))
        .collect();
    let first = timer.live_bytes.first().copied().unwrap_or(0);
    let growth: Vec<i64> = timer
        .live_bytes
        .iter()
        .map(|&b| b.wrapping_sub(first) as i64)
        .collect();
    json!({ "per_step_by_epoch": per_step, "live_heap_change_bytes_by_epoch": growth })
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

fn report(result: &Value, as_json: bool) {
    if as_json {
        println!("{result}");
        return;
    }
    let b = &result["batch_micros"];
    println!(
        "{}: {} samples/s · batch {} µs (forward {} / backward {} / optimizer {}) · peak RSS {} MB · first batch after {} ms · {} threads · {} shards",
        result["workload"].as_str().unwrap_or("?"),
        result["train_samples_per_sec"],
        b["wall"],
        b["forward"],
        b["backward"],
        b["optimizer"],
        result["peak_rss_mb"],
        result["start_to_first_batch_ms"],
        result["threads"],
        result["shards"],
    );
    if let Some(allocs) = result.get("allocations") {
        println!(
            "  allocations per training step, by epoch: {} · live heap change since epoch 1 (bytes): {}",
            allocs["per_step_by_epoch"], allocs["live_heap_change_bytes_by_epoch"]
        );
    }
    if let Some(cmp) = result.get("threads_compare") {
        println!(
            "  1 thread {} samples/s · 2 threads {} samples/s · ratio {}",
            cmp["one"]["train_samples_per_sec"],
            cmp["two"]["train_samples_per_sec"],
            cmp["ratio_two_over_one"]
        );
    }
}

/// `all`: each workload in a fresh process of this binary, so that memory and start time are its own.
fn run_all() -> BenchResult<()> {
    let exe = std::env::current_exe()?;
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "all").collect();
    for name in ["memnn", "mlp", "lstm"] {
        let status = Command::new(&exe).arg(name).args(&args).status()?;
        if !status.success() {
            return Err(format!("the {name} workload failed ({status})").into());
        }
    }
    Ok(())
}

fn main() -> BenchResult<()> {
    let main_start = Instant::now();
    let exec_to_main = seconds_since_exec();
    let cli = Cli::parse();
    COUNTING.store(cli.count_allocs, Ordering::Relaxed);
    if let Some(mib) = cli.pool_mib {
        rkeras::tensor::buffer_pool::set_limit_bytes(mib << 20);
    }
    if cli.workload == WorkloadKind::All {
        return run_all();
    }
    if cli.distributed {
        distributed::start()?;
    }
    let result = match cli.threads {
        Some(threads) => in_pool(threads, || {
            bench(cli.workload, &cli, main_start, exec_to_main)
        })??,
        None => bench(cli.workload, &cli, main_start, exec_to_main)?,
    };
    if distributed::place().0 == 0 {
        report(&result, cli.json);
    }
    distributed::finish();
    Ok(())
}
