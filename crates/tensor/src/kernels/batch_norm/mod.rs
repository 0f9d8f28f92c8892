//! Batch normalization over channels-last data `[rows, channels]` (every axis but the last flattened into
//! rows), fused: one pass for the statistics, one for the output, two for the gradients.
//!
//! Statistics are over the whole batch, as Keras's (`ops.moments` over every axis but the channel axis):
//! `mean = Σx / n`, `var = Σ(x − mean)² / n` (biased), accumulated in `f64`. The output follows Keras 3's
//! `ops.batch_normalization`: `inv = gamma / sqrt(var + eps)`, `y = x · inv + (beta − mean · inv)`.
//!
//! Rows are cut into fixed blocks of [`ROWS_PER_BLOCK`] (never depending on the thread count); per-channel
//! sums are formed per block and added in block order, so results are bit-identical on any number of threads.
//!
//! ```
//! use rkeras_tensor::kernels::batch_norm::{batch_norm_forward, batch_norm_statistics};
//! use rkeras_tensor::kernels::Parallelism;
//! let x = [1.0, 10.0, 3.0, 30.0]; // two rows, two channels
//! let (mean, var) = batch_norm_statistics(&x, 2, Parallelism::None)?;
//! assert_eq!((mean.clone(), var.clone()), (vec![2.0, 20.0], vec![1.0, 100.0]));
//! let mut y = [0.0; 4];
//! batch_norm_forward(&x, &mut y, &mean, &var, None, None, 0.0, Parallelism::None)?;
//! assert_eq!(y, [-1.0, -1.0, 1.0, 1.0]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use super::Parallelism;
use crate::error::{Result, TensorError};
use rayon::prelude::*;

mod backward;

pub use backward::{
    BatchNormGrads, batch_norm_backward, batch_norm_inference_backward, batch_norm_masked_backward,
};

/// Added to the count of kept rows before dividing by it in the masked statistics (Keras's
/// `backend.epsilon()`, as Keras 3's `BatchNormalization._moments` with a mask).
pub const MASK_EPSILON: f64 = 1e-7;

/// Rows per block of the per-channel sums and per parallel task.
pub const ROWS_PER_BLOCK: usize = 256;

pub(super) fn check_len(what: &str, len: usize, expected: usize) -> Result<()> {
    if len != expected {
        return Err(TensorError::invalid_argument(
            "batch_norm",
            format!("`{what}` holds {len} values, expected {expected}"),
        ));
    }
    Ok(())
}

/// The number of rows of `len` values of `channels` channels, or an error.
pub(super) fn rows_of(len: usize, channels: usize) -> Result<usize> {
    if channels == 0 || len % channels != 0 {
        return Err(TensorError::invalid_argument(
            "batch_norm",
            format!("{len} values are not rows of {channels} channels"),
        ));
    }
    Ok(len / channels)
}

/// Per-channel sums of `f(block, row)` over the rows of `x` (`width` channels), accumulated per block and
/// added in block order; `f` adds one row's terms into its `f64` accumulator.
pub(super) fn channel_sums(
    x: &[f32],
    width: usize,
    sums: usize,
    par: Parallelism,
    f: impl Fn(usize, &mut [f64]) + Sync,
) -> Vec<f64> {
    let block = |b: usize| {
        let mut acc = vec![0.0f64; sums];
        let rows = x.len() / width;
        for r in b * ROWS_PER_BLOCK..((b + 1) * ROWS_PER_BLOCK).min(rows) {
            f(r, &mut acc);
        }
        acc
    };
    let blocks = (x.len() / width).div_ceil(ROWS_PER_BLOCK);
    let partials: Vec<Vec<f64>> = match par {
        Parallelism::None => (0..blocks).map(block).collect(),
        Parallelism::Rayon(_) => (0..blocks).into_par_iter().map(block).collect(),
    };
    let mut total = vec![0.0f64; sums];
    for part in &partials {
        total.iter_mut().zip(part).for_each(|(t, v)| *t += v);
    }
    total
}

/// Runs `f(first row, rows chunk)` over `out` cut into blocks of [`ROWS_PER_BLOCK`] rows.
pub(super) fn for_row_blocks(
    out: &mut [f32],
    width: usize,
    par: Parallelism,
    f: impl Fn(usize, &mut [f32]) + Sync + Send,
) {
    let chunk = ROWS_PER_BLOCK * width;
    if chunk == 0 {
        return;
    }
    match par {
        Parallelism::None => out
            .chunks_mut(chunk)
            .enumerate()
            .for_each(|(b, o)| f(b * ROWS_PER_BLOCK, o)),
        Parallelism::Rayon(_) => out
            .par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(b, o)| f(b * ROWS_PER_BLOCK, o)),
    }
}

