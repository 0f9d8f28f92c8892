//! 2-D convolution (channels last) as packed GEMM: each shard of images is unfolded by im2col into one pooled
//! `(images · positions) × patch_len` matrix and multiplied by the kernel in one product; shards run in
//! parallel over the batch. Stride-1, unpadded, ungrouped convolutions with 8 or more input channels skip the
//! im2col copy: their forward pass, input gradient and kernel gradient are products on strided views of the
//! images themselves (`implicit`).
//!
//! 3×3 stride-1 convolutions with 8 or more channels and filters run their forward pass and input gradient as
//! Winograd F(2×2, 3×3) (`winograd`), 2.25× fewer multiply-adds, and their kernel gradient as its adjoint
//! (`winograd_kernel_grad`).
//!
//! Shards hold a fixed number of images (chosen from the geometry, never from the thread count) and partial
//! kernel gradients are summed in shard order, so results are bit-identical on any number of threads.
//!
//! ```
//! use rkeras_tensor::kernels::{conv2d_forward, conv2d_reference, Conv2dGeometry, ConvPadding, Parallelism};
//! let g = Conv2dGeometry::conv(&[1, 3, 3, 1], &[2, 2, 1, 1], [1, 1], [1, 1], ConvPadding::Valid, 1)?;
//! let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
//! let k = [1.0, 0.0, 0.0, -1.0]; // x[i, j] − x[i+1, j+1]
//! let mut y = [0.0; 4];
//! conv2d_forward(&x, &k, Some(&[10.0]), &mut y, &g, Parallelism::None)?;
//! assert_eq!(y, [6.0, 6.0, 6.0, 6.0]);
//! let mut expected = [0.0; 4];
//! conv2d_reference(&x, &k, Some(&[10.0]), &mut expected, &g)?;
//! assert_eq!(y, expected);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use super::Conv2dGeometry;
use super::im2col::{col2im_add, im2col};
use super::winograd::{self, Images, Plan};
use super::{direct, implicit, winograd_kernel_grad};
use crate::buffer_pool;
use crate::kernels::{MatRef, Parallelism, gemm};
use crate::{Result, TensorError};
use rayon::prelude::*;

/// Rows of the im2col matrix a shard aims for: large enough for an efficient product, small enough to stay in
/// the last-level cache and to give two cores several shards at batch 128.
const SHARD_ROWS: usize = 2048;

impl Conv2dGeometry {
    /// Images per shard (depends on the geometry only).
    pub fn shard_images(&self) -> usize {
        SHARD_ROWS
            .div_ceil(self.positions().max(1))
            .clamp(1, self.batch.max(1))
    }

    fn check_conv(
        &self,
        input: usize,
        kernel: usize,
        bias: Option<usize>,
        out: usize,
    ) -> Result<()> {
        self.check_len("the input", input, self.batch * self.image_len())?;
        self.check_len("the kernel", kernel, self.patch_len() * self.out_c)?;
        if let Some(bias) = bias {
            self.check_len("the bias", bias, self.out_c)?;
        }
        self.check_len(
            "the output",
            out,
            self.batch * self.positions() * self.out_c,
        )
    }
}

/// Runs `f(shard index, chunk)` over `data` cut into chunks of `chunk` elements, in parallel when `par` allows.
fn for_shards(
    data: &mut [f32],
    chunk: usize,
    par: Parallelism,
    f: impl Fn(usize, &mut [f32]) -> Result<()> + Sync,
) -> Result<()> {
    if chunk == 0 {
        return Ok(());
    }
    match par {
        Parallelism::None => data
            .chunks_mut(chunk)
            .enumerate()
            .try_for_each(|(s, c)| f(s, c)),
        Parallelism::Rayon(_) => data
            .par_chunks_mut(chunk)
            .enumerate()
            .try_for_each(|(s, c)| f(s, c)),
    }
}

/// The kernel's columns of `group` as a `patch_len × group_out` view.
fn kernel_view<'a>(g: &Conv2dGeometry, kernel: &'a [f32], group: usize) -> Result<MatRef<'a>> {
    MatRef::new(
        &kernel[group * g.group_out()..],
        g.patch_len(),
        g.group_out(),
        g.out_c,
        1,
    )
}

