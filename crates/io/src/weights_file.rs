//! Weights-only files, as Keras's legacy `save_weights` (`.h5`) writes them: the `model_weights`
//! layout at the file root (`layer_names`, `backend`, `keras_version`, one group per layer).
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use rkeras_io::{LayerWeights, NamedArray, load_weights_file, save_weights_file};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("weights.h5");
//! let layers = vec![
//!     LayerWeights::new("lstm", vec![NamedArray::new("lstm/lstm_cell/bias", ArrayD::zeros(IxDyn(&[128])))]),
//!     LayerWeights::new("dropout", vec![]),
//! ];
//! save_weights_file(&path, &layers)?;
//! assert_eq!(load_weights_file(&path)?, layers);
//! # Ok::<(), rkeras_io::IoError>(())
//! ```

use std::path::Path;

use crate::atomic::{open_for_reading, save_atomically};
use crate::data::LayerWeights;
use crate::error::Result;
use crate::integrity::{check_layers, write_weights_checksums};
use crate::layer_group::{open_group, read_layers, validate_layers, write_layers};
use crate::model_file::{MODEL_WEIGHTS_GROUP, is_model_file};

/// The Keras version written into files whose writer names none (weights-only files); the
/// layout is that of Keras 3's legacy `.h5` format.
pub const KERAS_VERSION: &str = "3.15.1";

/// The backend written into files whose writer names none.
pub const BACKEND: &str = "tensorflow";

/// Saves `layers` at `path` as a weights-only file, atomically.
///
/// # Errors
/// [`crate::IoError::InvalidName`] for a name the layout cannot store (checked before writing), and
/// [`crate::IoError::Hdf5`] / [`crate::IoError::Fs`] when writing, flushing or renaming fails.
pub fn save_weights_file(path: &Path, layers: &[LayerWeights]) -> Result<()> {
    validate_layers(path, layers)?;
    save_atomically(path, |file| {
        write_layers(path, file, layers, KERAS_VERSION, BACKEND)?;
        write_weights_checksums(path, file, layers)
    })
}

/// Loads the layers' weights from a weights-only file, or from the `model_weights` group of a
/// whole-model file.
///
/// # Errors
/// [`crate::IoError::NotFound`], [`crate::IoError::Open`] for a file HDF5 cannot read, and the errors
/// of a malformed layout (missing `layer_names`, a listed weight without dataset, ...);
/// [`crate::IoError::ChecksumMismatch`] for damaged content of a file written by rkeras,
/// [`crate::IoError::NonFinite`] for a NaN or infinity in a file without checksums.
pub fn load_weights_file(path: &Path) -> Result<Vec<LayerWeights>> {
    let file = open_for_reading(path)?;
    let in_model_file = is_model_file(&file);
    let layers = if in_model_file {
        read_layers(path, &open_group(path, &file, MODEL_WEIGHTS_GROUP)?)?
    } else {
        read_layers(path, &file)?
    };
    check_layers(path, &file, &layers, in_model_file)?;
    Ok(layers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::NamedArray;
    use crate::error::IoError;
    use ndarray::{ArrayD, IxDyn};

    #[test]
    fn weights_sit_at_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.h5");
        let layers = vec![LayerWeights::new(
            "dense",
            vec![NamedArray::new(
                "dense/kernel",
                ArrayD::ones(IxDyn(&[3, 2])),
            )],
        )];
        save_weights_file(&path, &layers).unwrap();
        let file = hdf5::File::open(&path).unwrap();
        assert_eq!(
            file.dataset("dense/dense/kernel").unwrap().shape(),
            vec![3, 2]
        );
        drop(file);
        assert_eq!(load_weights_file(&path).unwrap(), layers);
    }

    #[test]
    fn a_plain_hdf5_file_lacks_layer_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.h5");
        hdf5::File::create(&path)
            .unwrap()
            .create_group("data")
            .unwrap();
        let err = load_weights_file(&path).unwrap_err();
        assert!(
            matches!(&err, IoError::MissingAttribute { attribute, .. } if attribute == "layer_names"),
            "{err}"
        );
    }
}
