//! What the spatial reshaping layers share: the 1D/2D class names, Keras's `(before, after)` pairs per spatial
//! axis (`padding`, `cropping`) and the `channels_last` check.

use crate::error::{LayersError, Result};
use crate::serialization::ConfigReader;
use serde_json::{Value, json};

/// Reads `data_format`, which must be `channels_last` (or absent).
pub(crate) fn check_channels_last(reader: &ConfigReader<'_>, class: &str) -> Result<()> {
    let data_format = reader.str_or("data_format", "channels_last")?;
    if data_format != "channels_last" {
        return Err(LayersError::Config(format!(
            "{class} config: `data_format` \"{data_format}\" is not supported by rkeras (only \"channels_last\")"
        )));
    }
    Ok(())
}

fn as_usize(v: &Value) -> Option<usize> {
    v.as_u64().and_then(|n| usize::try_from(n).ok())
}

/// `(before, after)` for each of `dims` spatial axes from Keras's forms: `n`, `[a, b]` (1D), `[[a, b], [c, d]]`
/// or `[n, m]` (2D, symmetric per axis).
pub(crate) fn read_pairs(
    reader: &ConfigReader<'_>,
    class: &str,
    key: &str,
    dims: usize,
) -> Result<Vec<(usize, usize)>> {
    let value = reader
        .get(key)
        .ok_or_else(|| LayersError::Config(format!("{class} config: missing `{key}`")))?;
    let bad = || {
        LayersError::Config(format!(
            "{class} config: `{key}` must be an integer, a pair, or one pair per spatial axis ({dims}), received {value}"
        ))
    };
    if let Some(n) = as_usize(value) {
        return Ok(vec![(n, n); dims]);
    }
    let items = value.as_array().ok_or_else(bad)?;
    let pair = |v: &Value| -> Option<(usize, usize)> {
        if let Some(n) = as_usize(v) {
            return Some((n, n));
        }
        match v.as_array()?.as_slice() {
            [a, b] => Some((as_usize(a)?, as_usize(b)?)),
            _ => None,
        }
    };
    match (dims, items.as_slice()) {
        (1, [a, b]) => Ok(vec![(
            as_usize(a).ok_or_else(bad)?,
            as_usize(b).ok_or_else(bad)?,
        )]),
        (_, items) if items.len() == dims => {
            items.iter().map(|v| pair(v).ok_or_else(bad)).collect()
        }
        _ => Err(bad()),
    }
}

/// Keras's serialized form of the pairs: `[a, b]` in 1D, `[[a, b], [c, d]]` in 2D.
pub(crate) fn pairs_to_json(pairs: &[(usize, usize)]) -> Value {
    match pairs {
        [(a, b)] => json!([a, b]),
        _ => json!(pairs.iter().map(|(a, b)| [a, b]).collect::<Vec<_>>()),
    }
}

/// `Name1D` / `Name2D` for 1 or 2 spatial axes.
pub(crate) fn class_name(dims: usize, one: &'static str, two: &'static str) -> &'static str {
    if dims == 1 { one } else { two }
}
