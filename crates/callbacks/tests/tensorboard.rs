//! The TensorBoard callback's event files: the framing and decoding checked on a file Keras 3 (TensorFlow)
//! wrote, and the files rkeras writes read back by TensorBoard's own reader (`event_accumulator`).

use ndarray::ArrayD;
use rkeras_callbacks::tensorboard::{read_events, read_scalars};
use rkeras_callbacks::testing::{MockControl, logs};
use rkeras_callbacks::{Callback, RunParams, TensorBoard};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensorboard")
}

#[test]
fn reads_the_scalars_of_an_event_file_keras_wrote() {
    // scripts/make_tensorboard_fixture.py: Keras 3.15's TensorBoard callback, read back by TensorBoard's reader.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("keras_validation.tfevents"),
        dir.path().join("events.out.tfevents.1.host.1.1.v2"),
    )
    .unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("keras_validation.json")).unwrap(),
    )
    .unwrap();
    let expected: Vec<(String, i64, f32)> = expected["scalars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s[0].as_str().unwrap().to_string(),
                s[1].as_i64().unwrap(),
                s[2].as_f64().unwrap() as f32,
            )
        })
        .collect();
    assert_eq!(read_scalars(dir.path()).unwrap(), expected);
    // The first record is the file version, as TensorFlow writes it.
    let first = &read_events(dir.path()).unwrap()[0];
    assert_eq!(
        first.what,
        Some(rkeras_callbacks::tensorboard::proto::What::FileVersion(
            "brain.Event:2".into()
        ))
    );
}

#[test]
fn a_damaged_event_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixtures().join("keras_validation.tfevents")).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0x55;
    let path = dir.path().join("events.out.tfevents.1.host.1.1.v2");
    std::fs::write(&path, bytes).unwrap();
    let err = read_events(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("checksum") && err.contains("events.out.tfevents.1.host"),
        "{err}"
    );
}

/// Two epochs of three batches with validation, driven hook by hook as `fit` calls them.
fn run_two_epochs(dir: &Path) {
    let mut tb = TensorBoard::new(dir)
        .with_update_freq("2")
        .unwrap()
        .with_histogram_freq(1)
        .with_write_steps_per_second(true);
    let mut ctl = MockControl::new(0.125);
    ctl.weights = vec![
        ArrayD::from_shape_vec(vec![2, 2], vec![0.0, 1.0, 2.0, 3.0]).unwrap(),
        ArrayD::from_elem(vec![3], 0.5),
    ];
    let params = RunParams {
        epochs: 2,
        steps: 3,
        ..RunParams::default()
    };
    let epochs = [
        logs(&[
            ("loss", 0.75),
            ("accuracy", 0.5),
            ("val_loss", 0.875),
            ("val_accuracy", 0.25),
        ]),
        logs(&[
            ("loss", 0.5),
            ("accuracy", 0.625),
            ("val_loss", 0.625),
            ("val_accuracy", 0.375),
        ]),
    ];
    tb.on_train_begin(&params, &mut ctl).unwrap();
    for (epoch, epoch_logs) in epochs.iter().enumerate() {
        tb.on_epoch_begin(epoch, &mut ctl).unwrap();
        let train = logs(&[
            ("loss", epoch_logs["loss"]),
            ("accuracy", epoch_logs["accuracy"]),
        ]);
        for batch in 0..params.steps {
            tb.on_train_batch_begin(batch, &mut ctl).unwrap();
            tb.on_train_batch_end(batch, &train, &mut ctl).unwrap();
        }
        tb.on_test_begin(&mut ctl).unwrap();
        let val = logs(&[
            ("loss", epoch_logs["val_loss"]),
            ("accuracy", epoch_logs["val_accuracy"]),
        ]);
        tb.on_test_end(&val, &mut ctl).unwrap();
        tb.on_epoch_end(epoch, &mut epoch_logs.clone(), &mut ctl)
            .unwrap();
    }
    tb.on_train_end(&epochs[1], &mut ctl).unwrap();
}

