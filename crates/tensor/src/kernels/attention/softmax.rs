//! The row passes of attention: the softmax of the scores in place and its backward pass, vectorised.
//!
//! Rows whose kept keys are a prefix (no mask: the whole row; causal: keys `j ≤ i`) take the lane passes
//! below: the maximum, the `exp` and the sum run on [`LANES`] independent accumulators combined in a fixed
//! order, so that the loops vectorise (on AVX2 or AVX-512 when the processor has it, chosen at run time; the
//! arithmetic is the same on every path, with no fused multiply-adds, so every path gives the same bits).
//! Against one running sum the rounding of the row sum differs by a few units in the last place; the result
//! does not depend on the number of threads. Rows with an explicit mask take the general per-element pass.

use crate::kernels::exp::exp_nonpositive;
use crate::kernels::per_target::per_target;

/// Independent accumulators per row: one AVX-512 register of `f32`, two AVX2 ones.
const LANES: usize = 16;

/// Which keys a row of scores keeps when they form a prefix of the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prefix {
    /// Every key.
    All,
    /// Keys `j ≤ i` for query row `i` (Keras's causal mask).
    Causal,
}

impl Prefix {
    fn kept(self, row: usize, cols: usize) -> usize {
        match self {
            Prefix::All => cols,
            Prefix::Causal => (row + 1).min(cols),
        }
    }
}

per_target! {
    /// Softmax in place of each row of a `rows × cols` block, over the keys `prefix` keeps (the others, and rows
    /// that keep none, get 0).
    pub(crate) fn softmax_prefix_rows(block: &mut [f32], cols: usize, prefix: Prefix) {
        softmax_rows(block, cols, prefix);
    }
}

#[inline(always)]
fn softmax_rows(block: &mut [f32], cols: usize, prefix: Prefix) {
    for (i, row) in block.chunks_mut(cols.max(1)).enumerate() {
        let (kept, dropped) = row.split_at_mut(prefix.kept(i, cols).min(row.len()));
        dropped.fill(0.0);
        softmax_row(kept);
    }
}

/// The larger of `a` and `b`, `a` when `b` is NaN (the comparison the scalar pass makes).
#[inline(always)]
fn larger(a: f32, b: f32) -> f32 {
    if b > a { b } else { a }
}

/// Softmax of one fully kept row in place (all zeros when no entry is above −∞).
#[inline(always)]
fn softmax_row(row: &mut [f32]) {
    let mut maxes = [f32::NEG_INFINITY; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (m, &s) in maxes.iter_mut().zip(chunk) {
            *m = larger(*m, s);
        }
    }
    let mut max = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &s| larger(m, s));
    max = maxes.iter().fold(max, |m, &s| larger(m, s));
    if max == f32::NEG_INFINITY {
        row.fill(0.0);
        return;
    }
    let mut sums = [0.0f32; LANES];
    let mut chunks = row.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        for (sum, s) in sums.iter_mut().zip(chunk.iter_mut()) {
            *s = exp_nonpositive(*s - max);
            *sum += *s;
        }
    }
    // The row's last partial chunk takes the `exp` of a whole one (lanes past the row's end are computed and
    // dropped), then is summed in order as before: the same values and the same sum as one element at a time.
    let rest = chunks.into_remainder();
    let mut lanes = [max; LANES];
    lanes[..rest.len()].copy_from_slice(rest);
    for v in &mut lanes {
        *v = exp_nonpositive(*v - max);
    }
    rest.copy_from_slice(&lanes[..rest.len()]);
    let mut sum = 0.0f32;
    for &s in rest.iter() {
        sum += s;
    }
    for s in sums {
        sum += s;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|p| *p *= inv);
}

per_target! {
    /// The softmax backward pass of each row of a `rows × cols` block: `ds` holds the probabilities' gradient
    /// `dP` and becomes `dS = P ⊙ (dP − rowsum(P ⊙ dP))`, `p` the probabilities.
    pub(crate) fn softmax_backward_rows(ds: &mut [f32], p: &[f32], cols: usize) {
        backward_rows(ds, p, cols);
    }
}

