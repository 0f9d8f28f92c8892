//! Row gathering (an embedding lookup) and its backward, the per-row sums of the lookups' gradient rows.
//!
//! Rows of the common small widths are handled as fixed-size arrays, so a row's copy or sum compiles to a few
//! vector moves and adds instead of a `memcpy` call or a loop with a scalar tail (an embedding lookup copies
//! thousands of rows of 4–64 floats per batch). Both loops are compiled per target (`per_target!`); neither
//! fuses a multiply with an add, so every target gives the bits of the plain loops.

use super::per_target::per_target;

/// Calls `$fixed::<N>(args)` when `$dim` is one of the common row widths `N`, else `$general(args)`; each call
/// is inlined into the calling target's copy.
macro_rules! by_width {
    ($dim:expr, $fixed:ident, $general:ident, ($($arg:expr),*)) => {
        match $dim {
            1 => $fixed::<1>($($arg),*),
            2 => $fixed::<2>($($arg),*),
            4 => $fixed::<4>($($arg),*),
            8 => $fixed::<8>($($arg),*),
            16 => $fixed::<16>($($arg),*),
            32 => $fixed::<32>($($arg),*),
            64 => $fixed::<64>($($arg),*),
            128 => $fixed::<128>($($arg),*),
            _ => $general($($arg),*),
        }
    };
}

per_target! {
    /// Appends row `id` of the row-major `table` (rows of `dim` floats) to `out` for every id, in order. An id
    /// past the table's end is skipped (callers check the ids first).
    pub fn gather_rows_into(table: &[f32], dim: usize, ids: &[usize], out: &mut Vec<f32>) {
        out.reserve(ids.len() * dim);
        by_width!(dim, copy_fixed, copy_any, (table, dim, ids, out));
    }
}

/// [`gather_rows_into`] for rows of `N` floats.
#[inline(always)]
fn copy_fixed<const N: usize>(table: &[f32], _dim: usize, ids: &[usize], out: &mut Vec<f32>) {
    for &id in ids {
        if let Some(row) = row::<N>(table, id) {
            out.extend_from_slice(row);
        }
    }
}

/// [`gather_rows_into`] for rows of any width.
#[inline(always)]
fn copy_any(table: &[f32], dim: usize, ids: &[usize], out: &mut Vec<f32>) {
    for &id in ids {
        if let Some(row) = table.get(id * dim..(id + 1) * dim) {
            out.extend_from_slice(row);
        }
    }
}

/// For each lookup `k` (gradient row `values[k·dim..(k+1)·dim]`, summed into row `slots[k]`) in order:
/// `sums[slot] += row` and `squares[slot] += row²`, element by element. Returns false, adding nothing, when a
/// slot lies past the end of `sums` or `squares`.
pub fn scatter_add_rows(
    slots: &[usize],
    values: &[f32],
    dim: usize,
    sums: &mut [f32],
    squares: &mut [f32],
) -> bool {
    let rows = sums.len().min(squares.len()) / dim.max(1);
    if slots.iter().any(|&slot| slot >= rows) {
        return false;
    }
    scatter_add_in_range(slots, values, dim, sums, squares);
    true
}

per_target! {
    /// [`scatter_add_rows`] once its slots are checked (a slot out of range is skipped).
    fn scatter_add_in_range(
        slots: &[usize],
        values: &[f32],
        dim: usize,
        sums: &mut [f32],
        squares: &mut [f32],
    ) {
        by_width!(dim, add_fixed, add_any, (slots, values, dim, sums, squares));
    }
}

/// Row `i` of `N` floats of a row-major slice, as an array.
#[inline(always)]
fn row<const N: usize>(values: &[f32], i: usize) -> Option<&[f32; N]> {
    values
        .get(i * N..(i + 1) * N)
        .and_then(|r| <&[f32; N]>::try_from(r).ok())
}

/// [`row`], writable.
#[inline(always)]
fn row_mut<const N: usize>(values: &mut [f32], i: usize) -> Option<&mut [f32; N]> {
    values
        .get_mut(i * N..(i + 1) * N)
        .and_then(|r| <&mut [f32; N]>::try_from(r).ok())
}

