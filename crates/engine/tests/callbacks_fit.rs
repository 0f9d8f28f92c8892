//! Every callback in a real `fit`: the model, the optimizer and the files they act on, checked against
//! values derived independently (hand-computed SGD trajectories, the history's own metrics, Keras's rules).

use ndarray::{Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_callbacks::{
    BackupAndRestore, CSVLogger, Callback, EarlyStopping, LambdaCallback, LearningRateScheduler,
    ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN, console,
};
use rkeras_datasets::{BabiSplits, Task, Vectorizer};
use rkeras_engine::{FitConfig, Model, load_model};
use rkeras_layers::{
    Activation, Dense, Dropout, Embedding, Input, LSTM, LayerCall, Permute, add, concatenate, dot,
    set_random_seed,
};
use rkeras_optim::{Adam, RMSprop, SGD};
use rkeras_tensor::{Initializer, Variable};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

type Snapshots = Arc<Mutex<Vec<Vec<ArrayD<f32>>>>>;

fn column(values: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(&[values.len(), 1]), values.to_vec()).unwrap()
}

fn bits(weights: &[ArrayD<f32>]) -> Vec<Vec<u32>> {
    weights
        .iter()
        .map(|w| w.iter().map(|v| v.to_bits()).collect())
        .collect()
}

fn values(variables: &[Variable]) -> Vec<ArrayD<f32>> {
    variables.iter().map(|v| (*v.value()).clone()).collect()
}

/// A LambdaCallback that copies every weight at each epoch end. It holds the model's weight handles, which
/// share their values with the model, so it sees the weights as they are when the epoch ends.
fn weight_recorder(model: &Model) -> (LambdaCallback, Snapshots) {
    let snapshots: Snapshots = Arc::default();
    let (variables, sink) = (model.weights(), Arc::clone(&snapshots));
    let recorder = LambdaCallback::new()
        .on_epoch_end(move |_, _| sink.lock().unwrap().push(values(&variables)));
    (recorder, snapshots)
}

/// y = w·x with one weight and no bias, starting at `w0`.
fn line_model(w0: f32, optimizer: SGD) -> Model {
    let x = Input::new(&[1]);
    let y = Dense::new(1)
        .with_bias(false)
        .with_kernel_initializer(Initializer::Constant(w0))
        .call(&x)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model.compile(optimizer, "mse", &[]).unwrap();
    model
}

fn kernel(model: &Model) -> f64 {
    f64::from(model.get_weights()[0][[0, 0]])
}

/// A full-batch regression whose validation optimum is crossed: training pulls w from 0 towards 2 (targets
/// 2x), validation wants w = 1 (targets x). With lr 0.3, w after epoch e is about 2·(1 − 0.8^(e+1)): 0.4, 0.72,
/// 0.98, 1.18, …, so val_loss falls for three epochs and then rises. Returns the model, x and the targets 2x.
fn overshoot_setup() -> (Model, ArrayD<f32>, ArrayD<f32>) {
    let mut rng = StdRng::seed_from_u64(5);
    let xs: Vec<f32> = (0..32).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let x = column(&xs);
    let y = x.mapv(|v| 2.0 * v);
    (line_model(0.0, SGD::new(0.3).unwrap()), x, y)
}

/// One full batch per epoch, validated on (x, x).
fn overshoot_config<'a>(epochs: usize, x: &ArrayD<f32>) -> FitConfig<'a> {
    FitConfig::new()
        .epochs(epochs)
        .batch_size(32)
        .verbose(0)
        .validation_data(vec![x.clone()], x.clone())
}

/// The epochs (0-based) whose val_loss beats every earlier one.
fn improving_epochs(val_loss: &[f64]) -> Vec<usize> {
    let mut best = f64::INFINITY;
    let mut out = Vec::new();
    for (e, &v) in val_loss.iter().enumerate() {
        if v < best {
            best = v;
            out.push(e);
        }
    }
    out
}

