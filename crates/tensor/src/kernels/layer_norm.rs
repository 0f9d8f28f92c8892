//! Layer normalization over the last axis, fused: one pass per row forward, one per row backward.
//!
//! Rows are independent, so a parallel run splits them into fixed chunks and computes every row exactly as a
//! serial run does; the `gamma`/`beta` gradients are column sums done by [`super::sum_axis0`], whose chunking
//! is fixed too. Results are therefore bit-identical whatever the number of threads.
//!
//! Statistics follow Keras 3 (`ops.moments`): `mean = Σx / n`, `var = Σ(x − mean)² / n` (biased), and
//! `y = (x − mean) · rsqrt(var + eps) · gamma + beta`.
//!
//! ```
//! use rkeras_tensor::kernels::layer_norm::{LayerNormStats, layer_norm_forward};
//! use rkeras_tensor::kernels::Parallelism;
//! let x = [1.0, 3.0, -2.0, 2.0];
//! let mut y = [0.0; 4];
//! let mut stats = LayerNormStats::zeros(2);
//! layer_norm_forward(&mut y, &mut stats, &x, None, None, 2, 0.0, Parallelism::None)?;
//! assert_eq!(y, [-1.0, 1.0, -1.0, 1.0]);
//! assert_eq!((stats.mean, stats.rstd), (vec![2.0, 0.0], vec![1.0, 0.5]));
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use super::Parallelism;
use super::layer_norm_lanes::{ROW_LANES, SUM_START, block_grad_sums, block_stats, gamma_gradient};
use crate::error::{Result, TensorError};
use rayon::prelude::*;

/// Rows per parallel task (fixed, so the split does not depend on the thread count).
const ROWS_PER_TASK: usize = 64;

/// Each row's mean and `1 / sqrt(var + eps)`, kept by the forward pass for the backward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerNormStats {
    /// The row means.
    pub mean: Vec<f32>,
    /// The reciprocal standard deviations `1 / sqrt(var + eps)`.
    pub rstd: Vec<f32>,
}

impl LayerNormStats {
    /// Statistics for `rows` rows, zeroed.
    pub fn zeros(rows: usize) -> Self {
        LayerNormStats {
            mean: vec![0.0; rows],
            rstd: vec![0.0; rows],
        }
    }
}

fn check_len(what: &str, len: usize, expected: usize) -> Result<()> {
    if len != expected {
        return Err(TensorError::invalid_argument(
            "layer_norm",
            format!("`{what}` holds {len} values, expected {expected}"),
        ));
    }
    Ok(())
}

/// The number of rows of `len` values of width `cols`, or an error.
fn rows_of(len: usize, cols: usize) -> Result<usize> {
    if cols == 0 || len % cols != 0 {
        return Err(TensorError::invalid_argument(
            "layer_norm",
            format!("{len} values do not split into rows of {cols}"),
        ));
    }
    Ok(len / cols)
}

