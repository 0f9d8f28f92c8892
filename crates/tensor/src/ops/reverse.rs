//! Reversing the order of the elements along one axis (a recurrent layer's `go_backwards`).

use crate::backprop::Node;
use crate::error::Result;
use crate::tensor::Tensor;
use ndarray::{Axis, Slice};

/// The reversed elements in row-major order (the negative stride of the reversed view is not kept, so that
/// callers can view the result as a matrix).
fn reversed(data: ndarray::ArrayViewD<f32>, axis: usize) -> ndarray::ArrayD<f32> {
    crate::pooled::standard_copy(&data.slice_axis(Axis(axis), Slice::new(0, None, -1)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reversed_middle_axis_is_row_major_and_views_as_a_matrix() {
        let t = Tensor::from_vec(&[2, 3, 2], (0..12).map(|v| v as f32).collect()).unwrap();
        let r = t.reverse_axis(1).unwrap();
        assert!(r.data().is_standard_layout());
        assert_eq!(
            r.to_vec(),
            vec![4.0, 5.0, 2.0, 3.0, 0.0, 1.0, 10.0, 11.0, 8.0, 9.0, 6.0, 7.0]
        );
        let w = Tensor::from_vec(&[2, 1], vec![1.0, 10.0]).unwrap();
        assert_eq!(
            r.matmul(&w).unwrap().to_vec(),
            vec![54.0, 32.0, 10.0, 120.0, 98.0, 76.0]
        );
    }
}