#[test]
fn early_stopping_stops_on_a_plateau() {
    // Learning rate 0: the weights never move, so val_loss is the same value every epoch.
    let x = column(&[0.5, 1.0, -1.0, 2.0]);
    let y = column(&[1.0, 2.0, -2.0, 4.0]);
    let mut model = line_model(0.3, SGD::new(0.0).unwrap());
    let mut early = EarlyStopping::new().with_patience(3);
    let config = FitConfig::new()
        .epochs(20)
        .batch_size(2)
        .verbose(0)
        .validation_split(0.25)
        .callback(&mut early);
    let history = model.fit(&[x], &y, config).unwrap();
    // Epoch 0 sets the best; epochs 1, 2, 3 do not improve; wait reaches patience 3 at epoch 3.
    assert_eq!(history.epoch, [0, 1, 2, 3]);
    let val_loss = history.get("val_loss").unwrap();
    assert!(val_loss.iter().all(|&v| v == val_loss[0]), "{val_loss:?}");
    assert_eq!(early.stopped_epoch(), Some(3));
    assert_eq!(early.best_epoch(), 0);
}

#[test]
fn early_stopping_restores_the_best_epochs_weights() {
    let (mut model, x, y) = overshoot_setup();
    let (mut recorder, snapshots) = weight_recorder(&model);
    let mut early = EarlyStopping::new()
        .with_patience(2)
        .with_restore_best_weights(true);
    let config = overshoot_config(20, &x)
        .callback(&mut early)
        .callback(&mut recorder);
    let history = model.fit(&[x], &y, config).unwrap();
    let val_loss = history.get("val_loss").unwrap();
    let best = improving_epochs(val_loss).last().copied().unwrap();
    // The run stops `patience` epochs after the best one, long before epoch 20.
    assert_eq!(history.epoch.len(), best + 3, "{val_loss:?}");
    assert!(best >= 1, "the best epoch is not the first: {val_loss:?}");
    assert_eq!(early.best_epoch(), best);
    assert_eq!(early.stopped_epoch(), Some(best + 2));
    let snapshots = snapshots.lock().unwrap();
    assert_eq!(snapshots.len(), history.epoch.len());
    assert_ne!(
        bits(&snapshots[best]),
        bits(snapshots.last().unwrap()),
        "the last epoch's weights differ"
    );
    assert_eq!(
        bits(&model.get_weights()),
        bits(&snapshots[best]),
        "the best epoch's weights are restored"
    );
}

#[test]
fn model_checkpoint_writes_a_loadable_file_per_epoch_named_from_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut checkpoint =
        ModelCheckpoint::new(dir.path().join("{epoch:02d}-{val_loss:.2f}.h5")).unwrap();
    let (mut model, x, y) = overshoot_setup();
    let (mut recorder, snapshots) = weight_recorder(&model);
    let history = model
        .fit(
            std::slice::from_ref(&x),
            &y,
            overshoot_config(5, &x)
                .callback(&mut checkpoint)
                .callback(&mut recorder),
        )
        .unwrap();
    let val_loss = history.get("val_loss").unwrap();
    let expected: Vec<String> = val_loss
        .iter()
        .enumerate()
        .map(|(e, v)| format!("{:02}-{v:.2}.h5", e + 1))
        .collect();
    assert_eq!(files_in(dir.path()), expected);
    let snapshots = snapshots.lock().unwrap();
    for (name, weights) in expected.iter().zip(snapshots.iter()) {
        let loaded = load_model(dir.path().join(name)).unwrap();
        assert_eq!(
            bits(&loaded.get_weights()),
            bits(weights),
            "{name} holds that epoch's weights"
        );
    }
    let last = load_model(dir.path().join(expected.last().unwrap())).unwrap();
    assert_eq!(bits(&last.get_weights()), bits(&model.get_weights()));
}

