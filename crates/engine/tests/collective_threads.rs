//! `fit` across ranks without MPI: two threads joined by an in-process [`Collective`]. An error in one rank's
//! step stops every rank with an error (no rank waits), and a `BackupAndRestore` backup written by rank 0
//! resumes both ranks to the bits of an uninterrupted run. A message that one rank alone cannot read stops
//! every rank with the same error naming that rank and the step, and so do gradient sums that one rank cannot
//! read, in a middle step or in the last one, and an error in one rank's callback (between the exchanges, in
//! the last epoch's end or in `on_train_end` included). With 2, 3 or 4 ranks the logged metrics
//! (merged from every shard's metric states) have the bits of one process. A stop one rank alone asks for
//! (at an epoch's end or after a batch) stops every rank after the same batch, with the bits of one process.
//! The sharded optimizer step gives one process's weights, iteration count and slots for every optimizer; an
//! optimizer that needs whole gradients, or a backup within the epoch, makes every rank step the whole model.

use ndarray::{Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_callbacks::{BackupAndRestore, EarlyStopping, LambdaCallback, SaveFreq};
use rkeras_engine::{Collective, EngineError, FitConfig, Model};
use rkeras_layers::{Dense, Embedding, Flatten, Input, LayerCall, set_random_seed};
use rkeras_optim::{
    AdadeltaConfig, AdagradConfig, Adam, AdamConfig, AdamWConfig, AdamaxConfig, FtrlConfig,
    LionConfig, NadamConfig, Optimizer, RMSpropConfig, SGD, SGDConfig,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::Duration;

/// The ranks' meeting point: each all-gather fills the slots, then every rank copies them.
#[derive(Debug)]
struct Exchange {
    slots: Mutex<Vec<Vec<u8>>>,
    barrier: Barrier,
    /// `(receiver, call)`: at its all-gather number `call` (from 0), `receiver` gets rank 0's message cut
    /// short by a byte.
    cut: Option<(usize, usize)>,
}

/// One rank of a group of threads.
#[derive(Debug)]
struct Threads {
    rank: usize,
    exchange: Arc<Exchange>,
    calls: AtomicUsize,
}

impl Collective for Threads {
    fn rank(&self) -> usize {
        self.rank
    }

    fn ranks(&self) -> usize {
        self.exchange.slots.lock().unwrap().len()
    }

    fn all_gather(&self, local: &[u8]) -> rkeras_engine::Result<Vec<Vec<u8>>> {
        self.exchange.slots.lock().unwrap()[self.rank] = local.to_vec();
        self.exchange.barrier.wait();
        let mut all = self.exchange.slots.lock().unwrap().clone();
        self.exchange.barrier.wait();
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        if self.exchange.cut == Some((self.rank, call)) {
            all[0].pop();
        }
        Ok(all)
    }
}

const RANKS: usize = 2;

/// Runs `job(rank, collective)` on one thread (and one rayon pool) per rank and returns the results in rank order; fails when a rank
/// has not finished after a minute (a rank waits for one that stopped).
fn on_ranks<T: Send + 'static>(
    job: impl Fn(usize, Arc<dyn Collective>) -> T + Send + Sync + 'static,
) -> Vec<T> {
    on_n_ranks(RANKS, None, job)
}

/// [`on_ranks`] on `ranks` ranks, where `cut = (receiver, call)` cuts short what `receiver` gets from rank 0
/// at that all-gather.
fn on_n_ranks<T: Send + 'static>(
    ranks: usize,
    cut: Option<(usize, usize)>,
    job: impl Fn(usize, Arc<dyn Collective>) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let exchange = Arc::new(Exchange {
        slots: Mutex::new(vec![Vec::new(); ranks]),
        barrier: Barrier::new(ranks),
        cut,
    });
    let job = Arc::new(job);
    let (send, receive) = mpsc::channel();
    for rank in 0..ranks {
        let (job, send) = (job.clone(), send.clone());
        let collective: Arc<dyn Collective> = Arc::new(Threads {
            rank,
            exchange: exchange.clone(),
            calls: AtomicUsize::new(0),
        });
        // Each rank trains on a pool of its own, as a process of its own would: a rank waiting in an
        // all-gather holds its worker, so ranks sharing one pool (with other tests running beside) would wait
        // for ranks queued behind them.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        std::thread::spawn(move || send.send((rank, pool.install(|| job(rank, collective)))));
    }
    let mut results: Vec<Option<T>> = (0..ranks).map(|_| None).collect();
    for _ in 0..ranks {
        let (rank, result) = receive
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("a rank still runs after a minute: the ranks hang"));
        results[rank] = Some(result);
    }
    results.into_iter().map(Option::unwrap).collect()
}

