//! Reading Keras's `reuters.npz`: `x.npy` is a pickled NumPy object array of Python lists of ints, `y.npy` an
//! integer array. `npyz` opens the archive and reads typed arrays; object arrays, which `npyz` does not
//! read, are unpickled with `serde-pickle`.

use crate::error::{DatasetError, Result};
use npyz::npz::NpzArchive;
use serde_pickle::{DeOptions, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

/// An opened `.npz` archive and its path, for error messages.
pub(crate) struct Npz {
    path: PathBuf,
    archive: NpzArchive<std::io::BufReader<std::fs::File>>,
}

impl Npz {
    /// Opens the archive.
    pub(crate) fn open(path: &Path) -> Result<Npz> {
        let archive = NpzArchive::open(path).map_err(|source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Npz {
            path: path.to_path_buf(),
            archive,
        })
    }

    /// A 1-D integer array (`y.npy`) as `i64`s.
    pub(crate) fn integers(&mut self, name: &str) -> Result<Vec<i64>> {
        let error = member_error(&self.path, name);
        let array = match self.archive.by_name(name) {
            Ok(Some(array)) => array,
            Ok(None) => return Err(error("no such member".into())),
            Err(e) => return Err(error(e.to_string())),
        };
        if array.shape().len() != 1 {
            let shape = array.shape().to_vec();
            return Err(error(format!(
                "expected a 1-D array, found shape {shape:?}"
            )));
        }
        array
            .into_vec::<i64>()
            .map_err(|e| error(format!("expected integers: {e}")))
    }

    /// A 1-D object array of lists of non-negative integers (`x.npy`), unpickled.
    pub(crate) fn integer_lists(&mut self, name: &str) -> Result<Vec<Vec<usize>>> {
        let error = member_error(&self.path, name);
        let mut bytes = Vec::new();
        match self.archive.zip_archive().by_name(&format!("{name}.npy")) {
            Ok(mut member) => member
                .read_to_end(&mut bytes)
                .map_err(|e| error(e.to_string()))?,
            Err(e) => return Err(error(e.to_string())),
        };
        let body = pickle_body(&bytes).map_err(&error)?;
        let value = serde_pickle::value_from_slice(
            body,
            DeOptions::new()
                .replace_unresolved_globals()
                .keep_restore_state(),
        )
        .map_err(|e| error(format!("cannot unpickle the object array: {e}")))?;
        object_array_lists(value).map_err(error)
    }
}

/// A builder of [`DatasetError::Npz`] for one member of the archive at `path`.
fn member_error<'a>(path: &'a Path, name: &'a str) -> impl Fn(String) -> DatasetError + 'a {
    move |reason| DatasetError::Npz {
        file: path.to_path_buf(),
        member: format!("{name}.npy"),
        reason,
    }
}

/// The pickle stream after an `.npy` header whose dtype is `|O`, or why the bytes are not that.
fn pickle_body(bytes: &[u8]) -> std::result::Result<&[u8], String> {
    const MAGIC: &[u8] = b"\x93NUMPY";
    if !bytes.starts_with(MAGIC) || bytes.len() < 10 {
        return Err("not an .npy array (no \\x93NUMPY magic)".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (len as usize, 12)
        }
        version => return Err(format!("unsupported .npy version {version}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or("truncated .npy header")?;
    let header = String::from_utf8_lossy(header);
    if !header.contains("'descr': '|O'") {
        return Err(format!(
            "expected an object array (dtype '|O') of lists, found header {}",
            crate::error::quote(header.trim())
        ));
    }
    Ok(&bytes[start + header_len..])
}

/// The lists held by an unpickled NumPy object array. NumPy pickles an array as
/// `_reconstruct(ndarray, (0,), b'b')` whose state is `(version, shape, dtype, fortran_order, items)`; the
/// unpickler keeps that state tuple.
fn object_array_lists(value: Value) -> std::result::Result<Vec<Vec<usize>>, String> {
    let Value::Tuple(state) = value else {
        return Err("the pickle does not hold a NumPy array's state".into());
    };
    let [_, Value::Tuple(shape), _, _, Value::List(items)] = state.as_slice() else {
        return Err(
            "the pickle does not hold a NumPy array's state (version, shape, dtype, order, items)"
                .into(),
        );
    };
    if shape.len() != 1 || !matches!(shape[0], Value::I64(n) if n as usize == items.len()) {
        return Err(format!(
            "expected a 1-D array of {} lists, found shape {shape:?}",
            items.len()
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(row, item)| match item {
            Value::List(words) => words
                .iter()
                .map(|word| match word {
                    Value::I64(w) if *w >= 0 => Ok(*w as usize),
                    other => Err(format!(
                        "row {row}: expected a non-negative int, found {other:?}"
                    )),
                })
                .collect(),
            other => Err(format!(
                "row {row}: expected a list of ints, found {}",
                kind(other)
            )),
        })
        .collect()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::None => "None",
        Value::Bool(_) => "a bool",
        Value::I64(_) | Value::Int(_) => "an int",
        Value::F64(_) => "a float",
        Value::Bytes(_) => "bytes",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Tuple(_) => "a tuple",
        Value::Set(_) | Value::FrozenSet(_) => "a set",
        Value::Dict(_) => "a dict",
    }
}
