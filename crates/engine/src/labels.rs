//! Label encodings shared by losses and metrics.

use crate::error::{EngineError, Result};
use ndarray::{ArrayD, IxDyn};

/// One-hot encodes integer labels into `classes` columns; a label outside `0..classes` is an error.
pub fn one_hot(labels: &ArrayD<f32>, classes: usize) -> Result<ArrayD<f32>> {
    let mut shape = labels.shape().to_vec();
    if shape.last() == Some(&1) && shape.len() > 1 {
        shape.pop();
    }
    shape.push(classes);
    let mut out = ArrayD::zeros(IxDyn(&shape));
    let flat = out
        .as_slice_mut()
        .ok_or_else(|| EngineError::invalid("y", "internal layout"))?;
    for (i, &label) in labels.iter().enumerate() {
        if !(label.is_finite()
            && label >= 0.0
            && label.fract() == 0.0
            && (label as usize) < classes)
        {
            return Err(EngineError::invalid(
                "y",
                format!("label {label} at sample {i} is outside 0..{classes}"),
            ));
        }
        flat[i * classes + label as usize] = 1.0;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_unit_axis_is_replaced_by_the_classes() {
        let labels = ndarray::arr2(&[[2.0f32], [0.0]]).into_dyn();
        let encoded = one_hot(&labels, 3).unwrap();
        assert_eq!(encoded.shape(), &[2, 3]);
        assert_eq!(encoded.as_slice().unwrap(), &[0., 0., 1., 1., 0., 0.]);
    }
}
