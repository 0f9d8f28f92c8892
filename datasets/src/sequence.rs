//! Keras's sequence utilities: `pad_sequences` and `to_categorical`.

use crate::error::{DatasetError, Result};
use ndarray::Array2;

/// Where `pad_sequences` pads or truncates: at the start (`Pre`, Keras's default) or at the end (`Post`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Side {
    /// At the start of the sequence (Keras's `"pre"`, the default).
    #[default]
    Pre,
    /// At the end of the sequence (Keras's `"post"`).
    Post,
}

impl Side {
    /// Keras's name (`"pre"` or `"post"`), or an error naming the value.
    pub fn from_name(argument: &str, name: &str) -> Result<Side> {
        match name {
            "pre" => Ok(Side::Pre),
            "post" => Ok(Side::Post),
            other => Err(DatasetError::InvalidArgument {
                op: "pad_sequences",
                reason: format!("`{argument}` must be \"pre\" or \"post\", received {other:?}"),
            }),
        }
    }
}

/// Options of [`pad_sequences`], Keras's defaults by [`Default`].
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct PadOptions {
    /// The length of every row; `None` (the default) takes the longest sequence's.
    pub maxlen: Option<usize>,
    /// Where padding goes. Defaults to [`Side::Pre`].
    pub padding: Side,
    /// Which end of a too-long sequence is cut. Defaults to [`Side::Pre`] (keep the last `maxlen` values).
    pub truncating: Side,
    /// The padding value. Defaults to 0.
    pub value: f32,
}

/// Keras's `keras.utils.pad_sequences`: every sequence as one row of length `maxlen`, padded and truncated
/// on the chosen sides. Keras returns `int32` by default; the values here are the same numbers as `f32`, the
/// type rkeras models take.
///
/// ```
/// use rkeras_datasets::sequence::{pad_sequences, PadOptions, Side};
/// let rows = pad_sequences(&[vec![1, 2, 3], vec![4, 5]], PadOptions::default());
/// assert_eq!(rows.row(1).to_vec(), vec![0.0, 4.0, 5.0]);
/// let post = PadOptions { maxlen: Some(2), padding: Side::Post, truncating: Side::Post, value: -1.0 };
/// assert_eq!(pad_sequences(&[vec![1, 2, 3]], post).row(0).to_vec(), vec![1.0, 2.0]);
/// ```
pub fn pad_sequences<T: Copy + Into<f64>>(
    sequences: &[Vec<T>],
    options: PadOptions,
) -> Array2<f32> {
    let maxlen = options
        .maxlen
        .unwrap_or_else(|| sequences.iter().map(Vec::len).max().unwrap_or(0));
    let mut rows = Array2::from_elem((sequences.len(), maxlen), options.value);
    for (mut row, sequence) in rows.outer_iter_mut().zip(sequences) {
        let kept = match options.truncating {
            Side::Pre => &sequence[sequence.len().saturating_sub(maxlen)..],
            Side::Post => &sequence[..sequence.len().min(maxlen)],
        };
        let start = match options.padding {
            Side::Pre => maxlen - kept.len(),
            Side::Post => 0,
        };
        for (slot, &value) in row.iter_mut().skip(start).zip(kept) {
            *slot = value.into() as f32;
        }
    }
    rows
}

/// Keras's `keras.utils.to_categorical`: one row per label with a 1 in the label's column. `num_classes`
/// defaults to the largest label + 1; a label beyond it is an error naming the label.
///
/// ```
/// use rkeras_datasets::sequence::to_categorical;
/// let one_hot = to_categorical(&[0, 2, 1], None)?;
/// assert_eq!(one_hot.row(1).to_vec(), vec![0.0, 0.0, 1.0]);
/// # Ok::<(), rkeras_datasets::DatasetError>(())
/// ```
pub fn to_categorical(labels: &[usize], num_classes: Option<usize>) -> Result<Array2<f32>> {
    let classes =
        num_classes.unwrap_or_else(|| labels.iter().max().map_or(0, |&largest| largest + 1));
    let mut one_hot = Array2::zeros((labels.len(), classes));
    for (row, &label) in labels.iter().enumerate() {
        if label >= classes {
            return Err(DatasetError::InvalidArgument {
                op: "to_categorical",
                reason: format!("label {label} at row {row} is not below num_classes={classes}"),
            });
        }
        one_hot[[row, label]] = 1.0;
    }
    Ok(one_hot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(a: &Array2<f32>) -> Vec<Vec<f32>> {
        a.outer_iter().map(|r| r.to_vec()).collect()
    }

    fn keras(expected: &[&[i32]]) -> Vec<Vec<f32>> {
        expected
            .iter()
            .map(|r| r.iter().map(|&v| v as f32).collect())
            .collect()
    }

    /// Expected rows printed by Keras 3.15 (`scripts/keras_sequence_golden.py`).
    #[test]
    fn pad_sequences_matches_keras() {
        let s: Vec<Vec<u32>> = vec![vec![1, 2, 3], vec![4, 5], vec![6, 7, 8, 9, 10], vec![]];
        let with = |maxlen, padding, truncating, value| PadOptions {
            maxlen,
            padding,
            truncating,
            value,
        };
        let cases: [(PadOptions, &[&[i32]]); 5] = [
            (
                PadOptions::default(),
                &[
                    &[0, 0, 1, 2, 3],
                    &[0, 0, 0, 4, 5],
                    &[6, 7, 8, 9, 10],
                    &[0, 0, 0, 0, 0],
                ],
            ),
            (
                with(Some(4), Side::Pre, Side::Pre, 0.0),
                &[&[0, 1, 2, 3], &[0, 0, 4, 5], &[7, 8, 9, 10], &[0, 0, 0, 0]],
            ),
            (
                with(Some(4), Side::Post, Side::Pre, 0.0),
                &[&[1, 2, 3, 0], &[4, 5, 0, 0], &[7, 8, 9, 10], &[0, 0, 0, 0]],
            ),
            (
                with(Some(4), Side::Pre, Side::Post, 0.0),
                &[&[0, 1, 2, 3], &[0, 0, 4, 5], &[6, 7, 8, 9], &[0, 0, 0, 0]],
            ),
            (
                with(Some(2), Side::Post, Side::Post, -1.0),
                &[&[1, 2], &[4, 5], &[6, 7], &[-1, -1]],
            ),
        ];
        for (options, expected) in cases {
            assert_eq!(
                rows(&pad_sequences(&s, options)),
                keras(expected),
                "{options:?}"
            );
        }
        assert_eq!(
            pad_sequences::<u32>(&[], PadOptions::default()).dim(),
            (0, 0)
        );
        assert!(
            Side::from_name("padding", "middle")
                .unwrap_err()
                .to_string()
                .contains("middle")
        );
        assert_eq!(Side::from_name("truncating", "post").unwrap(), Side::Post);
    }

    #[test]
    fn to_categorical_matches_keras() {
        assert_eq!(
            rows(&to_categorical(&[0, 2, 1, 2], None).unwrap()),
            vec![
                vec![1.0, 0.0, 0.0],
                vec![0.0, 0.0, 1.0],
                vec![0.0, 1.0, 0.0],
                vec![0.0, 0.0, 1.0]
            ]
        );
        assert_eq!(
            rows(&to_categorical(&[1, 0], Some(4)).unwrap()),
            vec![vec![0.0, 1.0, 0.0, 0.0], vec![1.0, 0.0, 0.0, 0.0]]
        );
        let error = to_categorical(&[1, 5], Some(4)).unwrap_err().to_string();
        assert!(
            error.contains("label 5") && error.contains("row 1"),
            "{error}"
        );
    }
}
