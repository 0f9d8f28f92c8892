//! The 16 products of a block of Winograd tiles, `M_t = V_t · U_t` (`rows × c` times `c × f`, row-major), in
//! one call without packing: `V_t`'s rows are read in place and broadcast, `U_t`'s rows are already the
//! contiguous filter vectors a register block needs, so the `gemm` crate's per-call dispatch and packing (16
//! calls of depth 32 or 64 per block) go away.
//!
//! Each output is `acc = fma(v_k, u_k, acc)` over `k = 0 .. c` in order from `acc = 0`: the chain the `gemm`
//! crate's micro-kernels run when the depth fits one block, so the values are bit for bit those of 16 `gemm`
//! calls (tested against them). Used only on machines with FMA (see `direct::simd`); elsewhere the `gemm`
//! crate runs.

use super::direct::simd;
use super::winograd_transforms::TILE;
use crate::kernels::per_target::per_target;
use crate::kernels::{MatRef, Parallelism, gemm};
use crate::{Result, TensorError};

/// Rows of a register block.
const ROWS: usize = 4;

/// Filters of a register block's widest form (two AVX-512 registers per row).
const WIDE: usize = 32;

/// Filters of its narrow form.
const NARROW: usize = 16;

/// `m_t = v_t · u_t` for the 16 planes: `v` holds 16 row-major `rows × c` matrices one after the other, `u` 16
/// `c × f`, `m` receives 16 `rows × f`.
pub(crate) fn products(
    v: &[f32],
    u: &[f32],
    m: &mut [f32],
    (rows, c, f): (usize, usize, usize),
) -> Result<()> {
    if v.len() < TILE * rows * c || u.len() < TILE * c * f || m.len() < TILE * rows * f {
        return Err(sizes());
    }
    let planes = v
        .chunks_exact(rows * c)
        .zip(u.chunks_exact(c * f))
        .zip(m.chunks_exact_mut(rows * f))
        .take(TILE);
    for ((v, u), m) in planes {
        if simd::available() {
            product(v, u, m, rows, c, f);
        } else {
            let a = MatRef::row_major(v, rows, c)?;
            let b = MatRef::row_major(u, c, f)?;
            gemm(m, a, b, 1.0, 0.0, Parallelism::None)?;
        }
    }
    Ok(())
}

/// How a register block reads its rows and starts its sums.
#[derive(Clone, Copy)]
struct Form {
    /// Elements from one depth index of a row to the next (1 for `V_t`'s rows, `c` for `V_tᵀ`'s).
    step: usize,
    /// Whether the sums start from `m`'s values (continuing their chains) instead of 0.
    add: bool,
}