const VOCAB: usize = 10;

/// Ids `[64, 3]` and labels `[64, 1]` in `0..3`; with `bad`, sample 12 holds the id 99 (outside the table).
fn data(bad: bool) -> (ArrayD<f32>, ArrayD<f32>) {
    let mut rng = StdRng::seed_from_u64(3);
    let mut ids = Array2::from_shape_fn((64, 3), |_| rng.random_range(0..VOCAB) as f32);
    let labels = Array2::from_shape_fn((64, 1), |(i, _)| (ids[[i, 0]] as usize % 3) as f32);
    if bad {
        ids[[12, 1]] = 99.0;
    }
    (ids.into_dyn(), labels.into_dyn())
}

fn model() -> Model {
    classifier(
        3,
        "softmax",
        "rmsprop",
        "sparse_categorical_crossentropy",
        &["accuracy"],
    )
}

/// Embedding, Flatten and a Dense of `units` over the ids, compiled.
fn classifier(
    units: usize,
    activation: &str,
    optimizer: &str,
    loss: &str,
    metrics: &[&str],
) -> Model {
    set_random_seed(11);
    let input = Input::new(&[3]);
    let embedded = Embedding::new(VOCAB, 4).call(&input).unwrap();
    let flat = Flatten::new().call(&embedded).unwrap();
    let output = Dense::new(units)
        .with_activation(activation)
        .unwrap()
        .call(&flat)
        .unwrap();
    let mut model = Model::new(&[input], &output).unwrap();
    model.compile(optimizer, loss, metrics).unwrap();
    model
}

/// Batches of 16 in order, two shards each (rank 1 computes samples 8..16 of the first batch).
fn config<'a>(collective: Option<Arc<dyn Collective>>) -> FitConfig<'a> {
    config_with(collective, 4, 16, 2)
}

/// Unshuffled batches of `batch_size` in `shards` shards for `epochs`, seed 5, across `collective` if given.
fn config_with<'a>(
    collective: Option<Arc<dyn Collective>>,
    epochs: usize,
    batch_size: usize,
    shards: usize,
) -> FitConfig<'a> {
    let config = FitConfig::new()
        .epochs(epochs)
        .batch_size(batch_size)
        .shards(shards)
        .shuffle(false)
        .seed(5)
        .verbose(0);
    match collective {
        Some(c) => config.collective(c),
        None => config,
    }
}

fn bits(weights: &[ArrayD<f32>]) -> Vec<u32> {
    weights.iter().flatten().map(|v| v.to_bits()).collect()
}

#[test]
fn a_bad_batch_on_one_rank_stops_every_rank_with_an_error() {
    let errors = on_ranks(|_, collective| {
        let (x, y) = data(true);
        model()
            .fit(&[x], &y, config(Some(collective)))
            .map(|_| ())
            .unwrap_err()
    });
    // Rank 1 owns the bad shard: it ends with its own error; rank 0 with that error, naming rank 1.
    let own = errors[1].to_string();
    assert!(own.contains("99"), "{own}");
    assert!(!matches!(errors[1], EngineError::Distributed(_)), "{own}");
    match &errors[0] {
        EngineError::Distributed(message) => {
            assert!(
                message.starts_with("rank 1 failed in a training step: "),
                "{message}"
            );
            assert!(message.ends_with(&own), "{message}");
        }
        other => panic!("rank 0 ended with {other:?}"),
    }
}

