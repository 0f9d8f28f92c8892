//! Whole-model files, as Keras's `save_model_to_hdf5` writes them.
//!
//! ```text
//! /                    @keras_version, @backend, @model_config, @training_config
//!                      (variable-length UTF-8 strings; the configs are JSON)
//!   model_weights/     the layers' weights (see the `layer_group` layout)
//!   optimizer_weights/ the optimizer's variables, if saved
//!   rkeras_state/      rkeras-only resume state, if saved (ignored by Keras)
//! ```
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use rkeras_io::{LayerWeights, ModelFile, NamedArray, load_model_file, save_model_file};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("model.h5");
//! let model = ModelFile {
//!     keras_version: rkeras_io::KERAS_VERSION.into(),
//!     backend: rkeras_io::BACKEND.into(),
//!     model_config: Some(r#"{"class_name": "Sequential", "config": {"layers": []}}"#.into()),
//!     training_config: None,
//!     layers: vec![LayerWeights::new(
//!         "dense",
//!         vec![NamedArray::new("dense/bias", ArrayD::from_elem(IxDyn(&[2]), 0.5))],
//!     )],
//!     optimizer: None,
//!     extra: None,
//! };
//! save_model_file(&path, &model)?;
//! let loaded = load_model_file(&path)?;
//! assert_eq!(loaded, model);
//! # Ok::<(), rkeras_io::IoError>(())
//! ```

use std::path::Path;

use crate::atomic::{open_for_reading, save_atomically};
use crate::data::ModelFile;
use crate::error::{Result, hdf5_error};
use crate::extra_group::{EXTRA_GROUP, read_extra, validate_extra, write_extra};
use crate::integrity::{check_model, write_model_checksums};
use crate::layer_group::{open_group, read_layers, validate_layers, write_layers};
use crate::optimizer_group::{
    OPTIMIZER_GROUP, read_optimizer, validate_optimizer, write_optimizer,
};
use crate::string_attr::{read_string, write_string};

/// The group holding the layers' weights in a whole-model file.
pub(crate) const MODEL_WEIGHTS_GROUP: &str = "model_weights";

/// Checks every name of `model` before any file is touched.
fn validate(path: &Path, model: &ModelFile) -> Result<()> {
    validate_layers(path, &model.layers)?;
    if let Some(optimizer) = &model.optimizer {
        validate_optimizer(path, optimizer)?;
    }
    if let Some(extra) = &model.extra {
        validate_extra(path, extra)?;
    }
    Ok(())
}

/// Writes `model` into the (temporary) file `file`, reporting errors against `path`.
fn write_model(path: &Path, file: &hdf5::File, model: &ModelFile) -> Result<()> {
    write_string(path, file, "keras_version", &model.keras_version)?;
    write_string(path, file, "backend", &model.backend)?;
    if let Some(config) = &model.model_config {
        write_string(path, file, "model_config", config)?;
    }
    if let Some(config) = &model.training_config {
        write_string(path, file, "training_config", config)?;
    }
    let create = |name: &str| {
        file.create_group(name)
            .map_err(hdf5_error(path, format!("creating group `/{name}`")))
    };
    write_layers(
        path,
        &create(MODEL_WEIGHTS_GROUP)?,
        &model.layers,
        &model.keras_version,
        &model.backend,
    )?;
    if let Some(optimizer) = &model.optimizer {
        write_optimizer(path, &create(OPTIMIZER_GROUP)?, optimizer)?;
    }
    if let Some(extra) = &model.extra {
        write_extra(path, &create(EXTRA_GROUP)?, extra)?;
    }
    write_model_checksums(path, file, model)
}

/// Saves `model` at `path` in Keras's whole-model `.h5` layout, atomically: the previous file at
/// `path`, if any, stays intact until the new one is complete on disk.
///
/// # Errors
/// [`crate::IoError::InvalidName`] for a name the layout cannot store (checked before writing), and
/// [`crate::IoError::Hdf5`] / [`crate::IoError::Fs`] when writing, flushing or renaming fails.
pub fn save_model_file(path: &Path, model: &ModelFile) -> Result<()> {
    validate(path, model)?;
    save_atomically(path, |file| write_model(path, file, model))
}

