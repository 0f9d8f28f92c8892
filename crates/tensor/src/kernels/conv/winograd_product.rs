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
        return Err(TensorError::Internal {
            op: "conv2d",
            reason: "winograd: product sizes".to_string(),
        });
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

/// One register block: rows `a` (each at least `c` values) times the `L` filters of `u` starting at `j`
/// (row stride `f`), into the rows `m` at column `j`.
#[inline(always)]
fn block<const R: usize, const L: usize>(
    a: [&[f32]; R],
    u: &[f32],
    m: &mut [f32],
    (c, f, j): (usize, usize, usize),
) {
    let mut acc = [[0.0f32; L]; R];
    for k in 0..c {
        let Some(b) = u.get(k * f + j..).and_then(<[f32]>::first_chunk::<L>) else {
            return;
        };
        for (acc, a) in acc.iter_mut().zip(&a) {
            let x = a[k];
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
fn row_block<const R: usize>(a: [&[f32]; R], u: &[f32], m: &mut [f32], (c, f): (usize, usize)) {
    let mut j = 0;
    while j + WIDE <= f {
        block::<R, WIDE>(a, u, m, (c, f, j));
        j += WIDE;
    }
    while j + NARROW <= f {
        block::<R, NARROW>(a, u, m, (c, f, j));
        j += NARROW;
    }
    while j < f {
        block::<R, 1>(a, u, m, (c, f, j));
        j += 1;
    }
}

per_target! {
/// `m = v · u` (`rows × c` times `c × f`, row-major), compiled per target.
fn product(v: &[f32], u: &[f32], m: &mut [f32], rows: usize, c: usize, f: usize) {
    let (v, u, m) = (&v[..rows * c], &u[..c * f], &mut m[..rows * f]);
    let row = |r: usize| &v[r * c..][..c];
    let mut r = 0;
    while r + ROWS <= rows {
        let a = [row(r), row(r + 1), row(r + 2), row(r + 3)];
        row_block::<ROWS>(a, u, &mut m[r * f..(r + ROWS) * f], (c, f));
        r += ROWS;
    }
    // The last rows together (one row alone leaves the multiply-adds waiting on each other).
    let m = &mut m[r * f..];
    match rows - r {
        3 => row_block::<3>([row(r), row(r + 1), row(r + 2)], u, m, (c, f)),
        2 => row_block::<2>([row(r), row(r + 1)], u, m, (c, f)),
        1 => row_block::<1>([row(r)], u, m, (c, f)),
        _ => {}
    }
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

    #[test]
    fn short_operands_are_an_error() {
        let mut m = vec![0.0; TILE * 4];
        assert!(products(&[0.0; 8], &[0.0; TILE * 4], &mut m, (2, 2, 2)).is_err());
    }
}