#[test]
fn a_message_one_rank_cannot_read_stops_every_rank_naming_it_and_the_step() {
    // Rank 1 reads a cut all-to-all message from rank 0 in step 6 (epoch 1).
    let errors = on_n_ranks(
        RANKS,
        Some((1, all_to_all_call(6, true))),
        |_, collective| {
            let (x, y) = data(false);
            model()
                .fit(&[x], &y, config(Some(collective)))
                .map(|_| ())
                .unwrap_err()
        },
    );
    for (rank, error) in errors.iter().enumerate() {
        match error {
            EngineError::StepFailed {
                rank: 1,
                step: 6,
                reason,
            } => assert!(
                reason.starts_with("cannot read the message of rank 0: "),
                "{reason}"
            ),
            other => panic!("rank {rank} ended with {other}"),
        }
    }
    assert_eq!(errors[0].to_string(), errors[1].to_string());
}

/// Steps per epoch of [`config`] on [`data`]: 64 samples in batches of 16.
const STEPS: usize = 4;

/// The all-gather number of step `step`'s all-to-all: fit's first all-gather starts training; then each step
/// makes two (the all-to-all of the shards, the all-gather of the summed gradient blocks or, with the sharded
/// optimizer step, of the updated weights) and each epoch ends with two (the ranks' agreements before
/// validation and after the epoch's callbacks) and, with the sharded optimizer step, a third between them (the
/// optimizer slots gathered).
fn all_to_all_call(step: usize, sharded: bool) -> usize {
    1 + 2 * step + (2 + usize::from(sharded)) * (step / STEPS)
}

#[test]
fn gradient_sums_one_rank_cannot_read_stop_every_rank_naming_it_and_the_step() {
    gathered_blocks_one_rank_cannot_read_stop_every_rank(false, "gradient sums");
}

#[test]
fn updated_weights_one_rank_cannot_read_stop_every_rank_naming_it_and_the_step() {
    gathered_blocks_one_rank_cannot_read_stop_every_rank(true, "updated weights");
}

/// A step's all-gathered blocks (the summed gradients, or with `sharded` the updated weights: `what`) cut
/// short on one rank stop every rank with that rank's error.
fn gathered_blocks_one_rank_cannot_read_stop_every_rank(sharded: bool, what: &'static str) {
    // A middle step's, an epoch's last step's (before validation) and the fit's last step's sums.
    let last = 4 * STEPS - 1;
    for ranks in [2, 3, 4] {
        for (step, validate) in [(6, false), (STEPS - 1, true), (last, false)] {
            let reader = ranks - 1;
            let cut = (reader, all_to_all_call(step, sharded) + 1);
            let errors = on_n_ranks(ranks, Some(cut), move |_, collective| {
                let (x, y) = data(false);
                let mut config =
                    config_with(Some(collective), 4, 16, ranks).shard_optimizer(sharded);
                if validate {
                    config = config.validation_data(vec![x.clone()], y.clone());
                }
                model().fit(&[x], &y, config).map(|_| ()).unwrap_err()
            });
            for (rank, error) in errors.iter().enumerate() {
                match error {
                    EngineError::StepFailed {
                        rank: r,
                        step: s,
                        reason,
                    } if (*r, *s) == (reader, step as u64) => assert!(
                        reason.starts_with(&format!("cannot read the {what} of rank 0: ")),
                        "{reason}"
                    ),
                    other => panic!("{ranks} ranks, step {step}: rank {rank} ended with {other}"),
                }
            }
            let first = errors[0].to_string();
            assert!(errors.iter().all(|e| e.to_string() == first), "{errors:?}");
        }
    }
}

