//! Gradients of the batch-normalization forward pass: with the batch's (optionally masked) statistics, and
//! with fixed (moving) statistics.

use super::{Parallelism, Result, channel_sums, check_len, divisor, for_row_blocks, rows_of};

/// Where [`batch_norm_backward`] writes; each gradient is computed only when given.
#[derive(Debug, Default)]
pub struct BatchNormGrads<'a> {
    /// d loss / d x, overwritten.
    pub input: Option<&'a mut [f32]>,
    /// d loss / d gamma, overwritten.
    pub gamma: Option<&'a mut [f32]>,
    /// d loss / d beta, overwritten.
    pub beta: Option<&'a mut [f32]>,
}

/// The shapes shared by every backward pass: `(rows, 1/sqrt(var + eps))`, after checking the lengths.
fn prepare(
    x: &[f32],
    grad_out: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: Option<&[f32]>,
    eps: f32,
) -> Result<(usize, Vec<f32>)> {
    let channels = mean.len();
    let rows = rows_of(x.len(), channels)?;
    check_len("grad_out", grad_out.len(), x.len())?;
    check_len("var", var.len(), channels)?;
    if let Some(g) = gamma {
        check_len("gamma", g.len(), channels)?;
    }
    Ok((rows, var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect()))
}

/// Writes `dgamma = Σ dy·x̂` and `dbeta = Σ dy` where asked.
fn write_affine(
    grad_gamma: Option<&mut [f32]>,
    grad_beta: Option<&mut [f32]>,
    sum_dy: &[f64],
    sum_dy_xhat: &[f64],
) -> Result<()> {
    if let Some(db) = grad_beta {
        check_len("the beta gradient", db.len(), sum_dy.len())?;
        db.iter_mut().zip(sum_dy).for_each(|(d, &s)| *d = s as f32);
    }
    if let Some(dg) = grad_gamma {
        check_len("the gamma gradient", dg.len(), sum_dy_xhat.len())?;
        dg.iter_mut()
            .zip(sum_dy_xhat)
            .for_each(|(d, &s)| *d = s as f32);
    }
    Ok(())
}

/// `gamma · rstd` per channel.
fn scales(rstd: &[f32], gamma: Option<&[f32]>) -> Vec<f32> {
    rstd.iter()
        .enumerate()
        .map(|(c, r)| gamma.map_or(*r, |g| r * g[c]))
        .collect()
}

/// Gradients of a training-mode [`super::batch_norm_forward`] (statistics of `x` itself, from
/// [`super::batch_norm_statistics`]) given `grad_out`: with `x̂ = (x − mean)/σ`, `dbeta = Σ dy`,
/// `dgamma = Σ dy·x̂`, `dx = gamma/σ · (dy − dbeta/n − x̂·dgamma/n)`.
///
/// # Errors
/// [`crate::TensorError::InvalidArgument`] if a slice's length does not match `mean.len()` channels.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    x: &[f32],
    grad_out: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: Option<&[f32]>,
    eps: f32,
    grads: BatchNormGrads<'_>,
    par: Parallelism,
) -> Result<()> {
    training_backward(x, grad_out, mean, var, gamma, eps, None, grads, par)
}

/// Gradients of [`super::batch_norm_forward`] with the statistics of
/// [`super::batch_norm_masked_statistics`]: every row is normalized, the statistics depend on the kept rows
/// only. With `n = kept + ε`, `m` the row's mask (1 or 0) and `M = Σ kept x̂`:
/// `dx = gamma/σ · (dy − m·(Σdy − Σdy·x̂·M/n)/n − m·x̂·Σdy·x̂/n)`; `dgamma`, `dbeta` as unmasked.
///
/// # Errors
/// [`crate::TensorError::InvalidArgument`] if a slice's length does not match `mean.len()` channels or
/// `mask` has not one value per row.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_masked_backward(
    x: &[f32],
    grad_out: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: Option<&[f32]>,
    eps: f32,
    mask: &[f32],
    grads: BatchNormGrads<'_>,
    par: Parallelism,
) -> Result<()> {
    training_backward(x, grad_out, mean, var, gamma, eps, Some(mask), grads, par)
}

