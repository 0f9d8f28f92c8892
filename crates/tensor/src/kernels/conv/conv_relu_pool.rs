//! Convolution, ReLU and max pooling as one pass per shard of images. The forward pass convolves a shard into
//! a shard-sized scratch buffer and pools it into the output, keeping each pooled value's winning tap as a
//! byte (with ReLU's verdict on the maximum); the backward pass rebuilds a shard's ReLU-masked output gradient
//! from the pooled gradient and the winners, and runs the convolution's backward pass on it. The batch's convolution output and
//! its gradient (19 MB each for the MNIST convnet's second layer at batch 128) never exist whole.
//!
//! The shards are the convolution's own ([`Conv2dGeometry::shard_images`]), each runs the unfused kernels on
//! its images, and the partial kernel and bias gradients are summed in shard order, so values and gradients are
//! bit for bit those of [`super::conv2d_forward_relu`] then [`super::max_pool2d_values`], and of
//! [`super::max_pool2d_backward_replay`] then [`super::conv2d_backward_relu`], on any number of threads.

use super::conv2d::write_totals;
use super::{Conv2dGeometry, Conv2dGrads, conv2d_backward, conv2d_forward_relu, pool2d_winners};
use crate::buffer_pool;
use crate::kernels::Parallelism;
use crate::{Result, TensorError};
use rayon::prelude::*;

/// Whether max pooling `pool` over the output of convolution `conv` can run fused: `pool` reads exactly that
/// output, its windows lie inside it and do not overlap.
pub fn conv_relu_pool_applies(conv: &Conv2dGeometry, pool: &Conv2dGeometry) -> bool {
    (pool.batch, pool.in_h, pool.in_w, pool.in_c)
        == (conv.batch, conv.out_h, conv.out_w, conv.out_c)
        && pool2d_winners::applies(pool)
}

/// Runs `f(shard, item)` over the shards' items in order, in parallel when `par` allows.
fn shards<T: Send, R: Send>(
    items: Vec<T>,
    par: Parallelism,
    f: impl Fn(usize, T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    match par {
        Parallelism::None => items
            .into_iter()
            .enumerate()
            .map(|(s, t)| f(s, t))
            .collect(),
        Parallelism::Rayon(_) => items
            .into_par_iter()
            .enumerate()
            .map(|(s, t)| f(s, t))
            .collect(),
    }
}

fn check(conv: &Conv2dGeometry, pool: &Conv2dGeometry, input: usize, out: usize) -> Result<()> {
    if !conv_relu_pool_applies(conv, pool) {
        return Err(TensorError::invalid_argument(
            "conv2d_relu_max_pool2d",
            "the pooling does not read the convolution's output with windows inside it that do not overlap",
        ));
    }
    conv.check_len("the input", input, conv.batch * conv.image_len())?;
    pool.check_len(
        "the output",
        out,
        pool.batch * pool.positions() * pool.out_c,
    )
}

/// `out = max_pool(relu(conv(input, kernel) + bias))` (`pool`'s windows over `conv`'s output), and each output
/// value's winning tap in `winners` (as long as `out`).
///
/// # Errors
/// [`TensorError::InvalidArgument`] if the geometries do not fit [`conv_relu_pool_applies`];
/// [`TensorError::InvalidShape`] if a slice's length does not match them.
#[allow(clippy::too_many_arguments)]
pub fn conv2d_relu_max_pool2d_forward(
    input: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    winners: &mut [u8],
    conv: &Conv2dGeometry,
    pool: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    check(conv, pool, input.len(), out.len())?;
    pool.check_len("the winners", winners.len(), out.len())?;
    let (shard, il) = (conv.shard_images(), conv.image_len());
    let (conv_image, pool_image) = (conv.positions() * conv.out_c, pool.positions() * pool.out_c);
    if shard * pool_image == 0 {
        return Ok(());
    }
    let items: Vec<_> = out
        .chunks_mut(shard * pool_image)
        .zip(winners.chunks_mut(shard * pool_image))
        .collect();
    shards(items, par, |s, (out, winners)| {
        let images = out.len() / pool_image;
        let first = s * shard;
        let g = Conv2dGeometry {
            batch: images,
            ..*conv
        };
        let mut y = buffer_pool::take(images * conv_image);
        let x = &input[first * il..(first + images) * il];
        conv2d_forward_relu(x, kernel, bias, &mut y, &g, Parallelism::None)?;
        let images = y
            .chunks_exact(conv_image)
            .zip(out.chunks_exact_mut(pool_image))
            .zip(winners.chunks_exact_mut(pool_image));
        for ((y, out), winners) in images {
            pool2d_winners::values_image(pool, y, out, winners);
        }
        buffer_pool::give(y);
        Ok(())
    })?;
    Ok(())
}

/// Gradients of [`conv2d_relu_max_pool2d_forward`] given its `winners` and `grad_out = d loss / d out`, written
/// into `grads` (the pooled values are not needed: a winner byte also says whether ReLU passed the gradient).
///
/// # Errors
/// As [`conv2d_relu_max_pool2d_forward`].
#[allow(clippy::too_many_arguments)]
pub fn conv2d_relu_max_pool2d_backward(
    input: &[f32],
    kernel: &[f32],
    grad_out: &[f32],
    winners: &[u8],
    grads: Conv2dGrads<'_>,
    conv: &Conv2dGeometry,
    pool: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    check(conv, pool, input.len(), grad_out.len())?;
    pool.check_len("the winners", winners.len(), grad_out.len())?;
    let Conv2dGrads {
        input: grad_input,
        kernel: grad_kernel,
        bias: grad_bias,
    } = grads;
    let (shard, il) = (conv.shard_images(), conv.image_len());
    let (conv_image, pool_image) = (conv.positions() * conv.out_c, pool.positions() * pool.out_c);
    let (kernel_len, oc) = (conv.patch_len() * conv.out_c, conv.out_c);
    let (want_kernel, want_bias) = (grad_kernel.is_some(), grad_bias.is_some());
    let count = conv.batch.div_ceil(shard.max(1));
    let items: Vec<Option<&mut [f32]>> = match grad_input {
        Some(dx) => {
            conv.check_len("the input gradient", dx.len(), input.len())?;
            dx.chunks_mut((shard * il).max(1)).map(Some).collect()
        }
        None => (0..count).map(|_| None).collect(),
    };
    let partials = shards(items, par, |s, dx| {
        let first = s * shard;
        let images = shard.min(conv.batch - first);
        let mut dy = buffer_pool::take(images * conv_image);
        for (i, dy) in dy.chunks_exact_mut(conv_image.max(1)).enumerate() {
            let at = (first + i) * pool_image..(first + i + 1) * pool_image;
            pool2d_winners::spread_image(pool, &grad_out[at.clone()], &winners[at], dy);
        }
        let mut partial = vec![0.0f32; kernel_len + oc];
        let (dk, db) = partial.split_at_mut(kernel_len);
        let grads = Conv2dGrads {
            input: dx,
            kernel: want_kernel.then_some(dk),
            bias: want_bias.then_some(db),
        };
        let g = Conv2dGeometry {
            batch: images,
            ..*conv
        };
        let x = &input[first * il..(first + images) * il];
        conv2d_backward(x, kernel, &dy, grads, &g, Parallelism::None)?;
        buffer_pool::give(dy);
        Ok(partial)
    })?;
    write_totals(&partials, grad_kernel, grad_bias, conv)
}
