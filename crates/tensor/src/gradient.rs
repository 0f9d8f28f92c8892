//! [`Gradient`]: a leaf's gradient, dense or as rows ([`IndexedSlices`], from a row lookup), and
//! [`GradientRef`], its borrowed form as optimizers take it.
//!
//! Gradients of one leaf add up as TensorFlow adds them: two row gradients stay rows (their ids merged), a row
//! gradient and a dense one make a dense gradient. Every sum equals, bit for bit, the sum of the dense forms in the
//! same order.
//!
//! ```
//! use rkeras_tensor::{Gradient, IndexedSlices};
//! let rows = IndexedSlices::from_lookups(3, 1, &[2, 2], &[1.0, 2.0])?;
//! let mut g = Gradient::Rows(rows);
//! g.add(Gradient::Rows(IndexedSlices::from_lookups(3, 1, &[0], &[4.0])?))?;
//! assert!(matches!(&g, Gradient::Rows(r) if r.indices() == [0, 2]));
//! g.add(Gradient::Dense(ndarray::ArrayD::ones(ndarray::IxDyn(&[3, 1]))))?;
//! assert_eq!(g.into_dense()?.as_slice().unwrap(), &[5.0, 1.0, 4.0]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use crate::error::{Result, TensorError};
use crate::indexed_slices::IndexedSlices;
use ndarray::ArrayD;

/// The gradient of one leaf (a variable or an input).
#[derive(Debug, Clone, PartialEq)]
pub enum Gradient {
    /// A gradient of the leaf's shape.
    Dense(ArrayD<f32>),
    /// The gradient of a table at the rows a lookup read ([`crate::Tensor::gather_rows`]).
    Rows(IndexedSlices),
}

/// A borrowed [`Gradient`]: what [`Gradient::as_ref`] gives and optimizers take.
#[derive(Debug, Clone, Copy)]
pub enum GradientRef<'a> {
    /// A gradient of the parameter's shape.
    Dense(&'a ArrayD<f32>),
    /// A gradient at some rows of a `[rows, dim]` parameter.
    Rows(&'a IndexedSlices),
}

impl GradientRef<'_> {
    /// The shape of the dense gradient.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            GradientRef::Dense(g) => g.shape().to_vec(),
            GradientRef::Rows(r) => r.dense_shape().to_vec(),
        }
    }

    /// Whether the dense gradient has the shape `shape` ([`GradientRef::shape`] without allocating, for the
    /// checks every backward rule and update step makes).
    pub fn has_shape(&self, shape: &[usize]) -> bool {
        match self {
            GradientRef::Dense(g) => g.shape() == shape,
            GradientRef::Rows(r) => r.dense_shape() == shape,
        }
    }
}

impl Gradient {
    /// The shape of the dense gradient (the leaf's shape).
    pub fn shape(&self) -> Vec<usize> {
        self.as_ref().shape()
    }

    /// Whether `other` is a gradient of the same shape (compared without allocating).
    pub fn same_shape(&self, other: &Gradient) -> bool {
        match self {
            Gradient::Dense(g) => other.as_ref().has_shape(g.shape()),
            Gradient::Rows(r) => other.as_ref().has_shape(&r.dense_shape()),
        }
    }

    /// A borrowed view.
    pub fn as_ref(&self) -> GradientRef<'_> {
        match self {
            Gradient::Dense(g) => GradientRef::Dense(g),
            Gradient::Rows(r) => GradientRef::Rows(r),
        }
    }

    /// The dense gradient (row gradients are scattered into zeros).
    pub fn into_dense(self) -> Result<ArrayD<f32>> {
        match self {
            Gradient::Dense(g) => Ok(g),
            Gradient::Rows(r) => r.to_dense(),
        }
    }

    /// Adds another gradient of the same leaf, `self` first: rows + rows stay rows, anything else becomes dense.
    pub fn add(&mut self, other: Gradient) -> Result<()> {
        if !self.same_shape(&other) {
            return Err(TensorError::shape_mismatch(
                "gradient",
                &self.shape(),
                &other.shape(),
            ));
        }
        match (&mut *self, other) {
            (Gradient::Dense(a), Gradient::Dense(b)) => {
                *a += &b;
                crate::buffer_pool::give_array(b);
            }
            (Gradient::Dense(a), Gradient::Rows(b)) => b.add_to(a)?,
            (Gradient::Rows(a), Gradient::Rows(b)) => a.add(&b)?,
            (Gradient::Rows(a), Gradient::Dense(b)) => {
                let mut dense = a.to_dense()?;
                dense += &b;
                crate::buffer_pool::give_array(b);
                *self = Gradient::Dense(dense);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    fn rows(ids: &[usize], values: &[f32]) -> Gradient {
        Gradient::Rows(IndexedSlices::from_lookups(4, 1, ids, values).unwrap())
    }

    #[test]
    fn every_pair_of_forms_adds_like_the_dense_forms() {
        let dense = |v: &[f32]| ArrayD::from_shape_vec(IxDyn(&[4, 1]), v.to_vec()).unwrap();
        let a = || rows(&[1, 3, 1], &[0.5, 2.0, 0.25]);
        let b = || rows(&[3, 0], &[-1.0, 4.0]);
        let d = || Gradient::Dense(dense(&[1.0, 2.0, 3.0, 4.0]));
        for (x, y) in [(a(), b()), (a(), d()), (d(), b()), (d(), d())] {
            let expected = x.clone().into_dense().unwrap() + y.clone().into_dense().unwrap();
            let both_rows = matches!((&x, &y), (Gradient::Rows(_), Gradient::Rows(_)));
            let mut sum = x;
            sum.add(y).unwrap();
            assert_eq!(matches!(sum, Gradient::Rows(_)), both_rows);
            assert_eq!(sum.into_dense().unwrap(), expected);
        }
        assert!(a().same_shape(&d()) && d().same_shape(&b()));
        assert!(a().as_ref().has_shape(&[4, 1]) && !d().as_ref().has_shape(&[1, 4]));
        let mut wrong = a();
        assert!(
            wrong
                .add(Gradient::Dense(
                    dense(&[1.0; 4])
                        .into_shape_with_order(IxDyn(&[2, 2]))
                        .unwrap()
                ))
                .is_err()
        );
    }
}