#[test]
fn an_error_in_one_ranks_train_begin_stops_every_rank() {
    let errors = on_ranks(|rank, collective| {
        let (x, y) = data(false);
        let mut refuse = LambdaCallback::new()
            .on_train_begin(move |_| if rank == 1 { Err("no room") } else { Ok(()) });
        model()
            .fit(&[x], &y, config(Some(collective)).callback(&mut refuse))
            .map(|_| ())
            .unwrap_err()
            .to_string()
    });
    assert_eq!(errors[1], "no room");
    assert_eq!(
        errors[0],
        "distributed training: rank 1 failed to start training: no room"
    );
}

/// Which hook of rank 1's callback fails ("disk full"), and when: in an epoch (from 0), or in a batch
/// counted over the whole `fit` (from 0).
#[derive(Clone, Copy, Debug)]
enum Failing {
    EpochBegin(usize),
    BatchBegin(usize),
    BatchEnd(usize),
    EpochEnd(usize),
    TrainEnd,
}

/// A callback that fails on rank 1 alone where `failing` says.
fn failing_callback(rank: usize, failing: Failing) -> LambdaCallback {
    let fail = move |hit: bool| {
        if rank == 1 && hit {
            Err("disk full")
        } else {
            Ok(())
        }
    };
    let (mut begun, mut ended) = (0, 0);
    LambdaCallback::new()
        .on_epoch_begin(move |e| fail(matches!(failing, Failing::EpochBegin(f) if f == e)))
        .on_train_batch_begin(move |_| {
            begun += 1;
            fail(matches!(failing, Failing::BatchBegin(f) if f + 1 == begun))
        })
        .on_train_batch_end(move |_, _| {
            ended += 1;
            fail(matches!(failing, Failing::BatchEnd(f) if f + 1 == ended))
        })
        .on_epoch_end(move |e, _| fail(matches!(failing, Failing::EpochEnd(f) if f == e)))
        .on_train_end(move |_| fail(matches!(failing, Failing::TrainEnd)))
}

#[test]
fn a_callback_error_on_one_rank_alone_stops_every_rank_naming_it_and_the_step() {
    // 4 epochs of 4 steps; the step is the number of steps run before the error.
    let cases = [
        (Failing::EpochBegin(1), 4),
        (Failing::BatchBegin(9), 9),
        (Failing::BatchEnd(6), 7),
        (Failing::BatchEnd(15), 16),
        (Failing::EpochEnd(1), 8),
        (Failing::EpochEnd(3), 16),
        (Failing::TrainEnd, 16),
    ];
    for ranks in [2, 3] {
        for (failing, step) in cases {
            let errors = on_n_ranks(ranks, None, move |rank, collective| {
                let (x, y) = data(false);
                let mut callback = failing_callback(rank, failing);
                let config = config_with(Some(collective), 4, 16, ranks).callback(&mut callback);
                model().fit(&[x], &y, config).err()
            });
            for (rank, error) in errors.iter().enumerate() {
                match error {
                    Some(EngineError::StepFailed {
                        rank: 1,
                        step: s,
                        reason,
                    }) if *s == step && reason == "disk full" => {}
                    other => panic!("{ranks} ranks, {failing:?}: rank {rank} ended with {other:?}"),
                }
            }
            assert_eq!(
                errors[0].as_ref().map(ToString::to_string).as_deref(),
                Some(
                    format!("distributed training: rank 1 failed at step {step}: disk full")
                        .as_str()
                )
            );
        }
    }
}

