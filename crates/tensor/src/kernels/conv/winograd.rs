//! Winograd F(2×2, 3×3) convolution for 3×3, stride-1, undilated, ungrouped convolutions with enough channels:
//! 2.25× fewer multiply-adds than the direct product (16 per 2×2 outputs and channel pair instead of 36).
//!
//! The kernel is transformed once per call into 16 `channels × filters` matrices (`U`). Then per block of a few
//! tile rows (about 48 tiles, so that the block stays in cache): each 4×4 input tile (stride 2, zero outside
//! the image) is transformed into 16 values per channel (`V`, `16 × tiles × channels`), the 16 products
//! `M_t = V_t · U_t` run (`winograd_product`), and each tile's 16 products are transformed back into its 2×2
//! outputs (with the bias and ReLU). The input gradient of such a convolution is the same form: a
//! correlation of the output gradient with the kernel turned by 180° and its channel axes swapped, padded by
//! `2 − pad`.
//!
//! Rounding differs from the direct product (the transforms add and subtract before the products): the tests
//! bound the error against the `f64` definition relative to the output's scale. Blocks of tiles are fixed by
//! the geometry, so results are bit-identical on any number of threads. `RKERAS_WINOGRAD=0` in the environment
//! turns the path off (read once), for comparisons with the GEMM paths.

use super::Conv2dGeometry;
use super::winograd_product::products;
use super::winograd_transforms::{TILE, input_tile, kernel_tile, output_tile};
use crate::buffer_pool;
use crate::{Result, TensorError};

/// Channels (and filters) below which the 16 products are too shallow or narrow to beat the direct product.
const MIN_CHANNELS: usize = 8;

/// Tiles per block of products (rounded to whole tile rows): few enough for the block's `V` and `M` to stay in
/// the core's cache between the transforms and the products.
const BLOCK_TILES: usize = 48;

/// Whether the environment leaves the Winograd path on (`RKERAS_WINOGRAD=0` turns it off).
fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("RKERAS_WINOGRAD").map_or(true, |v| v.trim() != "0"))
}

/// Whether the Winograd path computes this convolution's forward pass and input gradient.
pub(crate) fn applies(g: &Conv2dGeometry) -> bool {
    enabled() && fits(g)
}

/// The geometric condition of [`applies`], whatever the environment says.
fn fits(g: &Conv2dGeometry) -> bool {
    g.groups == 1
        && (g.kernel_h, g.kernel_w) == (3, 3)
        && (g.stride_h, g.stride_w) == (1, 1)
        && (g.dilation_h, g.dilation_w) == (1, 1)
        && g.pad_top <= 2
        && g.pad_left <= 2
        && g.in_c >= MIN_CHANNELS
        && g.out_c >= MIN_CHANNELS
}

/// One correlation of 3×3 windows (stride 1) over zero-padded images: input `h × w × c`, `f` filters, output
/// `out_h × out_w × f`, output `(y, x)` reading input rows `y − pad_top ..` and columns `x − pad_left ..`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) c: usize,
    pub(super) f: usize,
    pub(super) pad_top: usize,
    pub(super) pad_left: usize,
    pub(super) out_h: usize,
    pub(super) out_w: usize,
}

impl Plan {
    /// The convolution's forward pass.
    pub(crate) fn forward(g: &Conv2dGeometry) -> Self {
        Plan {
            h: g.in_h,
            w: g.in_w,
            c: g.in_c,
            f: g.out_c,
            pad_top: g.pad_top,
            pad_left: g.pad_left,
            out_h: g.out_h,
            out_w: g.out_w,
        }
    }

    /// The convolution's input gradient (with the kernel from `implicit::flipped_kernel`).
    pub(crate) fn input_grad(g: &Conv2dGeometry) -> Self {
        Plan {
            h: g.out_h,
            w: g.out_w,
            c: g.out_c,
            f: g.in_c,
            pad_top: 2 - g.pad_top.min(2),
            pad_left: 2 - g.pad_left.min(2),
            out_h: g.in_h,
            out_w: g.in_w,
        }
    }

