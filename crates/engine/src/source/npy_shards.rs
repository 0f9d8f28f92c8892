//! [`NpyShards`]: a directory of `.npy` shards, one batch per shard, read when asked for.

use super::{Batch, Dataset};
use crate::error::{EngineError, Result};
use ndarray::{ArrayD, IxDyn};
use std::path::{Path, PathBuf};

/// A directory of shards `<name>_x.npy` (inputs, float32, `[batch, ...]`) each with an optional
/// `<name>_y.npy` (targets); shard `i` (in file-name order) is batch `i`, read from disk only when asked for.
///
/// ```no_run
/// use rkeras_engine::source::{DataSource, NpyShards};
/// let shards = NpyShards::open("data/train")?;
/// let source = DataSource::dataset(shards);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub struct NpyShards {
    shards: Vec<(PathBuf, Option<PathBuf>)>,
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> EngineError {
    EngineError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

impl NpyShards {
    /// The shards of `dir` (an error if it cannot be listed or holds no `*_x.npy`).
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let entries = std::fs::read_dir(dir).map_err(|e| file_error(dir, e))?;
        let mut inputs = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| file_error(dir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if let Some(stem) = name.strip_suffix("_x.npy") {
                let targets = path.with_file_name(format!("{stem}_y.npy"));
                inputs.push((path.clone(), targets.exists().then_some(targets)));
            }
        }
        if inputs.is_empty() {
            return Err(file_error(dir, "holds no `*_x.npy` shard"));
        }
        inputs.sort();
        Ok(NpyShards { shards: inputs })
    }
}

/// Reads a float32 `.npy` file.
pub(crate) fn read_npy(path: &Path) -> Result<ArrayD<f32>> {
    let file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file)).map_err(|e| file_error(path, e))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let order = npy.order();
    let data: Vec<f32> = npy
        .into_vec()
        .map_err(|e| file_error(path, format!("{e} (shards must hold float32)")))?;
    let array = match order {
        npyz::Order::C => ArrayD::from_shape_vec(IxDyn(&shape), data),
        npyz::Order::Fortran => {
            use ndarray::ShapeBuilder;
            ArrayD::from_shape_vec(IxDyn(&shape).f(), data)
        }
    };
    array.map_err(|e| file_error(path, e))
}

impl Dataset for NpyShards {
    fn len(&self) -> usize {
        self.shards.len()
    }

    fn get(&mut self, index: usize) -> Result<Batch> {
        let (x, y) = self.shards.get(index).ok_or_else(|| {
            EngineError::invalid("index", format!("shard {index} of {}", self.shards.len()))
        })?;
        let x = read_npy(x)?;
        let y = y.as_deref().map(read_npy).transpose()?;
        Ok(Batch {
            x: vec![x],
            y,
            more_y: Vec::new(),
            sample_weight: None,
        })
    }
}
