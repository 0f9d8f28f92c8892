//! Keras's masked values of `Multiply`, `Maximum` and `Minimum` (their `_merge_function`s): at a step an
//! input's timestep mask drops, that input takes no part in the result. `Add`, `Subtract` and `Average` ignore
//! masks in their values.
//!
//! The inputs come rank-aligned; a mask `[batch, time]` is broadcast over the features of its input. The
//! selections are `a·m + b·(1 − m)` with `m` of 0 and 1, which give `a` or `b` exactly and send each one the
//! gradient `where` sends it.

use rkeras_tensor::{Result, Tensor, TensorError};

/// `mask` (`[batch, time]`, 1 kept, 0 masked) with size-1 axes up to `x`'s rank, to broadcast against `x`.
fn broadcastable(mask: &Tensor, x: &Tensor) -> Result<Tensor> {
    let mut shape = mask.shape().to_vec();
    if shape.len() > x.ndim() || x.shape().get(..shape.len()) != Some(shape.as_slice()) {
        return Err(TensorError::invalid_shape(
            "masked merge",
            mask.shape(),
            format!(
                "the mask does not fit its input of shape {:?} (expected a prefix of the input's shape)",
                x.shape()
            ),
        ));
    }
    shape.resize(x.ndim(), 1);
    mask.reshape(&shape)
}

/// Keras's `where(mask, a, b)`.
fn select(mask: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    a.mul(mask)?.add(&b.mul(&mask.rsub_scalar(1.0)?)?)
}

/// Each input's mask made broadcastable against it (`None` for an input without one).
fn input_masks(inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<Vec<Option<Tensor>>> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            masks
                .get(i)
                .cloned()
                .flatten()
                .map(|m| broadcastable(&m, x))
                .transpose()
        })
        .collect()
}

/// Keras's `Multiply` with masks: a masked input counts as 1; when every input has a mask, the product is 0
/// where every mask drops the step.
pub(super) fn multiply(inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<Tensor> {
    let masks = input_masks(inputs, masks)?;
    let mut output: Option<Tensor> = None;
    for (x, mask) in inputs.iter().zip(&masks) {
        let x = match mask {
            Some(m) => x.mul(m)?.add(&m.rsub_scalar(1.0)?)?,
            None => x.clone(),
        };
        output = Some(match output {
            None => x,
            Some(product) => product.mul(&x)?,
        });
    }
    let output = output.ok_or_else(|| {
        TensorError::invalid_shape("masked merge", &[], "expected at least one input")
    })?;
    match masks.into_iter().collect::<Option<Vec<Tensor>>>() {
        Some(all) => output.mul(&any(&all)?),
        None => Ok(output),
    }
}

/// The logical OR of masks of one shape.
fn any(masks: &[Tensor]) -> Result<Tensor> {
    let mut joined = masks[0].clone();
    for m in &masks[1..] {
        joined = joined.maximum(m)?;
    }
    Ok(joined)
}

/// Keras's `Merge._apply_merge_op_and_or_mask` (`Maximum`, `Minimum`): left to right, a masked step of the
/// next input takes the result so far, and a masked step of the result so far takes the next input, before
/// `op` combines them; the masks are joined while every input has one.
pub(super) fn extreme(
    inputs: &[Tensor],
    masks: &[Option<Tensor>],
    op: impl Fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let masks = input_masks(inputs, masks)?;
    let mut pairs = inputs.iter().zip(masks);
    let Some((first, mut joined)) = pairs.next() else {
        return Err(TensorError::invalid_shape(
            "masked merge",
            &[],
            "expected at least one input",
        ));
    };
    let mut output = first.clone();
    for (x, mask) in pairs {
        let x = match &mask {
            Some(m) => select(m, x, &output)?,
            None => x.clone(),
        };
        if let Some(j) = &joined {
            output = select(j, &output, &x)?;
        }
        joined = match (joined, mask) {
            (Some(j), Some(m)) => Some(j.maximum(&m)?),
            _ => None,
        };
        output = op(&output, &x)?;
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_vec(shape, v.to_vec()).unwrap()
    }

    #[test]
    fn multiply_counts_masked_inputs_as_one_and_zeroes_steps_every_mask_drops() {
        let a = t(&[1, 3, 1], &[2.0, 3.0, 4.0]);
        let b = t(&[1, 3, 1], &[5.0, 6.0, 7.0]);
        let (ma, mb) = (t(&[1, 3], &[1.0, 0.0, 0.0]), t(&[1, 3], &[1.0, 1.0, 0.0]));
        let both = multiply(&[a.clone(), b.clone()], &[Some(ma.clone()), Some(mb)]).unwrap();
        assert_eq!(both.to_vec(), vec![10.0, 6.0, 0.0]);
        let one = multiply(&[a, b], &[Some(ma), None]).unwrap();
        assert_eq!(one.to_vec(), vec![10.0, 6.0, 7.0]);
    }

    #[test]
    fn maximum_takes_the_kept_input_at_steps_one_mask_drops() {
        let a = t(&[1, 4, 1], &[2.0, -3.0, 4.0, -1.0]);
        let b = t(&[1, 4, 1], &[5.0, 6.0, -7.0, -2.0]);
        let (ma, mb) = (
            t(&[1, 4], &[1.0, 0.0, 1.0, 0.0]),
            t(&[1, 4], &[1.0, 1.0, 0.0, 0.0]),
        );
        let max = |x: &Tensor, y: &Tensor| x.maximum(y);
        let both = extreme(&[a.clone(), b.clone()], &[Some(ma.clone()), Some(mb)], max).unwrap();
        // kept both: max; only b kept: b; only a kept: a; neither: the first input (Keras's `where` order).
        assert_eq!(both.to_vec(), vec![5.0, 6.0, 4.0, -1.0]);
        let first_only = extreme(&[a, b], &[Some(ma), None], max).unwrap();
        assert_eq!(first_only.to_vec(), vec![5.0, 6.0, 4.0, -2.0]);
    }

    #[test]
    fn masked_values_pass_finite_difference_gradient_checks() {
        use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
        let values = |seed: f32| {
            ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[2, 3, 2]), |i| {
                ((i[0] * 6 + i[1] * 2 + i[2]) as f32 * 0.37 + seed).sin()
            })
        };
        let masks = [
            Some(t(&[2, 3], &[1.0, 0.0, 1.0, 0.0, 1.0, 1.0])),
            Some(t(&[2, 3], &[1.0, 1.0, 0.0, 0.0, 0.0, 1.0])),
        ];
        let one_masked = [masks[0].clone(), None];
        for masks in [&masks[..], &one_masked[..]] {
            let inputs = [values(0.1), values(1.7)];
            let report = check_gradients(&inputs, |x| multiply(x, masks), GradCheck::default());
            assert!(report.unwrap().passed(), "multiply");
            for op in [Tensor::maximum, Tensor::minimum] {
                let report =
                    check_gradients(&inputs, |x| extreme(x, masks, op), GradCheck::default())
                        .unwrap();
                assert!(report.compared > 0 && report.passed(), "{report:?}");
            }
        }
    }

    #[test]
    fn a_mask_that_does_not_fit_its_input_is_an_error() {
        let a = t(&[1, 2, 1], &[1.0, 2.0]);
        let err = multiply(&[a.clone(), a], &[Some(t(&[1, 3], &[1.0; 3])), None]).unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
    }
}
