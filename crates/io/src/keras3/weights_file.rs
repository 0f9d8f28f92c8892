//! Keras 3's weights-only files (`model.save_weights("x.weights.h5")`): the weight store alone.
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use rkeras_io::{VarObject, VarStore, load_keras_weights_file, save_keras_weights_file};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("model.weights.h5");
//! let store = VarStore {
//!     objects: vec![VarObject::new("layers/dense", vec![ArrayD::ones(IxDyn(&[2, 3]))])],
//!     optimizer: None,
//! };
//! save_keras_weights_file(&path, &store)?;
//! assert_eq!(load_keras_weights_file(&path)?, store);
//! # Ok::<(), rkeras_io::IoError>(())
//! ```

use std::path::Path;

use super::data::VarStore;
use super::var_store::{read_store, write_store};
use crate::atomic::{open_for_reading, save_atomically};
use crate::error::Result;

/// Saves `store` at `path` in Keras 3's `.weights.h5` layout, atomically.
///
/// # Errors
/// [`crate::IoError::Hdf5`] / [`crate::IoError::Fs`] when writing, flushing or renaming fails.
pub fn save_keras_weights_file(path: &Path, store: &VarStore) -> Result<()> {
    save_atomically(path, |file| write_store(path, file, store))
}

/// Loads a Keras 3 `.weights.h5` file.
///
/// # Errors
/// [`crate::IoError::NotFound`], [`crate::IoError::Open`] for a file HDF5 cannot read,
/// [`crate::IoError::VariableNumbering`] for a `vars` group with gaps, [`crate::IoError::NonFinite`]
/// for a NaN or infinity, [`crate::IoError::UnsupportedType`] for a variable that is not a float array.
pub fn load_keras_weights_file(path: &Path) -> Result<VarStore> {
    let file = open_for_reading(path)?;
    read_store(path, &file)
}