/// The sorted file names in `dir`.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn model_checkpoint_save_best_only_saves_only_improvements() {
    let dir = tempfile::tempdir().unwrap();
    let mut checkpoint = ModelCheckpoint::new(dir.path().join("best-{epoch:02d}.h5"))
        .unwrap()
        .with_save_best_only(true);
    let (mut model, x, y) = overshoot_setup();
    let history = model
        .fit(
            std::slice::from_ref(&x),
            &y,
            overshoot_config(8, &x).callback(&mut checkpoint),
        )
        .unwrap();
    let val_loss = history.get("val_loss").unwrap();
    let improving = improving_epochs(val_loss);
    assert!(
        improving.len() >= 2 && improving.len() < 8,
        "some epochs improve, some do not: {val_loss:?}"
    );
    let expected: Vec<String> = improving
        .iter()
        .map(|e| format!("best-{:02}.h5", e + 1))
        .collect();
    assert_eq!(files_in(dir.path()), expected);
    assert_eq!(
        checkpoint.best(),
        Some(val_loss[*improving.last().unwrap()])
    );
}

#[test]
fn a_misspelt_checkpoint_monitor_fails_before_any_training() {
    let dir = tempfile::tempdir().unwrap();
    let x = Input::new(&[4]);
    let y = Dense::new(3)
        .with_activation("softmax")
        .unwrap()
        .call(&x)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model
        .compile("rmsprop", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    let before = bits(&model.get_weights());
    let xs = ArrayD::from_shape_fn(IxDyn(&[20, 4]), |i| (i[0] * 4 + i[1]) as f32 / 80.0);
    let ys = ArrayD::from_shape_fn(IxDyn(&[20, 1]), |i| (i[0] % 3) as f32);
    let mut checkpoint = ModelCheckpoint::new(dir.path().join("model.h5"))
        .unwrap()
        .with_monitor("val_acc")
        .with_save_best_only(true);
    let counter = Arc::new(Mutex::new(0usize));
    let count = Arc::clone(&counter);
    let mut batches =
        LambdaCallback::new().on_train_batch_begin(move |_| *count.lock().unwrap() += 1);
    let config = FitConfig::new()
        .epochs(3)
        .batch_size(5)
        .verbose(0)
        .validation_split(0.25)
        .callback(&mut checkpoint)
        .callback(&mut batches);
    let message = model.fit(&[xs], &ys, config).unwrap_err().to_string();
    assert!(message.contains("`val_acc`"), "{message}");
    for key in ["loss", "accuracy", "val_loss", "val_accuracy"] {
        assert!(message.contains(key), "the error lists `{key}`: {message}");
    }
    assert_eq!(*counter.lock().unwrap(), 0, "no batch ran");
    assert_eq!(bits(&model.get_weights()), before, "no weight changed");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file written"
    );
}

#[test]
fn learning_rate_scheduler_sets_the_rate_each_epoch() {
    // One sample, one batch per epoch: w ← w − lr_e·2(w·x − y)·x with the scheduled lr_e.
    let (x, y) = (1.5f64, 3.0f64);
    let mut model = line_model(0.0, SGD::new(0.1).unwrap());
    let mut scheduler =
        LearningRateScheduler::new(|epoch, lr| if epoch == 0 { lr } else { lr * 0.5 });
    let config = FitConfig::new()
        .epochs(4)
        .batch_size(1)
        .verbose(0)
        .callback(&mut scheduler);
    let history = model
        .fit(&[column(&[x as f32])], &column(&[y as f32]), config)
        .unwrap();
    // Keras's learning rate is a float32 variable: the rates set and logged are float32 values.
    let rates = [0.1, 0.05, 0.025, 0.0125].map(|r: f64| f64::from(r as f32));
    assert_eq!(history.get("learning_rate").unwrap(), rates);
    let mut w = 0.0f64;
    let mut losses = Vec::new();
    for lr in rates {
        losses.push((w * x - y).powi(2));
        w -= lr * 2.0 * (w * x - y) * x;
    }
    assert!(
        (kernel(&model) - w).abs() < 1e-5,
        "{} vs {w}",
        kernel(&model)
    );
    for (logged, expected) in history.get("loss").unwrap().iter().zip(&losses) {
        assert!(
            (logged - expected).abs() < 1e-5 * expected.max(1.0),
            "{logged} vs {expected}"
        );
    }
    assert_eq!(model.learning_rate(), Some(f64::from(0.0125f32)));
}