/// One row's mean and reciprocal standard deviation.
fn row_stats(x: &[f32], eps: f32) -> (f32, f32) {
    let n = x.len() as f32;
    let mean = x.iter().fold(SUM_START, |s, &v| s + v) / n;
    let var = x
        .iter()
        .fold(SUM_START, |s, &v| s + (v - mean) * (v - mean))
        / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// `y = (x − mean) · rstd · gamma + beta` over one row.
fn normalize_row(
    y: &mut [f32],
    x: &[f32],
    (m, r): (f32, f32),
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
) {
    for (j, (y, &x)) in y.iter_mut().zip(x).enumerate() {
        let g = gamma.map_or(1.0, |g| g[j]);
        let b = beta.map_or(0.0, |b| b[j]);
        *y = (x - m) * r * g + b;
    }
}

/// The forward pass over consecutive rows.
#[allow(clippy::too_many_arguments)]
fn forward_rows(
    y: &mut [f32],
    x: &[f32],
    mean: &mut [f32],
    rstd: &mut [f32],
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    cols: usize,
    eps: f32,
) {
    let block = ROW_LANES * cols;
    let whole = x.len() / block.max(1);
    // Blocks of rows whose statistics are summed side by side, then the rows left one at a time.
    for (((y, x), mean), rstd) in y
        .chunks_exact_mut(block)
        .zip(x.chunks_exact(block))
        .zip(mean.chunks_exact_mut(ROW_LANES))
        .zip(rstd.chunks_exact_mut(ROW_LANES))
    {
        let (m, r) = block_stats(x, cols, eps);
        mean.copy_from_slice(&m);
        rstd.copy_from_slice(&r);
        for (l, (y, x)) in y.chunks_mut(cols).zip(x.chunks(cols)).enumerate() {
            normalize_row(y, x, (m[l], r[l]), gamma, beta);
        }
    }
    let done = whole * ROW_LANES;
    for (((y, x), mean), rstd) in y[done * cols..]
        .chunks_mut(cols)
        .zip(x[done * cols..].chunks(cols))
        .zip(mean[done..].iter_mut())
        .zip(rstd[done..].iter_mut())
    {
        let (m, r) = row_stats(x, eps);
        *mean = m;
        *rstd = r;
        normalize_row(y, x, (m, r), gamma, beta);
    }
}

/// The input gradient over consecutive rows.
fn backward_rows(
    dx: &mut [f32],
    dy: &[f32],
    x: &[f32],
    mean: &[f32],
    rstd: &[f32],
    gamma: Option<&[f32]>,
    cols: usize,
) {
    let n = cols as f32;
    let block = ROW_LANES * cols;
    let whole = x.len() / block.max(1);
    // The row sums of whole blocks side by side, those of the rows left one at a time.
    let mut sums = vec![(0.0f32, 0.0f32); mean.len()];
    for (b, sums) in sums.chunks_exact_mut(ROW_LANES).take(whole).enumerate() {
        let (rows, at) = (b * ROW_LANES, b * block);
        let (h, hx) = block_grad_sums(
            (&dy[at..], &x[at..]),
            (&mean[rows..], &rstd[rows..]),
            gamma,
            cols,
        );
        for (l, sum) in sums.iter_mut().enumerate() {
            *sum = (h[l], hx[l]);
        }
    }
    let done = whole * ROW_LANES;
    for (((sum, dy), x), (&m, &r)) in sums[done..]
        .iter_mut()
        .zip(dy[done * cols..].chunks(cols))
        .zip(x[done * cols..].chunks(cols))
        .zip(mean[done..].iter().zip(&rstd[done..]))
    {
        let (mut sum_h, mut sum_hx) = (0.0f32, 0.0f32);
        for (j, (&dy, &x)) in dy.iter().zip(x).enumerate() {
            let h = dy * gamma.map_or(1.0, |g| g[j]);
            sum_h += h;
            sum_hx += h * (x - m) * r;
        }
        *sum = (sum_h, sum_hx);
    }
    for ((((dx, dy), x), (&m, &r)), &(sum_h, sum_hx)) in dx
        .chunks_mut(cols)
        .zip(dy.chunks(cols))
        .zip(x.chunks(cols))
        .zip(mean.iter().zip(rstd))
        .zip(&sums)
    {
        let (mean_h, mean_hx) = (sum_h / n, sum_hx / n);
        for (j, ((dx, &dy), &x)) in dx.iter_mut().zip(dy).zip(x).enumerate() {
            let h = dy * gamma.map_or(1.0, |g| g[j]);
            *dx = r * (h - mean_h - (x - m) * r * mean_hx);
        }
    }
}

/// Normalizes each row of `x` (`[rows, cols]`, row-major) into `out` and records the row statistics in `stats`.
/// `gamma`/`beta` (length `cols`) scale and shift each column; `None` means 1 and 0.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_forward(
    out: &mut [f32],
    stats: &mut LayerNormStats,
    x: &[f32],
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    cols: usize,
    eps: f32,
    par: Parallelism,
) -> Result<()> {
    let rows = rows_of(x.len(), cols)?;
    check_len("out", out.len(), x.len())?;
    check_len("stats.mean", stats.mean.len(), rows)?;
    check_len("stats.rstd", stats.rstd.len(), rows)?;
    for (what, v) in [("gamma", gamma), ("beta", beta)] {
        if let Some(v) = v {
            check_len(what, v.len(), cols)?;
        }
    }
    let chunk = ROWS_PER_TASK * cols;
    let LayerNormStats { mean, rstd } = stats;
    let rows_task = |y: &mut [f32], x: &[f32], mean: &mut [f32], rstd: &mut [f32]| {
        forward_rows(y, x, mean, rstd, gamma, beta, cols, eps)
    };
    match par {
        Parallelism::None => rows_task(out, x, mean, rstd),
        Parallelism::Rayon(_) => out
            .par_chunks_mut(chunk)
            .zip(x.par_chunks(chunk))
            .zip(mean.par_chunks_mut(ROWS_PER_TASK))
            .zip(rstd.par_chunks_mut(ROWS_PER_TASK))
            .for_each(|(((y, x), mean), rstd)| rows_task(y, x, mean, rstd)),
    }
    Ok(())
}

