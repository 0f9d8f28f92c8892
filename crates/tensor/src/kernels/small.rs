//! Tiny products whose right operand has contiguous rows, such as the memory network's match gradients
//! `[68×4]·[4×64]` and `[4×68]·[68×64]`: each result row is a running sum of right-hand rows scaled by one
//! left-hand element (`row(i) = Σ_p lhs(i, p)·rhs(p, :)`), vectorised along the row with fused multiply-adds.
//!
//! A packing library pays for packing both operands into aligned panels (and, in the `gemm` crate, for
//! allocating those panels) on every call; at a few thousand multiply-adds per product that fixed cost
//! outweighs the product itself. This kernel reads both operands in place and keeps no state.
//!
//! Each result element is `Σ_p` in increasing `p` (a product, then one fused multiply-add per term). That is
//! how the `gemm` crate's micro-kernels sum a depth they do not split into blocks, so on the memory network
//! the results kept their bits; in general they may differ from the `gemm` crate's in the last bits (within
//! the reference's tolerance), and they never depend on the number of threads or on how items are split.

use super::{MatRef, gemm_flops};

/// The largest product (in floating-point operations, `2·m·n·k`) this kernel takes.
const MAX_FLOPS: u64 = 1 << 16;

/// The widest result rows it takes (the accumulator row lives on the stack).
const MAX_COLUMNS: usize = 256;

/// The narrowest: below a vector of 8 the row loop would not vectorise.
const MIN_COLUMNS: usize = 8;

/// Whether [`small_gemm`] takes `lhs · rhs` on this machine.
pub(crate) fn applies(lhs: &MatRef<'_>, rhs: &MatRef<'_>) -> bool {
    let (m, n, k) = (lhs.rows(), rhs.cols(), lhs.cols());
    m > 0
        && k > 0
        && (MIN_COLUMNS..=MAX_COLUMNS).contains(&n)
        && rhs.col_stride() == 1
        && gemm_flops(m, n, k) <= MAX_FLOPS
        && simd::available()
}

/// `dst = alpha·lhs·rhs + beta·dst` (row-major `m × n`, `beta = 0` overwrites) for shapes checked by the
/// caller; returns `false`, leaving `dst` untouched, when [`applies`] does not hold.
pub(crate) fn small_gemm(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    alpha: f32,
    beta: f32,
) -> bool {
    if !applies(&lhs, &rhs) || dst.len() != lhs.rows() * rhs.cols() {
        return false;
    }
    simd::rows(dst, &lhs, &rhs, alpha, beta);
    true
}

/// `row = alpha·acc + beta·row`, `beta = 0` overwriting.
#[inline(always)]
fn combine(row: &mut [f32], acc: &[f32], alpha: f32, beta: f32) {
    if beta == 0.0 {
        row.iter_mut().zip(acc).for_each(|(r, &a)| *r = alpha * a);
    } else {
        row.iter_mut()
            .zip(acc)
            .for_each(|(r, &a)| *r = alpha * a + beta * *r);
    }
}

/// Result columns whose running sums stay in registers across the whole depth (eight AVX2 vectors).
const BLOCK: usize = 64;

/// One result row's sums into `acc` (`n` elements, overwritten): `acc = Σ_p lhs(i, p)·rhs(p, :)`, the first
/// term a product and every further one a fused multiply-add, in increasing `p`. Blocks of [`BLOCK`] columns
/// keep their sums in registers (a fixed-size array the compiler keeps in vector registers), the last
/// narrower columns in `acc` itself ([`column_sums`]); both sum each element the same way. The caller checked
/// that every row of `rhs` holds `n` elements in place.
#[inline(always)]
fn row_sums(acc: &mut [f32], lhs: &MatRef<'_>, rhs: &MatRef<'_>, i: usize) {
    let mut blocks = acc.chunks_exact_mut(BLOCK);
    let mut column = 0;
    for out in &mut blocks {
        let mut sums = [0.0f32; BLOCK];
        let first = lhs_at(lhs, i, 0);
        let row = rhs_block(rhs, 0, column);
        for (c, &b) in sums.iter_mut().zip(row) {
            *c = first * b;
        }
        for p in 1..lhs.cols() {
            let a = lhs_at(lhs, i, p);
            let row = rhs_block(rhs, p, column);
            for (c, &b) in sums.iter_mut().zip(row) {
                *c = a.mul_add(b, *c);
            }
        }
        out.copy_from_slice(&sums);
        column += BLOCK;
    }
    column_sums(blocks.into_remainder(), lhs, rhs, i, column);
}