/// `out = conv(input, kernel) + bias`: input `[n, h, w, c]`, kernel `[kh, kw, c/groups, filters]`, output
/// `[n, out_h, out_w, filters]`, all row-major.
///
/// # Errors
/// [`TensorError::InvalidShape`] if a slice's length does not match the geometry.
pub fn conv2d_forward(
    input: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    conv2d_forward_epilogue(input, kernel, bias, out, g, par, false)
}

/// [`conv2d_forward`] followed by ReLU (`if y > 0 { y } else { 0 }`, bit for bit what a separate ReLU gives),
/// applied to each shard while it is still in cache.
///
/// ```
/// use rkeras_tensor::kernels::{conv2d_forward_relu, Conv2dGeometry, ConvPadding, Parallelism};
/// let g = Conv2dGeometry::conv(&[1, 1, 3, 1], &[1, 2, 1, 1], [1, 1], [1, 1], ConvPadding::Valid, 1)?;
/// let mut y = [0.0; 2];
/// conv2d_forward_relu(&[1.0, 3.0, 2.0], &[1.0, -1.0], None, &mut y, &g, Parallelism::None)?;
/// assert_eq!(y, [0.0, 1.0]); // relu([−2, 1])
/// # Ok::<(), rkeras_tensor::TensorError>(())
/// ```
///
/// # Errors
/// As [`conv2d_forward`].
pub fn conv2d_forward_relu(
    input: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    conv2d_forward_epilogue(input, kernel, bias, out, g, par, true)
}

/// The forward pass with the bias and, when `relu`, the ReLU applied per shard.
fn conv2d_forward_epilogue(
    input: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    g: &Conv2dGeometry,
    par: Parallelism,
    relu: bool,
) -> Result<()> {
    g.check_conv(input.len(), kernel.len(), bias.map(<[f32]>::len), out.len())?;
    let (p, pl, oc, og) = (g.positions(), g.patch_len(), g.out_c, g.group_out());
    let shard = g.shard_images();
    let direct = direct::applies(g);
    let wino = winograd_kernel(g, kernel, Plan::forward(g))?;
    let result = for_shards(out, shard * p * oc, par, |s, out| {
        let images = out.len() / (p * oc);
        let first = s * shard;
        if let Some((plan, u)) = &wino {
            let input = Images::packed(&input[first * g.image_len()..], plan);
            return winograd::convolve(plan, input, u, (bias, relu), out);
        }
        if direct {
            for (i, out) in out.chunks_exact_mut(p * oc).enumerate() {
                let image = &input[(first + i) * g.image_len()..(first + i + 1) * g.image_len()];
                direct::forward_image(g, image, kernel, bias, relu, out);
            }
            return Ok(());
        }
        if implicit::applies(g) {
            let mut block = buffer_pool::take(implicit::full_rows(g) * oc);
            for (i, out) in out.chunks_exact_mut(p * oc).enumerate() {
                let image = &input[(first + i) * g.image_len()..(first + i + 1) * g.image_len()];
                implicit::forward_image(g, image, kernel, &mut block)?;
                implicit::gather_rows(g, &block, out, |dst, src| {
                    dst.copy_from_slice(src);
                    epilogue(dst, bias, relu);
                });
            }
            buffer_pool::give(block);
            return Ok(());
        }
        let rows = images * p;
        let mut cols = buffer_pool::take(rows * pl);
        let mut tmp = if g.groups > 1 {
            buffer_pool::take(rows * og)
        } else {
            Vec::new()
        };
        for group in 0..g.groups {
            for (i, cols) in cols.chunks_exact_mut(p * pl).enumerate() {
                let image = &input[(first + i) * g.image_len()..(first + i + 1) * g.image_len()];
                im2col(g, image, group, cols);
            }
            let a = MatRef::row_major(&cols, rows, pl)?;
            let w = kernel_view(g, kernel, group)?;
            if g.groups == 1 {
                gemm(out, a, w, 1.0, 0.0, Parallelism::None)?;
            } else {
                gemm(&mut tmp, a, w, 1.0, 0.0, Parallelism::None)?;
                for (dst, src) in out.chunks_exact_mut(oc).zip(tmp.chunks_exact(og)) {
                    dst[group * og..(group + 1) * og].copy_from_slice(src);
                }
            }
        }
        epilogue(out, bias, relu);
        buffer_pool::give(cols);
        buffer_pool::give(tmp);
        Ok(())
    });
    if let Some((_, u)) = wino {
        buffer_pool::give(u);
    }
    result
}