/// The gradients of [`layer_norm_forward`]: `dx` into `dx`, and when given, `Σ_rows dy·x̂` into `dgamma` and
/// `Σ_rows dy` into `dbeta`. With `x̂ = (x − mean)·rstd` and `h = dy·gamma`,
/// `dx = rstd · (h − mean(h) − x̂ · mean(h·x̂))` per row.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward(
    dx: &mut [f32],
    dgamma: Option<&mut [f32]>,
    dbeta: Option<&mut [f32]>,
    dy: &[f32],
    x: &[f32],
    stats: &LayerNormStats,
    gamma: Option<&[f32]>,
    cols: usize,
    par: Parallelism,
) -> Result<()> {
    let rows = rows_of(x.len(), cols)?;
    check_len("dx", dx.len(), x.len())?;
    check_len("dy", dy.len(), x.len())?;
    check_len("stats.mean", stats.mean.len(), rows)?;
    check_len("stats.rstd", stats.rstd.len(), rows)?;
    if let Some(g) = gamma {
        check_len("gamma", g.len(), cols)?;
    }
    let chunk = ROWS_PER_TASK * cols;
    let rows_task = |dx: &mut [f32], dy: &[f32], x: &[f32], mean: &[f32], rstd: &[f32]| {
        backward_rows(dx, dy, x, mean, rstd, gamma, cols)
    };
    match par {
        Parallelism::None => rows_task(dx, dy, x, &stats.mean, &stats.rstd),
        Parallelism::Rayon(_) => dx
            .par_chunks_mut(chunk)
            .zip(dy.par_chunks(chunk))
            .zip(x.par_chunks(chunk))
            .zip(
                stats
                    .mean
                    .par_chunks(ROWS_PER_TASK)
                    .zip(stats.rstd.par_chunks(ROWS_PER_TASK)),
            )
            .for_each(|(((dx, dy), x), (mean, rstd))| rows_task(dx, dy, x, mean, rstd)),
    }
    if let Some(dgamma) = dgamma {
        check_len("dgamma", dgamma.len(), cols)?;
        gamma_gradient(dgamma, (dy, x), (&stats.mean, &stats.rstd), cols);
    }
    if let Some(dbeta) = dbeta {
        check_len("dbeta", dbeta.len(), cols)?;
        super::sum_axis0(dbeta, dy, rows, cols)?;
    }
    Ok(())
}

