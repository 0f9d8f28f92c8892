//! The checksum table rkeras writes into every file: dataset `/rkeras_checksums`, the UTF-8 JSON
//! `{"algorithm": "crc32", "objects": [["/@model_config", "1c291ca3"], ...]}` as bytes (uint8), with
//! attribute `crc32` (uint32) holding the CRC-32 of those bytes. Keras's loaders ignore it.

use std::path::Path;

use hdf5::Group;
use hdf5::types::TypeDescriptor;
use ndarray::ArrayView1;
use serde_json::{Value, json};

use super::objects::Object;
use crate::error::{IoError, Result, hdf5_error};
use crate::size_guard::check_fits_in_file;

/// The table's dataset at the file root.
pub(crate) const CHECKSUMS: &str = "rkeras_checksums";
/// The table's own checksum attribute.
const TABLE_CRC: &str = "crc32";
/// The one algorithm written and accepted.
const ALGORITHM: &str = "crc32";

/// Writes the table of `objects` into `root`.
pub(crate) fn write_table(file: &Path, root: &Group, objects: &[Object]) -> Result<()> {
    let listed: Vec<Value> = objects
        .iter()
        .map(|(name, crc)| json!([name, format!("{crc:08x}")]))
        .collect();
    let text = json!({ "algorithm": ALGORITHM, "objects": listed }).to_string();
    let action = format!("writing dataset `/{CHECKSUMS}`");
    let dataset = root
        .new_dataset_builder()
        .with_data(ArrayView1::from(text.as_bytes()))
        .create(CHECKSUMS)
        .map_err(hdf5_error(file, action.clone()))?;
    dataset
        .new_attr::<u32>()
        .create(TABLE_CRC)
        .and_then(|attr| attr.write_scalar(&crc32fast::hash(text.as_bytes())))
        .map_err(hdf5_error(file, action))
}

fn damaged(file: &Path, object: &str, reason: impl Into<String>) -> IoError {
    IoError::ChecksumMismatch {
        file: file.to_path_buf(),
        object: object.to_owned(),
        reason: reason.into(),
    }
}

/// Reads the table of `root`; `None` when the file has none (written by Keras, or by an rkeras
/// older than the table).
pub(crate) fn read_table(file: &Path, root: &Group) -> Result<Option<Vec<Object>>> {
    if !root.link_exists(CHECKSUMS) {
        return Ok(None);
    }
    let object = format!("/{CHECKSUMS}");
    let dataset = root
        .dataset(CHECKSUMS)
        .map_err(hdf5_error(file, format!("opening dataset `{object}`")))?;
    let descriptor = dataset
        .dtype()
        .and_then(|dtype| dtype.to_descriptor())
        .map_err(hdf5_error(file, format!("reading the type of `{object}`")))?;
    if descriptor != TypeDescriptor::Unsigned(hdf5::types::IntSize::U1) {
        return Err(IoError::UnsupportedType {
            file: file.to_path_buf(),
            object,
            found: descriptor.to_string(),
            expected: "uint8 bytes",
        });
    }
    check_fits_in_file(file, &dataset, &object)?;
    let bytes = dataset
        .read_raw::<u8>()
        .map_err(hdf5_error(file, format!("reading dataset `{object}`")))?;
    let stored = dataset
        .attr(TABLE_CRC)
        .and_then(|attr| attr.read_scalar::<u32>())
        .map_err(hdf5_error(file, format!("reading `{object}@{TABLE_CRC}`")))?;
    let computed = crc32fast::hash(&bytes);
    if stored != computed {
        return Err(damaged(
            file,
            &object,
            format!("its CRC-32 is {computed:08x}, it was saved with {stored:08x}"),
        ));
    }
    parse(&bytes).map(Some).ok_or_else(|| {
        damaged(
            file,
            &object,
            "its checksummed content is not a checksum table",
        )
    })
}

fn parse(bytes: &[u8]) -> Option<Vec<Object>> {
    let table: Value = serde_json::from_slice(bytes).ok()?;
    if table.get("algorithm")?.as_str()? != ALGORITHM {
        return None;
    }
    table
        .get("objects")?
        .as_array()?
        .iter()
        .map(|entry| {
            let name = entry.get(0)?.as_str()?.to_owned();
            let crc = u32::from_str_radix(entry.get(1)?.as_str()?, 16).ok()?;
            Some((name, crc))
        })
        .collect()
}

/// Checks the objects read (`read`) against the table. Every object read must be listed with the
/// same CRC, and every listed object whose name starts with `scope` must have been read.
pub(crate) fn verify(file: &Path, table: &[Object], read: &[Object], scope: &str) -> Result<()> {
    let listed: std::collections::HashMap<&str, u32> = table
        .iter()
        .map(|(name, crc)| (name.as_str(), *crc))
        .collect();
    for (name, crc) in read {
        match listed.get(name.as_str()) {
            None => {
                return Err(damaged(
                    file,
                    name,
                    "the file's checksum table does not list it",
                ));
            }
            Some(stored) if stored != crc => {
                return Err(damaged(
                    file,
                    name,
                    format!("its content's CRC-32 is {crc:08x}, it was saved with {stored:08x}"),
                ));
            }
            Some(_) => {}
        }
    }
    let read: std::collections::HashSet<&str> =
        read.iter().map(|(name, _)| name.as_str()).collect();
    let in_scope = |name: &str| {
        scope.is_empty()
            || name
                .strip_prefix(scope)
                .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('@'))
    };
    match table
        .iter()
        .find(|(name, _)| in_scope(name) && !read.contains(name.as_str()))
    {
        Some((name, _)) => Err(damaged(
            file,
            name,
            "the checksum table lists it but it was not found",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_round_trips_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.h5");
        let file = hdf5::File::create(&path).unwrap();
        let objects = vec![
            ("/@model_config".to_owned(), 7u32),
            ("/model_weights/d/k".to_owned(), 9),
        ];
        write_table(&path, &file, &objects).unwrap();
        let table = read_table(&path, &file).unwrap().unwrap();
        assert_eq!(table, objects);
        assert!(verify(&path, &table, &objects, "").is_ok());
        // Only the weights are read: the others are out of scope.
        assert!(verify(&path, &table, &objects[1..], "/model_weights").is_ok());
        let changed = vec![("/@model_config".to_owned(), 8u32), objects[1].clone()];
        let err = verify(&path, &table, &changed, "").unwrap_err();
        assert!(
            matches!(&err, IoError::ChecksumMismatch { object, .. } if object == "/@model_config"),
            "{err}"
        );
        let err = verify(&path, &table, &objects[1..], "").unwrap_err();
        assert!(
            matches!(&err, IoError::ChecksumMismatch { object, .. } if object == "/@model_config"),
            "{err}"
        );
        let extra = vec![objects[0].clone(), objects[1].clone(), ("/x".to_owned(), 1)];
        assert!(verify(&path, &table, &extra, "").is_err());
    }

    #[test]
    fn a_damaged_table_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.h5");
        let file = hdf5::File::create(&path).unwrap();
        write_table(&path, &file, &[("/@backend".to_owned(), 1)]).unwrap();
        file.dataset(CHECKSUMS)
            .unwrap()
            .attr(TABLE_CRC)
            .unwrap()
            .write_scalar(&0u32)
            .unwrap();
        let err = read_table(&path, &file).unwrap_err();
        assert!(
            matches!(&err, IoError::ChecksumMismatch { object, .. } if object == "/rkeras_checksums"),
            "{err}"
        );
    }
}
