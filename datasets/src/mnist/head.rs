//! The first `n` examples of an MNIST split, read by streaming: the IDX header, then only the bytes of those
//! examples, so that a run on a few thousand images neither decompresses nor holds the other 55,000 (the whole
//! training file is 47 MB of bytes; read whole and parsed it peaked at twice that).
//!
//! ```
//! use rkeras_datasets::mnist::{load_split_head, write_idx_images, write_idx_labels};
//! let dir = std::env::temp_dir().join("rkeras_mnist_head_doc");
//! std::fs::create_dir_all(&dir)?;
//! let images = ndarray::Array3::<u8>::from_shape_fn((3, 28, 28), |(i, _, _)| i as u8);
//! write_idx_images(&dir.join("train-images-idx3-ubyte"), &images)?;
//! write_idx_labels(&dir.join("train-labels-idx1-ubyte"), &[4, 1, 7])?;
//! let head = load_split_head(&dir, "train", 2)?;
//! assert_eq!(head.images.shape(), &[2, 28, 28]);
//! assert_eq!((head.images[[1, 5, 5]], head.labels.to_vec()), (1, vec![4, 1]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::idx::{IMAGES_MAGIC, LABELS_MAGIC};
use super::{MnistSplit, find};
use crate::error::{DatasetError, Result};
use flate2::read::GzDecoder;
use ndarray::{Array1, Array3};
use std::io::{BufReader, Read};
use std::path::Path;

/// A reader of the file's bytes, gunzipped on the fly when it starts with the gzip magic bytes.
fn open(path: &Path) -> Result<Box<dyn Read>> {
    let io_error = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = BufReader::new(std::fs::File::open(path).map_err(io_error)?);
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut file, &mut magic).map_err(io_error)?;
    let start = std::io::Cursor::new(magic[..got].to_vec()).chain(file);
    Ok(if magic[..got] == [0x1f, 0x8b] {
        Box::new(BufReader::new(GzDecoder::new(start)))
    } else {
        Box::new(start)
    })
}

/// Fills as much of `buf` as the reader holds; the number of bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            got => filled += got,
        }
    }
    Ok(filled)
}

/// Reads exactly `len` bytes at byte `offset` of the file named `source`, or a truncation error saying how
/// many bytes the file had (the buffer grows as bytes arrive, so a damaged header's huge length allocates
/// nothing up front).
fn read_bytes(reader: &mut dyn Read, len: usize, offset: usize, source: &Path) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len.min(1 << 26));
    reader
        .take(len as u64)
        .read_to_end(&mut out)
        .map_err(|e| DatasetError::Io {
            path: source.to_path_buf(),
            source: e,
        })?;
    if out.len() != len {
        return Err(DatasetError::IdxTruncated {
            file: source.display().to_string(),
            expected: offset + len,
            found: offset + out.len(),
        });
    }
    Ok(out)
}

/// The header's big-endian `u32`s after the magic number, which is checked first (so that a wrong file is named
/// as such even when it is shorter than the header).
fn header(reader: &mut dyn Read, magic: u32, words: usize, source: &Path) -> Result<Vec<usize>> {
    let be_u32 = |w: &[u8]| u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
    let found = be_u32(&read_bytes(reader, 4, 0, source)?);
    if found != magic {
        return Err(DatasetError::IdxMagic {
            file: source.display().to_string(),
            expected: magic,
            found,
        });
    }
    let rest = read_bytes(reader, 4 * (words - 1), 4, source)?;
    Ok(rest.chunks_exact(4).map(|w| be_u32(w) as usize).collect())
}

/// The first `n` examples of split `prefix` (`train` or `t10k`) in `dir`, all of them when the split is
/// shorter. Only the header and those examples are read, so a file cut short after them is not noticed (use
/// [`super::load_split`] to check whole files).
///
/// # Errors
/// As [`super::load_split`]: a missing file, a wrong magic number, a file shorter than its header plus the
/// examples asked for.
pub fn load_split_head(dir: &Path, prefix: &str, n: usize) -> Result<MnistSplit> {
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let mut images_file = open(&images_path)?;
    let dims = header(&mut *images_file, IMAGES_MAGIC, 4, &images_path)?;
    let mut labels_file = open(&labels_path)?;
    let label_count = header(&mut *labels_file, LABELS_MAGIC, 2, &labels_path)?[0];
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if count != label_count {
        return Err(DatasetError::MnistCountMismatch {
            images_file: images_path,
            images: count,
            labels_file: labels_path,
            labels: label_count,
        });
    }
    let n = n.min(count);
    let len = n.saturating_mul(rows).saturating_mul(cols);
    let pixels = read_bytes(&mut *images_file, len, 16, &images_path)?;
    let labels = read_bytes(&mut *labels_file, n, 8, &labels_path)?;
    let images = Array3::from_shape_vec((n, rows, cols), pixels).map_err(|_| {
        DatasetError::IdxTruncated {
            file: images_path.display().to_string(),
            expected: 16 + len,
            found: 16,
        }
    })?;
    Ok(MnistSplit {
        images,
        labels: Array1::from(labels),
    })
}
