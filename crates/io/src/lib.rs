//! rkeras-io: HDF5 files in Keras's legacy `.h5` layout, and Keras 3's `.keras` and `.weights.h5`
//! formats ([`keras3`]).
//!
//! A model-agnostic layer: it reads and writes plain data ([`ModelFile`], [`LayerWeights`],
//! [`NamedArray`] of `ndarray::ArrayD<f32>`, JSON text) in the layout Keras's
//! `save_model_to_hdf5` / legacy `save_weights` write, so that files move both ways between rkeras
//! and Keras. The engine converts models to and from these structs.
//!
//! - [`save_model_file`] / [`load_model_file`]: a whole model (configs, weights, optimizer state, and
//!   rkeras-only resume state in a group Keras ignores).
//! - [`save_weights_file`] / [`load_weights_file`]: the layers' weights alone (loading also accepts a
//!   whole-model file).
//!
//! Every save is atomic (temporary file, fsync, rename, directory fsync) and carries a CRC-32 table
//! of its content; every load reports a damaged, foreign or incomplete file as an [`IoError`] naming
//! the file and the object at fault, and never lets the HDF5 library follow a damaged
//! variable-length string.
//! The layout is described in `docs/file-formats.md`.
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use rkeras_io::{LayerWeights, NamedArray, load_weights_file, save_weights_file};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("weights.h5");
//! let kernel = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
//! save_weights_file(&path, &[LayerWeights::new("dense", vec![NamedArray::new("dense/kernel", kernel)])])?;
//! let layers = load_weights_file(&path)?;
//! assert_eq!(layers[0].weights[0].value[[1, 0]], 3.0);
//! # Ok::<(), rkeras_io::IoError>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod atomic;
pub mod data;
mod dataset_io;
pub mod error;
mod extra_group;
mod integrity;
pub mod keras3;
mod layer_group;
mod model_file;
mod names;
mod optimizer_group;
mod size_guard;
mod string_attr;
mod vlen_guard;
mod weights_file;

pub use data::{ExtraState, LayerWeights, ModelFile, NamedArray, OptimizerState};
pub use error::{IoError, Result};
pub use keras3::{
    KerasArchive, OptimizerVars, VarObject, VarStore, load_keras_file, load_keras_weights_file,
    save_keras_file, save_keras_weights_file,
};
pub use model_file::{load_model_file, save_model_file};
pub use string_attr::HDF5_OBJECT_HEADER_LIMIT;
pub use weights_file::{BACKEND, KERAS_VERSION, load_weights_file, save_weights_file};
