//! Integrity checks of loaded content.
//!
//! Every file rkeras writes carries a checksum table (see [`manifest`]): the CRC-32 of each object
//! it holds (strings, name lists, arrays, the iteration counter). Loading recomputes them from what
//! was read and reports any difference as [`IoError::ChecksumMismatch`] naming the object, so a
//! damaged byte anywhere in the content cannot load silently.
//!
//! Files without a table (written by Keras) are checked for what can be checked without one: every
//! array is finite ([`IoError::NonFinite`] otherwise). Shapes are checked against the model by the
//! engine, types by the readers.

mod manifest;
mod objects;

use std::path::Path;

use hdf5::Group;
use ndarray::ArrayD;

use crate::data::{LayerWeights, ModelFile};
use crate::error::{IoError, Result};
use manifest::{read_table, verify, write_table};
use objects::{layer_arrays, layer_objects, model_arrays, model_objects, weights_group};

/// Writes the checksum table of a whole-model file.
pub(crate) fn write_model_checksums(file: &Path, root: &Group, model: &ModelFile) -> Result<()> {
    write_table(file, root, &model_objects(model))
}

/// Writes the checksum table of a weights-only file.
pub(crate) fn write_weights_checksums(
    file: &Path,
    root: &Group,
    layers: &[LayerWeights],
) -> Result<()> {
    write_table(file, root, &layer_objects("", layers))
}

/// Checks a whole model read from `root`.
pub(crate) fn check_model(file: &Path, root: &Group, model: &ModelFile) -> Result<()> {
    match read_table(file, root)? {
        Some(table) => verify(file, &table, &model_objects(model), ""),
        None => check_finite(file, model_arrays(model)),
    }
}

/// Checks the layers read from a weights-only file (`in_model_file` false) or from the weights
/// group of a whole-model file.
pub(crate) fn check_layers(
    file: &Path,
    root: &Group,
    layers: &[LayerWeights],
    in_model_file: bool,
) -> Result<()> {
    let group = if in_model_file {
        weights_group()
    } else {
        String::new()
    };
    match read_table(file, root)? {
        Some(table) => verify(file, &table, &layer_objects(&group, layers), &group),
        None => check_finite(file, layer_arrays(&group, layers)),
    }
}

/// Fails on the first array holding a NaN or an infinity.
fn check_finite(file: &Path, arrays: Vec<(String, &ArrayD<f32>)>) -> Result<()> {
    for (object, value) in arrays {
        if let Some((index, &bad)) = value.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(IoError::NonFinite {
                file: file.to_path_buf(),
                object,
                index,
                value: bad,
            });
        }
    }
    Ok(())
}