/// The weights after `config` on every rank; `backup_dir(rank)` adds a `BackupAndRestore` there, and `crash`
/// makes epoch 2 fail to begin.
fn train_on_ranks(backup_dir: Option<fn(usize) -> PathBuf>, crash: bool) -> Vec<Vec<u32>> {
    on_ranks(move |rank, collective| {
        let (x, y) = data(false);
        let mut model = model();
        let mut early = EarlyStopping::new().with_monitor("loss").with_patience(100);
        let mut crasher = LambdaCallback::new().on_epoch_begin(move |e| {
            if crash && e == 2 {
                Err("power cut")
            } else {
                Ok(())
            }
        });
        let mut backup = backup_dir.map(|dir| BackupAndRestore::new(dir(rank)).unwrap());
        let mut config = config(Some(collective)).callback(&mut crasher);
        if let Some(cb) = backup.as_mut() {
            config = config.callback(cb);
        }
        config = config.callback(&mut early);
        model
            .fit(&[x], &y, config)
            .map(|_| bits(&model.get_weights()))
            .map_err(|e| e.to_string())
    })
    .into_iter()
    .map(|result| match result {
        // Both ranks fail to begin epoch 2, after 8 steps: every rank names the first, rank 0.
        Err(e) if crash && e == "distributed training: rank 0 failed at step 8: power cut" => {
            Vec::new()
        }
        other => other.unwrap_or_else(|e| panic!("{e}")),
    })
    .collect()
}

static BACKUPS: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Rank `r`'s backup directory: its own, so that only rank 0's is ever written.
fn rank_dir(rank: usize) -> PathBuf {
    let root = BACKUPS.lock().unwrap().clone().unwrap();
    root.join(format!("rank{rank}"))
}

#[test]
fn a_backup_of_rank_zero_resumes_every_rank_to_the_uninterrupted_bits() {
    let dir = tempfile::tempdir().unwrap();
    *BACKUPS.lock().unwrap() = Some(dir.path().to_path_buf());
    let straight = train_on_ranks(None, false);
    assert_eq!(straight[0], straight[1], "the ranks' weights differ");
    let (x, y) = data(false);
    let mut one = model();
    one.fit(&[x], &y, config(None)).unwrap();
    assert_eq!(
        straight[0],
        bits(&one.get_weights()),
        "two ranks differ from one process"
    );

    train_on_ranks(Some(rank_dir), true);
    let backup = |rank| rank_dir(rank).join("latest.backup");
    assert!(backup(0).is_file(), "rank 0 keeps its backup");
    assert!(
        !rank_dir(1).exists(),
        "only rank 0 touches a backup directory"
    );

    let resumed = train_on_ranks(Some(rank_dir), false);
    assert_eq!(resumed[0], straight[0], "rank 0 resumed to other weights");
    assert_eq!(resumed[1], straight[1], "rank 1 resumed to other weights");
    assert!(!backup(0).exists(), "the completed run deletes the backup");
    assert!(!Path::new(&rank_dir(1)).exists());
}

/// A binary classifier of the ids logging accuracy, a mean metric (`mae`), AUC and precision.
fn binary_model() -> Model {
    classifier(
        1,
        "sigmoid",
        "adam",
        "binary_crossentropy",
        &["accuracy", "mae", "auc", "precision"],
    )
}

/// Every logged value's bits, key by key.
fn history_bits(history: &rkeras_callbacks::History) -> Vec<(String, Vec<u64>)> {
    history
        .history
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

#[test]
fn ranks_log_the_metrics_of_one_process_bit_for_bit_from_merged_states() {
    let binary = || {
        let (x, y) = data(false);
        (x, y.mapv(|label| f32::from(label == 1.0)))
    };
    for ranks in [2, 3, 4] {
        // Batches of 30, 30 and 4 samples: the first two in `ranks` shards (3 with 4 ranks, as a shard holds at
        // least 8 samples), the last one a single shard.
        let config = move |collective| config_with(collective, 3, 30, ranks);
        let (x, y) = binary();
        let one = history_bits(&binary_model().fit(&[x], &y, config(None)).unwrap());
        let keys: Vec<&str> = one.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys[..5], ["loss", "accuracy", "mae", "auc", "precision"]);
        let all = on_n_ranks(ranks, None, move |_, collective| {
            let (x, y) = binary();
            history_bits(
                &binary_model()
                    .fit(&[x], &y, config(Some(collective)))
                    .unwrap(),
            )
        });
        for (rank, logs) in all.iter().enumerate() {
            assert_eq!(
                logs, &one,
                "{ranks} ranks: rank {rank}'s logs differ from one process"
            );
        }
    }
}