/// [`scatter_add_rows`] for rows of `N` floats.
#[inline(always)]
fn add_fixed<const N: usize>(
    slots: &[usize],
    values: &[f32],
    _dim: usize,
    sums: &mut [f32],
    squares: &mut [f32],
) {
    let count = slots.len().min(values.len() / N);
    let mut k = 0;
    while k < count {
        let slot = slots[k];
        let (Some(sum), Some(square)) = (row_mut::<N>(sums, slot), row_mut::<N>(squares, slot))
        else {
            k += 1;
            continue;
        };
        // A run of lookups into one row (a padded story's zeros) is summed in registers and stored once: the
        // same additions in the same order, without a store and reload between them.
        let (mut s, mut q) = (*sum, *square);
        while k < count && slots[k] == slot {
            let Some(lookup) = row::<N>(values, k) else {
                k = count;
                break;
            };
            for i in 0..N {
                s[i] += lookup[i];
                q[i] += lookup[i] * lookup[i];
            }
            k += 1;
        }
        *sum = s;
        *square = q;
    }
}

/// [`scatter_add_rows`] for rows of any width.
#[inline(always)]
fn add_any(slots: &[usize], values: &[f32], dim: usize, sums: &mut [f32], squares: &mut [f32]) {
    for (&slot, lookup) in slots.iter().zip(values.chunks_exact(dim.max(1))) {
        let range = slot * dim..(slot + 1) * dim;
        if let (Some(sum), Some(square)) = (sums.get_mut(range.clone()), squares.get_mut(range)) {
            for ((s, q), &c) in sum.iter_mut().zip(square.iter_mut()).zip(lookup) {
                *s += c;
                *q += c * c;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDTHS: [usize; 11] = [1, 2, 3, 4, 5, 8, 16, 32, 64, 100, 128];

    /// The gather's reference: one plain copy per id.
    fn reference_gather(table: &[f32], dim: usize, ids: &[usize]) -> Vec<f32> {
        ids.iter()
            .flat_map(|&id| table[id * dim..(id + 1) * dim].iter().copied())
            .collect()
    }

    /// The lookups' ids: every row of a 22-row table, some many times, in no order, and runs of zeros (as a
    /// padded story's) of growing length.
    fn ids(count: usize, rows: usize) -> Vec<usize> {
        (0..count)
            .map(|k| {
                if k % 40 < k / 40 % 13 {
                    0
                } else {
                    (k * 7 + k / 3) % rows
                }
            })
            .collect()
    }

    #[test]
    fn gather_copies_the_same_rows_as_the_plain_copy_for_every_width() {
        for dim in WIDTHS {
            let rows = 22;
            let table: Vec<f32> = (0..rows * dim).map(|i| (i as f32).sin()).collect();
            let ids = ids(150, rows);
            let mut out = vec![-1.0];
            gather_rows_into(&table, dim, &ids, &mut out);
            assert_eq!(out[0], -1.0, "appends after what the buffer held");
            assert_eq!(
                out[1..],
                reference_gather(&table, dim, &ids)[..],
                "dim {dim}"
            );
        }
        let mut empty = Vec::new();
        gather_rows_into(&[1.0, 2.0], 2, &[], &mut empty);
        assert!(empty.is_empty());
    }

    #[test]
    fn scatter_add_gives_the_plain_loops_bits_for_every_width() {
        for dim in WIDTHS {
            let rows = 22;
            let slots = ids(300, rows);
            let values: Vec<f32> = (0..slots.len() * dim)
                .map(|i| (i as f32 * 0.37).sin() * 1e3_f32.powf((i % 7) as f32 - 3.0))
                .collect();
            let (mut sums, mut squares) = (vec![0.0; rows * dim], vec![0.0; rows * dim]);
            assert!(scatter_add_rows(
                &slots,
                &values,
                dim,
                &mut sums,
                &mut squares
            ));
            let (mut want_sums, mut want_squares) =
                (vec![0.0f32; rows * dim], vec![0.0f32; rows * dim]);
            for (k, &slot) in slots.iter().enumerate() {
                for i in 0..dim {
                    let c = std::hint::black_box(values[k * dim + i]);
                    want_sums[slot * dim + i] += c;
                    want_squares[slot * dim + i] += c * c;
                }
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&sums), bits(&want_sums), "sums, dim {dim}");
            assert_eq!(bits(&squares), bits(&want_squares), "squares, dim {dim}");
        }
    }

    #[test]
    fn scatter_add_reports_a_slot_past_the_rows() {
        for dim in [3, 4] {
            let (mut sums, mut squares) = (vec![0.0; 2 * dim], vec![0.0; 2 * dim]);
            let values = vec![1.0; 2 * dim];
            assert!(!scatter_add_rows(
                &[1, 2],
                &values,
                dim,
                &mut sums,
                &mut squares
            ));
            assert!(
                sums.iter().chain(&squares).all(|&v| v == 0.0),
                "nothing is added"
            );
        }
    }
}