#[test]
fn writes_keras_tags_at_keras_steps() {
    let dir = tempfile::tempdir().unwrap();
    run_two_epochs(dir.path());
    let train = read_scalars(&dir.path().join("train")).unwrap();
    let at = |tag: &str| -> Vec<(i64, f32)> {
        train
            .iter()
            .filter(|(t, _, _)| t == tag)
            .map(|(_, s, v)| (*s, *v))
            .collect()
    };
    assert_eq!(at("epoch_loss"), [(0, 0.75), (1, 0.5)]);
    assert_eq!(at("epoch_accuracy"), [(0, 0.5), (1, 0.625)]);
    assert_eq!(at("epoch_learning_rate"), [(0, 0.125), (1, 0.125)]);
    // update_freq=2 over 6 batches: global steps 2, 4, 6.
    assert_eq!(at("batch_loss"), [(2, 0.75), (4, 0.5), (6, 0.5)]);
    assert_eq!(at("batch_steps_per_second").len(), 3);
    assert_eq!(at("epoch_steps_per_second").len(), 2);
    assert!(at("val_loss").is_empty());
    let validation = read_scalars(&dir.path().join("validation")).unwrap();
    let val_loss: Vec<_> = validation
        .iter()
        .filter(|(t, _, _)| t == "epoch_loss")
        .map(|(_, s, v)| (*s, *v))
        .collect();
    assert_eq!(val_loss, [(0, 0.875), (1, 0.625)]);
    // After each validation pass, at the number of training batches so far (3 per epoch).
    let vs_iterations: Vec<_> = validation
        .iter()
        .filter(|(t, _, _)| t == "evaluation_accuracy_vs_iterations")
        .map(|(_, s, v)| (*s, *v))
        .collect();
    assert_eq!(vs_iterations, [(3, 0.25), (6, 0.375)]);
}

#[test]
fn tensorboards_own_reader_reads_the_files() {
    let dir = tempfile::tempdir().unwrap();
    run_two_epochs(dir.path());
    let Some(python) = rkeras_testkit::keras_python("TensorBoard's event reader") else {
        return;
    };
    let script = rkeras_testkit::workspace_root().join("scripts/read_tensorboard_events.py");
    let out = python.run_script(&script, [dir.path()], "\"train\"");
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    let series = |run: &str, tag: &str| -> Vec<(i64, f64)> {
        read[run][tag]
            .as_array()
            .unwrap_or_else(|| panic!("{run}/{tag} missing in {read}"))
            .iter()
            .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap()))
            .collect()
    };
    assert_eq!(series("train", "epoch_loss"), [(0, 0.75), (1, 0.5)]);
    assert_eq!(
        series("train", "epoch_learning_rate"),
        [(0, 0.125), (1, 0.125)]
    );
    assert_eq!(
        series("train", "batch_accuracy"),
        [(2, 0.5), (4, 0.625), (6, 0.625)]
    );
    assert_eq!(
        series("validation", "epoch_accuracy"),
        [(0, 0.25), (1, 0.375)]
    );
    assert_eq!(read["plugins"]["epoch_loss"], "scalars");
    assert_eq!(read["plugins"]["weight_0/histogram"], "histograms");
    // The first weight [0, 1, 2, 3] in 30 buckets over [0, 3]: width 0.1, values in buckets 0, 10, 20, 29.
    let histogram = &read["train"]["weight_0/histogram"][0][1];
    let rows = histogram.as_array().unwrap();
    assert_eq!(rows.len(), 30);
    assert_eq!(rows[0][0].as_f64(), Some(0.0));
    assert_eq!(rows[29][1].as_f64(), Some(3.0));
    let counts: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r[2].as_f64() == Some(1.0))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(counts, [0, 10, 20, 29]);
    // All equal values: the whole count in the first bucket.
    let constant = &read["train"]["weight_1/histogram"][1][1];
    assert_eq!(
        constant[0].as_array().unwrap(),
        &[0.5, 0.5, 3.0].map(Value::from)
    );
}
