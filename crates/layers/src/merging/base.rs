//! What the elementwise merge layers (`Add`, `Multiply`, `Subtract`, `Average`, `Maximum`, `Minimum`)
//! share: Keras's broadcasting of the input shapes and the fold over the inputs.
//!
//! Keras's rule (`Merge._compute_elemwise_op_output_shape`): shapes without the batch axis are aligned on
//! the right; along each axis the sizes must be equal or one of them 1. An input of lower rank gets size-1
//! axes inserted right after the batch axis.

use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::layer::{Layer, Shape, shape_error};
use rkeras_tensor::{Tensor, TensorError};

/// The broadcast output shape of an elementwise merge of `input_shapes`, which must number at least
/// `min_inputs` (and at most `max_inputs`).
pub(crate) fn elementwise_output_shape(
    layer: &dyn Layer,
    input_shapes: &[Shape],
    min_inputs: usize,
    max_inputs: Option<usize>,
) -> Result<Shape> {
    let count = input_shapes.len();
    if count < min_inputs || max_inputs.is_some_and(|max| count > max) {
        let expected = match max_inputs {
            Some(max) if max == min_inputs => format!("exactly {min_inputs} inputs"),
            _ => format!("at least {min_inputs} inputs"),
        };
        return Err(shape_error(
            layer,
            format!("expected {expected}, received {count}"),
            input_shapes,
        ));
    }
    let mut out: Shape = Vec::new();
    for shape in input_shapes {
        out = broadcast_pair(&out, shape).ok_or_else(|| {
            shape_error(
                layer,
                "inputs have incompatible shapes (each axis must match or be 1, aligned on the right)",
                input_shapes,
            )
        })?;
    }
    Ok(out)
}

/// Keras's broadcasting of two shapes without the batch axis, `None` when they do not fit.
fn broadcast_pair(a: &[usize], b: &[usize]) -> Option<Shape> {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let offset = long.len() - short.len();
    let mut out = long[..offset].to_vec();
    for (&i, &j) in long[offset..].iter().zip(short) {
        out.push(match (i, j) {
            (i, j) if i == j => i,
            (1, j) => j,
            (i, 1) => i,
            _ => return None,
        });
    }
    Some(out)
}

/// Inserts size-1 axes after the batch axis of `x` until it has `rank` axes (Keras's `expand_dims(x, 1)`).
fn with_rank(x: &Tensor, rank: usize) -> std::result::Result<Tensor, TensorError> {
    if x.ndim() >= rank {
        return Ok(x.clone());
    }
    let mut shape = Vec::with_capacity(rank);
    shape.extend(x.shape().first().copied());
    shape.resize(rank - x.ndim() + 1, 1);
    shape.extend(x.shape().iter().skip(1));
    x.reshape(&shape)
}

/// The inputs (at least `min_inputs`) brought to the same rank (the highest among them).
pub(crate) fn aligned_inputs(
    layer: &dyn Layer,
    inputs: &[Tensor],
    min_inputs: usize,
) -> Result<Vec<Tensor>> {
    let inputs = call_inputs::at_least(layer, inputs, min_inputs)?;
    let rank = inputs.iter().map(Tensor::ndim).max().unwrap_or(0);
    inputs
        .iter()
        .map(|x| with_rank(x, rank).in_layer(layer.name()))
        .collect()
}

/// Folds `op` over the inputs (at least `min_inputs`), left to right, after aligning their ranks.
pub(crate) fn fold_inputs(
    layer: &dyn Layer,
    inputs: &[Tensor],
    min_inputs: usize,
    op: impl Fn(&Tensor, &Tensor) -> std::result::Result<Tensor, TensorError>,
) -> Result<Tensor> {
    let mut acc: Option<Tensor> = None;
    for x in aligned_inputs(layer, inputs, min_inputs)? {
        acc = Some(match acc {
            None => x,
            Some(sum) => op(&sum, &x).in_layer(layer.name())?,
        });
    }
    acc.ok_or_else(|| {
        crate::LayersError::Graph(format!("layer `{}` received no inputs", layer.name()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_broadcasting_rules() {
        assert_eq!(broadcast_pair(&[4, 3], &[4, 3]), Some(vec![4, 3]));
        assert_eq!(broadcast_pair(&[4, 1], &[1, 3]), Some(vec![4, 3]));
        assert_eq!(broadcast_pair(&[3], &[4, 3]), Some(vec![4, 3]));
        assert_eq!(broadcast_pair(&[], &[5]), Some(vec![5]));
        assert_eq!(broadcast_pair(&[4, 3], &[3, 3]), None);
    }

    #[test]
    fn lower_rank_inputs_gain_axes_after_the_batch_axis() {
        let x = Tensor::from_vec(&[2, 3], vec![1.0; 6]).unwrap();
        assert_eq!(with_rank(&x, 4).unwrap().shape(), &[2, 1, 1, 3]);
        assert_eq!(with_rank(&x, 2).unwrap().shape(), &[2, 3]);
    }
}
