//! [`IndexedSlices`]: the gradient of a row lookup (TensorFlow's `tf.IndexedSlices`) — the ids of the rows a
//! gather read and their gradient rows, instead of a table-sized array that is zero almost everywhere.
//!
//! Rows looked up more than once are summed at construction, in lookup order (TensorFlow's
//! `unsorted_segment_sum`), so every id appears once, in ascending order. Beside each summed row the type keeps
//! the sum of each lookup's *squared* row: what Keras's TensorFlow backend squares when an optimizer squares an
//! embedding's gradient (its gradient holds one row per lookup, each squared before they are added up).
//!
//! ```
//! use rkeras_tensor::IndexedSlices;
//! // A 4 × 1 table; row 2 looked up twice (gradients 3 and −1), row 0 once (5).
//! let slices = IndexedSlices::from_lookups(4, 1, &[2, 0, 2], &[3.0, 5.0, -1.0])?;
//! assert_eq!(slices.indices(), &[0, 2]);
//! assert_eq!(slices.values(), &[5.0, 2.0]);
//! assert_eq!(slices.squares(), &[25.0, 10.0]); // 3² + (−1)², not 2²
//! assert_eq!(slices.to_dense()?.as_slice().unwrap(), &[5.0, 0.0, 2.0, 0.0]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use crate::error::{Result, TensorError};
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// The gradient of a `[rows, dim]` table at the rows a lookup read: unique ids in ascending order, each with its
/// gradient row (summed over the lookups) and the sum of the lookups' squared gradient rows.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedSlices {
    rows: usize,
    dim: usize,
    indices: Vec<usize>,
    values: Vec<f32>,
    squares: Vec<f32>,
}

fn internal(reason: &str) -> TensorError {
    TensorError::Internal {
        op: "indexed_slices",
        reason: reason.into(),
    }
}

/// A table this many times the lookups or smaller is grouped through a slot per row instead of a sort.
const SLOT_TABLE_FACTOR: usize = 4;

/// The distinct ids of `ids` (each under `rows`) in ascending order, and each lookup's position among them.
/// Small tables take one slot per row (no sort); large ones a sort of the lookups.
fn unique_ids(rows: usize, ids: &[usize]) -> (Vec<usize>, Vec<usize>) {
    const ABSENT: usize = usize::MAX;
    if rows <= SLOT_TABLE_FACTOR * ids.len() {
        let mut slot_of = vec![ABSENT; rows];
        for &id in ids {
            if let Some(slot) = slot_of.get_mut(id) {
                *slot = 0;
            }
        }
        let mut indices = Vec::new();
        for (id, slot) in slot_of.iter_mut().enumerate() {
            if *slot != ABSENT {
                *slot = indices.len();
                indices.push(id);
            }
        }
        let slots = ids
            .iter()
            .map(|&id| slot_of.get(id).copied().unwrap_or(0))
            .collect();
        return (indices, slots);
    }
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_unstable_by_key(|&k| ids[k]);
    let mut indices: Vec<usize> = Vec::new();
    let mut slots = vec![0; ids.len()];
    for &k in &order {
        if indices.last() != Some(&ids[k]) {
            indices.push(ids[k]);
        }
        slots[k] = indices.len() - 1;
    }
    (indices, slots)
}

impl IndexedSlices {
    /// The gradient of `ids.len()` lookups into a `[rows, dim]` table: lookup `k` read row `ids[k]` and received
    /// the gradient row `values[k·dim..(k+1)·dim]`. Rows read several times are summed in lookup order, starting
    /// from zero (the arithmetic of a dense scatter-add). An id outside `0..rows` is an
    /// [`TensorError::IndexOutOfRange`]; `values` must hold `ids.len() · dim` numbers.
    pub fn from_lookups(rows: usize, dim: usize, ids: &[usize], values: &[f32]) -> Result<Self> {
        if values.len() != ids.len() * dim {
            return Err(TensorError::shape_mismatch(
                "indexed_slices",
                &[ids.len(), dim],
                &[values.len()],
            ));
        }
        if let Some(&bad) = ids.iter().find(|&&id| id >= rows) {
            return Err(TensorError::IndexOutOfRange {
                op: "indexed_slices",
                index: bad as f64,
                bound: rows,
            });
        }
        let (indices, slots) = unique_ids(rows, ids);
        // Each lookup added to its id's row in lookup order, starting from zero.
        let mut sums = vec![0.0f32; indices.len() * dim];
        let mut squares = vec![0.0f32; indices.len() * dim];
        if !crate::kernels::gather::scatter_add_rows(&slots, values, dim, &mut sums, &mut squares) {
            return Err(internal("a lookup's slot lies outside the summed rows"));
        }
        Ok(IndexedSlices {
            rows,
            dim,
            indices,
            values: sums,
            squares,
        })
    }

