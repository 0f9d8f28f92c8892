//! The io crate's error type.
//!
//! Every variant names the file at fault, and where it applies the object inside it (layer, weight,
//! attribute), so that a failed load or save says exactly what is wrong and where. Reading never
//! panics on a damaged or foreign file: every problem surfaces as one of these variants.
//!
//! ```
//! use rkeras_io::{IoError, load_model_file};
//!
//! let err = load_model_file(std::path::Path::new("no/such/model.h5")).unwrap_err();
//! assert!(matches!(err, IoError::NotFound { .. }));
//! assert_eq!(err.to_string(), "no/such/model.h5: no such file");
//! ```

use std::path::{Path, PathBuf};

/// Errors raised while saving or loading a Keras-layout HDF5 file.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The file to load does not exist.
    #[error("{file}: no such file")]
    NotFound {
        /// The file.
        file: PathBuf,
    },
    /// The path to load is a directory, FIFO, socket or device rather than a regular file.
    #[error("{file}: is {kind}, not a regular file")]
    NotRegularFile {
        /// The path.
        file: PathBuf,
        /// What it is (`a FIFO (named pipe)`).
        kind: &'static str,
    },
    /// The file exists but the HDF5 library cannot open it (not HDF5, truncated or corrupt).
    #[error("{file}: not a readable HDF5 file (truncated, corrupt or of another format): {source}")]
    Open {
        /// The file.
        file: PathBuf,
        /// The HDF5 library's error.
        source: hdf5::Error,
    },
    /// An HDF5 library call failed while reading or writing an object of the file.
    #[error("{file}: {action}: {source}")]
    Hdf5 {
        /// The file.
        file: PathBuf,
        /// What was being done, naming the object (`reading dataset /model_weights/dense/dense/kernel`).
        action: String,
        /// The HDF5 library's error.
        source: hdf5::Error,
    },
    /// A file-system operation of an atomic save failed (temporary file, fsync, rename).
    #[error("{file}: {action}: {source}")]
    Fs {
        /// The file or directory concerned.
        file: PathBuf,
        /// The operation (`renaming the temporary file over the target`).
        action: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A group the layout requires is absent.
    #[error("{file}: missing group `{group}`")]
    MissingGroup {
        /// The file.
        file: PathBuf,
        /// The group's full path (`/model_weights/dense`).
        group: String,
    },
    /// An attribute the layout requires is absent.
    #[error(
        "{file}: `{object}` has no attribute `{attribute}` (nor chunks `{attribute}0`, `{attribute}1`, ...)"
    )]
    MissingAttribute {
        /// The file.
        file: PathBuf,
        /// The object's full path (`/model_weights`).
        object: String,
        /// The attribute's name (`layer_names`).
        attribute: String,
    },
    /// A weight listed in a `weight_names` attribute has no dataset.
    #[error(
        "{file}: `{group}` lists weight `{weight}` in its weight_names but has no such dataset"
    )]
    MissingWeight {
        /// The file.
        file: PathBuf,
        /// The group holding the weight (`/model_weights/lstm`, `/optimizer_weights`).
        group: String,
        /// The weight's name (`lstm/lstm_cell/kernel`).
        weight: String,
    },
    /// A dataset or attribute whose header claims more data than the file can hold.
    #[error("{file}: `{object}` is corrupt: {reason}")]
    Corrupt {
        /// The file.
        file: PathBuf,
        /// The dataset's path or `object@attribute`.
        object: String,
        /// What is inconsistent.
        reason: String,
    },
    /// Content that differs from the checksum it was saved with: the file is damaged.
    #[error("{file}: `{object}` is damaged: {reason}")]
    ChecksumMismatch {
        /// The file.
        file: PathBuf,
        /// The object whose content differs (`/model_weights/dense/dense/kernel`, `/@model_config`).
        object: String,
        /// What differs.
        reason: String,
    },
    /// An array of a file without checksums (written by Keras) holds a NaN or an infinity.
    #[error(
        "{file}: `{object}` holds the non-finite value {value} at flat index {index} (the file has no \
         checksums; a damaged or diverged array is refused)"
    )]
    NonFinite {
        /// The file.
        file: PathBuf,
        /// The dataset's path.
        object: String,
        /// The flat (row-major) index of the first non-finite value.
        index: usize,
        /// That value.
        value: f32,
    },
    /// A dataset or attribute of a type this layout does not allow.
    #[error("{file}: `{object}` has type {found}, expected {expected}")]
    UnsupportedType {
        /// The file.
        file: PathBuf,
        /// The dataset's path or `object@attribute`.
        object: String,
        /// The type found in the file.
        found: String,
        /// The type(s) accepted.
        expected: &'static str,
    },
    /// A string attribute whose content is not valid UTF-8, or not of the expected shape.
    #[error("{file}: attribute `{object}@{attribute}`: {reason}")]
    InvalidString {
        /// The file.
        file: PathBuf,
        /// The object carrying the attribute.
        object: String,
        /// The attribute's name.
        attribute: String,
        /// What is wrong.
        reason: String,
    },
    /// The file holds model-level weights (`top_level_model_weights`), which this layout does not map.
    #[error(
        "{file}: `{group}` holds {count} model-level weight(s) that belong to no layer; they cannot be loaded"
    )]
    TopLevelWeights {
        /// The file.
        file: PathBuf,
        /// The group's full path.
        group: String,
        /// How many weights it lists.
        count: usize,
    },
    /// A layer, weight or array name that cannot be stored in the layout.
    #[error("{file}: invalid {kind} `{name}`: {reason}")]
    InvalidName {
        /// The file being saved.
        file: PathBuf,
        /// What the name names (`layer name`, `weight name`).
        kind: &'static str,
        /// The name received.
        name: String,
        /// Why it cannot be stored.
        reason: &'static str,
    },
    /// A `.keras` archive the zip reader or writer refuses (not a zip, truncated, a CRC-32 mismatch).
    #[error("{file}: {action}: {source}")]
    Zip {
        /// The archive.
        file: PathBuf,
        /// What was being done (`reading member config.json`).
        action: String,
        /// The zip library's error.
        source: zip::result::ZipError,
    },
    /// A member a `.keras` archive requires is absent.
    #[error("{file}: the archive has no member `{member}`")]
    MissingMember {
        /// The archive.
        file: PathBuf,
        /// The member's name (`model.weights.h5`).
        member: &'static str,
    },
    /// A JSON member of a `.keras` archive that does not parse or lacks a required key.
    #[error("{file}: member `{member}`: {reason}")]
    InvalidJson {
        /// The archive.
        file: PathBuf,
        /// The member's name (`config.json`).
        member: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An error in the weight store of a `.keras` archive (read from a temporary extracted copy, which
    /// the inner error names).
    #[error("{file}: member `model.weights.h5`: {source}")]
    InArchive {
        /// The archive.
        file: PathBuf,
        /// The weight store's error.
        source: Box<IoError>,
    },
    /// The numbered variables of a Keras 3 `vars` group are not `0`, `1`, ... without gaps.
    #[error("{file}: `{group}` holds variables {found:?}, expected 0 to {expected_last}")]
    VariableNumbering {
        /// The file.
        file: PathBuf,
        /// The `vars` group's full path.
        group: String,
        /// The dataset names found.
        found: Vec<String>,
        /// The last index expected (count - 1).
        expected_last: usize,
    },
}

/// The io crate's result type.
pub type Result<T> = std::result::Result<T, IoError>;

/// Builds an [`IoError::Hdf5`] for `file` with the action described by `action`.
pub(crate) fn hdf5_error(
    file: &Path,
    action: impl Into<String>,
) -> impl FnOnce(hdf5::Error) -> IoError {
    let file = file.to_path_buf();
    let action = action.into();
    move |source| IoError::Hdf5 {
        file,
        action,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_object() {
        let err = IoError::MissingWeight {
            file: PathBuf::from("/tmp/model.h5"),
            group: "/model_weights/dense".into(),
            weight: "dense/kernel".into(),
        };
        let text = err.to_string();
        assert!(text.contains("/tmp/model.h5"), "{text}");
        assert!(text.contains("/model_weights/dense"), "{text}");
        assert!(text.contains("dense/kernel"), "{text}");
    }

    #[test]
    fn hdf5_error_keeps_the_action() {
        let source = hdf5::Error::from("boom");
        let err = hdf5_error(Path::new("a.h5"), "writing dataset x")(source);
        assert_eq!(err.to_string(), "a.h5: writing dataset x: boom");
    }
}