#[test]
fn reduce_lr_on_plateau_divides_the_rate_after_patience_flat_epochs() {
    // min_delta 1e6: after epoch 0 (which improves on +inf) no epoch counts as an improvement.
    let mut model = line_model(0.5, SGD::new(0.1).unwrap());
    let mut reduce = ReduceLROnPlateau::new()
        .with_monitor("loss")
        .with_factor(0.5)
        .unwrap()
        .with_patience(2)
        .with_min_delta(1e6)
        .unwrap()
        .with_min_lr(0.01)
        .unwrap();
    let config = FitConfig::new()
        .epochs(11)
        .batch_size(2)
        .verbose(0)
        .callback(&mut reduce);
    let history = model
        .fit(
            &[column(&[1.0, 2.0, -1.0])],
            &column(&[2.0, 1.0, 0.5]),
            config,
        )
        .unwrap();
    // The logged rate is the one the epoch trained with; the reduction at the end of epochs 2, 4, 6, 8 applies
    // from the next epoch: 0.1 → 0.05 → 0.025 → 0.0125 → max(0.00625, 0.01).
    let expected = [
        0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.01, 0.01,
    ];
    let logged = history.get("learning_rate").unwrap();
    assert_eq!(logged.len(), expected.len());
    // The rates are float32 values (Keras's learning-rate variable), so equal to these within float32's precision.
    for (got, want) in logged.iter().zip(expected) {
        assert!((got - want).abs() < 1e-7 * want, "{logged:?}");
    }
    assert_eq!(model.learning_rate(), Some(f64::from(0.01f32)));
}

#[test]
fn csv_logger_writes_one_row_per_epoch_under_sorted_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs").join("training.csv");
    set_random_seed(1);
    let x = Input::new(&[4]);
    let y = Dense::new(3)
        .with_activation("softmax")
        .unwrap()
        .call(&x)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model
        .compile("adam", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    let xs = ArrayD::from_shape_fn(IxDyn(&[40, 4]), |i| {
        ((i[0] * 7 + i[1] * 3) % 11) as f32 / 11.0
    });
    let ys = ArrayD::from_shape_fn(IxDyn(&[40, 1]), |i| (i[0] % 3) as f32);
    let mut csv = CSVLogger::new(&path);
    let config = FitConfig::new()
        .epochs(3)
        .batch_size(8)
        .verbose(0)
        .validation_split(0.25)
        .callback(&mut csv);
    let history = model.fit(&[xs], &ys, config).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = text.split("\r\n").filter(|r| !r.is_empty()).collect();
    let mut keys: Vec<&str> = history.keys().collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "accuracy",
            "learning_rate",
            "loss",
            "val_accuracy",
            "val_loss"
        ]
    );
    assert_eq!(rows[0], format!("epoch,{}", keys.join(",")));
    assert_eq!(rows.len(), 1 + 3);
    for (e, row) in rows[1..].iter().enumerate() {
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(fields[0], e.to_string());
        for (key, field) in keys.iter().zip(&fields[1..]) {
            // Python's repr of a float reads back to the same bits.
            let value: f64 = field.parse().unwrap();
            assert_eq!(
                value.to_bits(),
                history.get(key).unwrap()[e].to_bits(),
                "{key} at epoch {e}: {field}"
            );
        }
    }
}

