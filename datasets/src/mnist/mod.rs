//! MNIST as Keras's `keras.datasets.mnist.load_data()` returns it: `uint8` images `(n, 28, 28)` and `uint8`
//! labels `(n,)`, 60 000 for training and 10 000 for testing, read from the four original IDX files (gzipped
//! or not) in a directory given by `--data DIR` or the `MNIST_DIR` environment variable.
//!
//! ```
//! use rkeras_datasets::mnist::{load_mnist, write_idx_images, write_idx_labels};
//! let dir = std::env::temp_dir().join("rkeras_mnist_doc");
//! std::fs::create_dir_all(&dir)?;
//! let images = ndarray::Array3::<u8>::from_elem((2, 28, 28), 255);
//! for split in ["train", "t10k"] {
//!     write_idx_images(&dir.join(format!("{split}-images-idx3-ubyte")), &images)?;
//!     write_idx_labels(&dir.join(format!("{split}-labels-idx1-ubyte")), &[3, 9])?;
//! }
//! let mnist = load_mnist(&dir)?;
//! assert_eq!(mnist.train.images.shape(), &[2, 28, 28]);
//! assert_eq!(mnist.test.labels.to_vec(), vec![3, 9]);
//! // Scaled to [0, 1] and flattened, as the MLP example feeds them.
//! assert_eq!(mnist.test.images_f32(true).shape(), &[2, 784]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod head;
mod idx;

pub use head::load_split_head;
pub use idx::{IMAGES_MAGIC, LABELS_MAGIC, parse_idx_images, parse_idx_labels, read_maybe_gzipped};

use crate::error::{DatasetError, Result};
use ndarray::{Array1, Array2, Array3, ArrayD, Axis, IxDyn};
use std::path::{Path, PathBuf};

/// The environment variable naming the MNIST directory.
pub const MNIST_DIR_ENV: &str = "MNIST_DIR";

/// One split: images `(n, rows, cols)` and labels `(n,)`, both unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MnistSplit {
    /// Pixel values 0 (background) to 255 (full ink).
    pub images: Array3<u8>,
    /// Digits 0-9.
    pub labels: Array1<u8>,
}

/// The training and test splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mnist {
    /// 60 000 images in the original files.
    pub train: MnistSplit,
    /// 10 000 images in the original files.
    pub test: MnistSplit,
}

impl MnistSplit {
    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The first `n` examples (all of them when `n` is larger).
    pub fn head(&self, n: usize) -> MnistSplit {
        let n = n.min(self.len());
        MnistSplit {
            images: self.images.slice_axis(Axis(0), (0..n).into()).to_owned(),
            labels: self.labels.slice_axis(Axis(0), (0..n).into()).to_owned(),
        }
    }

    /// Images as `f32 / 255`: `(n, rows·cols)` when `flatten`, else `(n, rows, cols, 1)` (channels last).
    pub fn images_f32(&self, flatten: bool) -> ArrayD<f32> {
        let (n, rows, cols) = self.images.dim();
        let values: Vec<f32> = self.images.iter().map(|&p| f32::from(p) / 255.0).collect();
        let shape: Vec<usize> = if flatten {
            vec![n, rows * cols]
        } else {
            vec![n, rows, cols, 1]
        };
        ArrayD::from_shape_vec(IxDyn(&shape), values)
            .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape)))
    }

    /// The images as bytes in [`MnistSplit::images_f32`]'s shape: `(n, rows·cols)` when `flatten`, else
    /// `(n, rows, cols, 1)` (for an input that scales them per batch, a quarter of the f32 array's size).
    pub fn images_u8(&self, flatten: bool) -> ArrayD<u8> {
        let (n, rows, cols) = self.images.dim();
        let shape: Vec<usize> = if flatten {
            vec![n, rows * cols]
        } else {
            vec![n, rows, cols, 1]
        };
        let values = self.images.iter().copied().collect();
        ArrayD::from_shape_vec(IxDyn(&shape), values)
            .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape)))
    }

    /// Labels as `f32` class ids `(n,)` (for sparse categorical losses).
    pub fn labels_f32(&self) -> Array1<f32> {
        self.labels.mapv(f32::from)
    }

    /// Labels one-hot encoded `(n, classes)` (Keras's `to_categorical`).
    pub fn labels_one_hot(&self, classes: usize) -> Array2<f32> {
        let mut out = Array2::zeros((self.len(), classes));
        for (row, &label) in self.labels.iter().enumerate() {
            if let Some(v) = out.get_mut((row, usize::from(label))) {
                *v = 1.0;
            }
        }
        out
    }
}

/// The directory given on the command line, else `MNIST_DIR`, else an error saying how to name one.
pub fn mnist_dir(cli: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = cli {
        return Ok(dir.to_path_buf());
    }
    std::env::var_os(MNIST_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| DatasetError::InvalidArgument {
            op: "mnist",
            reason: format!("no data directory: pass --data DIR or set {MNIST_DIR_ENV}"),
        })
}

/// The file for `stem` (e.g. `train-images-idx3-ubyte`) in `dir`: `stem.gz`, `stem`, or the dotted spelling
/// `train-images.idx3-ubyte[.gz]`.
fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    let dotted = stem.replacen("-idx", ".idx", 1);
    let candidates = [
        format!("{stem}.gz"),
        stem.to_string(),
        format!("{dotted}.gz"),
        dotted,
    ];
    candidates
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| DatasetError::MissingMnistFile {
            file: format!("{stem}[.gz]"),
            dir: dir.to_path_buf(),
        })
}

/// Reads one split (`train` or `t10k`) and checks that images and labels agree in number.
pub fn load_split(dir: &Path, prefix: &str) -> Result<MnistSplit> {
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = parse_idx_images(
        &read_maybe_gzipped(&images_path)?,
        &images_path.display().to_string(),
    )?;
    let labels = parse_idx_labels(
        &read_maybe_gzipped(&labels_path)?,
        &labels_path.display().to_string(),
    )?;
    if images.len_of(Axis(0)) != labels.len() {
        return Err(DatasetError::MnistCountMismatch {
            images_file: images_path,
            images: images.len_of(Axis(0)),
            labels_file: labels_path,
            labels: labels.len(),
        });
    }
    Ok(MnistSplit { images, labels })
}

/// Reads the four files of `dir` (`train-…` and `t10k-…`).
pub fn load_mnist(dir: &Path) -> Result<Mnist> {
    Ok(Mnist {
        train: load_split(dir, "train")?,
        test: load_split(dir, "t10k")?,
    })
}

/// Writes images as an uncompressed IDX file (for tests and small subsets).
pub fn write_idx_images(path: &Path, images: &Array3<u8>) -> Result<()> {
    let (n, rows, cols) = images.dim();
    let mut bytes = Vec::with_capacity(16 + images.len());
    for v in [IMAGES_MAGIC, n as u32, rows as u32, cols as u32] {
        bytes.extend(v.to_be_bytes());
    }
    bytes.extend(images.iter());
    std::fs::write(path, bytes).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes labels as an uncompressed IDX file.
pub fn write_idx_labels(path: &Path, labels: &[u8]) -> Result<()> {
    let mut bytes = Vec::with_capacity(8 + labels.len());
    for v in [LABELS_MAGIC, labels.len() as u32] {
        bytes.extend(v.to_be_bytes());
    }
    bytes.extend(labels);
    std::fs::write(path, bytes).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })
}
