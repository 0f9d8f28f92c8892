//! Loading a missing, foreign, truncated, corrupt or incomplete file gives a typed error that names
//! the file (and the layer / weight at fault), never a panic.

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use rkeras_io::{
    IoError, LayerWeights, ModelFile, NamedArray, OptimizerState, load_model_file,
    load_weights_file, save_model_file,
};

fn model() -> ModelFile {
    let values =
        |n: usize| ArrayD::from_shape_vec(IxDyn(&[n]), (0..n).map(|i| i as f32).collect()).unwrap();
    ModelFile {
        keras_version: "3.15.1".into(),
        backend: "tensorflow".into(),
        model_config: Some(r#"{"class_name": "Functional"}"#.into()),
        training_config: None,
        layers: vec![
            LayerWeights::new(
                "embedding",
                vec![NamedArray::new("embedding/embeddings", values(4096))],
            ),
            LayerWeights::new(
                "dense",
                vec![
                    NamedArray::new("dense/kernel", values(64)),
                    NamedArray::new("dense/bias", values(8)),
                ],
            ),
        ],
        optimizer: Some(OptimizerState {
            iterations_name: "sgd/iteration".into(),
            iterations: 3,
            weights: vec![],
        }),
        extra: None,
    }
}
/// The tests of this file run one at a time: two of them start processes (`mkfifo`, a child of this binary),
/// and a process started while another test holds an HDF5 file open inherits that file's descriptor and its
/// lock (libhdf5 opens files without close-on-exec), which makes the other test's next open fail with EAGAIN.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn saved_model(dir: &Path) -> PathBuf {
    let path = dir.join("model.h5");
    save_model_file(&path, &model()).unwrap();
    path
}

/// Both loaders fail on `path` with an error that names it.
fn assert_both_fail(path: &Path) -> (IoError, IoError) {
    let model_err = load_model_file(path).unwrap_err();
    let weights_err = load_weights_file(path).unwrap_err();
    for err in [&model_err, &weights_err] {
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "error does not name the file: {err}"
        );
    }
    (model_err, weights_err)
}

#[test]
fn a_missing_file_is_not_found() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = assert_both_fail(&dir.path().join("absent.h5"));
    assert!(
        matches!(a, IoError::NotFound { .. }) && matches!(b, IoError::NotFound { .. }),
        "{a} / {b}"
    );
}

#[test]
fn foreign_and_empty_files_cannot_be_opened() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("notes.h5", b"epoch,loss\n1,0.5\n".to_vec()),
        ("empty.h5", vec![]),
        ("zeros.h5", vec![0; 4096]),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let (a, b) = assert_both_fail(&path);
        assert!(
            matches!(a, IoError::Open { .. }) && matches!(b, IoError::Open { .. }),
            "{a} / {b}"
        );
    }
    // A directory is not a file either.
    let (a, _) = assert_both_fail(dir.path());
    assert!(matches!(a, IoError::NotRegularFile { .. }), "{a}");
}

/// Opening a FIFO for reading blocks until a writer appears: the load must refuse it at once.
#[test]
fn a_fifo_is_refused_without_blocking() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("model.h5");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (sender, receiver) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let model = load_model_file(&path).map(|_| ());
        let weights = load_weights_file(&path).map(|_| ());
        let _ = sender.send((model, weights));
    });
    let (model, weights) = receiver
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("loading a FIFO hangs");
    for err in [model.unwrap_err(), weights.unwrap_err()] {
        assert!(
            matches!(&err, IoError::NotRegularFile { kind, .. } if kind.contains("FIFO")),
            "{err}"
        );
        assert!(err.to_string().contains("model.h5"), "{err}");
    }
}

#[test]
fn truncated_files_are_errors() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(saved_model(dir.path())).unwrap();
    let truncated = dir.path().join("truncated.h5");
    for keep in [
        8,
        100,
        bytes.len() / 4,
        bytes.len() / 2,
        bytes.len() * 9 / 10,
        bytes.len() - 1,
    ] {
        std::fs::write(&truncated, &bytes[..keep]).unwrap();
        assert_both_fail(&truncated);
    }
}

#[test]
fn a_corrupt_superblock_is_an_error() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = saved_model(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8..96].iter_mut().for_each(|b| *b = 0xA5);
    std::fs::write(&path, &bytes).unwrap();
    let (a, _) = assert_both_fail(&path);
    assert!(matches!(a, IoError::Open { .. }), "{a}");
}

/// Flips one bit of `path` at byte `offset`.
fn flip_bit(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x04;
    std::fs::write(path, &bytes).unwrap();
}

/// The file offset of a contiguous dataset's raw data.
fn raw_data_offset(path: &Path, dataset: &str) -> usize {
    let file = hdf5::File::open(path).unwrap();
    file.dataset(dataset).unwrap().offset().unwrap() as usize
}

