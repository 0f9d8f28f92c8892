//! The IDX format of the MNIST files: a big-endian header (magic number, item count, then rows and columns for
//! images) followed by one unsigned byte per pixel or label. Files may be gzipped (detected by their first two
//! bytes, `1f 8b`).
//!
//! ```
//! use rkeras_datasets::mnist::{parse_idx_images, parse_idx_labels};
//! let mut labels = vec![0, 0, 8, 1, 0, 0, 0, 2];
//! labels.extend([7, 3]);
//! assert_eq!(parse_idx_labels(&labels, "labels")?.to_vec(), vec![7, 3]);
//! let mut images = vec![0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2];
//! images.extend([1, 2, 3, 4]);
//! let images = parse_idx_images(&images, "images")?;
//! assert_eq!((images.shape(), images[[0, 1, 0]]), (&[1, 2, 2][..], 3));
//! # Ok::<(), rkeras_datasets::DatasetError>(())
//! ```

use crate::error::{DatasetError, Result};
use flate2::read::GzDecoder;
use ndarray::{Array1, Array3};
use std::io::Read;
use std::path::Path;

/// The magic number of an IDX file of unsigned-byte images (rank 3).
pub const IMAGES_MAGIC: u32 = 2051;
/// The magic number of an IDX file of unsigned-byte labels (rank 1).
pub const LABELS_MAGIC: u32 = 2049;

/// A file's bytes, gunzipped when they start with the gzip magic bytes.
pub fn read_maybe_gzipped(path: &Path) -> Result<Vec<u8>> {
    let io_error = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = std::fs::read(path).map_err(io_error)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(io_error)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// The big-endian `u32` at `offset`, or a truncation error naming `source`.
fn be_u32(bytes: &[u8], offset: usize, source: &str) -> Result<u32> {
    bytes
        .get(offset..offset + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| DatasetError::IdxTruncated {
            file: source.to_string(),
            expected: offset + 4,
            found: bytes.len(),
        })
}

/// Checks the magic number (first, so that a wrong file is named as such even when short).
fn check_magic(bytes: &[u8], magic: u32, source: &str) -> Result<()> {
    let found = be_u32(bytes, 0, source)?;
    if found != magic {
        return Err(DatasetError::IdxMagic {
            file: source.to_string(),
            expected: magic,
            found,
        });
    }
    Ok(())
}

/// Checks the magic number and that the payload after `header` bytes holds exactly `items` bytes.
fn check(bytes: &[u8], magic: u32, header: usize, items: usize, source: &str) -> Result<()> {
    check_magic(bytes, magic, source)?;
    let expected = header + items;
    if bytes.len() != expected {
        return Err(DatasetError::IdxTruncated {
            file: source.to_string(),
            expected,
            found: bytes.len(),
        });
    }
    Ok(())
}

/// Parses an IDX image file (magic 2051): `(count, rows, cols)` bytes. `source` names the file in errors.
pub fn parse_idx_images(bytes: &[u8], source: &str) -> Result<Array3<u8>> {
    check_magic(bytes, IMAGES_MAGIC, source)?;
    let count = be_u32(bytes, 4, source)? as usize;
    let rows = be_u32(bytes, 8, source)? as usize;
    let cols = be_u32(bytes, 12, source)? as usize;
    check(bytes, IMAGES_MAGIC, 16, count * rows * cols, source)?;
    Array3::from_shape_vec((count, rows, cols), bytes[16..].to_vec()).map_err(|_| {
        DatasetError::IdxTruncated {
            file: source.to_string(),
            expected: 16 + count * rows * cols,
            found: bytes.len(),
        }
    })
}

/// Parses an IDX label file (magic 2049): `count` bytes. `source` names the file in errors.
pub fn parse_idx_labels(bytes: &[u8], source: &str) -> Result<Array1<u8>> {
    check_magic(bytes, LABELS_MAGIC, source)?;
    let count = be_u32(bytes, 4, source)? as usize;
    check(bytes, LABELS_MAGIC, 8, count, source)?;
    Ok(Array1::from(bytes[8..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
        std::iter::once(magic)
            .chain(dims.iter().copied())
            .flat_map(u32::to_be_bytes)
            .collect()
    }

    #[test]
    fn wrong_magic_is_reported_with_both_numbers() {
        let mut bytes = header(2049, &[1, 1, 1]);
        bytes.push(0);
        match parse_idx_images(&bytes, "x.idx") {
            Err(DatasetError::IdxMagic {
                file,
                expected,
                found,
            }) => assert_eq!((file.as_str(), expected, found), ("x.idx", 2051, 2049)),
            other => panic!("expected IdxMagic, received {other:?}"),
        }
    }

    #[test]
    fn truncated_payload_and_header_are_reported() {
        let mut bytes = header(2049, &[3]);
        bytes.extend([1, 2]);
        match parse_idx_labels(&bytes, "l") {
            Err(DatasetError::IdxTruncated {
                expected, found, ..
            }) => assert_eq!((expected, found), (11, 10)),
            other => panic!("expected IdxTruncated, received {other:?}"),
        }
        assert!(matches!(
            parse_idx_images(&header(2051, &[1]), "i"),
            Err(DatasetError::IdxTruncated { .. })
        ));
    }
}