/// The Winograd plan and transformed kernel (pooled memory; give it back) when [`winograd`] applies; `kernel` is
/// `[3, 3, plan's channels, plan's filters]`.
fn winograd_kernel(
    g: &Conv2dGeometry,
    kernel: &[f32],
    plan: Plan,
) -> Result<Option<(Plan, Vec<f32>)>> {
    if !winograd::applies(g) {
        return Ok(None);
    }
    let mut u = buffer_pool::take(plan.kernel_len());
    winograd::transform_kernel(&plan, kernel, &mut u)?;
    Ok(Some((plan, u)))
}

/// The input-gradient plan and transformed flipped kernel when [`winograd`] applies.
fn winograd_input_grad_kernel(
    g: &Conv2dGeometry,
    kernel: &[f32],
) -> Result<Option<(Plan, Vec<f32>)>> {
    if !winograd::applies(g) {
        return Ok(None);
    }
    let mut flipped = buffer_pool::take(kernel.len());
    implicit::flipped_kernel(g, kernel, &mut flipped);
    let wino = winograd_kernel(g, &flipped, Plan::input_grad(g));
    buffer_pool::give(flipped);
    wino
}

/// Adds the bias to each row of `out` (`rows × bias.len()`) and, when `relu`, applies ReLU.
fn epilogue(out: &mut [f32], bias: Option<&[f32]>, relu: bool) {
    if let Some(bias) = bias {
        for row in out.chunks_exact_mut(bias.len().max(1)) {
            row.iter_mut().zip(bias).for_each(|(y, b)| *y += b);
        }
    }
    if relu {
        out.iter_mut()
            .for_each(|y| *y = if *y > 0.0 { *y } else { 0.0 });
    }
}

/// Where [`conv2d_backward`] writes its gradients; each one is computed only when given.
#[derive(Debug, Default)]
pub struct Conv2dGrads<'a> {
    /// d loss / d input, overwritten.
    pub input: Option<&'a mut [f32]>,
    /// d loss / d kernel, overwritten.
    pub kernel: Option<&'a mut [f32]>,
    /// d loss / d bias, overwritten.
    pub bias: Option<&'a mut [f32]>,
}

/// Gradients of [`conv2d_forward`] given `grad_out = d loss / d out`, written into `grads`.
///
/// # Errors
/// [`TensorError::InvalidShape`] if a slice's length does not match the geometry.
pub fn conv2d_backward(
    input: &[f32],
    kernel: &[f32],
    grad_out: &[f32],
    grads: Conv2dGrads<'_>,
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    backward(input, kernel, grad_out, None, grads, g, par)
}

/// Gradients of [`conv2d_forward_relu`] given its `output` and `grad_out = d loss / d output`: ReLU's gradient
/// (`grad_out · (1 if output > 0 else 0)`) is applied per shard as the output gradient is read, bit for bit
/// [`conv2d_backward`] on the masked gradient, without a masked copy of the whole batch.
///
/// ```
/// use rkeras_tensor::kernels::{conv2d_backward_relu, Conv2dGeometry, Conv2dGrads, ConvPadding, Parallelism};
/// let g = Conv2dGeometry::conv(&[1, 1, 3, 1], &[1, 2, 1, 1], [1, 1], [1, 1], ConvPadding::Valid, 1)?;
/// let (x, k, y) = ([1.0, 3.0, 2.0], [1.0, -1.0], [0.0, 1.0]); // y = relu([−2, 1])
/// let (mut dx, mut dk) = ([0.0; 3], [0.0; 2]);
/// let grads = Conv2dGrads { input: Some(&mut dx), kernel: Some(&mut dk), bias: None };
/// conv2d_backward_relu(&x, &k, &[5.0, 7.0], &y, grads, &g, Parallelism::None)?;
/// assert_eq!((dx, dk), ([0.0, 7.0, -7.0], [21.0, 14.0])); // only the second output passes its gradient
/// # Ok::<(), rkeras_tensor::TensorError>(())
/// ```
///
/// # Errors
/// As [`conv2d_backward`], and if `output` is not as long as `grad_out`.
pub fn conv2d_backward_relu(
    input: &[f32],
    kernel: &[f32],
    grad_out: &[f32],
    output: &[f32],
    grads: Conv2dGrads<'_>,
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    g.check_len("the output", output.len(), grad_out.len())?;
    backward(input, kernel, grad_out, Some(output), grads, g, par)
}