#[test]
fn terminate_on_nan_stops_at_the_first_non_finite_batch_and_keeps_finite_weights() {
    // lr 1e6 multiplies |w| by about 2e6 per sample until (w·x − y)² overflows f32.
    let xs: Vec<f32> = (0..16).map(|i| 0.5 + i as f32 / 16.0).collect();
    let ys: Vec<f32> = xs.iter().map(|x| 2.0 * x).collect();
    let mut model = line_model(1.0, SGD::new(1e6).unwrap());
    let variables = model.weights();
    let batch_log = Arc::new(Mutex::new(Vec::<(usize, f64, f32)>::new()));
    let sink = Arc::clone(&batch_log);
    let mut recorder = LambdaCallback::new().on_train_batch_end(move |b, logs| {
        sink.lock()
            .unwrap()
            .push((b, logs["loss"], variables[0].value()[[0, 0]]))
    });
    let mut guard = TerminateOnNaN::new();
    let config = FitConfig::new()
        .epochs(5)
        .batch_size(1)
        .shuffle(false)
        .verbose(0)
        .callback(&mut guard)
        .callback(&mut recorder);
    let (history, said) =
        console::capture(|| model.fit(&[column(&xs)], &column(&ys), config).unwrap());
    let batches = batch_log.lock().unwrap();
    let (last, rest) = batches.split_last().unwrap();
    assert!(
        !last.1.is_finite(),
        "the run ended on a non-finite loss: {batches:?}"
    );
    assert!(rest.iter().all(|b| b.1.is_finite()), "{batches:?}");
    assert!(
        batches.len() < 16,
        "stopped within the first epoch: {batches:?}"
    );
    assert_eq!(last.0, batches.len() - 1);
    let expected_message = format!("Batch {}: Invalid loss, terminating training", last.0);
    assert_eq!(said.messages, [expected_message]);
    assert_eq!(history.epoch, [0]);
    // The non-finite batch updated nothing: the weight is the one the previous batch left.
    assert!(last.2.is_finite());
    assert_eq!(last.2.to_bits(), rest.last().unwrap().2.to_bits());
    assert_eq!(model.get_weights()[0][[0, 0]].to_bits(), last.2.to_bits());
    assert!(
        last.2.abs() > 1e6,
        "the weight did blow up before the loss overflowed: {}",
        last.2
    );
}

#[test]
fn lambda_callback_hooks_run_in_kerass_order_with_the_run_s_logs() {
    let mut model = line_model(0.5, SGD::new(0.1).unwrap());
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let epoch_losses = Arc::new(Mutex::new(Vec::<f64>::new()));
    let e: Vec<_> = (0..6).map(|_| Arc::clone(&events)).collect();
    let losses = Arc::clone(&epoch_losses);
    let [e0, e1, e2, e3, e4, e5]: [Arc<Mutex<Vec<String>>>; 6] = e.try_into().unwrap();
    let mut lambda = LambdaCallback::new()
        .on_train_begin(move |p| {
            e0.lock()
                .unwrap()
                .push(format!("train_begin epochs={} steps={}", p.epochs, p.steps))
        })
        .on_epoch_begin(move |n| e1.lock().unwrap().push(format!("epoch_begin {n}")))
        .on_train_batch_begin(move |b| e2.lock().unwrap().push(format!("batch_begin {b}")))
        .on_train_batch_end(move |b, _| e3.lock().unwrap().push(format!("batch_end {b}")))
        .on_epoch_end(move |n, logs| {
            losses.lock().unwrap().push(logs["loss"]);
            e4.lock().unwrap().push(format!("epoch_end {n}"));
        })
        .on_train_end(move |logs| {
            e5.lock()
                .unwrap()
                .push(format!("train_end {}", logs["loss"]))
        });
    // 10 samples in batches of 4: 3 steps per epoch.
    let x = column(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]);
    let history = model
        .fit(
            std::slice::from_ref(&x),
            &x,
            FitConfig::new()
                .epochs(2)
                .batch_size(4)
                .verbose(0)
                .callback(&mut lambda),
        )
        .unwrap();
    let mut expected = vec!["train_begin epochs=2 steps=3".to_string()];
    for epoch in 0..2 {
        expected.push(format!("epoch_begin {epoch}"));
        for batch in 0..3 {
            expected.push(format!("batch_begin {batch}"));
            expected.push(format!("batch_end {batch}"));
        }
        expected.push(format!("epoch_end {epoch}"));
    }
    expected.push(format!("train_end {}", history.get("loss").unwrap()[1]));
    assert_eq!(*events.lock().unwrap(), expected);
    assert_eq!(*epoch_losses.lock().unwrap(), history.get("loss").unwrap());
}