/// Loads a whole-model file written by Keras (`model.save("x.h5")`) or by [`save_model_file`].
///
/// A file written by rkeras is checked against its checksum table; a file without one (written by
/// Keras) is checked for non-finite values.
///
/// `keras_version` and `backend` read as empty strings when absent, as older writers omit them.
///
/// # Errors
/// [`crate::IoError::NotFound`], [`crate::IoError::Open`] for a file HDF5 cannot read, [`crate::IoError::MissingGroup`]
/// without `model_weights`, and the errors of a malformed layout (missing `layer_names`, a listed
/// weight without dataset, a dataset of an unsupported type); [`crate::IoError::ChecksumMismatch`] for
/// damaged content, [`crate::IoError::NonFinite`] for a NaN or infinity in a file without checksums,
/// [`crate::IoError::Corrupt`] for a damaged header or variable-length string.
pub fn load_model_file(path: &Path) -> Result<ModelFile> {
    let file = open_for_reading(path)?;
    let keras_version = read_string(path, &file, "keras_version")?.unwrap_or_default();
    let backend = read_string(path, &file, "backend")?.unwrap_or_default();
    let model_config = read_string(path, &file, "model_config")?;
    let training_config = read_string(path, &file, "training_config")?;
    let layers = read_layers(path, &open_group(path, &file, MODEL_WEIGHTS_GROUP)?)?;
    let optimizer = match file.link_exists(OPTIMIZER_GROUP) {
        true => Some(read_optimizer(
            path,
            &open_group(path, &file, OPTIMIZER_GROUP)?,
        )?),
        false => None,
    };
    let extra = match file.link_exists(EXTRA_GROUP) {
        true => Some(read_extra(path, &open_group(path, &file, EXTRA_GROUP)?)?),
        false => None,
    };
    let model = ModelFile {
        keras_version,
        backend,
        model_config,
        training_config,
        layers,
        optimizer,
        extra,
    };
    check_model(path, &file, &model)?;
    Ok(model)
}

/// Whether `file` holds a whole model (a `model_weights` group) rather than weights only.
pub(crate) fn is_model_file(file: &hdf5::File) -> bool {
    file.link_exists(MODEL_WEIGHTS_GROUP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ExtraState, LayerWeights, NamedArray, OptimizerState};
    use crate::error::IoError;
    use ndarray::{ArrayD, IxDyn, arr0};

    fn model() -> ModelFile {
        ModelFile {
            keras_version: "3.15.1".into(),
            backend: "tensorflow".into(),
            model_config: Some(
                r#"{"class_name": "Functional", "config": {"name": "modèle"}}"#.into(),
            ),
            training_config: Some(r#"{"loss": "mse"}"#.into()),
            layers: vec![LayerWeights::new(
                "dense",
                vec![NamedArray::new(
                    "dense/kernel",
                    ArrayD::zeros(IxDyn(&[2, 1])),
                )],
            )],
            optimizer: Some(OptimizerState {
                iterations_name: "sgd/iteration".into(),
                iterations: 7,
                weights: vec![NamedArray::new(
                    "sgd/learning_rate",
                    arr0(0.01f32).into_dyn(),
                )],
            }),
            extra: Some(ExtraState {
                json: "{}".into(),
                arrays: vec![],
            }),
        }
    }

    #[test]
    fn every_part_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.h5");
        save_model_file(&path, &model()).unwrap();
        assert_eq!(load_model_file(&path).unwrap(), model());
    }

    #[test]
    fn optional_parts_stay_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.h5");
        let bare = ModelFile {
            model_config: None,
            training_config: None,
            optimizer: None,
            extra: None,
            ..model()
        };
        save_model_file(&path, &bare).unwrap();
        let file = hdf5::File::open(&path).unwrap();
        assert!(!file.link_exists(OPTIMIZER_GROUP) && !file.link_exists(EXTRA_GROUP));
        drop(file);
        assert_eq!(load_model_file(&path).unwrap(), bare);
    }

    #[test]
    fn a_file_without_model_weights_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.h5");
        crate::save_weights_file(&path, &model().layers).unwrap();
        let err = load_model_file(&path).unwrap_err();
        assert!(
            matches!(&err, IoError::MissingGroup { group, .. } if group == "/model_weights"),
            "{err}"
        );
    }
}
