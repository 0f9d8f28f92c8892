//! A lock another open description holds on a file does not stop rkeras from reading it or saving
//! over it. Such a lock appears when a child process, spawned while rkeras had the file open, inherits
//! HDF5's descriptor (HDF5 opens files without close-on-exec); rkeras opens its files without HDF5's
//! lock, which guards nothing since every save writes a fresh temporary file.

use ndarray::{ArrayD, IxDyn};
use rkeras_io::{
    LayerWeights, ModelFile, NamedArray, load_model_file, load_weights_file, save_model_file,
    save_weights_file,
};

fn model(value: f32) -> ModelFile {
    ModelFile {
        keras_version: "3.15.1".into(),
        backend: "tensorflow".into(),
        model_config: Some(r#"{"class_name": "Sequential"}"#.into()),
        training_config: None,
        layers: vec![LayerWeights::new(
            "dense",
            vec![NamedArray::new(
                "dense/kernel",
                ArrayD::from_elem(IxDyn(&[2, 3]), value),
            )],
        )],
        optimizer: None,
        extra: None,
    }
}

/// Holds an exclusive `flock` on `path` through a description of its own, as an inherited HDF5
/// descriptor does.
fn locked_elsewhere(path: &std::path::Path) -> std::fs::File {
    use std::os::fd::AsRawFd;
    let flock = |file: &std::fs::File, operation| {
        // SAFETY: `flock` on a descriptor this function keeps open for the call.
        unsafe { libc::flock(file.as_raw_fd(), operation) }
    };
    let holder = std::fs::File::open(path).unwrap();
    assert_eq!(flock(&holder, libc::LOCK_EX), 0, "taking the lock");
    let other = std::fs::File::open(path).unwrap();
    assert_ne!(
        flock(&other, libc::LOCK_SH | libc::LOCK_NB),
        0,
        "the lock is held against other descriptions"
    );
    holder
}

#[test]
fn a_model_file_locked_by_another_description_loads_and_is_saved_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.h5");
    save_model_file(&path, &model(1.0)).unwrap();
    let _holder = locked_elsewhere(&path);
    assert_eq!(load_model_file(&path).unwrap(), model(1.0));
    save_model_file(&path, &model(2.0)).unwrap();
    assert_eq!(load_model_file(&path).unwrap(), model(2.0));
}

#[test]
fn a_weights_file_locked_by_another_description_loads_and_is_saved_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.weights.h5");
    let layers = model(1.0).layers;
    save_weights_file(&path, &layers).unwrap();
    let _holder = locked_elsewhere(&path);
    assert_eq!(load_weights_file(&path).unwrap(), layers);
    let updated = model(3.0).layers;
    save_weights_file(&path, &updated).unwrap();
    assert_eq!(load_weights_file(&path).unwrap(), updated);
}
