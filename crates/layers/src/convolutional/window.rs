//! What convolution and pooling layers share: Keras's `padding`, `data_format` and size tuples (an integer or
//! a list of one per spatial axis) read from configs and checked, and the 1-D case run as 2-D of height 1.

use crate::error::{LayersError, Result};
use crate::serialization::ConfigReader;
use rkeras_tensor::kernels::ConvPadding;
use serde_json::Value;

/// Parses Keras's `padding` name; `causal` only where `allow_causal` (Conv1D).
pub(crate) fn padding_from_name(
    class: &'static str,
    name: &str,
    allow_causal: bool,
) -> Result<ConvPadding> {
    match name.to_ascii_lowercase().as_str() {
        "valid" => Ok(ConvPadding::Valid),
        "same" => Ok(ConvPadding::Same),
        "causal" if allow_causal => Ok(ConvPadding::Causal),
        _ => Err(LayersError::InvalidArgument {
            class,
            argument: "padding",
            reason: format!(
                "expected one of {}, received {name:?}",
                if allow_causal {
                    "\"valid\", \"same\", \"causal\""
                } else {
                    "\"valid\", \"same\""
                }
            ),
        }),
    }
}

/// Checks Keras's `data_format`: only `channels_last` is implemented.
pub(crate) fn check_data_format(class: &'static str, format: &str) -> Result<()> {
    if format == "channels_last" {
        return Ok(());
    }
    Err(LayersError::InvalidArgument {
        class,
        argument: "data_format",
        reason: format!(
            "rkeras implements \"channels_last\" (Keras's default) only, received {format:?}; transpose the \
             input to (batch, …, channels) instead"
        ),
    })
}

/// A size tuple of `rank` positive entries, checked.
pub(crate) fn check_tuple(
    class: &'static str,
    argument: &'static str,
    values: &[usize],
    rank: usize,
) -> Result<()> {
    if values.len() != rank || values.contains(&0) {
        return Err(LayersError::InvalidArgument {
            class,
            argument,
            reason: format!("expected {rank} positive integer(s), received {values:?}"),
        });
    }
    Ok(())
}

/// Reads `key` as an integer (repeated `rank` times) or a list of `rank` integers; `None` when absent.
pub(crate) fn read_tuple(
    reader: &ConfigReader<'_>,
    class: &'static str,
    key: &'static str,
    rank: usize,
) -> Result<Option<Vec<usize>>> {
    let Some(value) = reader.get(key) else {
        return Ok(None);
    };
    let bad = || {
        LayersError::Config(format!(
            "{class} config: `{key}` must be an integer or a list of {rank} integers, received {value}"
        ))
    };
    let as_usize = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
    let values = match value {
        Value::Array(items) => items
            .iter()
            .map(|v| as_usize(v).ok_or_else(bad))
            .collect::<Result<Vec<_>>>()?,
        v => vec![as_usize(v).ok_or_else(bad)?; rank],
    };
    if values.len() != rank {
        return Err(bad());
    }
    Ok(Some(values))
}

/// The 2-D `[height, width]` form of a 1- or 2-entry size tuple (height 1 for 1-D layers).
pub(crate) fn as_2d(values: &[usize], one: usize) -> [usize; 2] {
    match values {
        [w] => [one, *w],
        [h, w, ..] => [*h, *w],
        [] => [one, one],
    }
}

/// The 4-D `[n, h, w, c]` shape of a batch of rank-1 (`[n, steps, c]`) or rank-2 spatial inputs.
pub(crate) fn as_4d(shape: &[usize]) -> Option<[usize; 4]> {
    match *shape {
        [n, steps, c] => Some([n, 1, steps, c]),
        [n, h, w, c] => Some([n, h, w, c]),
        _ => None,
    }
}
