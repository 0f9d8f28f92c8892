//! Array constructors backed by [`crate::buffer_pool`]: what the ops and kernels use instead of
//! `Array::zeros`, `clone` and `to_owned` on their hot paths. Each gives exactly the values (and, where a
//! layout is promised, the layout) of the `ndarray` call it replaces.

use crate::buffer_pool;
use ndarray::{Array, ArrayBase, ArrayD, ArrayView, ArrayView1, Axis, Data, Dimension, RemoveAxis};

/// Elements of a shape, `0` if the count overflows (the constructor then fails as `ndarray`'s would).
fn len_of<D: Dimension>(dim: &D) -> usize {
    dim.size_checked().unwrap_or(0)
}

/// `values` as an array of shape `dim` (row-major); `values.len()` must match the shape's element count.
fn from_vec<D: Dimension>(dim: D, values: Vec<f32>) -> Array<f32, D> {
    let fallback = dim.clone();
    // The callers size `values` from `dim`, so this only fails where `Array::zeros` would too.
    Array::from_shape_vec(dim, values).unwrap_or_else(|_| Array::zeros(fallback))
}

/// `Array::zeros(dim)`, row-major.
pub(crate) fn zeros<D: Dimension>(dim: D) -> Array<f32, D> {
    let len = len_of(&dim);
    from_vec(dim, buffer_pool::take_zeroed(len))
}

/// A row-major array of shape `dim` with unspecified values, for an output the caller overwrites whole
/// before reading it (a product with `beta = 0`, a copy, a transpose).
pub(crate) fn for_overwrite<D: Dimension>(dim: D) -> Array<f32, D> {
    let len = len_of(&dim);
    from_vec(dim, buffer_pool::take(len))
}

/// A row-major array of shape `dim` holding `values` in row-major order (which must yield exactly the
/// shape's element count).
pub(crate) fn from_iter<D: Dimension>(
    dim: D,
    values: impl IntoIterator<Item = f32>,
) -> Array<f32, D> {
    let mut buffer = buffer_pool::take_empty(len_of(&dim));
    buffer.extend(values);
    from_vec(dim, buffer)
}

/// `array.to_owned()`: same values and, for a contiguous array, the same memory order.
pub(crate) fn to_owned<S, D>(array: &ArrayBase<S, D>) -> Array<f32, D>
where
    S: Data<Elem = f32>,
    D: Dimension,
{
    if let Some(values) = array.as_slice() {
        let mut buffer = buffer_pool::take_empty(values.len());
        buffer.extend_from_slice(values);
        return from_vec(array.raw_dim(), buffer);
    }
    if array.as_slice_memory_order().is_some() {
        // Contiguous in another order (e.g. transposed): `to_owned` keeps those strides.
        return array.to_owned();
    }
    // Not contiguous (broadcast, sliced): `to_owned` builds a row-major array in logical order.
    standard_copy(array)
}

/// A row-major copy of `array` (its elements in logical order), as `as_standard_layout().into_owned()`.
pub(crate) fn standard_copy<S, D>(array: &ArrayBase<S, D>) -> Array<f32, D>
where
    S: Data<Elem = f32>,
    D: Dimension,
{
    let mut copy = for_overwrite(array.raw_dim());
    copy.assign(array);
    copy
}

/// `array.clone()`: same values and strides.
pub(crate) fn clone(array: &ArrayD<f32>) -> ArrayD<f32> {
    if array.is_standard_layout() {
        to_owned(array)
    } else {
        array.clone()
    }
}

/// `array.sum_axis(axis)`, summed in the same order as `ndarray` sums. For an array with row-major default
/// strides `ndarray` adds whole sub-arrays along any axis but the last, and sums each contiguous lane along
/// the last; any other layout is left to `ndarray` itself.
pub(crate) fn sum_axis<S, D>(array: &ArrayBase<S, D>, axis: Axis) -> Array<f32, D::Smaller>
where
    S: Data<Elem = f32>,
    D: RemoveAxis,
{
    let dim = array.raw_dim();
    let defaults = dim.default_strides();
    let row_major = array
        .strides()
        .iter()
        .zip(defaults.slice())
        .all(|(&stride, &default)| usize::try_from(stride) == Ok(default));
    let last = array.ndim().saturating_sub(1);
    let width = dim.slice().get(last).copied().unwrap_or(0);
    match (row_major, array.as_slice()) {
        (true, Some(values)) if axis.index() == last && width > 0 => from_iter(
            dim.remove_axis(axis),
            values
                .chunks_exact(width)
                .map(|lane| ArrayView1::from(lane).sum()),
        ),
        (true, Some(_)) if axis.index() < last => {
            let mut sums = zeros(dim.remove_axis(axis));
            for part in array.axis_iter(axis) {
                sums.zip_mut_with(&part, |sum, &v| *sum += v);
            }
            sums
        }
        _ => array.sum_axis(axis),
    }
}

