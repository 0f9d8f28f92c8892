//! Keras 3's `.keras` archive: a zip of `metadata.json`, `config.json` and `model.weights.h5`
//! (stored uncompressed, in that order, as Keras writes it).
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use rkeras_io::{KerasArchive, VarObject, VarStore, load_keras_file, save_keras_file};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("model.keras");
//! let archive = KerasArchive {
//!     config: r#"{"class_name": "Functional", "config": {}}"#.into(),
//!     keras_version: "3.15.1".into(),
//!     weights: VarStore {
//!         objects: vec![VarObject::new("layers/dense", vec![ArrayD::ones(IxDyn(&[2, 3]))])],
//!         optimizer: None,
//!     },
//! };
//! save_keras_file(&path, &archive)?;
//! assert_eq!(load_keras_file(&path)?, archive);
//! # Ok::<(), rkeras_io::IoError>(())
//! ```

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::data::KerasArchive;
use super::date::date_saved;
use super::var_store::{read_store, write_store};
use crate::atomic::{check_regular_file, hdf5_bytes, save_bytes_atomically};
use crate::error::{IoError, Result};

/// The archive's configuration member.
pub const CONFIG_MEMBER: &str = "config.json";
/// The archive's metadata member.
pub const METADATA_MEMBER: &str = "metadata.json";
/// The archive's weight store member.
pub const WEIGHTS_MEMBER: &str = "model.weights.h5";

/// Distinguishes the temporary weight stores extracted by concurrent loads within one process.
static EXTRACT_COUNTER: AtomicU64 = AtomicU64::new(0);

fn zip_error(file: &Path, action: impl Into<String>) -> impl FnOnce(ZipError) -> IoError {
    let file = file.to_path_buf();
    let action = action.into();
    move |source| IoError::Zip {
        file,
        action,
        source,
    }
}

fn io_zip_error(file: &Path, action: &str) -> impl FnOnce(std::io::Error) -> IoError {
    let file = file.to_path_buf();
    let action = action.to_string();
    move |source| IoError::Zip {
        file,
        action,
        source: ZipError::Io(source),
    }
}

/// Saves `archive` at `path` as a `.keras` zip, atomically.
///
/// # Errors
/// [`IoError::InvalidJson`] when `config` is not JSON; [`IoError::Hdf5`] / [`IoError::Fs`] /
/// [`IoError::Zip`] when building or writing the archive fails.
pub fn save_keras_file(path: &Path, archive: &KerasArchive) -> Result<()> {
    serde_json::from_str::<Value>(&archive.config).map_err(|e| IoError::InvalidJson {
        file: path.to_path_buf(),
        member: CONFIG_MEMBER,
        reason: e.to_string(),
    })?;
    let metadata =
        json!({"keras_version": archive.keras_version, "date_saved": date_saved()}).to_string();
    let weights = hdf5_bytes(path, |file| write_store(path, file, &archive.weights))?;
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let members: [(&str, &[u8]); 3] = [
        (METADATA_MEMBER, metadata.as_bytes()),
        (CONFIG_MEMBER, archive.config.as_bytes()),
        (WEIGHTS_MEMBER, &weights),
    ];
    for (name, bytes) in members {
        zip.start_file(name, options)
            .map_err(zip_error(path, format!("adding member {name}")))?;
        zip.write_all(bytes)
            .map_err(io_zip_error(path, &format!("writing member {name}")))?;
    }
    let bytes = zip
        .finish()
        .map_err(zip_error(path, "finishing the archive"))?
        .into_inner();
    save_bytes_atomically(path, &bytes)
}

/// The bytes of member `name`; the zip reader checks each member's CRC-32 as it reads.
fn read_member(
    path: &Path,
    zip: &mut ZipArchive<std::fs::File>,
    name: &'static str,
) -> Result<Vec<u8>> {
    let mut member = zip.by_name(name).map_err(|e| match e {
        ZipError::FileNotFound => IoError::MissingMember {
            file: path.to_path_buf(),
            member: name,
        },
        other => IoError::Zip {
            file: path.to_path_buf(),
            action: format!("opening member {name}"),
            source: other,
        },
    })?;
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(member.size()).unwrap_or(usize::MAX))
        .map_err(|e| IoError::Corrupt {
            file: path.to_path_buf(),
            object: name.to_string(),
            reason: format!("claims {} bytes: {e}", member.size()),
        })?;
    member
        .read_to_end(&mut bytes)
        .map_err(io_zip_error(path, &format!("reading member {name}")))?;
    Ok(bytes)
}

fn json_member(path: &Path, member: &'static str, bytes: Vec<u8>) -> Result<(String, Value)> {
    let invalid = |reason: String| IoError::InvalidJson {
        file: path.to_path_buf(),
        member,
        reason,
    };
    let text = String::from_utf8(bytes).map_err(|e| invalid(e.to_string()))?;
    let value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    Ok((text, value))
}

/// Removes the extracted weight store when dropped.
struct Extracted(PathBuf);

