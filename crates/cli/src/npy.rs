//! Reading and writing `.npy` arrays (npyz): any numeric dtype in, float32 out.

use crate::error::{CliError, Result, existing};
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use npyz::WriterBuilder;
use std::path::Path;

fn bad(path: &Path, reason: impl ToString) -> CliError {
    CliError::BadFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Reads a `.npy` file of floats, integers or booleans as float32.
pub fn read(path: &Path) -> Result<ArrayD<f32>> {
    existing(path)?;
    let file = std::fs::File::open(path).map_err(|e| bad(path, e))?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file))
        .map_err(|e| bad(path, format!("not a .npy file: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let order = npy.order();
    let npyz::DType::Plain(type_str) = npy.dtype() else {
        return Err(bad(path, "a structured array; expected a numeric one"));
    };
    let descr = type_str.to_string();
    let kind = &descr[1..];
    let read_err = |e: std::io::Error| bad(path, e);
    let data: Vec<f32> = match kind {
        "f4" => npy.into_vec::<f32>().map_err(read_err)?,
        "f8" => npy
            .into_vec::<f64>()
            .map_err(read_err)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        "i8" => npy
            .into_vec::<i64>()
            .map_err(read_err)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        "i4" => npy
            .into_vec::<i32>()
            .map_err(read_err)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        "u1" | "b1" => npy
            .into_vec::<u8>()
            .map_err(read_err)?
            .into_iter()
            .map(f32::from)
            .collect(),
        other => {
            return Err(bad(
                path,
                format!(
                    "dtype {other} is not supported (use float32, float64, int32, int64, uint8 or bool)"
                ),
            ));
        }
    };
    let array = match order {
        npyz::Order::C => ArrayD::from_shape_vec(IxDyn(&shape), data),
        npyz::Order::Fortran => ArrayD::from_shape_vec(IxDyn(&shape).f(), data),
    };
    array.map_err(|e| bad(path, e))
}

/// Writes `array` as a float32 `.npy` file.
pub fn write(path: &Path, array: &ArrayD<f32>) -> Result<()> {
    let write_err = |source: std::io::Error| CliError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(write_err)?);
    let shape: Vec<u64> = array.shape().iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(&mut file)
        .begin_nd()
        .map_err(write_err)?;
    writer.extend(array.iter().copied()).map_err(write_err)?;
    writer.finish().map_err(write_err)
}