/// `view.broadcast(shape).to_owned()` as a row-major array, or `None` if `view` does not broadcast to `shape`.
pub(crate) fn broadcast<D: Dimension>(
    view: ArrayView<'_, f32, D>,
    shape: &[usize],
) -> Option<ArrayD<f32>> {
    Some(to_owned(&view.broadcast(ndarray::IxDyn(shape))?))
}

/// Helpers for tests that compare the pooled code paths with the `ndarray` expressions they replace.
#[cfg(test)]
pub(crate) mod testing {
    use ndarray::{ArrayD, IxDyn};

    /// Reproducible, varied values of `shape` (positive and negative, no two neighbours alike).
    pub(crate) fn varied(shape: &[usize], seed: u64) -> ArrayD<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        ArrayD::from_shape_simple_fn(IxDyn(shape), || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
            (bits as f32 / (1u64 << 23) as f32) - 1.0
        })
    }

    /// Asserts equal shapes, strides and bits.
    pub(crate) fn assert_identical(actual: &ArrayD<f32>, expected: &ArrayD<f32>, what: &str) {
        assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
        assert_eq!(actual.strides(), expected.strides(), "{what}: strides");
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            assert_eq!(a.to_bits(), e.to_bits(), "{what}: element {i}: {a} vs {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{assert_identical, varied};
    use super::*;
    use ndarray::{Axis, IxDyn, Slice};

    /// Fills the pool with NaN buffers of every length up to `largest`.
    fn poison(largest: usize) {
        buffer_pool::clear();
        for len in 1..=largest {
            let mut buffer = buffer_pool::take(len);
            buffer.fill(f32::NAN);
            buffer_pool::give(buffer);
        }
    }

    #[test]
    fn constructors_match_ndarray_even_on_reused_buffers() {
        poison(64);
        let a = varied(&[3, 4, 5], 1);
        assert_identical(
            &zeros(IxDyn(&[3, 4, 5])),
            &ArrayD::zeros(IxDyn(&[3, 4, 5])),
            "zeros",
        );
        let values = a.iter().map(|v| v * 2.0);
        assert_identical(
            &from_iter(a.raw_dim(), values),
            &a.mapv(|v| v * 2.0),
            "from_iter",
        );
        let transposed = a.clone().reversed_axes();
        let sliced = a.slice_axis(Axis(1), Slice::from(1..3));
        let views = [
            ("standard", a.view()),
            ("transposed", transposed.view()),
            ("sliced", sliced.view()),
            ("stepped", a.slice_axis(Axis(2), Slice::new(0, None, 2))),
        ];
        for (what, view) in views {
            assert_identical(&to_owned(&view), &view.to_owned(), what);
            let standard = view.as_standard_layout().into_owned();
            assert_identical(&standard_copy(&view), &standard, what);
        }
        assert_identical(&clone(&a), &a.clone(), "clone");
        assert_identical(&clone(&transposed), &transposed.clone(), "clone transposed");
        let row = varied(&[1, 5], 2);
        let spread = broadcast(row.view(), &[4, 5]).unwrap();
        assert_identical(
            &spread,
            &row.broadcast(IxDyn(&[4, 5])).unwrap().to_owned(),
            "broadcast",
        );
        assert!(broadcast(row.view(), &[4, 6]).is_none());
    }

    #[test]
    fn sums_along_an_axis_match_ndarray_bit_for_bit() {
        poison(200);
        let shapes: [&[usize]; 7] = [
            &[37],
            &[3, 37],
            &[37, 3],
            &[2, 3, 17],
            &[4, 1, 5],
            &[3, 0, 2],
            &[1, 1],
        ];
        for (seed, shape) in shapes.into_iter().enumerate() {
            let a = varied(shape, seed as u64);
            let transposed = a.clone().reversed_axes();
            for array in [&a, &transposed] {
                for axis in 0..array.ndim() {
                    let what = format!(
                        "{:?} strides {:?} axis {axis}",
                        array.shape(),
                        array.strides()
                    );
                    let expected = array.sum_axis(Axis(axis));
                    assert_identical(&sum_axis(array, Axis(axis)), &expected, &what);
                }
            }
        }
        // A fixed-rank view, as the LSTM's bias gradient sums one.
        let rows = varied(&[12, 8], 9)
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap();
        let summed = sum_axis(&rows.view(), Axis(0)).into_dyn();
        assert_identical(&summed, &rows.sum_axis(Axis(0)).into_dyn(), "Ix2 rows");
    }
}