#[inline(always)]
fn backward_rows(ds: &mut [f32], p: &[f32], cols: usize) {
    for (ds_row, p_row) in ds.chunks_mut(cols.max(1)).zip(p.chunks(cols.max(1))) {
        let mut dots = [0.0f32; LANES];
        let (g_chunks, p_chunks) = (ds_row.chunks_exact(LANES), p_row.chunks_exact(LANES));
        let mut dot: f32 = g_chunks
            .remainder()
            .iter()
            .zip(p_chunks.remainder())
            .fold(0.0, |acc, (g, p)| acc + g * p);
        for (g, p) in g_chunks.zip(p_chunks) {
            for ((d, g), p) in dots.iter_mut().zip(g).zip(p) {
                *d += g * p;
            }
        }
        for d in dots {
            dot += d;
        }
        ds_row
            .iter_mut()
            .zip(p_row)
            .for_each(|(g, p)| *g = p * (*g - dot));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::exp::exp;

    /// Softmax of `row` in f64 over its first `kept` entries.
    fn softmax_f64(row: &[f32], kept: usize) -> Vec<f64> {
        let max = row[..kept]
            .iter()
            .fold(f64::NEG_INFINITY, |m, &s| m.max(f64::from(s)));
        let e: Vec<f64> = row[..kept]
            .iter()
            .map(|&s| (f64::from(s) - max).exp())
            .collect();
        let sum: f64 = e.iter().sum();
        let mut out: Vec<f64> = e.iter().map(|x| x / sum).collect();
        out.resize(row.len(), 0.0);
        out
    }

    fn scores(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.13)
            .collect()
    }

    #[test]
    fn matches_f64_for_whole_and_causal_rows() {
        for cols in [1, 7, 16, 33, 200] {
            let rows = 5;
            for prefix in [Prefix::All, Prefix::Causal] {
                let mut block = scores(rows * cols);
                let expected: Vec<f64> = block
                    .chunks(cols)
                    .enumerate()
                    .flat_map(|(i, row)| softmax_f64(row, prefix.kept(i, cols)))
                    .collect();
                softmax_prefix_rows(&mut block, cols, prefix);
                for (a, b) in block.iter().zip(&expected) {
                    assert!(
                        (f64::from(*a) - b).abs() < 1e-6,
                        "{cols} {prefix:?}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_path_gives_the_same_bits_as_the_portable_one() {
        let cols = 200;
        let mut portable = scores(3 * cols);
        let mut dispatched = portable.clone();
        softmax_rows(&mut portable, cols, Prefix::Causal);
        softmax_prefix_rows(&mut dispatched, cols, Prefix::Causal);
        assert_eq!(
            portable.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            dispatched.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        let g = scores(3 * cols);
        let (mut a, mut b) = (g.clone(), g);
        backward_rows(&mut a, &portable, cols);
        softmax_backward_rows(&mut b, &portable, cols);
        assert_eq!(
            a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }

    /// The last partial chunk of a row, whose `exp` runs on a whole chunk, gives the bits of the element-at-a-time
    /// pass (each `exp` and the running sum of the remainder, then the lanes' sums in order).
    #[test]
    fn the_partial_chunk_matches_the_element_at_a_time_pass() {
        for cols in [1, 5, 16, 23, 200] {
            let row = scores(cols);
            let mut fast = row.clone();
            softmax_prefix_rows(&mut fast, cols, Prefix::All);
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &s| larger(m, s));
            let e: Vec<f32> = row.iter().map(|&s| exp(s - max)).collect();
            let whole = cols / LANES * LANES;
            let mut sums = [0.0f32; LANES];
            for chunk in e[..whole].chunks(LANES) {
                for (sum, v) in sums.iter_mut().zip(chunk) {
                    *sum += v;
                }
            }
            let rest = e[whole..].iter().fold(0.0f32, |a, b| a + b);
            let sum = sums.iter().fold(rest, |a, b| a + b);
            let expected: Vec<u32> = e.iter().map(|v| (v * (1.0 / sum)).to_bits()).collect();
            assert_eq!(
                fast.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                expected,
                "{cols}"
            );
        }
    }

    #[test]
    fn rows_without_a_finite_score_are_zero_and_backward_matches_the_formula() {
        let mut block = vec![f32::NEG_INFINITY; 4];
        softmax_prefix_rows(&mut block, 4, Prefix::All);
        assert_eq!(block, [0.0; 4]);
        let p = [0.1f32, 0.2, 0.3, 0.4];
        let mut ds = [1.0f32, -2.0, 0.5, 3.0];
        let dot: f32 = 0.1 - 0.4 + 0.15 + 1.2;
        let expected: Vec<f32> = p.iter().zip(ds).map(|(p, g)| p * (g - dot)).collect();
        softmax_backward_rows(&mut ds, &p, 4);
        for (a, b) in ds.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