    /// Elements of one output image.
    pub(crate) fn out_len(&self) -> usize {
        self.out_h * self.out_w * self.f
    }

    pub(super) fn tiles_w(&self) -> usize {
        self.out_w.div_ceil(2)
    }

    pub(super) fn tiles_h(&self) -> usize {
        self.out_h.div_ceil(2)
    }

    /// Elements of the transformed kernel.
    pub(crate) fn kernel_len(&self) -> usize {
        TILE * self.c * self.f
    }
}

/// Images read by a [`Plan`]: pixel `(image, y, x)`'s `c` channels start at
/// `image · image_stride + y · row_stride + x · c`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Images<'a> {
    /// The values.
    pub(crate) data: &'a [f32],
    /// Elements from one image row to the next.
    pub(crate) row_stride: usize,
    /// Elements from one image to the next.
    pub(crate) image_stride: usize,
}

impl<'a> Images<'a> {
    /// Images stored one after the other, `h × w × c` each.
    pub(crate) fn packed(data: &'a [f32], plan: &Plan) -> Self {
        Images {
            data,
            row_stride: plan.w * plan.c,
            image_stride: plan.h * plan.w * plan.c,
        }
    }
}

impl<'a> Images<'a> {
    /// Pixel `(image, y, x)`'s values (as many as `zeros` holds), or `zeros` outside the `h × w` image.
    pub(super) fn pixel<'z>(
        &self,
        (i, y, x): (usize, usize, usize),
        (h, w): (usize, usize),
        zeros: &'z [f32],
    ) -> Result<&'z [f32]>
    where
        'a: 'z,
    {
        if y >= h || x >= w {
            return Ok(zeros);
        }
        let at = i * self.image_stride + y * self.row_stride + x * zeros.len();
        self.data
            .get(at..at + zeros.len())
            .ok_or_else(|| internal("pixel"))
    }
}

pub(super) fn internal(reason: &str) -> TensorError {
    TensorError::Internal {
        op: "conv2d",
        reason: format!("winograd: {reason}"),
    }
}

/// `u = G g Gᵀ` of a kernel `[3, 3, c, f]`: 16 row-major `c × f` matrices, one after the other.
pub(crate) fn transform_kernel(plan: &Plan, kernel: &[f32], u: &mut [f32]) -> Result<()> {
    let (c, f) = (plan.c, plan.f);
    if kernel.len() != 9 * c * f || u.len() != plan.kernel_len() {
        return Err(internal("kernel sizes"));
    }
    let mut planes = u.chunks_exact_mut(c * f);
    let mut rows: [_; TILE] =
        std::array::from_fn(|_| planes.next().unwrap_or_default().chunks_exact_mut(f));
    for ci in 0..c {
        let g: [&[f32]; 9] = std::array::from_fn(|tap| &kernel[(tap * c + ci) * f..][..f]);
        let mut us = next_rows(&mut rows)?;
        kernel_tile(&g, &mut us, f);
    }
    Ok(())
}