/// Where [`Stopper`] sets `stop_training`: at the end of epoch `n`, or after `n` training batches of the whole
/// `fit`.
#[derive(Clone, Copy, Debug)]
enum StopAt {
    EpochEnd(usize),
    Batches(usize),
}

/// A callback that sets `stop_training` where `at` says, on its own rank only (a decision from a value of
/// that rank's, as a user callback may make).
struct Stopper {
    at: StopAt,
    batches: usize,
}

impl rkeras_callbacks::Callback for Stopper {
    fn name(&self) -> &'static str {
        "Stopper"
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        _: &mut rkeras_callbacks::Logs,
        ctl: &mut dyn rkeras_callbacks::TrainerControl,
    ) -> rkeras_callbacks::Result<()> {
        if matches!(self.at, StopAt::EpochEnd(e) if e == epoch) {
            ctl.set_stop_training(true);
        }
        Ok(())
    }

    fn on_train_batch_end(
        &mut self,
        _: usize,
        _: &rkeras_callbacks::Logs,
        ctl: &mut dyn rkeras_callbacks::TrainerControl,
    ) -> rkeras_callbacks::Result<()> {
        self.batches += 1;
        if matches!(self.at, StopAt::Batches(n) if n == self.batches) {
            ctl.set_stop_training(true);
        }
        Ok(())
    }
}

/// The logs and weights after 4 epochs of 4 batches in `ranks` shards, with a [`Stopper`] at `at` on rank
/// `stopper` alone (or, alone, in the one process).
fn stopped_run(
    collective: Option<Arc<dyn Collective>>,
    ranks: usize,
    at: StopAt,
    stopper: usize,
) -> (Vec<(String, Vec<u64>)>, Vec<u32>) {
    let (x, y) = data(false);
    let mut model = model();
    let rank = collective.as_ref().map_or(stopper, |c| c.rank());
    let mut stop = Stopper { at, batches: 0 };
    let mut config = config_with(collective, 4, 16, ranks);
    if rank == stopper {
        config = config.callback(&mut stop);
    }
    let history = model.fit(&[x], &y, config).unwrap();
    (history_bits(&history), bits(&model.get_weights()))
}

#[test]
fn a_stop_on_one_rank_alone_stops_every_rank_after_the_same_epoch_and_batch() {
    // The end of epoch 1 (2 epochs logged), a batch inside epoch 2 (rank 1 stops after its 10th batch: the
    // others drop the step they began), and the last batch of epoch 1.
    for at in [StopAt::EpochEnd(1), StopAt::Batches(10), StopAt::Batches(8)] {
        for ranks in [2, 3] {
            let (one_logs, one_weights) = stopped_run(None, ranks, at, 1);
            let epochs = match at {
                StopAt::Batches(10) => 3,
                _ => 2,
            };
            assert_eq!(one_logs[0].1.len(), epochs, "{at:?}: epochs logged");
            let all = on_n_ranks(ranks, None, move |_, c| stopped_run(Some(c), ranks, at, 1));
            for (rank, (logs, weights)) in all.iter().enumerate() {
                assert_eq!(logs, &one_logs, "{at:?}, {ranks} ranks: rank {rank}'s logs");
                assert_eq!(
                    weights, &one_weights,
                    "{at:?}, {ranks} ranks: rank {rank}'s weights differ from one process"
                );
            }
        }
    }
}

/// A rank's collective that counts its all-gathers (the all-to-alls go through them).
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn Collective>,
    gathers: AtomicUsize,
}

impl Collective for Counting {
    fn rank(&self) -> usize {
        self.inner.rank()
    }

    fn ranks(&self) -> usize {
        self.inner.ranks()
    }

