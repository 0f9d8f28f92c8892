//! The kept rows of a masked batch-major sequence packed in front, in row order: how a recurrent kernel keeps
//! its per-row values (input projections, gates and their gradients) so that masked rows cost neither
//! arithmetic nor memory traffic.

use super::step_mask::{StepMask, kept_rows};

/// Where each row `sample·time + step` of a `[batch, time]` sequence sits among the kept rows (its slot).
#[derive(Clone, Debug)]
pub(crate) struct PackedRows {
    /// The kept rows in order; `None` when every row is kept (each row is its own slot).
    kept: Option<Vec<usize>>,
    /// The slot of each kept row (`usize::MAX` at masked rows); empty when every row is kept.
    slots: Vec<usize>,
    rows: usize,
}

impl PackedRows {
    /// The packing of `rows` rows under `mask` (every row without one).
    pub(crate) fn new(mask: Option<&StepMask>, rows: usize) -> PackedRows {
        let kept = mask.map(kept_rows).filter(|kept| kept.len() < rows);
        let mut slots = Vec::new();
        if let Some(kept) = &kept {
            slots = vec![usize::MAX; rows];
            for (slot, &row) in kept.iter().enumerate() {
                slots[row] = slot;
            }
        }
        PackedRows { kept, slots, rows }
    }

    /// The number of kept rows.
    pub(crate) fn len(&self) -> usize {
        self.kept.as_ref().map_or(self.rows, Vec::len)
    }

    /// The slot of the kept row `row`.
    #[inline]
    pub(crate) fn slot(&self, row: usize) -> usize {
        if self.slots.is_empty() {
            row
        } else {
            self.slots[row]
        }
    }

    /// The kept rows in order, or `None` when every row is kept.
    pub(crate) fn kept(&self) -> Option<&[usize]> {
        self.kept.as_deref()
    }
}

/// Moves the packed rows at the front of `rows` (each `cols` long, slot `i` holding row `kept[i]`) to their
/// rows and zeroes every other row, in place: `kept` ascends, so row `kept[i] ≥ i` and moving the last slot
/// first never overwrites a slot not yet moved.
pub(crate) fn spread_in_place(rows: &mut [f32], cols: usize, kept: &[usize]) {
    if cols == 0 {
        return;
    }
    let mut end = rows.len() / cols;
    for (slot, &row) in kept.iter().enumerate().rev() {
        rows[(row + 1) * cols..end * cols].fill(0.0);
        if row != slot {
            rows.copy_within(slot * cols..(slot + 1) * cols, row * cols);
        }
        end = row;
    }
    rows[..end * cols].fill(0.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn slots_number_the_kept_rows_in_order() {
        let mask = array![[0.0f32, 1.0, 1.0], [0.0, 0.0, 1.0]];
        let mask = StepMask::new("test", Some(mask.view()), 2, 3).unwrap();
        let packed = PackedRows::new(mask.as_ref(), 6);
        assert_eq!(packed.len(), 3);
        assert_eq!(packed.kept(), Some(&[1usize, 2, 5][..]));
        assert_eq!([1, 2, 5].map(|row| packed.slot(row)), [0, 1, 2]);
        let all = array![[1.0f32, 1.0], [1.0, 1.0]];
        let all = StepMask::new("test", Some(all.view()), 2, 2).unwrap();
        for packed in [PackedRows::new(all.as_ref(), 4), PackedRows::new(None, 4)] {
            assert_eq!((packed.len(), packed.kept()), (4, None));
            assert_eq!(
                (0..4).map(|row| packed.slot(row)).collect::<Vec<_>>(),
                [0, 1, 2, 3]
            );
        }
    }

    /// The in-place spread against a scatter into a zeroed copy, for kept rows at the front, the back, with gaps
    /// and without any.
    #[test]
    fn spreading_in_place_equals_a_scatter_into_zeros() {
        let cols = 3;
        for kept in [
            vec![],
            vec![0, 1, 2, 3, 4, 5],
            vec![0, 1],
            vec![4, 5],
            vec![1, 3, 4],
            vec![0, 2, 5],
            vec![5],
        ] {
            let rows = 6;
            let mut packed = vec![f32::NAN; rows * cols];
            for (slot, &row) in kept.iter().enumerate() {
                for c in 0..cols {
                    packed[slot * cols + c] = (row * 10 + c) as f32 + 1.0;
                }
            }
            let mut expected = vec![0.0f32; rows * cols];
            crate::kernels::step_mask::scatter_rows(
                &packed[..kept.len() * cols],
                cols,
                &kept,
                &mut expected,
            );
            spread_in_place(&mut packed, cols, &kept);
            assert_eq!(packed, expected, "kept rows {kept:?}");
        }
    }
}
