//! The kernel gradient of a Winograd F(2×2, 3×3) convolution: the adjoint of `winograd::convolve` in the
//! kernel. With `Y = Aᵀ (U ⊙ V) A` per tile and `U = G g Gᵀ`, the gradient of the 16 transformed kernel values
//! is `dU_t = Σ_tiles V_tᵀ · dM_t` with `dM = A dY Aᵀ` (the tile's 2×2 output gradients, 16 values per filter),
//! and the kernel's is `dg = Gᵀ dU G`: 16 multiply-adds per 2×2 outputs and channel pair instead of 36.
//!
//! Per block of tile rows (as in the forward pass) the input tiles are transformed again (`V`, the forward's
//! transform), the output gradient's tiles too (`dM`), and the 16 products add into `dU`, each value continuing
//! one chain of multiply-adds over all the tiles in order; `dU` is transformed once at the end. Rounding
//! differs from the direct product; the tests bound it against the `f64` definition.

use super::Conv2dGeometry;
use super::winograd::{Images, Plan, band, internal, next_rows, plane_rows, transform_inputs};
use super::winograd_product::transposed_products;
use super::winograd_transforms::{TILE, kernel_grad_tile, output_grad_tile};
use crate::Result;
use crate::buffer_pool;

/// `dk` (`[3, 3, in_c, out_c]`, overwritten) of the convolution `g` over the consecutive images `input` (a
/// whole number of them) given their output gradient `grads`, whose output `(image, y, x)` starts at
/// `image · image_stride + y · row_stride + x · out_c`.
pub(crate) fn kernel_grad(
    g: &Conv2dGeometry,
    input: &[f32],
    grads: Images<'_>,
    dk: &mut [f32],
) -> Result<()> {
    let plan = Plan::forward(g);
    let (c, f) = (plan.c, plan.f);
    if dk.len() != 9 * c * f {
        return Err(internal("kernel gradient size"));
    }
    let n = input.len() / g.image_len().max(1);
    let images = Images::packed(input, &plan);
    let tiles_h = plan.tiles_h();
    let (band, total) = (band(&plan), n * tiles_h);
    let most = band.min(total) * plan.tiles_w();
    let mut v = buffer_pool::take(TILE * most * c);
    let mut dm = buffer_pool::take(TILE * most * f);
    let mut du = buffer_pool::take(TILE * c * f);
    du.fill(0.0);
    let zeros = vec![0.0f32; c.max(f)];
    let result = (0..total)
        .step_by(band)
        .try_for_each(|first| {
            let last = (first + band).min(total);
            let rows = (last - first) * plan.tiles_w();
            let (v, dm) = (&mut v[..TILE * rows * c], &mut dm[..TILE * rows * f]);
            transform_inputs(&plan, images, first..last, &zeros[..c], v)?;
            transform_grads(&plan, grads, first..last, &zeros[..f], dm)?;
            transposed_products(v, dm, &mut du, (rows, c, f))
        })
        .and_then(|()| transform_kernel_grad(&plan, &du, dk));
    buffer_pool::give(v);
    buffer_pool::give(dm);
    buffer_pool::give(du);
    result
}

/// `dM = A dY Aᵀ` of every tile in tile rows `tile_rows` (counted over all images) into `dm`
/// (`16 × tiles × f`), the outputs past the last row or column zero.
fn transform_grads(
    plan: &Plan,
    grads: Images<'_>,
    tile_rows: std::ops::Range<usize>,
    zeros: &[f32],
    dm: &mut [f32],
) -> Result<()> {
    let (f, tiles_h) = (plan.f, plan.tiles_h());
    let mut dst = plane_rows(dm, tile_rows.len() * plan.tiles_w(), f);
    let output =
        |i: usize, y: usize, x: usize| grads.pixel((i, y, x), (plan.out_h, plan.out_w), zeros);
    for r in tile_rows {
        let (i, ty) = (r / tiles_h, r % tiles_h);
        for tx in 0..plan.tiles_w() {
            let (y, x) = (2 * ty, 2 * tx);
            let dy = [
                output(i, y, x)?,
                output(i, y, x + 1)?,
                output(i, y + 1, x)?,
                output(i, y + 1, x + 1)?,
            ];
            let mut dms = next_rows(&mut dst)?;
            output_grad_tile(&dy, &mut dms, f);
        }
    }
    Ok(())
}

