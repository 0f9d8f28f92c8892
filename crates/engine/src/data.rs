//! Checking and batching the arrays given to fit / evaluate / predict.

use crate::error::{EngineError, Result};
use crate::inputs::Samples;
use ndarray::{ArrayD, Axis};
use rkeras_layers::Network;

/// Checks `x` against the model's inputs (count, per-sample shape, finite values) and `y`'s sample count;
/// returns the number of samples. `name` prefixes argument names (`x`, `validation_data.x`).
pub(crate) fn check_arrays<A: Samples>(
    network: &Network,
    x: &[A],
    y: Option<&ArrayD<f32>>,
    name: &str,
) -> Result<usize> {
    let inputs = network.inputs();
    if x.len() != inputs.len() {
        return Err(EngineError::invalid(
            name,
            format!(
                "the model has {} input(s), received {} array(s)",
                inputs.len(),
                x.len()
            ),
        ));
    }
    let n = x
        .first()
        .map(|a| a.sample_shape().first().copied().unwrap_or(0))
        .unwrap_or(0);
    for (i, (array, input)) in x.iter().zip(inputs).enumerate() {
        let arg = format!("{name}[{i}]");
        let shape = array.sample_shape();
        if shape.len() != input.shape().len() + 1 || &shape[1..] != input.shape() {
            return Err(EngineError::invalid(
                arg,
                format!(
                    "expected shape (samples, {:?}) for input `{}`, received {:?}",
                    input.shape(),
                    input.layer().name(),
                    shape
                ),
            ));
        }
        if shape[0] != n {
            return Err(EngineError::invalid(
                arg,
                format!("{} samples, but {name}[0] has {n}", shape[0]),
            ));
        }
        check_finite(array, &arg)?;
    }
    if let Some(y) = y {
        let arg = if name == "x" {
            "y".to_string()
        } else {
            name.replace('x', "y")
        };
        if y.shape().first().copied() != Some(n) {
            return Err(EngineError::invalid(
                arg,
                format!("{:?} samples, but x has {n}", y.shape().first()),
            ));
        }
        check_finite(y, &arg)?;
    }
    if n == 0 {
        return Err(EngineError::invalid(name, "the dataset is empty"));
    }
    Ok(n)
}

fn check_finite<A: Samples>(array: &A, arg: &str) -> Result<()> {
    let shape = array.sample_shape();
    let per_sample = shape.iter().product::<usize>() / shape.first().copied().unwrap_or(1).max(1);
    if let Some((pos, value)) = array.first_non_finite() {
        return Err(EngineError::invalid(
            arg,
            format!(
                "sample {} holds a non-finite value ({value})",
                pos / per_sample.max(1),
            ),
        ));
    }
    Ok(())
}

/// The rows `indices` of `array` (`array.select(Axis(0), indices)`; a row-major array's rows are copied
/// whole, one slice each, instead of through ndarray's general per-axis selection).
pub(crate) fn take_rows(array: &ArrayD<f32>, indices: &[usize]) -> ArrayD<f32> {
    take_whole_rows(array, indices, |v| v).unwrap_or_else(|| array.select(Axis(0), indices))
}

/// The rows `indices` of a row-major `array`, each row copied as one slice with its values made f32 by
/// `convert`; `None` when `array` is not row-major or empty, or an index is out of range (the caller's
/// `select` then takes the general path, and reports a bad index).
pub(crate) fn take_whole_rows<T: Copy>(
    array: &ArrayD<T>,
    indices: &[usize],
    convert: impl Fn(T) -> f32,
) -> Option<ArrayD<f32>> {
    let rows = array.shape().first().copied().unwrap_or(0);
    let (Some(values), true) = (array.as_slice(), rows > 0) else {
        return None;
    };
    let width = values.len() / rows;
    let mut taken = Vec::with_capacity(indices.len() * width);
    for &i in indices {
        taken.extend(
            values
                .get(i * width..(i + 1) * width)?
                .iter()
                .map(|&v| convert(v)),
        );
    }
    let mut shape = array.shape().to_vec();
    shape[0] = indices.len();
    ArrayD::from_shape_vec(ndarray::IxDyn(&shape), taken).ok()
}

/// Rows `start..end` of `array`.
pub(crate) fn row_range<T: Clone>(array: &ArrayD<T>, start: usize, end: usize) -> ArrayD<T> {
    array
        .slice_axis(Axis(0), ndarray::Slice::from(start..end))
        .to_owned()
}

/// Checks a batch size.
pub(crate) fn check_batch_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 {
        return Err(EngineError::invalid(
            "batch_size",
            "expected a positive integer, received 0",
        ));
    }
    Ok(())
}

/// A splitmix64 step: a well-mixed 64-bit value from a seed and a stream id.
pub(crate) fn mix_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A source's batch as tensors for a step: inputs and targets checked against the model and the losses (as
/// `fit` checks arrays), the targets reshaped as [`crate::validate::targets`] does, and the sample weights
/// checked. One target tensor per output.
pub(crate) fn batch_tensors(
    model: &crate::model::Model,
    batch: crate::source::Batch,
) -> Result<(
    Vec<rkeras_tensor::Tensor>,
    Vec<rkeras_tensor::Tensor>,
    Option<rkeras_tensor::Tensor>,
)> {
    use rkeras_tensor::Tensor;
    if batch.y.is_none() {
        return Err(EngineError::invalid(
            "y",
            "the source's batch holds no targets",
        ));
    }
    let ys = crate::validate::model_targets(model, &batch.x, &batch.targets(), "x", "fit")?;
    let n = ys.first().map_or(0, |y| y.shape()[0]);
    let weights = match batch.sample_weight {
        Some(w) => {
            check_sample_weight(&w, n)?;
            Some(Tensor::new(w.into_dyn()))
        }
        None => None,
    };
    let inputs = batch.x.into_iter().map(Tensor::new).collect();
    Ok((inputs, ys.into_iter().map(Tensor::new).collect(), weights))
}

/// Sample weights: one per sample, finite and `>= 0`.
pub(crate) fn check_sample_weight(w: &ndarray::Array1<f32>, n: usize) -> Result<()> {
    if w.len() != n {
        return Err(EngineError::invalid(
            "sample_weight",
            format!("{} weights for {n} samples", w.len()),
        ));
    }
    if let Some(bad) = w.iter().find(|v| !v.is_finite() || **v < 0.0) {
        return Err(EngineError::invalid(
            "sample_weight",
            format!("weights must be finite and >= 0, received {bad}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_rows_equals_ndarrays_selection() {
        let values: Vec<f32> = (0..60).map(|v| v as f32 * 0.5 - 3.0).collect();
        let cube = ArrayD::from_shape_vec(ndarray::IxDyn(&[5, 3, 4]), values.clone()).unwrap();
        let line = ArrayD::from_shape_vec(ndarray::IxDyn(&[60]), values).unwrap();
        let transposed = cube.t().to_owned();
        for indices in [vec![3, 0, 0, 2], vec![], vec![1]] {
            for array in [&cube, &line, &transposed] {
                assert_eq!(take_rows(array, &indices), array.select(Axis(0), &indices));
            }
        }
    }
}