#[test]
fn a_damaged_weight_value_is_named_not_loaded() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = saved_model(dir.path());
    let object = "/model_weights/dense/dense/kernel";
    // The 6th float of the kernel, third byte: a small change of value, still finite.
    flip_bit(&path, raw_data_offset(&path, object) + 4 * 5 + 2);
    let (a, b) = assert_both_fail(&path);
    for err in [a, b] {
        assert!(
            matches!(&err, IoError::ChecksumMismatch { object: o, .. } if o == object),
            "{err}"
        );
    }
}

#[test]
fn a_damaged_optimizer_counter_and_state_array_are_named() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.h5");
    let mut with_state = model();
    with_state.extra = Some(rkeras_io::ExtraState {
        json: r#"{"epoch": 4}"#.into(),
        arrays: vec![NamedArray::new(
            "best/dense",
            ArrayD::from_elem(IxDyn(&[3]), 0.5),
        )],
    });
    for object in [
        "/optimizer_weights/sgd/iteration",
        "/rkeras_state/best/dense",
    ] {
        save_model_file(&path, &with_state).unwrap();
        flip_bit(&path, raw_data_offset(&path, object));
        let err = load_model_file(&path).unwrap_err();
        assert!(
            matches!(&err, IoError::ChecksumMismatch { object: o, .. } if o == object),
            "{err}"
        );
    }
}

/// The issue's example: `"rate": 0.3` became `0.9` and the model loaded with another dropout rate.
#[test]
fn a_damaged_model_config_is_named_not_loaded() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.h5");
    let mut config_model = model();
    config_model.model_config =
        Some(r#"{"class_name": "Dropout", "config": {"rate": 0.3}}"#.into());
    save_model_file(&path, &config_model).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(11)
        .position(|w| w == b"\"rate\": 0.3")
        .unwrap();
    bytes[at + 10] = b'9';
    std::fs::write(&path, &bytes).unwrap();
    let err = load_model_file(&path).unwrap_err();
    assert!(
        matches!(&err, IoError::ChecksumMismatch { object, .. } if object == "/@model_config"),
        "{err}"
    );
    assert!(err.to_string().contains("model.h5"), "{err}");
}

/// A file without checksums (as Keras writes them) is refused when an array is not finite.
#[test]
fn a_nan_in_a_file_without_checksums_is_named() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = saved_model(dir.path());
    let object = "/model_weights/dense/dense/bias";
    {
        let file = hdf5::File::open_rw(&path).unwrap();
        file.unlink("rkeras_checksums").unwrap();
        let mut bias = vec![0.0f32; 8];
        bias[3] = f32::NAN;
        file.dataset(object).unwrap().write_raw(&bias).unwrap();
    }
    let (a, b) = assert_both_fail(&path);
    for err in [a, b] {
        assert!(
            matches!(&err, IoError::NonFinite { object: o, index: 3, .. } if o == object),
            "{err}"
        );
    }
}

#[test]
fn a_listed_weight_without_dataset_names_layer_and_weight() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = saved_model(dir.path());
    hdf5::File::open_rw(&path)
        .unwrap()
        .unlink("model_weights/dense/dense/bias")
        .unwrap();
    let (a, b) = assert_both_fail(&path);
    for err in [a, b] {
        match &err {
            IoError::MissingWeight { group, weight, .. } => {
                assert_eq!(group, "/model_weights/dense");
                assert_eq!(weight, "dense/bias");
            }
            other => panic!("expected MissingWeight, got {other}"),
        }
    }
}

#[test]
fn a_listed_layer_without_group_is_named() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = saved_model(dir.path());
    hdf5::File::open_rw(&path)
        .unwrap()
        .unlink("model_weights/embedding")
        .unwrap();
    let (a, _) = assert_both_fail(&path);
    assert!(
        matches!(&a, IoError::MissingGroup { group, .. } if group == "/model_weights/embedding"),
        "{a}"
    );
}

#[test]
fn a_weights_group_without_layer_names_is_rejected() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = saved_model(dir.path());
    hdf5::File::open_rw(&path)
        .unwrap()
        .group("model_weights")
        .unwrap()
        .delete_attr("layer_names")
        .unwrap();
    let (a, _) = assert_both_fail(&path);
    assert!(
        matches!(&a, IoError::MissingAttribute { object, attribute, .. } if object == "/model_weights" && attribute == "layer_names"),
        "{a}"
    );
}

#[test]
fn a_weight_of_the_wrong_type_is_named() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = saved_model(dir.path());
    {
        let file = hdf5::File::open_rw(&path).unwrap();
        file.unlink("model_weights/dense/dense/bias").unwrap();
        file.group("model_weights/dense")
            .unwrap()
            .new_dataset_builder()
            .with_data(&[1i32, 2])
            .create("dense/bias")
            .unwrap();
    }
    let (a, _) = assert_both_fail(&path);
    assert!(
        matches!(&a, IoError::UnsupportedType { object, .. } if object == "/model_weights/dense/dense/bias"),
        "{a}"
    );
}

/// The HDF5 C library prints an error stack to stderr on every failed call unless silenced.
#[test]
fn failed_loads_print_nothing() {
    let _serial = serial();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "truncated_files_are_errors",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        !stderr.contains("HDF5-DIAG") && !stdout.contains("HDF5-DIAG"),
        "{stderr}"
    );
}