/// The naive reference: the same formulas in `f64`, one row at a time. Returns `(y, dx, dgamma, dbeta)` for
/// the upstream gradient `dy`.
pub fn layer_norm_reference(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    dy: &[f32],
    cols: usize,
    eps: f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let n = cols as f64;
    let (mut y, mut dx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    let (mut dgamma, mut dbeta) = (vec![0.0f64; cols], vec![0.0f64; cols]);
    for (r, row) in x.chunks(cols).enumerate() {
        let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = row
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        let rstd = 1.0 / (var + f64::from(eps)).sqrt();
        let xhat: Vec<f64> = row.iter().map(|&v| (f64::from(v) - mean) * rstd).collect();
        let g = &dy[r * cols..(r + 1) * cols];
        let h: Vec<f64> = (0..cols)
            .map(|j| f64::from(g[j]) * f64::from(gamma[j]))
            .collect();
        let mean_h = h.iter().sum::<f64>() / n;
        let mean_hx = h.iter().zip(&xhat).map(|(a, b)| a * b).sum::<f64>() / n;
        for j in 0..cols {
            y[r * cols + j] = (xhat[j] * f64::from(gamma[j]) + f64::from(beta[j])) as f32;
            dx[r * cols + j] = (rstd * (h[j] - mean_h - xhat[j] * mean_hx)) as f32;
            dgamma[j] += f64::from(g[j]) * xhat[j];
            dbeta[j] += f64::from(g[j]);
        }
    }
    let narrow = |v: Vec<f64>| v.into_iter().map(|v| v as f32).collect();
    (y, dx, narrow(dgamma), narrow(dbeta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::{assert_bits_eq, random_vec};

    fn run(
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        dy: &[f32],
        cols: usize,
        par: Parallelism,
    ) -> [Vec<f32>; 4] {
        let rows = x.len() / cols;
        let (mut y, mut dx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let (mut dg, mut db) = (vec![0.0; cols], vec![0.0; cols]);
        let mut stats = LayerNormStats::zeros(rows);
        layer_norm_forward(
            &mut y,
            &mut stats,
            x,
            Some(gamma),
            Some(beta),
            cols,
            1e-3,
            par,
        )
        .unwrap();
        layer_norm_backward(
            &mut dx,
            Some(&mut dg),
            Some(&mut db),
            dy,
            x,
            &stats,
            Some(gamma),
            cols,
            par,
        )
        .unwrap();
        [y, dx, dg, db]
    }

    #[test]
    fn matches_the_reference_over_awkward_shapes() {
        for (rows, cols) in [
            (1, 1),
            (1, 7),
            (3, 1),
            (63, 5),
            (130, 17),
            (0, 4),
            (257, 64),
        ] {
            let x: Vec<f32> = random_vec(rows * cols, 1)
                .iter()
                .map(|v| 3.0 * v + 0.5)
                .collect();
            let gamma = random_vec(cols, 2);
            let beta = random_vec(cols, 3);
            let dy = random_vec(rows * cols, 4);
            let (ry, rdx, rdg, rdb) = layer_norm_reference(&x, &gamma, &beta, &dy, cols, 1e-3);
            for par in [
                Parallelism::None,
                Parallelism::Rayon(0),
                Parallelism::Rayon(2),
            ] {
                let [y, dx, dg, db] = run(&x, &gamma, &beta, &dy, cols, par);
                let what = format!("{rows}x{cols} {par:?}");
                for (name, fast, reference, scale) in [
                    ("y", &y, &ry, 1.0),
                    ("dx", &dx, &rdx, 1.0),
                    ("dgamma", &dg, &rdg, rows as f32),
                    ("dbeta", &db, &rdb, rows as f32),
                ] {
                    for (i, (a, b)) in fast.iter().zip(reference.iter()).enumerate() {
                        let tol = 2e-5 * (1.0 + scale) * (1.0 + b.abs());
                        assert!((a - b).abs() <= tol, "{what} {name}[{i}]: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn parallel_runs_are_bit_identical_to_serial_ones() {
        let (rows, cols) = (1000, 33);
        let x = random_vec(rows * cols, 5);
        let gamma = random_vec(cols, 6);
        let beta = random_vec(cols, 7);
        let dy = random_vec(rows * cols, 8);
        let serial = run(&x, &gamma, &beta, &dy, cols, Parallelism::None);
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let parallel =
                pool.install(|| run(&x, &gamma, &beta, &dy, cols, Parallelism::Rayon(0)));
            for (s, p) in serial.iter().zip(&parallel) {
                assert_bits_eq(s, p, &format!("{threads} threads"));
            }
        }
    }

    /// Rows summed side by side in blocks give each row the bits it gets alone (the one-row pass), forward
    /// and backward, including a row of negative zeros and the rows after the last whole block.
    #[test]
    fn rows_in_blocks_match_rows_alone_bit_for_bit() {
        let (rows, cols) = (2 * ROW_LANES + 5, 32);
        let mut x: Vec<f32> = random_vec(rows * cols, 9)
            .iter()
            .map(|v| 4.0 * v - 1.0)
            .collect();
        x[3 * cols..4 * cols].fill(-0.0);
        let gamma = random_vec(cols, 10);
        let beta = random_vec(cols, 11);
        let dy = random_vec(rows * cols, 12);
        let [y, dx, ..] = run(&x, &gamma, &beta, &dy, cols, Parallelism::None);
        for r in 0..rows {
            let at = r * cols..(r + 1) * cols;
            let [y1, dx1, ..] = run(
                &x[at.clone()],
                &gamma,
                &beta,
                &dy[at.clone()],
                cols,
                Parallelism::None,
            );
            assert_bits_eq(&y[at.clone()], &y1, &format!("y row {r}"));
            assert_bits_eq(&dx[at], &dx1, &format!("dx row {r}"));
        }
        let zeros = [-0.0f32; 4];
        assert_eq!(
            zeros.iter().sum::<f32>().to_bits(),
            zeros.iter().fold(SUM_START, |s, &v| s + v).to_bits()
        );
    }

    /// The `gamma` gradient without the products array gives the bits of `sum_axis0` over that array, on one
    /// block, several, and enough rows for the parallel partial sums.
    #[test]
    fn gamma_gradient_matches_the_sums_of_the_products() {
        for (rows, cols) in [(5, 3), (700, 32), (3000, 33)] {
            let x = random_vec(rows * cols, 13);
            let dy = random_vec(rows * cols, 14);
            let mean = random_vec(rows, 15);
            let rstd: Vec<f32> = random_vec(rows, 16).iter().map(|v| 1.5 + v).collect();
            let products: Vec<f32> = (0..rows * cols)
                .map(|i| dy[i] * (x[i] - mean[i / cols]) * rstd[i / cols])
                .collect();
            let mut expected = vec![0.0; cols];
            crate::kernels::sum_axis0(&mut expected, &products, rows, cols).unwrap();
            for threads in [1, 2] {
                let mut fused = vec![f32::NAN; cols];
                crate::kernels::test_util::with_threads(threads, || {
                    gamma_gradient(&mut fused, (&dy, &x), (&mean, &rstd), cols)
                });
                assert_bits_eq(
                    &fused,
                    &expected,
                    &format!("{rows}x{cols}, {threads} threads"),
                );
            }
        }
    }

    #[test]
    fn mismatched_lengths_are_errors() {
        let mut stats = LayerNormStats::zeros(2);
        let mut y = [0.0; 4];
        let x = [0.0; 4];
        let bad_gamma = [1.0; 3];
        let err = layer_norm_forward(
            &mut y,
            &mut stats,
            &x,
            Some(&bad_gamma),
            None,
            2,
            1e-3,
            Parallelism::None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("gamma") && err.contains('3'), "{err}");
        assert!(
            layer_norm_forward(
                &mut y,
                &mut stats,
                &x,
                None,
                None,
                3,
                1e-3,
                Parallelism::None
            )
            .is_err()
        );
    }
}