/// One shard's output gradient, masked by ReLU's output when `y` is given (into pooled memory; give it back).
fn masked_shard<'a>(dy: &'a [f32], y: Option<&[f32]>) -> std::borrow::Cow<'a, [f32]> {
    match y {
        None => std::borrow::Cow::Borrowed(dy),
        Some(y) => {
            let mut m = buffer_pool::take(dy.len());
            implicit::copy_masked(&mut m, dy, Some(y));
            std::borrow::Cow::Owned(m)
        }
    }
}

/// Returns a masked shard's buffer to the pool.
fn give_shard(dy: std::borrow::Cow<'_, [f32]>) {
    if let std::borrow::Cow::Owned(m) = dy {
        buffer_pool::give(m);
    }
}

/// [`conv2d_backward`] with the output gradient masked by ReLU's output `relu_out` when given.
fn backward(
    input: &[f32],
    kernel: &[f32],
    grad_out: &[f32],
    relu_out: Option<&[f32]>,
    grads: Conv2dGrads<'_>,
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<()> {
    let Conv2dGrads {
        input: grad_input,
        kernel: grad_kernel,
        bias: grad_bias,
    } = grads;
    g.check_conv(input.len(), kernel.len(), None, grad_out.len())?;
    let (p, pl, oc, og) = (g.positions(), g.patch_len(), g.out_c, g.group_out());
    let shard = g.shard_images();
    let out_chunk = shard * p * oc;
    let range = |s: usize| s * out_chunk..(s * out_chunk + out_chunk).min(grad_out.len());
    let mask = |s: usize| relu_out.map(|y| &y[range(s)]);
    if implicit::applies(g) {
        let partials = implicit_backward(
            (input, kernel, grad_out, relu_out),
            grad_input,
            (grad_kernel.is_some(), grad_bias.is_some()),
            g,
            par,
        )?;
        return write_totals(&partials, grad_kernel, grad_bias, g);
    }
    if let Some(grad_input) = grad_input {
        g.check_len("the input gradient", grad_input.len(), input.len())?;
        let wino = winograd_input_grad_kernel(g, kernel)?;
        let result = for_shards(grad_input, shard * g.image_len(), par, |s, dx| {
            if let Some((plan, u)) = &wino {
                let dy = masked_shard(&grad_out[range(s)], mask(s));
                let result =
                    winograd::convolve(plan, Images::packed(&dy, plan), u, (None, false), dx);
                give_shard(dy);
                return result;
            }
            dx.fill(0.0);
            let dy = masked_shard(&grad_out[range(s)], mask(s));
            let rows = dy.len() / oc;
            let mut dcols = buffer_pool::take(rows * pl);
            for group in 0..g.groups {
                let dy = MatRef::new(&dy[group * og..], rows, og, oc, 1)?;
                gemm(
                    &mut dcols,
                    dy,
                    kernel_view(g, kernel, group)?.t(),
                    1.0,
                    0.0,
                    Parallelism::None,
                )?;
                for (image, dcols) in dx
                    .chunks_exact_mut(g.image_len())
                    .zip(dcols.chunks_exact(p * pl))
                {
                    col2im_add(g, dcols, group, image);
                }
            }
            buffer_pool::give(dcols);
            give_shard(dy);
            Ok(())
        });
        if let Some((_, u)) = wino {
            buffer_pool::give(u);
        }
        result?;
    }
    if grad_kernel.is_none() && grad_bias.is_none() {
        return Ok(());
    }
    // Per shard: the kernel gradient (group blocks side by side, `patch_len × filters`) then the bias gradient.
    let partial = |s: usize| -> Result<Vec<f32>> {
        let rows = range(s).len() / oc;
        let mut acc = vec![0.0f32; pl * oc + oc];
        let (dk, db) = acc.split_at_mut(pl * oc);
        let add_rows = |db: &mut [f32], rows: &[f32]| {
            for row in rows.chunks_exact(oc) {
                db.iter_mut().zip(row).for_each(|(d, v)| *d += v);
            }
        };
        let dy = masked_shard(&grad_out[range(s)], mask(s));
        add_rows(db, &dy);
        if grad_kernel.is_some() && winograd::applies(g) {
            let first = s * shard * g.image_len();
            let images = &input[first..first + rows / p * g.image_len()];
            let grads = Images {
                data: &dy,
                row_stride: g.out_w * oc,
                image_stride: p * oc,
            };
            winograd_kernel_grad::kernel_grad(g, images, grads, dk)?;
        } else if grad_kernel.is_some() {
            let mut cols = buffer_pool::take(rows * pl);
            let mut tmp = buffer_pool::take(pl * og);
            for group in 0..g.groups {
                for (i, cols) in cols.chunks_exact_mut(p * pl).enumerate() {
                    let first = (s * shard + i) * g.image_len();
                    im2col(g, &input[first..first + g.image_len()], group, cols);
                }
                let a = MatRef::row_major(&cols, rows, pl)?.t();
                let dy = MatRef::new(&dy[group * og..], rows, og, oc, 1)?;
                gemm(&mut tmp, a, dy, 1.0, 0.0, Parallelism::None)?;
                for (dst, src) in dk.chunks_exact_mut(oc).zip(tmp.chunks_exact(og)) {
                    dst[group * og..(group + 1) * og].copy_from_slice(src);
                }
            }
            buffer_pool::give(cols);
            buffer_pool::give(tmp);
        }
        give_shard(dy);
        Ok(acc)
    };
    let shards = g.batch.div_ceil(shard);
    let partials: Vec<Vec<f32>> = match par {
        Parallelism::None => (0..shards).map(partial).collect::<Result<_>>()?,
        Parallelism::Rayon(_) => (0..shards)
            .into_par_iter()
            .map(partial)
            .collect::<Result<_>>()?,
    };
    write_totals(&partials, grad_kernel, grad_bias, g)
}

/// Sums the shards' partial `[kernel gradient, bias gradient]` in shard order and writes the requested ones.
pub(super) fn write_totals(
    partials: &[Vec<f32>],
    grad_kernel: Option<&mut [f32]>,
    grad_bias: Option<&mut [f32]>,
    g: &Conv2dGeometry,
) -> Result<()> {
    let (pl, oc) = (g.patch_len(), g.out_c);
    let mut total = vec![0.0f32; pl * oc + oc];
    for part in partials {
        total.iter_mut().zip(part).for_each(|(t, v)| *t += v);
    }
    if let Some(dk) = grad_kernel {
        g.check_len("the kernel gradient", dk.len(), pl * oc)?;
        dk.copy_from_slice(&total[..pl * oc]);
    }
    if let Some(db) = grad_bias {
        g.check_len("the bias gradient", db.len(), oc)?;
        db.copy_from_slice(&total[pl * oc..]);
    }
    Ok(())
}

/// The backward pass's operands: the input, the kernel, the output gradient and ReLU's output (when fused).
type Operands<'a> = (&'a [f32], &'a [f32], &'a [f32], Option<&'a [f32]>);

/// The implicit path's backward pass, one pass per shard of images: the shard's output gradient is masked by
/// ReLU's output (when given) once, into the shard's full-width layout, and while it is in cache the bias
/// gradient, the kernel gradient (one product per kernel row, or Winograd's adjoint) and each image's input gradient read it.
/// Returns each shard's partial `[kernel gradient, bias gradient]` (zero where not requested), in shard order;
/// `grad_input` is overwritten when given.
fn implicit_backward(
    (input, kernel, grad_out, relu_out): Operands<'_>,
    grad_input: Option<&mut [f32]>,
    (want_kernel, want_bias): (bool, bool),
    g: &Conv2dGeometry,
    par: Parallelism,
) -> Result<Vec<Vec<f32>>> {
    let (p, pl, oc, il) = (g.positions(), g.patch_len(), g.out_c, g.image_len());
    let shard = g.shard_images();
    let out_chunk = shard * p * oc;
    let range = |s: usize| s * out_chunk..(s * out_chunk + out_chunk).min(grad_out.len());
    let wino = match grad_input {
        Some(_) => winograd_input_grad_kernel(g, kernel)?,
        None => None,
    };
    let flipped = (grad_input.is_some() && wino.is_none()).then(|| {
        let mut flipped = buffer_pool::take(kernel.len());
        implicit::flipped_kernel(g, kernel, &mut flipped);
        flipped
    });
    let (padded_len, block_len) = implicit::input_grad_scratch(g);
    let image_stride = g.in_h * g.in_w * oc;
    let pass = |s: usize, mut dx: Option<&mut [f32]>| -> Result<Vec<f32>> {
        let mut acc = vec![0.0f32; pl * oc + oc];
        let dy = &grad_out[range(s)];
        let images = dy.len() / (p * oc);
        let mut dy_full = buffer_pool::take(implicit::shard_rows(g, images) * oc);
        implicit::spread_rows(g, dy, relu_out.map(|y| &y[range(s)]), &mut dy_full);
        let (dk, db) = acc.split_at_mut(pl * oc);
        if want_bias {
            for row in implicit::valid_rows(g, &dy_full) {
                for row in row.chunks_exact(oc) {
                    db.iter_mut().zip(row).for_each(|(d, v)| *d += v);
                }
            }
        }
        if want_kernel {
            let first = s * shard * il;
            let images = &input[first..first + images * il];
            if winograd::applies(g) {
                let grads = Images {
                    data: &dy_full,
                    row_stride: g.in_w * oc,
                    image_stride,
                };
                winograd_kernel_grad::kernel_grad(g, images, grads, dk)?;
            } else {
                implicit::kernel_grad_shard(g, images, &dy_full, dk)?;
            }
        }
        if let (Some(dx), Some((plan, u))) = (dx.as_deref_mut(), &wino) {
            let rows = Images {
                data: &dy_full,
                row_stride: g.in_w * oc,
                image_stride,
            };
            winograd::convolve(plan, rows, u, (None, false), dx)?;
        } else if let (Some(dx), Some(flipped)) = (dx, flipped.as_deref()) {
            let mut padded = buffer_pool::take(padded_len);
            padded.fill(0.0);
            let mut block = buffer_pool::take(block_len);
            for (i, dx) in dx.chunks_exact_mut(il).enumerate() {
                let rows = (&dy_full[i * image_stride..], g.in_w * oc);
                implicit::input_grad_image(g, rows, flipped, &mut padded, &mut block, dx)?;
            }
            buffer_pool::give(padded);
            buffer_pool::give(block);
        }
        buffer_pool::give(dy_full);
        Ok(acc)
    };
    if let Some(dx) = grad_input.as_deref() {
        g.check_len("the input gradient", dx.len(), input.len())?;
    }
    let shards = g.batch.div_ceil(shard);
    let partials = match (grad_input, par) {
        (Some(dx), Parallelism::None) => dx
            .chunks_mut(shard * il)
            .enumerate()
            .map(|(s, dx)| pass(s, Some(dx)))
            .collect::<Result<Vec<_>>>(),
        (Some(dx), Parallelism::Rayon(_)) => dx
            .par_chunks_mut(shard * il)
            .enumerate()
            .map(|(s, dx)| pass(s, Some(dx)))
            .collect::<Result<Vec<_>>>(),
        (None, Parallelism::None) => (0..shards).map(|s| pass(s, None)).collect(),
        (None, Parallelism::Rayon(_)) => {
            (0..shards).into_par_iter().map(|s| pass(s, None)).collect()
        }
    };
    if let Some(flipped) = flipped {
        buffer_pool::give(flipped);
    }
    if let Some((_, u)) = wino {
        buffer_pool::give(u);
    }
    partials
}

/// Direct seven-loop convolution accumulating in `f64`: the reference for tests.
///
/// # Errors
/// As [`conv2d_forward`].
pub fn conv2d_reference(
    input: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    g: &Conv2dGeometry,
) -> Result<()> {
    g.check_conv(input.len(), kernel.len(), bias.map(<[f32]>::len), out.len())?;
    let (cg, og) = (g.group_in(), g.group_out());
    let mut at = 0;
    for b in 0..g.batch {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                for f in 0..g.out_c {
                    let group = f / og;
                    let mut acc = bias.map_or(0.0, |bias| f64::from(bias[f]));
                    for ky in 0..g.kernel_h {
                        for kx in 0..g.kernel_w {
                            let Some((iy, ix)) = g.tap(oy, ox, ky, kx) else {
                                continue;
                            };
                            for c in 0..cg {
                                let x = input
                                    [((b * g.in_h + iy) * g.in_w + ix) * g.in_c + group * cg + c];
                                let w = kernel[((ky * g.kernel_w + kx) * cg + c) * g.out_c + f];
                                acc += f64::from(x) * f64::from(w);
                            }
                        }
                    }
                    *out.get_mut(at).ok_or_else(|| TensorError::Internal {
                        op: "conv2d",
                        reason: "output index".into(),
                    })? = acc as f32;
                    at += 1;
                }
            }
        }
    }
    Ok(())
}
