//! `fit_source` / `evaluate_source` / `predict_source`: generators, indexed datasets, `.npy` shards and text
//! files, with Keras's `steps_per_epoch`, `validation_steps` and `on_epoch_end` semantics.
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::{ArrayD, IxDyn};
use npyz::WriterBuilder;
use rkeras_callbacks::{Callback, Logs, Result as CallbackResult, TrainerControl};
use rkeras_engine::source::{ArrayDataset, Batch, DataSource, Dataset, NpyShards, TextLines};
use rkeras_engine::{EngineError, EvaluateConfig, FitConfig, PredictConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

mod common;
use common::{column, kernel, linear_model, weight_bits};

/// One-sample batches `x = i + 1`, `y = 2x`.
fn batch(i: usize) -> Batch {
    let v = (i + 1) as f32;
    Batch::new(vec![column(&[v])], column(&[2.0 * v]))
}

/// Counts training batches per epoch.
#[derive(Default)]
struct Batches(Vec<usize>);

impl Callback for Batches {
    fn name(&self) -> &'static str {
        "Batches"
    }
    fn on_epoch_begin(&mut self, _: usize, _: &mut dyn TrainerControl) -> CallbackResult<()> {
        self.0.push(0);
        Ok(())
    }
    fn on_train_batch_end(
        &mut self,
        _: usize,
        _: &Logs,
        _: &mut dyn TrainerControl,
    ) -> CallbackResult<()> {
        if let Some(n) = self.0.last_mut() {
            *n += 1;
        }
        Ok(())
    }
}

fn quiet<'a>() -> FitConfig<'a> {
    FitConfig::new().verbose(0)
}

/// One SGD(0.1) step of mse on one sample: w ← w − 0.1·2(w·x − y)·x.
fn sgd(w: f64, x: f64) -> f64 {
    w - 0.1 * 2.0 * (w * x - 2.0 * x) * x
}

#[test]
fn a_generator_trains_batch_by_batch_as_hand_computed() {
    let mut model = linear_model(0.0);
    // Three batches x = 0.1, 0.2, 0.1 (scaled so that SGD converges slowly).
    let xs = [0.1f32, 0.2, 0.1];
    let source_items = xs
        .iter()
        .map(|&v| Ok(Batch::new(vec![column(&[v])], column(&[2.0 * v]))));
    let history = model
        .fit_source(
            DataSource::generator(source_items.collect::<Vec<_>>()),
            quiet(),
        )
        .unwrap();
    let mut w = 0.0;
    for &v in &xs {
        w = sgd(w, f64::from(v));
    }
    assert!(
        (kernel(&model) - w).abs() < 1e-6,
        "{} vs {w}",
        kernel(&model)
    );
    assert_eq!(history.get("loss").unwrap().len(), 1);
}

#[test]
fn steps_per_epoch_shorter_than_a_generator_continues_it_across_epochs() {
    let mut model = linear_model(0.0);
    let read = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&read);
    let source_items = (0..10).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(batch(i))
    });
    let mut batches = Batches::default();
    model
        .fit_source(
            DataSource::generator(source_items),
            quiet()
                .epochs(3)
                .steps_per_epoch(2)
                .max_queue_size(1)
                .callback(&mut batches),
        )
        .unwrap();
    assert_eq!(batches.0, [2, 2, 2]);
    // The generator is read once, continuously: epoch k takes batches 2k and 2k + 1.
    assert_eq!(
        read.load(Ordering::SeqCst),
        6,
        "each pass reads no more than its steps"
    );
}

#[test]
fn a_generator_that_runs_out_ends_the_epoch_then_stops_training() {
    let mut model = linear_model(0.0);
    let mut batches = Batches::default();
    let history = model
        .fit_source(
            DataSource::generator((0..5).map(|i| Ok(batch(i)))),
            quiet().epochs(4).steps_per_epoch(3).callback(&mut batches),
        )
        .unwrap();
    // Epoch 0 takes 3 batches, epoch 1 the 2 left (Keras warns "ran out of data"), epoch 2 none: training stops.
    assert_eq!(batches.0, [3, 2, 0]);
    assert_eq!(history.epoch, [0, 1]);
    // Without steps_per_epoch the first epoch reads the generator to its end.
    let mut batches = Batches::default();
    model
        .fit_source(
            DataSource::generator((0..4).map(|i| Ok(batch(i)))),
            quiet().epochs(2).callback(&mut batches),
        )
        .unwrap();
    assert_eq!(batches.0, [4, 0]);
}