/// `dg = Gᵀ dU G` of the 16 `c × f` planes `du` into the kernel gradient `dk` (`[3, 3, c, f]`).
fn transform_kernel_grad(plan: &Plan, du: &[f32], dk: &mut [f32]) -> Result<()> {
    let (c, f) = (plan.c, plan.f);
    if du.len() < TILE * c * f {
        return Err(internal("transformed kernel gradient size"));
    }
    let mut planes = dk.chunks_exact_mut(c * f);
    let mut dst: [_; 9] =
        std::array::from_fn(|_| planes.next().unwrap_or_default().chunks_exact_mut(f));
    for ci in 0..c {
        let us: [&[f32]; TILE] = std::array::from_fn(|t| &du[(t * c + ci) * f..][..f]);
        let mut gs: [&mut [f32]; 9] = Default::default();
        for (g, rows) in gs.iter_mut().zip(dst.iter_mut()) {
            *g = rows
                .next()
                .ok_or_else(|| internal("kernel gradient rows"))?;
        }
        kernel_grad_tile(&us, &mut gs, f);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::winograd::tests::geometries;
    use super::*;
    use crate::kernels::ConvPadding;
    use crate::kernels::test_util::sin_values as values;

    /// `dk[ky, kx, c, f] = Σ x[b, oy + ky − pad, ox + kx − pad, c] · dy[b, oy, ox, f]` in `f64`.
    fn definition(g: &Conv2dGeometry, x: &[f32], dy: &[f32]) -> Vec<f64> {
        let mut dk = vec![0.0f64; 9 * g.in_c * g.out_c];
        for b in 0..g.batch {
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let Some((iy, ix)) = g.tap(oy, ox, ky, kx) else {
                                continue;
                            };
                            for c in 0..g.in_c {
                                let xv =
                                    f64::from(x[((b * g.in_h + iy) * g.in_w + ix) * g.in_c + c]);
                                for f in 0..g.out_c {
                                    let d = dy[((b * g.out_h + oy) * g.out_w + ox) * g.out_c + f];
                                    dk[((ky * 3 + kx) * g.in_c + c) * g.out_c + f] +=
                                        xv * f64::from(d);
                                }
                            }
                        }
                    }
                }
            }
        }
        dk
    }

    /// Over the forward pass's test geometries and conv2's shard of 4 images, against the definition within
    /// `1e-5` of the gradient's scale; a strided output-gradient layout gives the same bits as the packed one.
    #[test]
    fn kernel_gradient_matches_the_definition() {
        let conv2 = ([4, 26, 26, 32], 64, ConvPadding::Valid);
        for (input, filters, padding) in geometries().into_iter().chain([conv2]) {
            let kernel = [3, 3, input[3], filters];
            let g = Conv2dGeometry::conv(&input, &kernel, [1, 1], [1, 1], padding, 1).unwrap();
            let x = values(g.batch * g.image_len(), 8);
            let dy = values(g.batch * g.positions() * g.out_c, 9);
            let packed = Images {
                data: &dy,
                row_stride: g.out_w * g.out_c,
                image_stride: g.positions() * g.out_c,
            };
            let mut dk = vec![f32::NAN; 9 * g.in_c * g.out_c];
            kernel_grad(&g, &x, packed, &mut dk).unwrap();
            let want = definition(&g, &x, &dy);
            let scale = want.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
            for (i, (a, b)) in dk.iter().zip(&want).enumerate() {
                assert!(
                    (f64::from(*a) - b).abs() <= 1e-5 * scale,
                    "{input:?} {padding:?} dk[{i}]: {a} vs {b} (scale {scale})"
                );
            }
            // The same gradient with every output row padded by one pixel.
            let row = (g.out_w + 1) * g.out_c;
            let mut wide = vec![f32::NAN; g.batch * g.out_h * row];
            for (dst, src) in wide
                .chunks_exact_mut(row)
                .zip(dy.chunks_exact(g.out_w * g.out_c))
            {
                dst[..src.len()].copy_from_slice(src);
            }
            let strided = Images {
                data: &wide,
                row_stride: row,
                image_stride: g.out_h * row,
            };
            let mut again = vec![f32::NAN; dk.len()];
            kernel_grad(&g, &x, strided, &mut again).unwrap();
            assert!(
                dk.iter()
                    .zip(&again)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }

    #[test]
    fn a_wrong_gradient_size_is_an_error() {
        let g = Conv2dGeometry::conv(
            &[1, 4, 4, 8],
            &[3, 3, 8, 8],
            [1, 1],
            [1, 1],
            ConvPadding::Valid,
            1,
        )
        .unwrap();
        let x = vec![0.0; g.image_len()];
        let dy = vec![0.0; g.positions() * 8];
        let grads = Images {
            data: &dy,
            row_stride: 2 * 8,
            image_stride: 4 * 8,
        };
        assert!(kernel_grad(&g, &x, grads, &mut [0.0; 8]).is_err());
    }
}
