//! Accuracy functions: exact match, binary (threshold), categorical, sparse categorical, top-k, sparse top-k.

use crate::error::{EngineError, Result};
use ndarray::{ArrayD, Axis, IxDyn};

/// The index of the largest value along the last axis (the first at ties, as argmax does).
pub(crate) fn argmax_last(values: &ArrayD<f32>) -> Vec<usize> {
    let axis = Axis(values.ndim().saturating_sub(1));
    values
        .lanes(axis)
        .into_iter()
        .map(|lane| {
            let mut best = 0;
            for (i, &v) in lane.iter().enumerate() {
                if v > lane[best] {
                    best = i;
                }
            }
            best
        })
        .collect()
}

fn rows_shape(values: &ArrayD<f32>) -> Vec<usize> {
    values.shape()[..values.ndim().saturating_sub(1)].to_vec()
}

fn matches(shape: Vec<usize>, hits: Vec<f32>) -> Result<ArrayD<f32>> {
    ArrayD::from_shape_vec(IxDyn(&shape), hits)
        .map_err(|e| EngineError::invalid("y_pred", e.to_string()))
}

/// Targets and predictions elementwise, `[batch]` against `[batch, 1]` reconciled as Keras does.
fn paired<'a>(
    y_true: &'a ArrayD<f32>,
    y_pred: &'a ArrayD<f32>,
) -> Result<(Vec<f32>, Vec<f32>, Vec<usize>)> {
    if y_true.len() != y_pred.len() {
        return Err(EngineError::invalid(
            "y_true",
            format!(
                "targets of shape {:?} do not pair with predictions of shape {:?}",
                y_true.shape(),
                y_pred.shape()
            ),
        ));
    }
    Ok((
        y_true.iter().copied().collect(),
        y_pred.iter().copied().collect(),
        y_pred.shape().to_vec(),
    ))
}

/// `y_true == y_pred` elementwise.
pub(crate) fn accuracy(y_true: &ArrayD<f32>, y_pred: &ArrayD<f32>) -> Result<ArrayD<f32>> {
    let (t, p, shape) = paired(y_true, y_pred)?;
    matches(
        shape,
        t.iter().zip(&p).map(|(a, b)| f32::from(a == b)).collect(),
    )
}

/// `y_true == (y_pred > threshold)` elementwise.
pub(crate) fn binary_accuracy(
    y_true: &ArrayD<f32>,
    y_pred: &ArrayD<f32>,
    threshold: f32,
) -> Result<ArrayD<f32>> {
    let (t, p, shape) = paired(y_true, y_pred)?;
    matches(
        shape,
        t.iter()
            .zip(&p)
            .map(|(&a, &b)| f32::from(a == f32::from(b > threshold)))
            .collect(),
    )
}

/// `argmax(y_true) == argmax(y_pred)` per position.
pub(crate) fn categorical_accuracy(
    y_true: &ArrayD<f32>,
    y_pred: &ArrayD<f32>,
) -> Result<ArrayD<f32>> {
    let (t, p) = (argmax_last(y_true), argmax_last(y_pred));
    if t.len() != p.len() {
        return Err(EngineError::invalid(
            "y_true",
            format!(
                "one-hot targets of shape {:?} for predictions of shape {:?}",
                y_true.shape(),
                y_pred.shape()
            ),
        ));
    }
    matches(
        rows_shape(y_pred),
        t.iter().zip(&p).map(|(a, b)| f32::from(a == b)).collect(),
    )
}

/// `y_true == argmax(y_pred)` per position (labels `[batch, …]` or with a trailing 1).
pub(crate) fn sparse_categorical_accuracy(
    y_true: &ArrayD<f32>,
    y_pred: &ArrayD<f32>,
) -> Result<ArrayD<f32>> {
    let p = argmax_last(y_pred);
    if y_true.len() != p.len() {
        return Err(EngineError::invalid(
            "y_true",
            format!(
                "class ids of shape {:?} for predictions of shape {:?}",
                y_true.shape(),
                y_pred.shape()
            ),
        ));
    }
    matches(
        rows_shape(y_pred),
        y_true
            .iter()
            .zip(&p)
            .map(|(&t, &p)| f32::from(t == p as f32))
            .collect(),
    )
}