/// `lhs(i, p)` (0 outside the matrix, which the caller's checks rule out).
#[inline(always)]
fn lhs_at(lhs: &MatRef<'_>, i: usize, p: usize) -> f32 {
    lhs.data()
        .get(i * lhs.row_stride() + p * lhs.col_stride())
        .copied()
        .unwrap_or(0.0)
}

/// `rhs(p, column..column + BLOCK)` as a fixed-size row (zeros outside the matrix, which the caller's checks
/// rule out).
#[inline(always)]
fn rhs_block<'a>(rhs: &'a MatRef<'_>, p: usize, column: usize) -> &'a [f32; BLOCK] {
    const ZEROS: [f32; BLOCK] = [0.0; BLOCK];
    let start = p * rhs.row_stride() + column;
    rhs.data()
        .get(start..start + BLOCK)
        .and_then(|row| row.try_into().ok())
        .unwrap_or(&ZEROS)
}

/// The sums of columns `column..column + acc.len()` of one result row, kept in `acc` (the same order of
/// operations as [`row_sums`]' blocks).
#[inline(always)]
fn column_sums(acc: &mut [f32], lhs: &MatRef<'_>, rhs: &MatRef<'_>, i: usize, column: usize) {
    if acc.is_empty() {
        return;
    }
    let (n, b_data) = (acc.len(), rhs.data());
    let b = |p: usize| {
        let start = p * rhs.row_stride() + column;
        b_data.get(start..start + n).unwrap_or(&[])
    };
    let first = lhs_at(lhs, i, 0);
    for (c, &b) in acc.iter_mut().zip(b(0)) {
        *c = first * b;
    }
    for p in 1..lhs.cols() {
        let a = lhs_at(lhs, i, p);
        for (c, &b) in acc.iter_mut().zip(b(p)) {
            *c = a.mul_add(b, *c);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use super::{MAX_COLUMNS, MatRef, combine, row_sums};

    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    pub(super) fn rows(dst: &mut [f32], lhs: &MatRef<'_>, rhs: &MatRef<'_>, alpha: f32, beta: f32) {
        // SAFETY: `small_gemm` only calls this after `applies`, which checked that AVX2 and FMA are available;
        // `rows_fma` itself reads and writes only through bounds-checked slices.
        unsafe { rows_fma(dst, lhs, rhs, alpha, beta) }
    }

    /// # Safety
    /// AVX2 and FMA must be available.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn rows_fma(dst: &mut [f32], lhs: &MatRef<'_>, rhs: &MatRef<'_>, alpha: f32, beta: f32) {
        let n = rhs.cols();
        if alpha == 1.0 && beta == 0.0 {
            // The usual case: the sums go straight into the destination.
            for (i, row) in dst.chunks_exact_mut(n).enumerate() {
                row_sums(row, lhs, rhs, i);
            }
            return;
        }
        let mut acc = [0.0f32; MAX_COLUMNS];
        let acc = &mut acc[..n];
        for (i, row) in dst.chunks_exact_mut(n).enumerate() {
            row_sums(acc, lhs, rhs, i);
            combine(row, acc, alpha, beta);
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    use super::MatRef;

    pub(super) fn available() -> bool {
        false
    }

    pub(super) fn rows(_: &mut [f32], _: &MatRef<'_>, _: &MatRef<'_>, _: f32, _: f32) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gemm_reference;
    use crate::kernels::test_util::{assert_gemm_close, random_vec};
    use crate::kernels::{Parallelism, gemm};

    /// The memory network's two match gradients, and awkward widths and depths around them.
    const SHAPES: [(usize, usize, usize); 7] = [
        (68, 64, 4),
        (4, 64, 68),
        (1, 8, 1),
        (3, 9, 5),
        (17, 33, 7),
        (2, 256, 3),
        (50, 16, 40),
    ];

    fn run(
        m: usize,
        n: usize,
        k: usize,
        lhs_t: bool,
        alpha: f32,
        beta: f32,
    ) -> (Vec<f32>, Vec<f32>) {
        let a = random_vec(m * k, 11 + m as u64);
        let b = random_vec(k * n, 12 + n as u64);
        let lhs = if lhs_t {
            MatRef::row_major(&a, k, m).unwrap().t()
        } else {
            MatRef::row_major(&a, m, k).unwrap()
        };
        let rhs = MatRef::row_major(&b, k, n).unwrap();
        let start = random_vec(m * n, 13);
        let (mut fast, mut slow) = (start.clone(), start);
        assert!(small_gemm(&mut fast, lhs, rhs, alpha, beta) || !simd::available());
        gemm_reference(&mut slow, lhs, rhs, alpha, beta, Parallelism::None).unwrap();
        (fast, slow)
    }

    #[test]
    fn matches_the_reference() {
        if !simd::available() {
            eprintln!(
                "small_gemm: no AVX2/FMA on this machine, the gemm crate takes these products"
            );
            return;
        }
        for &(m, n, k) in &SHAPES {
            for lhs_t in [false, true] {
                for (alpha, beta) in [(1.0, 0.0), (0.5, 0.0), (1.0, 1.0), (-1.5, 2.3)] {
                    let (fast, slow) = run(m, n, k, lhs_t, alpha, beta);
                    let what = format!("{m}x{k}·{k}x{n} lhs_t={lhs_t} α={alpha} β={beta}");
                    assert_gemm_close(&fast, &slow, k, &what);
                }
            }
        }
    }

    #[test]
    fn overwrites_nan_when_beta_is_zero() {
        if !simd::available() {
            return;
        }
        let (a, b) = (random_vec(68 * 4, 1), random_vec(4 * 64, 2));
        let mut out = vec![f32::NAN; 68 * 64];
        let lhs = MatRef::row_major(&a, 68, 4).unwrap();
        let rhs = MatRef::row_major(&b, 4, 64).unwrap();
        assert!(small_gemm(&mut out, lhs, rhs, 1.0, 0.0));
        assert!(out.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn declines_what_it_does_not_take() {
        let a = random_vec(64 * 64, 3);
        let square = MatRef::row_major(&a, 64, 64).unwrap();
        let narrow = MatRef::row_major(&a, 64, 4).unwrap();
        let mut out = vec![0.0; 64 * 64];
        // Too large (2·64³ flops), too narrow (4 columns), right operand read transposed (column stride 64).
        assert!(!small_gemm(&mut out, square, square, 1.0, 0.0));
        assert!(!small_gemm(&mut out[..256], square, narrow, 1.0, 0.0));
        let wide = MatRef::row_major(&a[..4 * 64], 4, 64).unwrap();
        assert!(!small_gemm(&mut out[..16], wide, wide.t(), 1.0, 0.0));
        // The gemm crate and this kernel agree within the reference's tolerance on the match's shape.
        let (l, r) = (random_vec(68 * 4, 4), random_vec(4 * 64, 5));
        let (lhs, rhs) = (
            MatRef::row_major(&l, 68, 4).unwrap(),
            MatRef::row_major(&r, 4, 64).unwrap(),
        );
        let (mut via_gemm, mut direct) = (vec![0.0; 68 * 64], vec![0.0; 68 * 64]);
        gemm(&mut via_gemm, lhs, rhs, 1.0, 0.0, Parallelism::None).unwrap();
        if small_gemm(&mut direct, lhs, rhs, 1.0, 0.0) {
            assert_gemm_close(&direct, &via_gemm, 4, "small vs gemm");
        }
    }
    /// Register blocks and in-place running sums give the same bits (the blocks' order of operations is the
    /// in-place one), on the memory network's widths and across a block's edge.
    #[test]
    fn blocks_match_running_sums_in_place() {
        for (m, n, k) in [(4, 64, 68), (68, 64, 4), (3, 130, 9), (2, 200, 1)] {
            let (a, b) = (random_vec(m * k, 21), random_vec(k * n, 22));
            let lhs = MatRef::row_major(&a, m, k).unwrap();
            let rhs = MatRef::row_major(&b, k, n).unwrap();
            for i in 0..m {
                let (mut blocked, mut in_place) = (vec![f32::NAN; n], vec![f32::NAN; n]);
                row_sums(&mut blocked, &lhs, &rhs, i);
                column_sums(&mut in_place, &lhs, &rhs, i, 0);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&blocked), bits(&in_place), "{m}x{k}·{k}x{n} row {i}");
            }
        }
    }
}