/// The per-channel mean and biased variance of `x: [rows, channels]`.
///
/// # Errors
/// [`TensorError::InvalidArgument`] if `x` is not whole rows of `channels` values.
pub fn batch_norm_statistics(
    x: &[f32],
    channels: usize,
    par: Parallelism,
) -> Result<(Vec<f32>, Vec<f32>)> {
    statistics(x, channels, None, par)
}

/// The per-channel mean and biased variance of the rows of `x: [rows, channels]` whose `mask` value is not 0,
/// as Keras 3's masked moments: `mean = Σ kept x / (kept + ε)`, `var = Σ kept (x − mean)² / (kept + ε)` with
/// ε = [`MASK_EPSILON`] (all rows masked gives 0 and 0).
///
/// # Errors
/// [`TensorError::InvalidArgument`] if `x` is not whole rows of `channels` values or `mask` has not one value
/// per row.
pub fn batch_norm_masked_statistics(
    x: &[f32],
    mask: &[f32],
    channels: usize,
    par: Parallelism,
) -> Result<(Vec<f32>, Vec<f32>)> {
    statistics(x, channels, Some(mask), par)
}

/// The divisor of the statistics: the row count, or the kept rows plus [`MASK_EPSILON`].
pub(super) fn divisor(rows: usize, mask: Option<&[f32]>) -> f64 {
    match mask {
        None => rows.max(1) as f64,
        Some(m) => m.iter().filter(|&&v| v != 0.0).count() as f64 + MASK_EPSILON,
    }
}

fn statistics(
    x: &[f32],
    channels: usize,
    mask: Option<&[f32]>,
    par: Parallelism,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let rows = rows_of(x.len(), channels)?;
    if let Some(m) = mask {
        check_len("mask", m.len(), rows)?;
    }
    let kept = |r: usize| mask.is_none_or(|m| m[r] != 0.0);
    let n = divisor(rows, mask);
    let sums = channel_sums(x, channels, channels, par, |r, acc| {
        if !kept(r) {
            return;
        }
        let row = &x[r * channels..(r + 1) * channels];
        acc.iter_mut()
            .zip(row)
            .for_each(|(a, &v)| *a += f64::from(v));
    });
    let mean: Vec<f64> = sums.iter().map(|s| s / n).collect();
    let squares = channel_sums(x, channels, channels, par, |r, acc| {
        if !kept(r) {
            return;
        }
        let row = &x[r * channels..(r + 1) * channels];
        for ((a, &v), m) in acc.iter_mut().zip(row).zip(&mean) {
            let d = f64::from(v) - m;
            *a += d * d;
        }
    });
    Ok((
        mean.iter().map(|&m| m as f32).collect(),
        squares.iter().map(|s| (s / n) as f32).collect(),
    ))
}

/// `inv = gamma / sqrt(var + eps)` and `shift = beta − mean · inv` per channel, as Keras 3 computes them.
fn scale_shift(
    mean: &[f32],
    var: &[f32],
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    eps: f32,
) -> (Vec<f32>, Vec<f32>) {
    let inv: Vec<f32> = var
        .iter()
        .enumerate()
        .map(|(c, v)| {
            let inv = 1.0 / (v + eps).sqrt();
            gamma.map_or(inv, |g| inv * g[c])
        })
        .collect();
    let shift = inv
        .iter()
        .zip(mean)
        .enumerate()
        .map(|(c, (i, m))| beta.map_or(0.0, |b| b[c]) - m * i)
        .collect();
    (inv, shift)
}

/// `out = (x − mean) / sqrt(var + eps) · gamma + beta` per channel, with the batch's statistics in training or
/// the moving ones in inference; `gamma`/`beta` absent mean 1/0.
///
/// # Errors
/// [`TensorError::InvalidArgument`] if a slice's length does not match `mean.len()` channels.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_forward(
    x: &[f32],
    out: &mut [f32],
    mean: &[f32],
    var: &[f32],
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    eps: f32,
    par: Parallelism,
) -> Result<()> {
    let channels = mean.len();
    rows_of(x.len(), channels)?;
    check_len("out", out.len(), x.len())?;
    check_len("var", var.len(), channels)?;
    if let Some(g) = gamma {
        check_len("gamma", g.len(), channels)?;
    }
    if let Some(b) = beta {
        check_len("beta", b.len(), channels)?;
    }
    let (inv, shift) = scale_shift(mean, var, gamma, beta, eps);
    for_row_blocks(out, channels, par, |first, out| {
        let x = &x[first * channels..first * channels + out.len()];
        for (o, x) in out.chunks_exact_mut(channels).zip(x.chunks_exact(channels)) {
            for (((o, &x), i), s) in o.iter_mut().zip(x).zip(&inv).zip(&shift) {
                *o = x * i + s;
            }
        }
    });
    Ok(())
}
