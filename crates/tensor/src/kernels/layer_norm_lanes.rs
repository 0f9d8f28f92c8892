//! The row sums of layer normalization, [`ROW_LANES`] rows side by side, and the `gamma` gradient's column sums
//! without an array of products.
//!
//! Each row's sums run in the order of the one-row pass (element after element, from the same starting value),
//! so every row gets the same bits; running the rows of a block side by side turns the one-row pass's chain of
//! dependent additions (as long as the row) into independent chains, which the processor overlaps. With 32
//! features per row (the Transformer classifier's) the one-row pass is bound by the latency of that chain.

/// Rows summed side by side.
pub(super) const ROW_LANES: usize = 16;

/// The starting value of a row sum: `Iterator::sum` of `f32` starts from `-0.0` (so that a sum of negative
/// zeros stays `-0.0`), and the one-row pass uses the same value.
pub(super) const SUM_START: f32 = -0.0;

/// The mean and `1 / sqrt(var + eps)` of each of the [`ROW_LANES`] rows of `cols` values in `x`, bit for bit
/// those of the one-row pass (`mean = Σx / n`, `var = Σ(x − mean)² / n`).
#[inline]
pub(super) fn block_stats(
    x: &[f32],
    cols: usize,
    eps: f32,
) -> ([f32; ROW_LANES], [f32; ROW_LANES]) {
    let n = cols as f32;
    let x = &x[..ROW_LANES * cols];
    let mut sums = [SUM_START; ROW_LANES];
    for j in 0..cols {
        for (l, sum) in sums.iter_mut().enumerate() {
            *sum += x[l * cols + j];
        }
    }
    let mean = sums.map(|s| s / n);
    let mut squares = [SUM_START; ROW_LANES];
    for j in 0..cols {
        for (l, square) in squares.iter_mut().enumerate() {
            let d = x[l * cols + j] - mean[l];
            *square += d * d;
        }
    }
    (mean, squares.map(|s| 1.0 / (s / n + eps).sqrt()))
}

/// The backward pass's row sums `(Σ h, Σ h·(x − mean)·rstd)` with `h = dy·gamma` of each of the [`ROW_LANES`]
/// rows of `cols` values in `dy` and `x`, bit for bit those of the one-row pass (which starts them at 0).
#[inline]
pub(super) fn block_grad_sums(
    (dy, x): (&[f32], &[f32]),
    (mean, rstd): (&[f32], &[f32]),
    gamma: Option<&[f32]>,
    cols: usize,
) -> ([f32; ROW_LANES], [f32; ROW_LANES]) {
    let (dy, x) = (&dy[..ROW_LANES * cols], &x[..ROW_LANES * cols]);
    let (mean, rstd) = (&mean[..ROW_LANES], &rstd[..ROW_LANES]);
    let (mut sum_h, mut sum_hx) = ([0.0f32; ROW_LANES], [0.0f32; ROW_LANES]);
    for j in 0..cols {
        let g = gamma.map_or(1.0, |g| g[j]);
        for l in 0..ROW_LANES {
            let at = l * cols + j;
            let h = dy[at] * g;
            sum_h[l] += h;
            sum_hx[l] += h * (x[at] - mean[l]) * rstd[l];
        }
    }
    (sum_h, sum_hx)
}

/// `dgamma[j] = Σ_rows dy·(x − mean)·rstd` in the order of [`super::sum_axis0`] over the array of those products
/// (column sums of blocks of [`super::AXIS0_BLOCK_ROWS`] rows from 0, added to `dgamma` block after block), so the
/// same bits, without writing the products out.
pub(super) fn gamma_gradient(
    dgamma: &mut [f32],
    (dy, x): (&[f32], &[f32]),
    (mean, rstd): (&[f32], &[f32]),
    cols: usize,
) {
    use rayon::prelude::*;
    let rows_per_block = super::AXIS0_BLOCK_ROWS;
    let block = rows_per_block * cols;
    let partial = |(b, (dy, x)): (usize, (&[f32], &[f32]))| {
        let mut sums = vec![0.0f32; cols];
        let first = b * rows_per_block;
        for ((dy, x), (&m, &r)) in dy
            .chunks_exact(cols)
            .zip(x.chunks_exact(cols))
            .zip(mean[first..].iter().zip(&rstd[first..]))
        {
            for ((sum, &dy), &x) in sums.iter_mut().zip(dy).zip(x) {
                *sum += dy * (x - m) * r;
            }
        }
        sums
    };
    dgamma.fill(0.0);
    if cols == 0 {
        return;
    }
    let add = |dgamma: &mut [f32], sums: &[f32]| {
        dgamma.iter_mut().zip(sums).for_each(|(d, s)| *d += s);
    };
    if x.len() < super::PARALLEL_ELEMENTS_THRESHOLD {
        for sums in dy
            .chunks(block)
            .zip(x.chunks(block))
            .enumerate()
            .map(partial)
        {
            add(dgamma, &sums);
        }
    } else {
        let partials: Vec<Vec<f32>> = dy
            .par_chunks(block)
            .zip(x.par_chunks(block))
            .enumerate()
            .map(partial)
            .collect();
        for sums in &partials {
            add(dgamma, sums);
        }
    }
}