/// An Adam-trained MLP with dropout and shuffling, so that resuming must restore weights, optimizer slots
/// and the per-epoch random streams to match an uninterrupted run. Every call builds layers with new automatic
/// names (`dense_2`, `dense_4`, …), so the backup must restore optimizer slots by position, not by name.
fn resumable_model(init_seed: u64) -> (Model, ArrayD<f32>, ArrayD<f32>) {
    set_random_seed(init_seed);
    let input = Input::new(&[6]);
    let h = Dense::new(12)
        .with_activation("relu")
        .unwrap()
        .call(&input)
        .unwrap();
    let h = Dropout::new(0.4).call(&h).unwrap();
    let output = Dense::new(3)
        .with_activation("softmax")
        .unwrap()
        .call(&h)
        .unwrap();
    let mut model = Model::new(&[input], &output).unwrap();
    model
        .compile(
            Adam::new(0.01).unwrap(),
            "sparse_categorical_crossentropy",
            &["accuracy"],
        )
        .unwrap();
    let mut rng = StdRng::seed_from_u64(17);
    let x = Array2::from_shape_fn((60, 6), |_| rng.random_range(-1.0f32..1.0));
    let y = Array2::from_shape_fn((60, 1), |(i, _)| {
        f32::from(x[[i, 0]] > 0.0) + f32::from(x[[i, 1]] > 0.5)
    });
    (model, x.into_dyn(), y.into_dyn())
}

/// A fresh callback of the run under test (the same kind in the interrupted and the resumed run).
type MakeCallback = fn() -> Box<dyn Callback>;

/// Trains 6 epochs straight, and the same run interrupted during epoch 3 and resumed from `BackupAndRestore`'s
/// backup by a fresh model: same weights bit for bit, same logged losses and learning rates. `extra` adds a
/// callback to both runs (one that changes the learning rate, say), whose state the backup carries.
fn check_backup_resume(extra: Option<MakeCallback>) {
    const EPOCHS: usize = 6;
    fn config<'a>() -> FitConfig<'a> {
        FitConfig::new()
            .epochs(EPOCHS)
            .batch_size(8)
            .verbose(0)
            .seed(21)
    }
    let mut extras: Vec<Box<dyn Callback>> =
        (0..3).filter_map(|_| extra.map(|make| make())).collect();
    let mut extras = extras.iter_mut();

    let (mut reference, x, y) = resumable_model(3);
    let mut reference_config = config();
    if let Some(cb) = extras.next() {
        reference_config = reference_config.callback(cb.as_mut());
    }
    let reference_history = reference
        .fit(std::slice::from_ref(&x), &y, reference_config)
        .unwrap();
    assert_eq!(reference_history.epoch, (0..EPOCHS).collect::<Vec<_>>());

    // The interrupted run: the failing callback comes first, so epoch 3 ends in an error before the backup of
    // that epoch is taken; the backup from the end of epoch 2 (3 epochs done) remains.
    let dir = tempfile::tempdir().unwrap();
    let backup_dir: PathBuf = dir.path().join("backup");
    let (mut first, _, _) = resumable_model(3);
    let mut crash = LambdaCallback::new()
        .on_epoch_end(|epoch, _| if epoch == 3 { Err("power cut") } else { Ok(()) });
    let mut backup = BackupAndRestore::new(&backup_dir).unwrap();
    let mut first_config = config().callback(&mut crash).callback(&mut backup);
    if let Some(cb) = extras.next() {
        first_config = first_config.callback(cb.as_mut());
    }
    let err = first
        .fit(std::slice::from_ref(&x), &y, first_config)
        .unwrap_err();
    assert_eq!(err.to_string(), "power cut");
    assert!(
        backup.backup_path().is_file(),
        "a failed run keeps its backup"
    );

    // A fresh model (other initial weights, to show they come from the backup) and fresh callbacks, in the
    // same positions as in the interrupted run.
    let (mut second, _, _) = resumable_model(99);
    assert_ne!(bits(&second.get_weights()), bits(&first.get_weights()));
    let ran = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&ran);
    let mut epochs_seen =
        LambdaCallback::new().on_epoch_begin(move |e| sink.lock().unwrap().push(e));
    let mut resumed_backup = BackupAndRestore::new(&backup_dir).unwrap();
    let mut second_config = config()
        .callback(&mut epochs_seen)
        .callback(&mut resumed_backup);
    if let Some(cb) = extras.next() {
        second_config = second_config.callback(cb.as_mut());
    }
    let history = second.fit(&[x], &y, second_config).unwrap();
    assert_eq!(*ran.lock().unwrap(), [3, 4, 5]);
    assert_eq!(history.epoch, [3, 4, 5]);
    assert_eq!(bits(&second.get_weights()), bits(&reference.get_weights()));
    for key in ["loss", "learning_rate"] {
        let tail: Vec<u64> = reference_history.get(key).unwrap()[3..]
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let resumed: Vec<u64> = history
            .get(key)
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(resumed, tail, "the resumed epochs log the same `{key}`");
    }
    assert_eq!(second.learning_rate(), reference.learning_rate());
    assert!(
        !resumed_backup.backup_path().exists(),
        "a completed run deletes its backup"
    );
}