#[test]
fn an_error_from_the_source_stops_training_with_its_message() {
    let mut model = linear_model(0.0);
    let source_items = (0..5).map(|i| {
        if i == 2 {
            Err(EngineError::invalid("data source", "broken shard 7"))
        } else {
            Ok(batch(i))
        }
    });
    let mut batches = Batches::default();
    let err = model
        .fit_source(
            DataSource::generator(source_items),
            quiet().epochs(2).callback(&mut batches),
        )
        .unwrap_err();
    assert!(err.to_string().contains("broken shard 7"), "{err}");
    assert_eq!(batches.0, [2]);
    // A batch that does not fit the model is an error naming the argument, not a panic.
    let bad = vec![Ok(Batch::new(
        vec![ArrayD::zeros(IxDyn(&[1, 3]))],
        column(&[1.0]),
    ))];
    let err = model
        .fit_source(DataSource::generator(bad), quiet())
        .unwrap_err();
    assert!(err.to_string().contains("x[0]"), "{err}");
}

/// An indexed dataset that records which indices it served and counts `on_epoch_end`.
struct Recorded {
    len: usize,
    served: Arc<Mutex<Vec<usize>>>,
    ends: Arc<AtomicUsize>,
}

impl Dataset for Recorded {
    fn len(&self) -> usize {
        self.len
    }
    fn get(&mut self, index: usize) -> rkeras_engine::Result<Batch> {
        self.served.lock().unwrap().push(index);
        Ok(batch(index))
    }
    fn on_epoch_end(&mut self) -> rkeras_engine::Result<()> {
        self.ends.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn recorded(len: usize) -> (Recorded, Arc<Mutex<Vec<usize>>>, Arc<AtomicUsize>) {
    let served = Arc::new(Mutex::new(Vec::new()));
    let ends = Arc::new(AtomicUsize::new(0));
    let data = Recorded {
        len,
        served: Arc::clone(&served),
        ends: Arc::clone(&ends),
    };
    (data, served, ends)
}

#[test]
fn an_indexed_dataset_calls_on_epoch_end_after_every_pass() {
    let mut model = linear_model(0.0);
    let (data, served, ends) = recorded(3);
    let (val, val_served, val_ends) = recorded(4);
    let mut batches = Batches::default();
    let history = model
        .fit_source(
            DataSource::dataset(data),
            quiet()
                .epochs(2)
                .shuffle(false)
                .validation_source(DataSource::dataset(val))
                .validation_steps(2)
                .callback(&mut batches),
        )
        .unwrap();
    assert_eq!(batches.0, [3, 3]);
    assert_eq!(*served.lock().unwrap(), [0, 1, 2, 0, 1, 2]);
    assert_eq!(ends.load(Ordering::SeqCst), 2);
    assert_eq!(*val_served.lock().unwrap(), [0, 1, 0, 1]);
    assert_eq!(val_ends.load(Ordering::SeqCst), 2);
    assert_eq!(history.get("val_loss").unwrap().len(), 2);
}

#[test]
fn shuffle_draws_a_seeded_order_of_an_indexed_dataset_and_steps_per_epoch_may_exceed_it() {
    let mut model = linear_model(0.0);
    let (data, served, _) = recorded(6);
    model
        .fit_source(DataSource::dataset(data), quiet().epochs(2).seed(3))
        .unwrap();
    let order = served.lock().unwrap().clone();
    let (first, second) = order.split_at(6);
    let mut sorted = first.to_vec();
    sorted.sort();
    assert_eq!(sorted, [0, 1, 2, 3, 4, 5]);
    assert_ne!(first, second, "each epoch draws its own order");
    assert_ne!(first, [0, 1, 2, 3, 4, 5]);
    // steps_per_epoch longer than the dataset: each epoch ends with the dataset (Keras warns), training goes on.
    let (data, _, ends) = recorded(2);
    let mut batches = Batches::default();
    model
        .fit_source(
            DataSource::dataset(data),
            quiet().epochs(2).steps_per_epoch(3).callback(&mut batches),
        )
        .unwrap();
    assert_eq!(batches.0, [2, 2]);
    assert_eq!(ends.load(Ordering::SeqCst), 2);
}

#[test]
fn arrays_through_a_source_train_as_fit_on_the_arrays() {
    let x = ArrayD::from_shape_fn(IxDyn(&[40, 2]), |i| ((i[0] * 5 + i[1]) % 7) as f32 / 7.0);
    let y = ArrayD::from_shape_fn(IxDyn(&[40]), |i| (i[0] % 3) as f32);
    let mut arrays = common::softmax_classifier("adam");
    let mut streamed = common::softmax_classifier("adam");
    streamed.set_weights(&arrays.get_weights()).unwrap();
    let config = || quiet().epochs(2).batch_size(16).shuffle(false);
    let h1 = arrays.fit(&[x.clone()], &y, config()).unwrap();
    let data = ArrayDataset::new(vec![x.clone()], Some(y.clone()), 16).unwrap();
    let h2 = streamed
        .fit_source(DataSource::dataset(data), config())
        .unwrap();
    assert_eq!(
        weight_bits(&arrays.get_weights()),
        weight_bits(&streamed.get_weights())
    );
    assert_eq!(h1.get("loss"), h2.get("loss"));
    let data = ArrayDataset::new(vec![x.clone()], Some(y.clone()), 16).unwrap();
    let logs = streamed
        .evaluate_source(DataSource::dataset(data), EvaluateConfig::new().verbose(0))
        .unwrap();
    let want = streamed.evaluate(&[x.clone()], &y, 16).unwrap();
    for (k, v) in &want {
        assert!((logs[k] - v).abs() < 1e-12, "{k}: {} vs {v}", logs[k]);
    }
    let data = ArrayDataset::new(vec![x.clone()], None, 16).unwrap();
    let out = streamed
        .predict_source(DataSource::dataset(data), PredictConfig::new().verbose(0))
        .unwrap();
    assert_eq!(out[0], streamed.predict(&[x], 16).unwrap());
}

fn write_npy(path: &std::path::Path, shape: &[u64], data: &[f32]) {
    let mut file = std::fs::File::create(path).unwrap();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut file)
        .begin_nd()
        .unwrap();
    writer.extend(data.iter().copied()).unwrap();
    writer.finish().unwrap();
}

#[test]
fn npy_shards_are_read_as_batches_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    write_npy(&dir.path().join("b_x.npy"), &[1, 1], &[0.2]);
    write_npy(&dir.path().join("b_y.npy"), &[1, 1], &[0.4]);
    write_npy(&dir.path().join("a_x.npy"), &[2, 1], &[0.1, 0.3]);
    write_npy(&dir.path().join("a_y.npy"), &[2, 1], &[0.2, 0.6]);
    let mut shards = NpyShards::open(dir.path()).unwrap();
    assert_eq!(shards.len(), 2);
    let first = shards.get(0).unwrap();
    assert_eq!(first.x[0], column(&[0.1, 0.3]));
    assert_eq!(first.y, Some(column(&[0.2, 0.6])));
    let mut model = linear_model(0.0);
    model
        .fit_source(DataSource::dataset(shards), quiet().shuffle(false))
        .unwrap();
    // Batch a: mean gradient of two samples; then batch b.
    let w = 0.0 - 0.1 * (2.0 * (0.0 - 0.2) * 0.1 + 2.0 * (0.0 - 0.6) * 0.3) / 2.0;
    let w = sgd(w, 0.2);
    assert!(
        (kernel(&model) - w).abs() < 1e-6,
        "{} vs {w}",
        kernel(&model)
    );
    std::fs::write(dir.path().join("c_x.npy"), b"not npy").unwrap();
    let mut shards = NpyShards::open(dir.path()).unwrap();
    let err = shards.get(2).unwrap_err().to_string();
    assert!(err.contains("c_x.npy"), "{err}");
    assert!(NpyShards::open(dir.path().join("missing")).is_err());
}

#[test]
fn a_text_file_is_read_lazily_and_a_bad_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.csv");
    std::fs::write(&path, "0.1,0.2\n\n0.2,0.4\n0.1,0.2\nx,1\n").unwrap();
    let parse = |line: &str| -> Result<(Vec<f32>, Vec<f32>), String> {
        let v: Vec<f32> = line
            .split(',')
            .map(|t| t.parse::<f32>().map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok((vec![v[0]], vec![v[1]]))
    };
    let mut model = linear_model(0.0);
    let lines = TextLines::open(&path, 1, parse).unwrap();
    let err = model
        .fit_source(DataSource::generator(lines), quiet())
        .unwrap_err()
        .to_string();
    assert!(err.contains("train.csv") && err.contains("line 5"), "{err}");
    let w = sgd(sgd(sgd(0.0, 0.1), 0.2), 0.1);
    assert!(
        (kernel(&model) - w).abs() < 1e-6,
        "the three good lines trained first"
    );
}
