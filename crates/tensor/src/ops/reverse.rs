//! Reversing the order of the elements along one axis (a recurrent layer's `go_backwards`).

use crate::backprop::Node;
use crate::error::Result;
use crate::tensor::Tensor;
use ndarray::{Axis, Slice};

fn reversed(data: ndarray::ArrayViewD<f32>, axis: usize) -> ndarray::ArrayD<f32> {
    crate::pooled::to_owned(&data.slice_axis(Axis(axis), Slice::new(0, None, -1)))
}

impl Tensor {
    /// The elements along `axis` in reverse order; the gradient is reversed back.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let t = Tensor::from_vec(&[3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
    /// assert_eq!(t.reverse_axis(0)?.to_vec(), vec![5.0, 6.0, 3.0, 4.0, 1.0, 2.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn reverse_axis(&self, axis: isize) -> Result<Tensor> {
        let axis = super::normalize_axis(axis, self.ndim(), "reverse_axis")?;
        Ok(Tensor::from_op(
            reversed(self.data().view(), axis),
            || {
                Node::new("reverse_axis", vec![self.clone()], move |ctx| {
                    Ok(vec![Some(reversed(ctx.grad.view(), axis))])
                })
            },
            self.requires_grad(),
        ))
    }
}
