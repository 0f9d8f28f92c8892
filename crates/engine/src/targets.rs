//! Targets for one or several outputs: `fit`, `evaluate` and the batch-level calls take one array (a
//! single-output model) or one array per output, in the model's output order.

use ndarray::ArrayD;

/// Targets by reference: an array (one output), or a slice, `Vec` or array of arrays (one per output).
///
/// ```
/// use rkeras_engine::AsTargets;
/// let a = ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(&[2, 1]));
/// assert_eq!(a.target_list().len(), 1);
/// assert_eq!([a.clone(), a].target_list().len(), 2);
/// ```
pub trait AsTargets {
    /// One array per output.
    fn target_list(&self) -> Vec<&ArrayD<f32>>;
}

impl AsTargets for ArrayD<f32> {
    fn target_list(&self) -> Vec<&ArrayD<f32>> {
        vec![self]
    }
}

impl AsTargets for [ArrayD<f32>] {
    fn target_list(&self) -> Vec<&ArrayD<f32>> {
        self.iter().collect()
    }
}

impl AsTargets for Vec<ArrayD<f32>> {
    fn target_list(&self) -> Vec<&ArrayD<f32>> {
        self.iter().collect()
    }
}

impl<const N: usize> AsTargets for [ArrayD<f32>; N] {
    fn target_list(&self) -> Vec<&ArrayD<f32>> {
        self.iter().collect()
    }
}

/// Owned targets (for `validation_data`): an array, or a `Vec` or array of arrays (one per output).
pub trait IntoTargets {
    /// One array per output.
    fn into_targets(self) -> Vec<ArrayD<f32>>;
}

impl IntoTargets for ArrayD<f32> {
    fn into_targets(self) -> Vec<ArrayD<f32>> {
        vec![self]
    }
}

impl IntoTargets for Vec<ArrayD<f32>> {
    fn into_targets(self) -> Vec<ArrayD<f32>> {
        self
    }
}

impl<const N: usize> IntoTargets for [ArrayD<f32>; N] {
    fn into_targets(self) -> Vec<ArrayD<f32>> {
        self.into()
    }
}