    fn all_gather(&self, local: &[u8]) -> rkeras_engine::Result<Vec<Vec<u8>>> {
        self.gathers.fetch_add(1, Ordering::Relaxed);
        self.inner.all_gather(local)
    }
}

/// The weights' bits, the optimizer's iteration count and its slots' bits (slot name, weight, bits) after a
/// `fit`.
type Trained = (Vec<u32>, u64, Vec<(String, usize, Vec<u32>)>);

fn trained(model: &Model) -> Trained {
    let state = model.optimizer().unwrap().state();
    let slots = state
        .slots
        .iter()
        .map(|s| {
            (
                s.slot.clone(),
                s.param_index,
                bits(std::slice::from_ref(&s.value)),
            )
        })
        .collect();
    (bits(&model.get_weights()), state.iterations, slots)
}

type MakeOptimizer = fn() -> Box<dyn Optimizer>;

/// Trains [`classifier`] with `optimizer` for 3 epochs in batches of 16, `shards` shards per batch, on `ranks`
/// thread ranks (one process when `ranks` is 0), with `callbacks(rank)` added; every rank's result and the
/// number of all-gathers it made.
fn train_with(
    optimizer: MakeOptimizer,
    ranks: usize,
    shards: usize,
    sharded: bool,
) -> Vec<(Trained, usize)> {
    let run = move |collective: Option<Arc<dyn Collective>>| {
        set_random_seed(11);
        let (x, y) = data(false);
        let mut model = classifier(
            3,
            "softmax",
            "rmsprop",
            "sparse_categorical_crossentropy",
            &[],
        );
        model
            .compile(optimizer(), "sparse_categorical_crossentropy", &[])
            .unwrap();
        let counting = collective.map(|inner| {
            Arc::new(Counting {
                inner,
                gathers: AtomicUsize::new(0),
            })
        });
        let mut config = config_with(None, 3, 16, shards).shard_optimizer(sharded);
        if let Some(c) = &counting {
            config = config.collective(c.clone());
        }
        model.fit(&[x], &y, config).unwrap();
        let gathers = counting.map_or(0, |c| c.gathers.load(Ordering::Relaxed));
        (trained(&model), gathers)
    };
    if ranks == 0 {
        return vec![run(None)];
    }
    on_n_ranks(ranks, None, move |_, collective| run(Some(collective)))
}

/// All-gathers of a 3-epoch `fit` of 4 steps an epoch: the start, two a step, two an epoch (three with the
/// sharded optimizer step: the slots), and the end's agreement.
fn gathers(sharded: bool) -> usize {
    1 + 2 * 3 * STEPS + (2 + usize::from(sharded)) * 3 + 1
}

fn optimizers() -> Vec<(&'static str, MakeOptimizer)> {
    vec![
        ("sgd", || Box::new(SGD::new(0.1).unwrap())),
        ("sgd momentum nesterov, weight decay", || {
            Box::new(
                SGDConfig::default()
                    .with_learning_rate(0.1)
                    .with_momentum(0.9)
                    .with_nesterov(true)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            )
        }),
        ("rmsprop centered momentum", || {
            Box::new(
                RMSpropConfig::default()
                    .with_momentum(0.5)
                    .with_centered(true)
                    .build()
                    .unwrap(),
            )
        }),
        ("adam amsgrad, ema", || {
            Box::new(
                AdamConfig::default()
                    .with_amsgrad(true)
                    .with_ema(0.9)
                    .build()
                    .unwrap(),
            )
        }),
        ("adam, clipvalue, accumulation", || {
            Box::new(
                AdamConfig::default()
                    .with_clipvalue(0.01)
                    .with_gradient_accumulation_steps(2)
                    .build()
                    .unwrap(),
            )
        }),
        ("adamw", || {
            Box::new(AdamWConfig::default().build().unwrap())
        }),
        ("adamax", || {
            Box::new(AdamaxConfig::default().build().unwrap())
        }),
        ("nadam", || {
            Box::new(NadamConfig::default().build().unwrap())
        }),
        ("adagrad", || {
            Box::new(AdagradConfig::default().build().unwrap())
        }),
        ("adadelta", || {
            Box::new(
                AdadeltaConfig::default()
                    .with_learning_rate(1.0)
                    .build()
                    .unwrap(),
            )
        }),
        ("lion", || Box::new(LionConfig::default().build().unwrap())),
        ("ftrl", || Box::new(FtrlConfig::default().build().unwrap())),
    ]
}