/// One register block: rows `a` (row `r`'s depth index `k` at `a[r][k · step]`) times the `L` filters of `u`
/// starting at `j` (row stride `f`, depth `c`), into the rows `m` at column `j`.
#[inline(always)]
fn block<const R: usize, const L: usize>(
    a: [&[f32]; R],
    u: &[f32],
    m: &mut [f32],
    (c, f, j): (usize, usize, usize),
    form: Form,
) {
    let mut acc = [[0.0f32; L]; R];
    if form.add {
        for (r, acc) in acc.iter_mut().enumerate() {
            if let Some(m) = m.get(r * f + j..).and_then(<[f32]>::first_chunk::<L>) {
                *acc = *m;
            }
        }
    }
    for k in 0..c {
        let Some(b) = u.get(k * f + j..).and_then(<[f32]>::first_chunk::<L>) else {
            return;
        };
        for (acc, a) in acc.iter_mut().zip(&a) {
            let x = a[k * form.step];
            for (acc, &b) in acc.iter_mut().zip(b) {
                *acc = x.mul_add(b, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        if let Some(out) = m
            .get_mut(r * f + j..)
            .and_then(<[f32]>::first_chunk_mut::<L>)
        {
            *out = *acc;
        }
    }
}

/// The register blocks over all filters for the `R` rows starting at `m`'s first row.
#[inline(always)]
fn row_block<const R: usize>(
    a: [&[f32]; R],
    u: &[f32],
    m: &mut [f32],
    (c, f): (usize, usize),
    form: Form,
) {
    let mut j = 0;
    while j + WIDE <= f {
        block::<R, WIDE>(a, u, m, (c, f, j), form);
        j += WIDE;
    }
    while j + NARROW <= f {
        block::<R, NARROW>(a, u, m, (c, f, j), form);
        j += NARROW;
    }
    while j < f {
        block::<R, 1>(a, u, m, (c, f, j), form);
        j += 1;
    }
}

/// `m (+)= a · u` over `rows` rows, row `r` of `a` starting at `row(r)`.
#[inline(always)]
fn rows_product<'a>(
    row: impl Fn(usize) -> &'a [f32],
    u: &[f32],
    m: &mut [f32],
    (rows, c, f): (usize, usize, usize),
    form: Form,
) {
    let mut r = 0;
    while r + ROWS <= rows {
        let a = [row(r), row(r + 1), row(r + 2), row(r + 3)];
        row_block::<ROWS>(a, u, &mut m[r * f..(r + ROWS) * f], (c, f), form);
        r += ROWS;
    }
    // The last rows together (one row alone leaves the multiply-adds waiting on each other).
    let m = &mut m[r * f..];
    match rows - r {
        3 => row_block::<3>([row(r), row(r + 1), row(r + 2)], u, m, (c, f), form),
        2 => row_block::<2>([row(r), row(r + 1)], u, m, (c, f), form),
        1 => row_block::<1>([row(r)], u, m, (c, f), form),
        _ => {}
    }
}

per_target! {
/// `m = v · u` (`rows × c` times `c × f`, row-major), compiled per target.
fn product(v: &[f32], u: &[f32], m: &mut [f32], rows: usize, c: usize, f: usize) {
    let (v, u, m) = (&v[..rows * c], &u[..c * f], &mut m[..rows * f]);
    let form = Form { step: 1, add: false };
    rows_product(|r| &v[r * c..][..c], u, m, (rows, c, f), form);
}
}

per_target! {
/// `du += vᵀ · dm` (`v` is `tiles × c`, `dm` `tiles × f`, `du` `c × f`, row-major), each sum continuing from
/// `du`'s value over the tiles in order; compiled per target.
fn product_t(v: &[f32], dm: &[f32], du: &mut [f32], tiles: usize, c: usize, f: usize) {
    let (v, dm, du) = (&v[..tiles * c], &dm[..tiles * f], &mut du[..c * f]);
    let form = Form { step: c, add: true };
    let len = (tiles.max(1) - 1) * c + 1;
    rows_product(|r| &v[r..][..len], dm, du, (c, tiles, f), form);
}
}

/// `du_t += v_tᵀ · dm_t` for the 16 planes: `v` holds 16 row-major `tiles × c` matrices one after the other,
/// `dm` 16 `tiles × f`, `du` 16 `c × f`. Each of `du`'s values continues its chain of multiply-adds over the
/// tiles in order, so a sum over several calls is the same chain, whatever the calls' sizes.
pub(crate) fn transposed_products(
    v: &[f32],
    dm: &[f32],
    du: &mut [f32],
    (tiles, c, f): (usize, usize, usize),
) -> Result<()> {
    if v.len() < TILE * tiles * c || dm.len() < TILE * tiles * f || du.len() < TILE * c * f {
        return Err(sizes());
    }
    if tiles == 0 {
        return Ok(());
    }
    let planes = v
        .chunks_exact(tiles * c)
        .zip(dm.chunks_exact(tiles * f))
        .zip(du.chunks_exact_mut(c * f))
        .take(TILE);
    for ((v, dm), du) in planes {
        if simd::available() {
            product_t(v, dm, du, tiles, c, f);
        } else {
            let a = MatRef::row_major(v, tiles, c)?.t();
            let b = MatRef::row_major(dm, tiles, f)?;
            gemm(du, a, b, 1.0, 1.0, Parallelism::None)?;
        }
    }
    Ok(())
}

fn sizes() -> TensorError {
    TensorError::Internal {
        op: "conv2d",
        reason: "winograd: product sizes".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::sin_values as values;

    /// Bit for bit 16 `gemm` calls, over row counts with a remainder past the register block and filter counts
    /// with 16-wide and single-filter tails.
    #[test]
    fn bit_for_bit_the_gemm_products() {
        if !simd::available() {
            eprintln!("NOTICE: no AVX2/FMA on this machine; the product kernel is not used");
            return;
        }
        for (rows, c, f) in [
            (48, 32, 64),
            (39, 64, 32),
            (7, 9, 57),
            (1, 8, 8),
            (14, 70, 65),
        ] {
            let v = values(TILE * rows * c, 1);
            let u = values(TILE * c * f, 2);
            let mut got = vec![f32::NAN; TILE * rows * f];
            products(&v, &u, &mut got, (rows, c, f)).unwrap();
            for t in 0..TILE {
                let a = MatRef::row_major(&v[t * rows * c..][..rows * c], rows, c).unwrap();
                let b = MatRef::row_major(&u[t * c * f..][..c * f], c, f).unwrap();
                let mut want = vec![0.0f32; rows * f];
                gemm(&mut want, a, b, 1.0, 0.0, Parallelism::None).unwrap();
                let got = &got[t * rows * f..][..rows * f];
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(g.to_bits(), w.to_bits(), "{rows}×{c}×{f} plane {t} [{i}]");
                }
            }
        }
    }

    /// Bit for bit the naive chain `du = fma(v[k, i], dm[k, j], du)` over the tiles in order, with the tiles
    /// split over several calls at uneven places, over row and filter tails.
    #[test]
    fn transposed_products_continue_each_chain() {
        if !simd::available() {
            eprintln!("NOTICE: no AVX2/FMA on this machine; the product kernel is not used");
            return;
        }
        for (tiles, c, f) in [(48, 32, 64), (39, 9, 57), (5, 8, 8), (20, 70, 65)] {
            let v = values(TILE * tiles * c, 3);
            let dm = values(TILE * tiles * f, 4);
            let start = values(TILE * c * f, 5);
            let mut want = start.clone();
            for t in 0..TILE {
                for i in 0..c {
                    for j in 0..f {
                        let acc = &mut want[(t * c + i) * f + j];
                        for k in 0..tiles {
                            let x = v[(t * tiles + k) * c + i];
                            *acc = x.mul_add(dm[(t * tiles + k) * f + j], *acc);
                        }
                    }
                }
            }
            let mut got = start.clone();
            let mut first = 0;
            for len in [tiles / 3, 1, tiles] {
                let last = (first + len).min(tiles);
                let part = |a: &[f32], w: usize| -> Vec<f32> {
                    (0..TILE)
                        .flat_map(|t| a[(t * tiles + first) * w..(t * tiles + last) * w].to_vec())
                        .collect()
                };
                let n = last - first;
                transposed_products(&part(&v, c), &part(&dm, f), &mut got, (n, c, f)).unwrap();
                first = last;
            }
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g.to_bits(), w.to_bits(), "{tiles}×{c}×{f} [{i}]");
            }
        }
    }

    #[test]
    fn short_operands_are_an_error() {
        let mut m = vec![0.0; TILE * 4];
        assert!(products(&[0.0; 8], &[0.0; TILE * 4], &mut m, (2, 2, 2)).is_err());
    }
}