impl Drop for Extracted {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Loads a `.keras` archive written by Keras 3 or rkeras.
///
/// # Errors
/// [`IoError::NotFound`] / [`IoError::NotRegularFile`]; [`IoError::Zip`] for a file that is not a zip
/// or a member whose CRC-32 differs; [`IoError::MissingMember`]; [`IoError::InvalidJson`] for
/// unparsable JSON or a metadata without `keras_version`; the weight store's errors
/// ([`IoError::VariableNumbering`], [`IoError::NonFinite`], ...).
pub fn load_keras_file(path: &Path) -> Result<KerasArchive> {
    check_regular_file(path)?;
    let file = std::fs::File::open(path).map_err(|source| IoError::Fs {
        file: path.to_path_buf(),
        action: "opening the archive",
        source,
    })?;
    let mut zip = ZipArchive::new(file).map_err(zip_error(path, "reading the zip directory"))?;
    let (config, _) = json_member(
        path,
        CONFIG_MEMBER,
        read_member(path, &mut zip, CONFIG_MEMBER)?,
    )?;
    let (_, metadata) = json_member(
        path,
        METADATA_MEMBER,
        read_member(path, &mut zip, METADATA_MEMBER)?,
    )?;
    let keras_version = metadata
        .get("keras_version")
        .and_then(Value::as_str)
        .ok_or_else(|| IoError::InvalidJson {
            file: path.to_path_buf(),
            member: METADATA_MEMBER,
            reason: "no `keras_version` string".into(),
        })?
        .to_string();
    let weights = read_member(path, &mut zip, WEIGHTS_MEMBER)?;
    let extracted = Extracted(std::env::temp_dir().join(format!(
        "rkeras-{}-{}.weights.h5",
        std::process::id(),
        EXTRACT_COUNTER.fetch_add(1, Ordering::Relaxed)
    )));
    std::fs::write(&extracted.0, &weights).map_err(|source| IoError::Fs {
        file: extracted.0.clone(),
        action: "extracting the weight store",
        source,
    })?;
    let store = crate::atomic::open_unlocked(&extracted.0)
        .map_err(|source| IoError::Open {
            file: extracted.0.clone(),
            source,
        })
        .and_then(|h5| read_store(&extracted.0, &h5))
        .map_err(|source| IoError::InArchive {
            file: path.to_path_buf(),
            source: Box::new(source),
        })?;
    Ok(KerasArchive {
        config,
        keras_version,
        weights: store,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keras3::data::{OptimizerVars, VarObject, VarStore};
    use ndarray::{ArrayD, IxDyn};

    fn archive() -> KerasArchive {
        KerasArchive {
            config: r#"{"class_name": "Functional", "config": {"name": "m"}}"#.into(),
            keras_version: "3.15.1".into(),
            weights: VarStore {
                objects: vec![VarObject::new(
                    "layers/dense",
                    vec![ArrayD::ones(IxDyn(&[2, 3]))],
                )],
                optimizer: Some(OptimizerVars {
                    name: "sgd".into(),
                    iterations: 3,
                    vars: vec![ndarray::arr0(0.01f32).into_dyn()],
                }),
            },
        }
    }

    #[test]
    fn members_are_stored_in_keras_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.keras");
        save_keras_file(&path, &archive()).unwrap();
        let mut zip = ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let names: Vec<String> = (0..zip.len())
            .map(|i| zip.by_index(i).unwrap().name().to_string())
            .collect();
        assert_eq!(names, [METADATA_MEMBER, CONFIG_MEMBER, WEIGHTS_MEMBER]);
        assert_eq!(
            zip.by_index(2).unwrap().compression(),
            CompressionMethod::Stored
        );
        assert_eq!(load_keras_file(&path).unwrap(), archive());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn damaged_archives_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.keras");
        save_keras_file(&path, &archive()).unwrap();
        let good = std::fs::read(&path).unwrap();

        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        assert!(matches!(load_keras_file(&path), Err(IoError::Zip { .. })));

        // A flipped byte inside the stored weight store: its CRC-32 differs.
        let mut flipped = good.clone();
        let at = good
            .windows(8)
            .position(|w| w == b"\x89HDF\r\n\x1a\n")
            .unwrap()
            + 600;
        flipped[at] ^= 0xff;
        std::fs::write(&path, &flipped).unwrap();
        let err = load_keras_file(&path).unwrap_err();
        assert!(
            matches!(&err, IoError::Zip { action, .. } if action.contains(WEIGHTS_MEMBER)),
            "{err}"
        );

        let mut zip = ZipWriter::new(std::fs::File::create(&path).unwrap());
        zip.start_file(CONFIG_MEMBER, SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"{}").unwrap();
        zip.start_file(METADATA_MEMBER, SimpleFileOptions::default())
            .unwrap();
        zip.write_all(br#"{"keras_version": "3.15.1"}"#).unwrap();
        zip.finish().unwrap();
        let err = load_keras_file(&path).unwrap_err();
        assert!(
            matches!(
                err,
                IoError::MissingMember {
                    member: WEIGHTS_MEMBER,
                    ..
                }
            ),
            "{err}"
        );

        let mut bad = archive();
        bad.config = "{not json".into();
        let err = save_keras_file(&path, &bad).unwrap_err();
        assert!(
            matches!(
                err,
                IoError::InvalidJson {
                    member: CONFIG_MEMBER,
                    ..
                }
            ),
            "{err}"
        );
    }
}