#[test]
fn the_sharded_optimizer_step_gives_every_optimizers_bits_of_one_process() {
    for (name, optimizer) in optimizers() {
        for ranks in [2, 3] {
            let one = train_with(optimizer, 0, ranks, true).remove(0).0;
            let all = train_with(optimizer, ranks, ranks, true);
            for (rank, (result, gathers)) in all.iter().enumerate() {
                assert_eq!(
                    *gathers,
                    self::gathers(true),
                    "{name}: the step was not sharded"
                );
                assert!(
                    result.0 == one.0,
                    "{name}, {ranks} ranks: rank {rank}'s weights differ from one process's"
                );
                assert!(
                    result.1 == one.1 && result.2 == one.2,
                    "{name}, {ranks} ranks: rank {rank}'s optimizer state differs from one process's"
                );
            }
        }
    }
}

#[test]
fn an_optimizer_that_needs_whole_gradients_steps_the_whole_model_on_every_rank() {
    let clipped: [(&str, MakeOptimizer); 2] = [
        ("clipnorm", || {
            Box::new(AdamConfig::default().with_clipnorm(0.01).build().unwrap())
        }),
        ("global_clipnorm", || {
            Box::new(
                RMSpropConfig::default()
                    .with_global_clipnorm(0.01)
                    .build()
                    .unwrap(),
            )
        }),
    ];
    for (name, optimizer) in clipped {
        let one = train_with(optimizer, 0, 2, true).remove(0).0;
        for (rank, (result, gathers)) in train_with(optimizer, 2, 2, true).iter().enumerate() {
            assert_eq!(
                *gathers,
                self::gathers(false),
                "{name}: the step was sharded"
            );
            assert!(
                *result == one,
                "{name}: rank {rank} differs from one process"
            );
        }
    }
    // Asked for by the fit: the same bits with or without the sharded step.
    let adam: MakeOptimizer = || Box::new(Adam::default());
    let whole = train_with(adam, 2, 2, false);
    let sharded = train_with(adam, 2, 2, true);
    assert_eq!(whole[0].1, gathers(false));
    assert!(whole[0].0 == sharded[0].0 && whole[1].0 == sharded[1].0);
}

#[test]
fn a_backup_within_the_epoch_keeps_the_whole_optimizer_step_with_the_bits_of_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    // Rank 0 backs up every 3 batches (each backup must hold the whole optimizer state, so the ranks step the
    // whole model).
    let run = move || {
        let root = root.clone();
        on_n_ranks(2, None, move |rank, inner| {
            let (x, y) = data(false);
            let mut model = model();
            let counting = Arc::new(Counting {
                inner,
                gathers: AtomicUsize::new(0),
            });
            let mut backup = BackupAndRestore::new(root.join(format!("rank{rank}")))
                .unwrap()
                .with_save_freq(SaveFreq::Batches(3))
                .unwrap();
            let config = config_with(None, 3, 16, 2)
                .collective(counting.clone())
                .callback(&mut backup);
            let outcome = model.fit(&[x], &y, config).map(|_| trained(&model));
            (outcome.ok(), counting.gathers.load(Ordering::Relaxed))
        })
    };
    let (x, y) = data(false);
    let mut one = model();
    one.fit(&[x], &y, config_with(None, 3, 16, 2)).unwrap();
    for (result, gathers) in run() {
        assert_eq!(gathers, self::gathers(false), "the step was sharded");
        assert!(
            result == Some(trained(&one)),
            "a rank differs from one process"
        );
    }
}