/// The next row of each of 16 planes.
pub(super) fn next_rows<'a>(
    rows: &mut [std::slice::ChunksExactMut<'a, f32>; TILE],
) -> Result<[&'a mut [f32]; TILE]> {
    let mut out: [&'a mut [f32]; TILE] = Default::default();
    for (out, rows) in out.iter_mut().zip(rows.iter_mut()) {
        *out = rows.next().ok_or_else(|| internal("scratch rows"))?;
    }
    Ok(out)
}

/// The 16 planes of `buf` (`16 × tiles × width`), each cut into its tiles' rows of `width` values.
pub(super) fn plane_rows(
    buf: &mut [f32],
    tiles: usize,
    width: usize,
) -> [std::slice::ChunksExactMut<'_, f32>; TILE] {
    let mut planes = buf.chunks_exact_mut(tiles * width);
    std::array::from_fn(|_| planes.next().unwrap_or_default().chunks_exact_mut(width))
}

/// Tile rows per block of products: [`BLOCK_TILES`] tiles or one tile row, whichever is more.
pub(super) fn band(plan: &Plan) -> usize {
    (BLOCK_TILES / plan.tiles_w().max(1)).max(1)
}

/// `out = conv(images, u) + bias` (through ReLU when `relu`) for `n` images, `out` holding `n` output images
/// one after the other; `u` from [`transform_kernel`].
pub(crate) fn convolve(
    plan: &Plan,
    images: Images<'_>,
    u: &[f32],
    (bias, relu): (Option<&[f32]>, bool),
    out: &mut [f32],
) -> Result<()> {
    let n = out.len() / plan.out_len().max(1);
    if u.len() != plan.kernel_len() || bias.is_some_and(|b| b.len() != plan.f) {
        return Err(internal("kernel or bias sizes"));
    }
    let tiles_h = plan.tiles_h();
    let (band, total) = (band(plan), n * tiles_h);
    let most = band.min(total) * plan.tiles_w();
    let (mut v, mut m) = (
        buffer_pool::take(TILE * most * plan.c),
        buffer_pool::take(TILE * most * plan.f),
    );
    let zeros = vec![0.0f32; plan.c.max(plan.f) * 4];
    let bias = bias.unwrap_or(&zeros[..plan.f]);
    // Tile row `r` (of all `n` images) writes the output from `start(r)` on; consecutive tile rows are adjacent.
    let row_len = plan.out_w * plan.f;
    let start = |r: usize| (r / tiles_h) * plan.out_len() + 2 * (r % tiles_h) * row_len;
    let result = (0..total).step_by(band).try_for_each(|first| {
        let last = (first + band).min(total);
        let rows = (last - first) * plan.tiles_w();
        let (v, m) = (
            &mut v[..TILE * rows * plan.c],
            &mut m[..TILE * rows * plan.f],
        );
        transform_inputs(plan, images, first..last, &zeros[..plan.c], v)?;
        products(v, u, m, (rows, plan.c, plan.f))?;
        let out = out
            .get_mut(start(first)..start(last))
            .ok_or_else(|| internal("output rows"))?;
        transform_outputs(plan, m, (first..last, rows), (bias, relu), out)
    });
    buffer_pool::give(v);
    buffer_pool::give(m);
    result
}

/// `V = Bᵀ d B` of every tile in tile rows `tile_rows` (counted over all images, `out_h / 2` rows each) into
/// `v` (`16 × tiles × c`).
pub(super) fn transform_inputs(
    plan: &Plan,
    images: Images<'_>,
    tile_rows: std::ops::Range<usize>,
    zeros: &[f32],
    v: &mut [f32],
) -> Result<()> {
    let (c, tiles_h) = (plan.c, plan.tiles_h());
    let mut dst = plane_rows(v, tile_rows.len() * plan.tiles_w(), c);
    let pixel = |i: usize, y: usize, x: usize| -> Result<&[f32]> {
        match (y.checked_sub(plan.pad_top), x.checked_sub(plan.pad_left)) {
            (Some(y), Some(x)) => images.pixel((i, y, x), (plan.h, plan.w), zeros),
            _ => Ok(zeros),
        }
    };
    for r in tile_rows {
        let (i, ty) = (r / tiles_h, r % tiles_h);
        for tx in 0..plan.tiles_w() {
            let mut d: [&[f32]; TILE] = [zeros; TILE];
            for (k, d) in d.iter_mut().enumerate() {
                *d = pixel(i, 2 * ty + k / 4, 2 * tx + k % 4)?;
            }
            let mut vs = next_rows(&mut dst)?;
            input_tile(&d, &mut vs, c);
        }
    }
    Ok(())
}

/// `Y = Aᵀ M A` (plus the bias, through ReLU when `relu`) of every tile in the products `m` (`16 × rows × f`)
/// of tile rows `tile_rows` into `out` (their output rows), dropping the outputs past the last row or column.
fn transform_outputs(
    plan: &Plan,
    m: &[f32],
    (tile_rows, rows): (std::ops::Range<usize>, usize),
    (bias, relu): (&[f32], bool),
    out: &mut [f32],
) -> Result<()> {
    let (f, tiles_h) = (plan.f, plan.tiles_h());
    let mut planes = m.chunks_exact(rows * f);
    let mut src: [_; TILE] =
        std::array::from_fn(|_| planes.next().unwrap_or_default().chunks_exact(f));
    let mut spare = vec![0.0f32; 4 * f];
    let row_len = plan.out_w * f;
    let mut rest = out;
    for r in tile_rows {
        let ty = r % tiles_h;
        let len = (plan.out_h - 2 * ty).min(2) * row_len;
        let (pair, tail) = std::mem::take(&mut rest)
            .split_at_mut_checked(len)
            .ok_or_else(|| internal("output rows"))?;
        rest = tail;
        let (r0, r1) = pair.split_at_mut(row_len.min(pair.len()));
        let (mut c0, mut c1) = (r0.chunks_mut(2 * f), r1.chunks_mut(2 * f));
        for _ in 0..plan.tiles_w() {
            let mut ms: [&[f32]; TILE] = [&[]; TILE];
            for (m, src) in ms.iter_mut().zip(src.iter_mut()) {
                *m = src.next().ok_or_else(|| internal("product rows"))?;
            }
            let mut spares = spare.chunks_exact_mut(f);
            let (y00, y01) = split_pair(c0.next(), f, &mut spares)?;
            let (y10, y11) = split_pair(c1.next(), f, &mut spares)?;
            output_tile(&ms, bias, relu, &mut [y00, y01, y10, y11], f);
        }
    }
    Ok(())
}

/// Two adjacent outputs of `f` values from `pair`, taking spare scratch for the ones past the edge.
fn split_pair<'a>(
    pair: Option<&'a mut [f32]>,
    f: usize,
    spares: &mut std::slice::ChunksExactMut<'a, f32>,
) -> Result<(&'a mut [f32], &'a mut [f32])> {
    let mut spare = || spares.next().ok_or_else(|| internal("spare outputs"));
    match pair {
        Some(p) if p.len() == 2 * f => Ok(p.split_at_mut(f)),
        Some(p) => Ok((p, spare()?)),
        None => Ok((spare()?, spare()?)),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::implicit;
    use super::*;
    use crate::kernels::ConvPadding;
    use crate::kernels::test_util::sin_values as values;

    /// Each output against the `f64` definition, within `1e-5` of the output's scale (its largest magnitude).
    fn assert_close(got: &[f32], want: &[f64], what: &str) {
        assert_within(got, want, 1e-5, what);
    }

    /// Each output within `tol` times the output's scale of `want`.
    fn assert_within(got: &[f32], want: &[f64], tol: f64, what: &str) {
        let scale = want.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
        for (i, (a, b)) in got.iter().zip(want).enumerate() {
            assert!(
                (f64::from(*a) - b).abs() <= tol * scale,
                "{what}[{i}]: {a} vs {b} (scale {scale})"
            );
        }
    }

    fn definition(g: &Conv2dGeometry, x: &[f32], k: &[f32], bias: &[f32]) -> Vec<f64> {
        let mut out = Vec::with_capacity(g.batch * g.positions() * g.out_c);
        for b in 0..g.batch {
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    for (f, &bf) in bias.iter().enumerate() {
                        let mut acc = f64::from(bf);
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let Some((iy, ix)) = g.tap(oy, ox, ky, kx) else {
                                    continue;
                                };
                                for c in 0..g.in_c {
                                    let xi = ((b * g.in_h + iy) * g.in_w + ix) * g.in_c + c;
                                    let ki = ((ky * 3 + kx) * g.in_c + c) * g.out_c + f;
                                    acc += f64::from(x[xi]) * f64::from(k[ki]);
                                }
                            }
                        }
                        out.push(acc);
                    }
                }
            }
        }
        out
    }

    /// Geometries on Winograd's path (input shape, filters, padding): channel counts with vector tails, odd and
    /// even sizes, `valid` and `same`, one image and several (several blocks of tiles, some spanning two
    /// images), the convnet's second layer.
    pub(in super::super) fn geometries() -> [([usize; 4], usize, ConvPadding); 8] {
        use ConvPadding::*;
        [
            ([1, 5, 5, 8], 8, Valid),
            ([2, 6, 7, 9], 11, Same),
            ([3, 9, 8, 33], 17, Valid),
            ([2, 7, 7, 70], 65, Same),
            ([1, 26, 26, 32], 64, Valid),
            ([6, 14, 13, 16], 24, Same),
            ([2, 3, 3, 8], 8, Valid),
            ([2, 2, 3, 12], 9, Same),
        ]
    }

    /// Forward passes over [`geometries`] against the definition.
    #[test]
    fn forward_matches_the_definition() {
        for (input, filters, padding) in geometries() {
            let kernel = [3, 3, input[3], filters];
            let g = Conv2dGeometry::conv(&input, &kernel, [1, 1], [1, 1], padding, 1).unwrap();
            assert!(fits(&g));
            let x = values(g.batch * g.image_len(), 1);
            let k = values(9 * g.in_c * g.out_c, 2);
            let b = values(g.out_c, 3);
            let plan = Plan::forward(&g);
            let mut u = vec![0.0; plan.kernel_len()];
            transform_kernel(&plan, &k, &mut u).unwrap();
            let mut y = vec![f32::NAN; g.batch * plan.out_len()];
            convolve(
                &plan,
                Images::packed(&x, &plan),
                &u,
                (Some(&b), false),
                &mut y,
            )
            .unwrap();
            assert_close(
                &y,
                &definition(&g, &x, &k, &b),
                &format!("{input:?} {padding:?}"),
            );
            let mut relu = vec![f32::NAN; y.len()];
            convolve(
                &plan,
                Images::packed(&x, &plan),
                &u,
                (Some(&b), true),
                &mut relu,
            )
            .unwrap();
            let want: Vec<f32> = y.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect();
            assert_eq!(relu, want, "ReLU after the bias");
        }
    }

    /// The input gradient (the flipped kernel over the output gradient, padded by `2 − pad`) against the
    /// definition's `dx[i] = Σ dy · k`.
    #[test]
    fn input_gradient_matches_the_definition() {
        use ConvPadding::*;
        for (input, filters, padding) in [
            ([2, 7, 6, 9], 10, Valid),
            ([1, 26, 26, 32], 64, Valid),
            ([2, 8, 9, 12], 70, Same),
            ([1, 3, 4, 8], 8, Same),
        ] {
            let kernel = [3, 3, input[3], filters];
            let g = Conv2dGeometry::conv(&input, &kernel, [1, 1], [1, 1], padding, 1).unwrap();
            let k = values(9 * g.in_c * g.out_c, 4);
            let dy = values(g.batch * g.positions() * g.out_c, 5);
            let mut want = vec![0.0f64; g.batch * g.image_len()];
            for b in 0..g.batch {
                for oy in 0..g.out_h {
                    for ox in 0..g.out_w {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let Some((iy, ix)) = g.tap(oy, ox, ky, kx) else {
                                    continue;
                                };
                                for c in 0..g.in_c {
                                    for f in 0..g.out_c {
                                        let d =
                                            dy[((b * g.out_h + oy) * g.out_w + ox) * g.out_c + f];
                                        let w = k[((ky * 3 + kx) * g.in_c + c) * g.out_c + f];
                                        want[((b * g.in_h + iy) * g.in_w + ix) * g.in_c + c] +=
                                            f64::from(d) * f64::from(w);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let plan = Plan::input_grad(&g);
            let mut flipped = vec![0.0; k.len()];
            implicit::flipped_kernel(&g, &k, &mut flipped);
            let mut u = vec![0.0; plan.kernel_len()];
            transform_kernel(&plan, &flipped, &mut u).unwrap();
            let mut dx = vec![f32::NAN; want.len()];
            convolve(
                &plan,
                Images::packed(&dy, &plan),
                &u,
                (None, false),
                &mut dx,
            )
            .unwrap();
            assert_close(&dx, &want, &format!("dx {input:?} {padding:?}"));
        }
    }

    /// Against the implicit path on the convnet's second layer, on values whose sums cancel (outputs of at most
    /// 0.37 from 288 terms of up to 1): Winograd within `1e-5` of the output's scale from the definition, the
    /// implicit path itself only within `2e-5` (1.04e-5 measured), so the two within `3e-5` of each other.
    #[test]
    fn close_to_the_implicit_path() {
        let g = Conv2dGeometry::conv(
            &[1, 26, 26, 32],
            &[3, 3, 32, 64],
            [1, 1],
            [1, 1],
            ConvPadding::Valid,
            1,
        )
        .unwrap();
        let (x, k) = (values(g.image_len(), 6), values(9 * 32 * 64, 7));
        let mut block = vec![0.0; implicit::full_rows(&g) * g.out_c];
        implicit::forward_image(&g, &x, &k, &mut block).unwrap();
        let mut want = vec![0.0f32; g.positions() * g.out_c];
        implicit::gather_rows(&g, &block, &mut want, |d, s| d.copy_from_slice(s));
        let plan = Plan::forward(&g);
        let mut u = vec![0.0; plan.kernel_len()];
        transform_kernel(&plan, &k, &mut u).unwrap();
        let mut y = vec![f32::NAN; want.len()];
        convolve(&plan, Images::packed(&x, &plan), &u, (None, false), &mut y).unwrap();
        let exact = definition(&g, &x, &k, &[0.0; 64]);
        assert_close(&y, &exact, "winograd");
        assert_within(&want, &exact, 2e-5, "implicit");
        let want: Vec<f64> = want.iter().map(|&v| f64::from(v)).collect();
        assert_within(&y, &want, 3e-5, "winograd vs implicit");
    }

    #[test]
    fn only_3x3_stride_one_windows_with_channels_fit() {
        let conv = |input: [usize; 4], kernel: [usize; 4], s, d, p, groups| {
            fits(&Conv2dGeometry::conv(&input, &kernel, s, d, p, groups).unwrap())
        };
        use ConvPadding::*;
        assert!(conv([2, 8, 8, 8], [3, 3, 8, 8], [1, 1], [1, 1], Valid, 1));
        assert!(conv([2, 8, 8, 8], [3, 3, 8, 8], [1, 1], [1, 1], Same, 1));
        assert!(!conv([2, 8, 8, 4], [3, 3, 4, 8], [1, 1], [1, 1], Valid, 1));
        assert!(!conv([2, 8, 8, 8], [3, 3, 8, 4], [1, 1], [1, 1], Valid, 1));
        assert!(!conv([2, 8, 8, 8], [3, 2, 8, 8], [1, 1], [1, 1], Valid, 1));
        assert!(!conv([2, 8, 8, 8], [3, 3, 8, 8], [2, 2], [1, 1], Valid, 1));
        assert!(!conv([2, 9, 9, 8], [3, 3, 8, 8], [1, 1], [2, 2], Valid, 1));
        assert!(!conv([2, 8, 8, 8], [3, 3, 4, 8], [1, 1], [1, 1], Valid, 2));
    }
}