/// Whether `target` is among the `k` largest of `row` (TensorFlow's `in_top_k`: ties with the k-th value count).
fn in_top_k(row: &[f32], target: usize, k: usize) -> bool {
    let Some(&value) = row.get(target) else {
        return false;
    };
    if !value.is_finite() {
        return false;
    }
    row.iter().filter(|&&v| v > value).count() < k
}

/// Whether the true class is among the `k` highest predictions, per position.
pub(crate) fn top_k_categorical_accuracy(
    y_true: &ArrayD<f32>,
    y_pred: &ArrayD<f32>,
    k: usize,
) -> Result<ArrayD<f32>> {
    let labels: Vec<f32> = argmax_last(y_true).into_iter().map(|v| v as f32).collect();
    top_k(&labels, y_pred, k)
}

/// Whether the class id is among the `k` highest predictions, per position.
pub(crate) fn sparse_top_k_categorical_accuracy(
    y_true: &ArrayD<f32>,
    y_pred: &ArrayD<f32>,
    k: usize,
) -> Result<ArrayD<f32>> {
    let labels: Vec<f32> = y_true.iter().copied().collect();
    top_k(&labels, y_pred, k)
}

/// Whether the class id is among the first `k` ids of each row of `y_pred`, which holds category ids sorted
/// from the highest score down (Keras's `from_sorted_ids=True`).
pub(crate) fn sorted_ids_top_k_accuracy(
    y_true: &ArrayD<f32>,
    y_pred: &ArrayD<f32>,
    k: usize,
) -> Result<ArrayD<f32>> {
    let labels: Vec<f32> = y_true.iter().copied().collect();
    let flat: Vec<f32> = y_pred.iter().copied().collect();
    let rows = rows_of(&labels, &flat, y_pred.shape())?;
    let hits = rows
        .iter()
        .zip(&labels)
        .map(|(row, &t)| f32::from(row.iter().take(k).any(|&id| id == t)))
        .collect();
    matches(rows_shape(y_pred), hits)
}

/// `y_pred`'s rows along the last axis, one per label.
fn rows_of<'a>(labels: &[f32], flat: &'a [f32], shape: &[usize]) -> Result<Vec<&'a [f32]>> {
    let classes = shape.last().copied().unwrap_or(1).max(1);
    let rows: Vec<&[f32]> = flat.chunks(classes).collect();
    if rows.len() != labels.len() {
        return Err(EngineError::invalid(
            "y_true",
            format!(
                "{} targets for {} rows of predictions of shape {:?}",
                labels.len(),
                rows.len(),
                shape
            ),
        ));
    }
    Ok(rows)
}

fn top_k(labels: &[f32], y_pred: &ArrayD<f32>, k: usize) -> Result<ArrayD<f32>> {
    let flat: Vec<f32> = y_pred.iter().copied().collect();
    let rows = rows_of(labels, &flat, y_pred.shape())?;
    let hits = rows
        .iter()
        .zip(labels)
        .map(|(row, &t)| f32::from(t >= 0.0 && in_top_k(row, t as usize, k)))
        .collect();
    matches(rows_shape(y_pred), hits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, arr2};

    #[test]
    fn accuracies_count_hits() {
        let pred = arr2(&[[0.1f32, 0.9, 0.0], [0.5, 0.2, 0.3], [0.3, 0.3, 0.4]]).into_dyn();
        let ids = arr1(&[1.0f32, 2.0, 0.0]).into_dyn();
        assert_eq!(
            sparse_categorical_accuracy(&ids, &pred)
                .unwrap()
                .as_slice()
                .unwrap(),
            &[1.0, 0.0, 0.0]
        );
        // The third row's 0.3 ties the second-largest value: TensorFlow's in_top_k counts it.
        assert_eq!(
            sparse_top_k_categorical_accuracy(&ids, &pred, 2)
                .unwrap()
                .as_slice()
                .unwrap(),
            &[1.0, 1.0, 1.0]
        );
        let bin = arr2(&[[0.2f32], [0.6]]).into_dyn();
        let t = arr2(&[[0.0f32], [0.0]]).into_dyn();
        assert_eq!(
            binary_accuracy(&t, &bin, 0.5).unwrap().as_slice().unwrap(),
            &[1.0, 0.0]
        );
        assert_eq!(
            binary_accuracy(&t, &bin, 0.7).unwrap().as_slice().unwrap(),
            &[1.0, 1.0]
        );
    }
}