#[test]
fn backup_and_restore_resumes_an_interrupted_fit_bit_for_bit() {
    check_backup_resume(None);
}

#[test]
fn backup_and_restore_resumes_bit_for_bit_after_a_plateau_changed_the_rate() {
    // min_delta 1e6: no epoch after the first improves, so the rate falls by 0.3 at every epoch end from epoch
    // 1 on (0.01, 0.003, 0.0009, …: none of them a float32), before and after the interruption.
    fn plateau() -> Box<dyn Callback> {
        Box::new(
            ReduceLROnPlateau::new()
                .with_monitor("loss")
                .with_factor(0.3)
                .unwrap()
                .with_patience(0)
                .with_min_delta(1e6)
                .unwrap(),
        )
    }
    check_backup_resume(Some(plateau));
}

#[test]
fn backup_and_restore_resumes_bit_for_bit_after_a_schedule_changed_the_rate() {
    fn schedule() -> Box<dyn Callback> {
        Box::new(LearningRateScheduler::new(|epoch, lr| {
            lr * 0.7 + 1e-4 * epoch as f64
        }))
    }
    check_backup_resume(Some(schedule));
}

/// The Keras 1 memory network: inputs [stories, queries, stories], one-hot answers, categorical
/// cross-entropy, RMSprop.
fn keras1_memory_network(vocab: usize, story_len: usize, query_len: usize) -> Model {
    let input_m = Input::new(&[story_len]);
    let question = Input::new(&[query_len]);
    let input_c = Input::new(&[story_len]);
    let m = Dropout::new(0.3)
        .call(&Embedding::new(vocab, 64).call(&input_m).unwrap())
        .unwrap();
    let u = Dropout::new(0.3)
        .call(&Embedding::new(vocab, 64).call(&question).unwrap())
        .unwrap();
    let matched = Activation::new("softmax")
        .unwrap()
        .call(&dot(&[m, u.clone()], (2, 2)).unwrap())
        .unwrap();
    let c = Dropout::new(0.3)
        .call(&Embedding::new(vocab, query_len).call(&input_c).unwrap())
        .unwrap();
    let response = Permute::new(&[2, 1])
        .call(&add(&[matched, c]).unwrap())
        .unwrap();
    let answer = concatenate(&[response, u], -1).unwrap();
    let answer = Dropout::new(0.3)
        .call(&LSTM::new(32).call(&answer).unwrap())
        .unwrap();
    let answer = Activation::new("softmax")
        .unwrap()
        .call(&Dense::new(vocab).call(&answer).unwrap())
        .unwrap();
    let mut model = Model::new(&[input_m, question, input_c], &answer).unwrap();
    model
        .compile(
            RMSprop::new(0.001).unwrap(),
            "categorical_crossentropy",
            &["accuracy"],
        )
        .unwrap();
    model
}