    /// Rebuilds a row gradient from what [`IndexedSlices::dense_shape`], [`IndexedSlices::indices`],
    /// [`IndexedSlices::values`] and [`IndexedSlices::squares`] return (a gradient sent to another process).
    /// The ids must be unique, ascending and under `rows`; `values` and `squares` must hold `ids · dim` numbers.
    ///
    /// ```
    /// use rkeras_tensor::IndexedSlices;
    /// let g = IndexedSlices::from_lookups(4, 1, &[2, 0, 2], &[1.0, 2.0, 3.0]).unwrap();
    /// let [rows, dim] = g.dense_shape();
    /// let back = IndexedSlices::from_parts(rows, dim, g.indices().to_vec(), g.values().to_vec(), g.squares().to_vec());
    /// assert_eq!(back.unwrap(), g);
    /// assert!(IndexedSlices::from_parts(4, 1, vec![2, 0], vec![1.0, 2.0], vec![1.0, 4.0]).is_err());
    /// ```
    pub fn from_parts(
        rows: usize,
        dim: usize,
        indices: Vec<usize>,
        values: Vec<f32>,
        squares: Vec<f32>,
    ) -> Result<Self> {
        let size = indices.len() * dim;
        if values.len() != size || squares.len() != size {
            return Err(TensorError::shape_mismatch(
                "indexed_slices",
                &[indices.len(), dim],
                &[values.len(), squares.len()],
            ));
        }
        if indices.windows(2).any(|w| w[0] >= w[1]) {
            return Err(internal("ids must be unique and ascending"));
        }
        if let Some(&bad) = indices.last().filter(|&&id| id >= rows) {
            return Err(TensorError::IndexOutOfRange {
                op: "indexed_slices",
                index: bad as f64,
                bound: rows,
            });
        }
        Ok(IndexedSlices {
            rows,
            dim,
            indices,
            values,
            squares,
        })
    }

    /// The shape of the dense gradient, `[rows, dim]`.
    pub fn dense_shape(&self) -> [usize; 2] {
        [self.rows, self.dim]
    }

    /// The ids of the rows that received a gradient, unique and ascending.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The gradient rows, one per id, row-major (`indices().len() · dim` numbers).
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Per id, the sum over its lookups of each lookup's squared gradient row. Where a row was read once it equals
    /// the square of [`IndexedSlices::values`]; where the lookups' gradients cancel, it is larger.
    pub fn squares(&self) -> &[f32] {
        &self.squares
    }

