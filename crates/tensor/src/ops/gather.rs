//! Row gathering along axis 0 (an embedding lookup) with a scatter-add backward.

use crate::backprop::Node;
use crate::error::{Result, TensorError};
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
    /// `0..rows` is an [`TensorError::IndexOutOfRange`]. The gradient is scatter-added into the used rows.
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
                let table = self.id();
                Node::new("gather", vec![self.clone(), indices.clone()], move |ctx| {
                    let mut grad = crate::buffer_pool::take_zeroed(rows * dim);
                    // Per-lookup squares (Keras/TensorFlow's embedding second moments), only when asked for.
                    let mut squares = crate::backprop::lookup_squares_wanted()
                        .then(|| crate::buffer_pool::take_zeroed(rows * dim));
                    let upstream = ctx.grad.as_standard_layout();
                    let upstream = upstream.as_slice().ok_or_else(|| TensorError::Internal {
                        op: "gather",
                        reason: "gradient layout".into(),
                    })?;
                    for (chunk, &id) in upstream.chunks_exact(dim.max(1)).zip(&ids) {
                        let row = id * dim..(id + 1) * dim;
                        for (g, &c) in grad[row.clone()].iter_mut().zip(chunk) {
                            *g += c;
                        }
                        if let Some(squares) = squares.as_mut() {
                            for (s, &c) in squares[row].iter_mut().zip(chunk) {
                                *s += c * c;
                            }
                        }
                    }
                    let table_shaped = |values: Vec<f32>| {
                        ArrayD::from_shape_vec(IxDyn(&[rows, dim]), values).map_err(|_| {
                            TensorError::Internal {
                                op: "gather",
                                reason: "gradient shape".into(),
                            }
                        })
                    };
                    if let Some(squares) = squares {
                        crate::backprop::add_lookup_squares(table, table_shaped(squares)?)?;
                    }
                    let grad = table_shaped(grad)?;
                    Ok(vec![Some(grad), None])
                })
            },
            self.requires_grad(),
        ))
    }
}
