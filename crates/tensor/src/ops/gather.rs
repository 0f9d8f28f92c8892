//! Row gathering along axis 0 (an embedding lookup), whose backward gives the table a row gradient.

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::gradient::Gradient;
use crate::indexed_slices::IndexedSlices;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};

/// Converts float-coded ids to row indices, as Keras casts an Embedding's input to integers (truncating).
fn row_indices(indices: &ArrayD<f32>, rows: usize) -> Result<Vec<usize>> {
    // `rows as f32` is a whole number, so `trunc(v) < rows ⟺ v < rows` and `trunc(v) ≥ 0 ⟺ v > −1`; inside
    // that range `as usize` truncates as `trunc` does (without a libm call per id). NaN fails both tests.
    let bound = rows as f32;
    let id = |v: f32| {
        if v > -1.0 && v < bound {
            Ok(v as usize)
        } else {
            Err(TensorError::IndexOutOfRange {
                op: "gather",
                index: f64::from(v),
                bound: rows,
            })
        }
    };
    match indices.as_slice() {
        Some(values) => values.iter().map(|&v| id(v)).collect(),
        None => indices.iter().map(|&v| id(v)).collect(),
    }
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
        crate::kernels::gather::gather_rows_into(table, dim, &ids, &mut values);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Keras's cast: truncate, then the id must lie in `0..rows`.
    fn reference(v: f32, rows: usize) -> Option<usize> {
        let t = v.trunc();
        (v.is_finite() && t >= 0.0 && t < rows as f32).then_some(t as usize)
    }

    #[test]
    fn row_indices_truncate_and_bound_as_keras_casts() {
        let values = [
            0.0,
            -0.0,
            -0.5,
            -0.99,
            -1.0,
            -1.5,
            0.7,
            2.5,
            20.999,
            21.0,
            21.99,
            22.0,
            22.5,
            1e9,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE,
        ];
        for rows in [1, 22, 16_777_217] {
            for &v in &values {
                let one = ArrayD::from_elem(IxDyn(&[1]), v);
                let got = row_indices(&one, rows).ok().map(|ids| ids[0]);
                assert_eq!(got, reference(v, rows), "id {v}, {rows} rows");
            }
        }
        // A transposed (non-contiguous) array of ids is read in logical order.
        let ids =
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let transposed = ids.t().to_owned();
        assert!(transposed.as_slice().is_none());
        assert_eq!(row_indices(&transposed, 6).unwrap(), vec![0, 3, 1, 4, 2, 5]);
    }
}
