//! Keras's `Concatenate.compute_mask`: each input's timestep mask broadcast over its features (all ones for an
//! input without a mask), joined along the concatenation axis, then kept where any entry of the last axis is.

use crate::error::{LayersError, Result};
use ndarray::{ArrayD, Axis, IxDyn};
use rkeras_tensor::Tensor;

/// The mask of a concatenation along `axis` (batch axis = 0, already resolved) of `inputs` with `masks`; `None`
/// when no input has a mask. Only the inputs' shapes are read (their batch axis may be empty).
pub(super) fn concatenated_mask(
    layer: &str,
    axis: usize,
    inputs: &[Tensor],
    masks: &[Option<Tensor>],
) -> Result<Option<Tensor>> {
    let Some(batch) = masks.iter().flatten().next().map(|m| m.shape()[0]) else {
        return Ok(None);
    };
    let error = |reason: String| LayersError::Graph(format!("layer `{layer}`: {reason}"));
    if inputs.len() != masks.len() {
        return Err(error(format!(
            "{} inputs and {} masks to concatenate",
            inputs.len(),
            masks.len()
        )));
    }
    let mut expanded: Vec<ArrayD<f32>> = Vec::with_capacity(inputs.len());
    for (x, mask) in inputs.iter().zip(masks) {
        let shape: Vec<usize> = std::iter::once(batch)
            .chain(x.shape().iter().skip(1).copied())
            .collect();
        let full = match mask {
            None => ArrayD::ones(IxDyn(&shape)),
            Some(m) => {
                let kept = m.data().mapv(|v| f32::from(v != 0.0));
                let kept = if m.ndim() + 1 == shape.len() {
                    kept.insert_axis(Axis(m.ndim()))
                } else {
                    kept
                };
                kept.broadcast(IxDyn(&shape))
                    .ok_or_else(|| {
                        error(format!(
                            "a mask of shape {:?} does not fit its input of shape {shape:?}",
                            m.shape()
                        ))
                    })?
                    .to_owned()
            }
        };
        expanded.push(full);
    }
    let views: Vec<_> = expanded.iter().map(|a| a.view()).collect();
    let joined = ndarray::concatenate(Axis(axis), &views)
        .map_err(|e| error(format!("the masks cannot be concatenated: {e}")))?;
    let last = Axis(joined.ndim() - 1);
    Ok(Some(Tensor::new(
        joined.fold_axis(last, 0.0, |a, &b| a.max(b)),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_vec(shape, v.to_vec()).unwrap()
    }

    #[test]
    fn features_axis_ors_the_masks_and_an_unmasked_input_keeps_every_step() {
        let x = Tensor::zeros(&[0, 3, 2]);
        let (a, b) = (t(&[1, 3], &[1.0, 0.0, 0.0]), t(&[1, 3], &[0.0, 1.0, 0.0]));
        let both = concatenated_mask("c", 2, &[x.clone(), x.clone()], &[Some(a.clone()), Some(b)]);
        assert_eq!(both.unwrap().unwrap().to_vec(), vec![1.0, 1.0, 0.0]);
        let one = concatenated_mask("c", 2, &[x.clone(), x.clone()], &[Some(a), None]);
        assert_eq!(one.unwrap().unwrap().to_vec(), vec![1.0, 1.0, 1.0]);
        assert!(
            concatenated_mask("c", 2, &[x.clone(), x], &[None, None])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn time_axis_joins_the_masks_step_after_step() {
        let (x, y) = (Tensor::zeros(&[0, 2, 4]), Tensor::zeros(&[0, 3, 4]));
        let a = t(&[2, 2], &[1.0, 0.0, 0.0, 1.0]);
        let mask = concatenated_mask("c", 1, &[x, y], &[Some(a), None])
            .unwrap()
            .unwrap();
        assert_eq!(mask.shape(), &[2, 5]);
        assert_eq!(
            mask.to_vec(),
            vec![1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
        );
    }
}
