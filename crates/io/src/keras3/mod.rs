//! Keras 3's native formats: the `.keras` zip archive ([`save_keras_file`] / [`load_keras_file`]) and
//! the `.weights.h5` weights-only file ([`save_keras_weights_file`] / [`load_keras_weights_file`]).
//!
//! Both hold a weight store laid out as Keras 3's `saving_lib` writes it: one `<path>/vars` group per
//! saveable object with its variables numbered `0`, `1`, ... (`layers/dense/vars/0`,
//! `layers/lstm/cell/vars/1`, `optimizer/vars/0` the iteration counter). Which object path a layer's
//! weights go to is the engine's business; this module stores [`VarStore`]s. Saves are atomic; loads
//! report a damaged archive (CRC-32 of each member), a missing member, a gap in a `vars` group or a
//! non-finite value as an [`crate::IoError`].

mod archive;
mod data;
mod date;
mod var_store;
mod weights_file;

pub use archive::{
    CONFIG_MEMBER, METADATA_MEMBER, WEIGHTS_MEMBER, load_keras_file, save_keras_file,
};
pub use data::{KerasArchive, OptimizerVars, VarObject, VarStore};
pub use weights_file::{load_keras_weights_file, save_keras_weights_file};