#[test]
fn memory_network_with_checkpoint_and_reduce_lr_on_plateau() {
    let splits = BabiSplits::generated(Task::QA1, 40, 10, 7).unwrap();
    let vectorizer = Vectorizer::fit(&splits.train, &splits.test).unwrap();
    let train = vectorizer.vectorize(&splits.train).unwrap();
    let test = vectorizer.vectorize(&splits.test).unwrap();
    let (stories, queries) = (
        train.stories.clone().into_dyn(),
        train.queries.clone().into_dyn(),
    );
    let answers = train.one_hot_answers().into_dyn();
    let validation = (
        vec![
            test.stories.clone().into_dyn(),
            test.queries.clone().into_dyn(),
            test.stories.clone().into_dyn(),
        ],
        test.one_hot_answers().into_dyn(),
    );
    assert_eq!(answers.shape(), [train.len(), vectorizer.vocab_size()]);

    set_random_seed(1);
    let mut model = keras1_memory_network(
        vectorizer.vocab_size(),
        vectorizer.story_maxlen(),
        vectorizer.query_maxlen(),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.h5");
    let mut checkpointer = ModelCheckpoint::new(&path).unwrap().with_verbose(1);
    // min_delta 1e6: no epoch after the first improves on val_loss, so every one counts as flat.
    let mut reduce_lr = ReduceLROnPlateau::new()
        .with_patience(2)
        .with_min_delta(1e6)
        .unwrap()
        .with_min_lr(1e-5)
        .unwrap();
    let variables = model.weights();
    let checked = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&checked);
    let checkpoint_path = path.clone();
    let mut check_file = LambdaCallback::new().on_epoch_end(move |epoch, _| {
        // The checkpoint callback ran just before: the file holds this epoch's weights.
        let saved = load_model(&checkpoint_path).map_err(|e| e.to_string())?;
        let same = bits(&saved.get_weights()) == bits(&values(&variables));
        sink.lock().unwrap().push((epoch, same));
        Ok::<(), String>(())
    });
    let config = FitConfig::new()
        .epochs(8)
        .batch_size(32)
        .verbose(0)
        .seed(2)
        .validation_data(validation.0, validation.1)
        .callback(&mut checkpointer)
        .callback(&mut reduce_lr)
        .callback(&mut check_file);
    let (history, said) = console::capture(|| {
        model
            .fit(&[stories.clone(), queries, stories], &answers, config)
            .unwrap()
    });

    // verbose 1: one saving message per epoch, with Keras's wording.
    for epoch in 1..=8 {
        let message = format!("Epoch {epoch}: saving model to {}", path.display());
        assert!(
            said.messages.contains(&message),
            "{message:?} in {:?}",
            said.messages
        );
    }

    assert_eq!(
        *checked.lock().unwrap(),
        (0..8).map(|e| (e, true)).collect::<Vec<_>>()
    );
    // Epoch 0 sets the best; every two flat epochs divide the rate by 10 (factor 0.1) until min_lr 1e-5.
    let expected = [1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5, 1e-5];
    let rates = history.get("learning_rate").unwrap();
    assert_eq!(rates.len(), expected.len());
    for (got, want) in rates.iter().zip(expected) {
        assert!((got - want).abs() < 1e-7 * want, "{rates:?}");
        assert!(*got >= f64::from(1e-5f32), "{rates:?}");
    }
    let final_rate = model.learning_rate().unwrap();
    assert_eq!(final_rate, f64::from(1e-5f32));
    assert!(history.get("val_accuracy").is_some());
}
