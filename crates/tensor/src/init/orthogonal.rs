//! Keras's `Orthogonal` initializer: the Q of a QR decomposition of a normal matrix, with R's diagonal made
//! positive, transposed when the weight has more columns than rows, times `gain`.

use crate::error::{Result, TensorError};
use ndarray::{Array2, ArrayD, IxDyn};
use ndarray_rand::RandomExt;
use rand::Rng;
use rand_distr::StandardNormal;

/// Draws an orthogonal weight of `shape` (at least two axes; the leading axes are flattened into rows).
pub(crate) fn orthogonal(shape: &[usize], gain: f32, rng: &mut impl Rng) -> Result<ArrayD<f32>> {
    if shape.len() < 2 {
        return Err(TensorError::invalid_shape(
            "Orthogonal",
            shape,
            format!(
                "The tensor to initialize must be at least two-dimensional. Received: shape={shape:?} of rank {}.",
                shape.len()
            ),
        ));
    }
    let cols = shape[shape.len() - 1];
    let rows: usize = shape[..shape.len() - 1].iter().product();
    let (tall, narrow) = (rows.max(cols), rows.min(cols));
    let a: Array2<f64> = Array2::random_using((tall, narrow), StandardNormal, rng);
    let q = gram_schmidt(a);
    let q = if rows < cols { q.reversed_axes() } else { q };
    let values: Vec<f32> = q
        .as_standard_layout()
        .iter()
        .map(|&v| (v * f64::from(gain)) as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|_| TensorError::Internal {
        op: "Orthogonal",
        reason: "reshape".into(),
    })
}

/// Modified Gram–Schmidt: orthonormal columns spanning `a`'s columns, with a positive R diagonal (the unique
/// QR factor Keras obtains by multiplying by `sign(diag(R))`).
fn gram_schmidt(mut a: Array2<f64>) -> Array2<f64> {
    let cols = a.ncols();
    for j in 0..cols {
        for i in 0..j {
            let (done, mut rest) = a.view_mut().split_at(ndarray::Axis(1), j);
            let qi = done.column(i);
            let mut aj = rest.column_mut(0);
            let r = qi.dot(&aj);
            aj.zip_mut_with(&qi, |v, &q| *v -= r * q);
        }
        let mut aj = a.column_mut(j);
        let norm = aj.dot(&aj).sqrt();
        if norm > 0.0 {
            aj.mapv_inplace(|v| v / norm);
        }
    }
    a
}

/// Keras's `Identity(gain)`: `gain` times the identity matrix, for 2-D shapes only (a rectangular shape
/// gets ones on the main diagonal).
pub(crate) fn identity(shape: &[usize], gain: f32) -> Result<ArrayD<f32>> {
    match shape {
        [rows, cols] => {
            let mut out = ArrayD::zeros(IxDyn(shape));
            for i in 0..(*rows).min(*cols) {
                out[[i, i]] = gain;
            }
            Ok(out)
        }
        _ => Err(TensorError::invalid_shape(
            "Identity",
            shape,
            format!(
                "Identity matrix initializer can only be used for 2D matrices. Received: shape={shape:?} of rank {}.",
                shape.len()
            ),
        )),
    }
}
