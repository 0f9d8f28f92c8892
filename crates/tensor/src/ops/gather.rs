//! Row gathering along axis 0 (an embedding lookup), whose backward gives the table a row gradient.

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::gradient::Gradient;
use crate::indexed_slices::IndexedSlices;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};

/// Converts float-coded ids to row indices, as Keras casts an Embedding's input to integers (truncating).
fn row_indices(indices: &ArrayD<f32>, rows: usize) -> Result<Vec<usize>> {
    let mut ids = Vec::with_capacity(indices.len());
    for &v in indices {
        let truncated = v.trunc();
        if !v.is_finite() || truncated < 0.0 || truncated >= rows as f32 {
            return Err(TensorError::IndexOutOfRange {
                op: "gather",
                index: f64::from(v),
                bound: rows,
            });
        }
        ids.push(truncated as usize);
    }
    Ok(ids)
}

impl Tensor {
    /// Picks rows of the matrix `self` (`[rows, dim]`): the result has shape `indices.shape() + [dim]`.
    /// `indices` holds integer ids coded as f32 (fractions are truncated, as Keras does); an id outside
    /// `0..rows` is an [`TensorError::IndexOutOfRange`]. The table's gradient holds only the rows read
    /// ([`crate::Gradient::Rows`], an [`IndexedSlices`]), as TensorFlow's `tf.gather` gives.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let table = Tensor::from_vec(&[3, 2], vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0])?;
    /// let ids = Tensor::from_vec(&[2], vec![2.0, 0.0])?;
    /// assert_eq!(table.gather_rows(&ids)?.to_vec(), vec![20.0, 21.0, 0.0, 1.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn gather_rows(&self, indices: &Tensor) -> Result<Tensor> {
        if self.ndim() != 2 {
            return Err(TensorError::invalid_shape(
                "gather",
                self.shape(),
                "the table must be a matrix [rows, dim]",
            ));
        }
        let (rows, dim) = (self.shape()[0], self.shape()[1]);
        let ids = row_indices(indices.data(), rows)?;
        let table = self.data().as_standard_layout();
        let table = table.as_slice().ok_or_else(|| TensorError::Internal {
            op: "gather",
            reason: "table layout".into(),
        })?;
        let mut values = crate::buffer_pool::take_empty(ids.len() * dim);
        for &id in &ids {
            values.extend_from_slice(&table[id * dim..(id + 1) * dim]);
        }
        let mut out_shape = Vec::with_capacity(indices.ndim() + 1);
        out_shape.extend_from_slice(indices.shape());
        out_shape.push(dim);
        let out = ArrayD::from_shape_vec(IxDyn(&out_shape), values).map_err(|_| {
            TensorError::Internal {
                op: "gather",
                reason: "output shape".into(),
            }
        })?;
        Ok(Tensor::from_op(
            out,
            || {
                Node::with_gradients("gather", vec![self.clone(), indices.clone()], move |ctx| {
                    let upstream = ctx.grad.as_standard_layout();
                    let upstream = upstream.as_slice().ok_or_else(|| TensorError::Internal {
                        op: "gather",
                        reason: "gradient layout".into(),
                    })?;
                    // The table's gradient at the rows read, one row per id (TensorFlow's IndexedSlices).
                    let rows = IndexedSlices::from_lookups(rows, dim, &ids, upstream)?;
                    Ok(vec![Some(Gradient::Rows(rows)), None])
                })
            },
            self.requires_grad(),
        ))
    }
}