    /// The summed gradient rows as a `[ids, dim]` array view.
    pub fn values_view(&self) -> Result<ArrayViewD<'_, f32>> {
        ArrayViewD::from_shape(IxDyn(&[self.indices.len(), self.dim]), &self.values)
            .map_err(|_| internal("values shape"))
    }

    /// The summed squares as a `[ids, dim]` array view.
    pub fn squares_view(&self) -> Result<ArrayViewD<'_, f32>> {
        ArrayViewD::from_shape(IxDyn(&[self.indices.len(), self.dim]), &self.squares)
            .map_err(|_| internal("squares shape"))
    }

    /// Adds `other` (a gradient of the same table, e.g. from a second lookup): rows present in both are added,
    /// `self`'s first; the others are taken as they are. The result equals adding the two dense gradients.
    pub fn add(&mut self, other: &IndexedSlices) -> Result<()> {
        if self.dense_shape() != other.dense_shape() {
            return Err(TensorError::shape_mismatch(
                "indexed_slices",
                &self.dense_shape(),
                &other.dense_shape(),
            ));
        }
        let dim = self.dim;
        let capacity = self.indices.len() + other.indices.len();
        let mut indices = Vec::with_capacity(capacity);
        let mut values = Vec::with_capacity(capacity * dim);
        let mut squares = Vec::with_capacity(capacity * dim);
        let (mut a, mut b) = (0, 0);
        while a < self.indices.len() || b < other.indices.len() {
            let (ia, ib) = (self.indices.get(a), other.indices.get(b));
            let take_a = matches!((ia, ib), (Some(x), Some(y)) if x <= y) || ib.is_none();
            let take_b = matches!((ia, ib), (Some(x), Some(y)) if y <= x) || ia.is_none();
            let start = values.len();
            if take_a {
                indices.push(self.indices[a]);
                values.extend_from_slice(&self.values[a * dim..(a + 1) * dim]);
                squares.extend_from_slice(&self.squares[a * dim..(a + 1) * dim]);
                a += 1;
            }
            if take_b {
                let (v, s) = (
                    &other.values[b * dim..(b + 1) * dim],
                    &other.squares[b * dim..(b + 1) * dim],
                );
                if take_a {
                    values[start..].iter_mut().zip(v).for_each(|(x, y)| *x += y);
                    squares[start..]
                        .iter_mut()
                        .zip(s)
                        .for_each(|(x, y)| *x += y);
                } else {
                    indices.push(other.indices[b]);
                    values.extend_from_slice(v);
                    squares.extend_from_slice(s);
                }
                b += 1;
            }
        }
        self.indices = indices;
        self.values = values;
        self.squares = squares;
        Ok(())
    }

    /// Adds the gradient rows into a dense gradient of the table's shape (`dense[id] += row`).
    pub fn add_to(&self, dense: &mut ArrayD<f32>) -> Result<()> {
        if dense.shape() != self.dense_shape() {
            return Err(TensorError::shape_mismatch(
                "indexed_slices",
                &self.dense_shape(),
                dense.shape(),
            ));
        }
        let dim = self.dim;
        let scatter = |out: &mut [f32]| {
            for (&id, row) in self
                .indices
                .iter()
                .zip(self.values.chunks_exact(dim.max(1)))
            {
                out[id * dim..(id + 1) * dim]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(d, &v)| *d += v);
            }
        };
        match dense.as_slice_mut() {
            Some(out) => scatter(out),
            None => {
                let mut owned = dense.as_standard_layout().into_owned();
                scatter(
                    owned
                        .as_slice_mut()
                        .ok_or_else(|| internal("dense layout"))?,
                );
                dense.assign(&owned);
            }
        }
        Ok(())
    }

    /// The dense `[rows, dim]` gradient: zero except at the looked-up rows.
    pub fn to_dense(&self) -> Result<ArrayD<f32>> {
        self.scatter(&self.values)
    }

    /// The dense `[rows, dim]` array of [`IndexedSlices::squares`] (zero at rows not looked up).
    pub fn squares_to_dense(&self) -> Result<ArrayD<f32>> {
        self.scatter(&self.squares)
    }

    /// `rows` at their ids and zeros between them, each element written once (the ids ascend).
    fn scatter(&self, rows: &[f32]) -> Result<ArrayD<f32>> {
        let dim = self.dim;
        let mut dense = crate::buffer_pool::take(self.rows * dim);
        let mut next = 0;
        for (&id, row) in self.indices.iter().zip(rows.chunks_exact(dim.max(1))) {
            dense[next * dim..id * dim].fill(0.0);
            dense[id * dim..(id + 1) * dim].copy_from_slice(row);
            next = id + 1;
        }
        dense[next * dim..].fill(0.0);
        ArrayD::from_shape_vec(IxDyn(&[self.rows, dim]), dense).map_err(|_| internal("dense shape"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_ids_are_summed_in_lookup_order_with_their_squares() {
        let s = IndexedSlices::from_lookups(5, 2, &[3, 1, 3, 3], &[1., 2., 3., 4., 5., 6., 7., 8.])
            .unwrap();
        assert_eq!(s.indices(), &[1, 3]);
        assert_eq!(s.values(), &[3., 4., 1. + 5. + 7., 2. + 6. + 8.]);
        assert_eq!(s.squares(), &[9., 16., 1. + 25. + 49., 4. + 36. + 64.]);
        // The same sums as a dense scatter-add, bit for bit, including the order of the additions.
        let vals = [0.1f32, 0.2, 0.3];
        let s = IndexedSlices::from_lookups(1, 1, &[0, 0, 0], &vals).unwrap();
        assert_eq!(s.values()[0], ((0.0 + 0.1f32) + 0.2) + 0.3);
    }

    #[test]
    fn a_slot_table_and_a_sort_group_alike() {
        // 1,088 lookups of 22 ids (the memory network's story batch): grouped through a slot per row; the same
        // lookups into a 100,000-row table: grouped by a sort. Same ids, sums and squares, bit for bit.
        let ids: Vec<usize> = (0..1088).map(|k| (k * 7 + k / 13) % 22).collect();
        let values: Vec<f32> = (0..1088 * 3)
            .map(|k| ((k * 37) % 101) as f32 / 17.0 - 2.9)
            .collect();
        let small = IndexedSlices::from_lookups(22, 3, &ids, &values).unwrap();
        let large = IndexedSlices::from_lookups(100_000, 3, &ids, &values).unwrap();
        assert_eq!(small.indices(), large.indices());
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(small.values()), bits(large.values()));
        assert_eq!(bits(small.squares()), bits(large.squares()));
        // And both equal a dense scatter-add in lookup order.
        let mut dense = vec![0.0f32; 22 * 3];
        for (k, &id) in ids.iter().enumerate() {
            for j in 0..3 {
                dense[id * 3 + j] += values[k * 3 + j];
            }
        }
        for (slot, &id) in small.indices().iter().enumerate() {
            assert_eq!(
                bits(&small.values()[slot * 3..slot * 3 + 3]),
                bits(&dense[id * 3..id * 3 + 3])
            );
        }
    }

    #[test]
    fn bad_ids_and_lengths_are_errors() {
        assert!(matches!(
            IndexedSlices::from_lookups(2, 1, &[2], &[1.0]),
            Err(TensorError::IndexOutOfRange { bound: 2, .. })
        ));
        assert!(IndexedSlices::from_lookups(2, 2, &[1], &[1.0]).is_err());
        let mut a = IndexedSlices::from_lookups(2, 1, &[1], &[1.0]).unwrap();
        let b = IndexedSlices::from_lookups(3, 1, &[1], &[1.0]).unwrap();
        assert!(a.add(&b).is_err());
        let mut dense = ArrayD::zeros(IxDyn(&[3, 1]));
        assert!(a.add_to(&mut dense).is_err());
    }

    #[test]
    fn adding_slices_equals_adding_dense_gradients() {
        let mut a =
            IndexedSlices::from_lookups(6, 2, &[4, 0, 4], &[1., 2., 3., 4., 5., 6.]).unwrap();
        let b =
            IndexedSlices::from_lookups(6, 2, &[5, 4, 2], &[7., 8., 9., 10., 11., 12.]).unwrap();
        let dense = a.to_dense().unwrap() + b.to_dense().unwrap();
        let squares = a.squares_to_dense().unwrap() + b.squares_to_dense().unwrap();
        a.add(&b).unwrap();
        assert_eq!(a.indices(), &[0, 2, 4, 5]);
        assert_eq!(a.to_dense().unwrap(), dense);
        assert_eq!(a.squares_to_dense().unwrap(), squares);
        let mut into = ArrayD::from_elem(IxDyn(&[6, 2]), 1.0f32);
        b.add_to(&mut into).unwrap();
        assert_eq!(into, b.to_dense().unwrap() + 1.0);
    }

    #[test]
    fn dense_forms_put_rows_at_their_ids() {
        let s = IndexedSlices::from_lookups(3, 2, &[2], &[-1.0, 2.0]).unwrap();
        assert_eq!(s.dense_shape(), [3, 2]);
        assert_eq!(
            s.to_dense().unwrap().as_slice().unwrap(),
            &[0., 0., 0., 0., -1., 2.]
        );
        assert_eq!(
            s.squares_to_dense().unwrap().as_slice().unwrap(),
            &[0., 0., 0., 0., 1., 4.]
        );
        assert_eq!(s.values_view().unwrap().shape(), &[1, 2]);
        assert_eq!(s.squares_view().unwrap().shape(), &[1, 2]);
    }

    /// The dense form is written whole: a pooled buffer's old values do not show between the ids.
    #[test]
    fn dense_forms_overwrite_a_reused_buffer() {
        let s = IndexedSlices::from_lookups(5, 2, &[3, 1], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        for _ in 0..2 {
            let dense = s.to_dense().unwrap();
            assert_eq!(
                dense.as_slice().unwrap(),
                &[0., 0., 3., 4., 0., 0., 1., 2., 0., 0.]
            );
            let mut stale = dense.into_raw_vec_and_offset().0;
            stale.fill(f32::NAN);
            crate::buffer_pool::give(stale);
        }
    }
}