#[allow(clippy::too_many_arguments)]
fn training_backward(
    x: &[f32],
    grad_out: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: Option<&[f32]>,
    eps: f32,
    mask: Option<&[f32]>,
    grads: BatchNormGrads<'_>,
    par: Parallelism,
) -> Result<()> {
    let channels = mean.len();
    let (rows, rstd) = prepare(x, grad_out, mean, var, gamma, eps)?;
    if let Some(m) = mask {
        check_len("mask", m.len(), rows)?;
    }
    let kept = |r: usize| mask.is_none_or(|m| m[r] != 0.0);
    // Per channel: Σ dy, Σ dy·x̂ and, with a mask, Σ kept x̂.
    let width = if mask.is_some() { 3 } else { 2 } * channels;
    let sums = channel_sums(x, channels, width, par, |r, acc| {
        let (sum_dy, rest) = acc.split_at_mut(channels);
        let (sum_dy_xhat, sum_xhat) = rest.split_at_mut(channels);
        let row = r * channels..(r + 1) * channels;
        for (c, (&v, &dy)) in x[row.clone()].iter().zip(&grad_out[row]).enumerate() {
            let xhat = (v - mean[c]) * rstd[c];
            sum_dy[c] += f64::from(dy);
            sum_dy_xhat[c] += f64::from(dy) * f64::from(xhat);
        }
        if mask.is_some() && kept(r) {
            let row = &x[r * channels..(r + 1) * channels];
            for (c, (s, &v)) in sum_xhat.iter_mut().zip(row).enumerate() {
                *s += f64::from((v - mean[c]) * rstd[c]);
            }
        }
    });
    let (sum_dy, rest) = sums.split_at(channels);
    let (sum_dy_xhat, sum_xhat) = rest.split_at(channels);
    let BatchNormGrads {
        input,
        gamma: grad_gamma,
        beta: grad_beta,
    } = grads;
    write_affine(grad_gamma, grad_beta, sum_dy, sum_dy_xhat)?;
    let Some(dx) = input else {
        return Ok(());
    };
    check_len("the input gradient", dx.len(), x.len())?;
    let n = divisor(rows, mask);
    let mean_dy: Vec<f32> = match mask {
        None => sum_dy.iter().map(|&s| (s / n) as f32).collect(),
        Some(_) => sum_dy
            .iter()
            .zip(sum_dy_xhat.iter().zip(sum_xhat))
            .map(|(&s, (&sx, &m))| ((s - sx * m / n) / n) as f32)
            .collect(),
    };
    let mean_dy_xhat: Vec<f32> = sum_dy_xhat.iter().map(|&s| (s / n) as f32).collect();
    let scale = scales(&rstd, gamma);
    for_row_blocks(dx, channels, par, |first, dx| {
        let at = first * channels..first * channels + dx.len();
        let (x, dy) = (&x[at.clone()], &grad_out[at]);
        let rows = dx
            .chunks_exact_mut(channels)
            .zip(x.chunks_exact(channels).zip(dy.chunks_exact(channels)));
        for (r, (d, (x, dy))) in rows.enumerate() {
            if !kept(first + r) {
                for (c, (d, &dy)) in d.iter_mut().zip(dy).enumerate() {
                    *d = scale[c] * dy;
                }
                continue;
            }
            for (c, ((d, &v), &dy)) in d.iter_mut().zip(x).zip(dy).enumerate() {
                let xhat = (v - mean[c]) * rstd[c];
                *d = scale[c] * (dy - mean_dy[c] - xhat * mean_dy_xhat[c]);
            }
        }
    });
    Ok(())
}

/// Gradients of an inference-mode [`super::batch_norm_forward`] (fixed `mean`/`var`, e.g. the moving
/// statistics): `dx = gamma/σ · dy`, `dgamma = Σ dy·x̂`, `dbeta = Σ dy`.
///
/// # Errors
/// [`crate::TensorError::InvalidArgument`] if a slice's length does not match `mean.len()` channels.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_inference_backward(
    x: &[f32],
    grad_out: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: Option<&[f32]>,
    eps: f32,
    grads: BatchNormGrads<'_>,
    par: Parallelism,
) -> Result<()> {
    let channels = mean.len();
    let (_, rstd) = prepare(x, grad_out, mean, var, gamma, eps)?;
    let BatchNormGrads {
        input,
        gamma: grad_gamma,
        beta: grad_beta,
    } = grads;
    if grad_gamma.is_some() || grad_beta.is_some() {
        let sums = channel_sums(x, channels, 2 * channels, par, |r, acc| {
            let (sum_dy, sum_dy_xhat) = acc.split_at_mut(channels);
            let row = r * channels..(r + 1) * channels;
            for (c, (&v, &dy)) in x[row.clone()].iter().zip(&grad_out[row]).enumerate() {
                sum_dy[c] += f64::from(dy);
                sum_dy_xhat[c] += f64::from(dy) * f64::from((v - mean[c]) * rstd[c]);
            }
        });
        let (sum_dy, sum_dy_xhat) = sums.split_at(channels);
        write_affine(grad_gamma, grad_beta, sum_dy, sum_dy_xhat)?;
    }
    if let Some(dx) = input {
        check_len("the input gradient", dx.len(), x.len())?;
        let scale = scales(&rstd, gamma);
        for_row_blocks(dx, channels, par, |first, dx| {
            let dy = &grad_out[first * channels..first * channels + dx.len()];
            for (d, dy) in dx.chunks_exact_mut(channels).zip(dy.chunks_exact(channels)) {
                d.iter_mut()
                    .zip(dy)
                    .zip(&scale)
                    .for_each(|((d, &dy), s)| *d = s * dy);
            }
        });
    }
    Ok(())
}
