//! Single matrix product on slices: `dst = alpha·lhs·rhs + beta·dst`, with the `gemm` crate as micro-kernel.
//!
//! The destination is a contiguous row-major `m × n` slice; the operands are [`MatRef`] views with any
//! non-negative strides, so a transposed operand costs nothing. `beta = 0` overwrites the destination (a NaN
//! already there does not leak through), and `alpha = 0` does not read the operands (BLAS convention).
//!
//! ```
//! use rkeras_tensor::kernels::{gemm, MatRef, Parallelism};
//!
//! let a = [1.0, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
//! let b = [5.0, 6.0, 7.0, 8.0]; // [[5, 6], [7, 8]]
//! let mut c = [f32::NAN; 4];
//! gemm(&mut c, MatRef::row_major(&a, 2, 2)?, MatRef::row_major(&b, 2, 2)?, 1.0, 0.0, Parallelism::None)?;
//! assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
//! // Aᵀ·B through strides only.
//! gemm(&mut c, MatRef::row_major(&a, 2, 2)?.t(), MatRef::row_major(&b, 2, 2)?, 1.0, 0.0, Parallelism::None)?;
//! assert_eq!(c, [26.0, 30.0, 38.0, 44.0]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use super::{MatRef, Parallelism, narrow};
use crate::{Result, TensorError};

/// Products whose destination has fewer columns than this, more rows than columns, and a column-major left
/// operand are computed column-major into a scratch buffer and transposed back: the `gemm` crate vectorises
/// along the destination's contiguous axis, which for a row-major `m × 4` result would use 4 of 16 lanes.
/// (With a row-major left operand that would cost a transposing copy of it; the `narrow` kernel takes that case.)
const NARROW_COLUMNS: usize = 16;

/// `dst = alpha·lhs·rhs + beta·dst` for a row-major contiguous `dst` of `lhs.rows() × rhs.cols()` elements.
///
/// `par` lets the `gemm` crate split the product over threads (it still stays on one thread below its own
/// threshold of about 0.6 M multiply-adds); results are bit-identical whatever the number of threads.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] if `lhs.cols() != rhs.rows()`, [`TensorError::InvalidShape`] if `dst` does not
/// hold exactly `lhs.rows() × rhs.cols()` elements.
pub fn gemm(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    alpha: f32,
    beta: f32,
    par: Parallelism,
) -> Result<()> {
    check_product("gemm", dst.len(), &lhs, &rhs)?;
    gemm_checked(dst, lhs, rhs, alpha, beta, par, &mut Vec::new());
    Ok(())
}

/// `dst = alpha·lhs·rhs` into a row-major `m × n` block whose rows lie `row_stride` elements apart in `dst`
/// (`row_stride ≥ n`; the elements between rows are left alone): one head's block of a
/// `[len, heads · dim]` array written in place. Same arithmetic, so the same bits, as [`gemm()`] with `beta = 0`
/// into a contiguous block, for `n > 4` (narrower products, which [`gemm()`] gives its narrow kernel, are
/// computed by the `gemm` crate here).
///
/// # Errors
/// [`TensorError::ShapeMismatch`] if `lhs.cols() != rhs.rows()`, [`TensorError::InvalidShape`] if
/// `row_stride < n` or the last row reaches past the end of `dst`.
pub fn gemm_strided_rows(
    dst: &mut [f32],
    row_stride: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    alpha: f32,
) -> Result<()> {
    let (m, n, k) = (lhs.rows(), rhs.cols(), lhs.cols());
    if k != rhs.rows() {
        return Err(TensorError::shape_mismatch(
            "gemm_strided_rows",
            &[m, k],
            &[rhs.rows(), n],
        ));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    let fits = row_stride >= n
        && (m - 1)
            .checked_mul(row_stride)
            .and_then(|last| last.checked_add(n))
            .is_some_and(|end| end <= dst.len() && isize::try_from(end).is_ok());
    if !fits {
        return Err(TensorError::invalid_shape(
            "gemm_strided_rows",
            &[dst.len()],
            format!("{m} rows of {n} elements {row_stride} apart do not fit"),
        ));
    }
    if k == 0 || alpha == 0.0 {
        dst.chunks_mut(row_stride)
            .take(m)
            .for_each(|row| row[..n].fill(0.0));
        return Ok(());
    }
    run_gemm(
        dst,
        (1, row_stride as isize),
        false,
        lhs,
        rhs,
        alpha,
        0.0,
        Parallelism::None,
    );
    Ok(())
}

/// Naive triple loop with the same contract as [`gemm()`], accumulating in `f64`; the reference for tests.
///
/// # Errors
/// As [`gemm()`].
pub fn gemm_reference(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    alpha: f32,
    beta: f32,
    _par: Parallelism,
) -> Result<()> {
    check_product("gemm", dst.len(), &lhs, &rhs)?;
    let n = rhs.cols();
    for (i, dst_row) in dst.chunks_mut(n.max(1)).enumerate() {
        for (j, out) in dst_row.iter_mut().enumerate() {
            let mut acc = 0.0f64;
            if alpha != 0.0 {
                for p in 0..lhs.cols() {
                    let a = lhs.get(i, p).unwrap_or(0.0);
                    let b = rhs.get(p, j).unwrap_or(0.0);
                    acc += f64::from(a) * f64::from(b);
                }
            }
            let scaled = (f64::from(alpha) * acc) as f32;
            *out = if beta == 0.0 {
                scaled
            } else {
                scaled + beta * *out
            };
        }
    }
    Ok(())
}

/// Checks that `lhs · rhs` is defined and that the destination holds its `m × n` elements.
pub(crate) fn check_product(
    op: &'static str,
    dst_len: usize,
    lhs: &MatRef<'_>,
    rhs: &MatRef<'_>,
) -> Result<()> {
    if lhs.cols() != rhs.rows() {
        return Err(TensorError::shape_mismatch(
            op,
            &[lhs.rows(), lhs.cols()],
            &[rhs.rows(), rhs.cols()],
        ));
    }
    let (m, n) = (lhs.rows(), rhs.cols());
    if m.checked_mul(n) != Some(dst_len) {
        return Err(TensorError::invalid_shape(
            op,
            &[dst_len],
            format!(
                "the destination of a {m}×{} · {}×{n} product needs {m}×{n} elements",
                lhs.cols(),
                rhs.rows()
            ),
        ));
    }
    Ok(())
}

/// `dst = beta·dst`, where `beta = 0` overwrites.
fn scale(dst: &mut [f32], beta: f32) {
    if beta == 0.0 {
        dst.fill(0.0);
    } else if beta != 1.0 {
        dst.iter_mut().for_each(|x| *x *= beta);
    }
}

/// A stride as `gemm` takes it. A dimension of length 0 or 1 never moves along its stride, so its stride is
/// replaced by 0: `gemm` then computes no pointer offset from it at all.
fn gemm_stride(dim: usize, stride: usize) -> isize {
    if dim <= 1 {
        0
    } else {
        isize::try_from(stride).unwrap_or(0)
    }
}

/// [`gemm()`] on operands already validated by [`check_product`]; `scratch` is reused between calls.
pub(crate) fn gemm_checked(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    alpha: f32,
    beta: f32,
    par: Parallelism,
    scratch: &mut Vec<f32>,
) {
    let (m, n, k) = (lhs.rows(), rhs.cols(), lhs.cols());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == 0.0 {
        scale(dst, beta);
        return;
    }
    if narrow::narrow_gemm(dst, lhs, rhs, alpha, beta, par, scratch) {
        return;
    }
    let column_major_lhs = lhs.row_stride() == 1 && lhs.col_stride() != 1;
    if (2..NARROW_COLUMNS).contains(&n) && m > n && column_major_lhs {
        scratch.clear();
        scratch.resize(m * n, 0.0);
        // Column-major m × n: element (i, j) at scratch[i + j*m].
        run_gemm(scratch, (m as isize, 1), false, lhs, rhs, alpha, 0.0, par);
        for (i, dst_row) in dst.chunks_exact_mut(n).enumerate() {
            for (j, out) in dst_row.iter_mut().enumerate() {
                let product = scratch.get(i + j * m).copied().unwrap_or(0.0);
                *out = if beta == 0.0 {
                    product
                } else {
                    product + beta * *out
                };
            }
        }
    } else {
        run_gemm(
            dst,
            (1, n as isize),
            beta != 0.0,
            lhs,
            rhs,
            alpha,
            beta,
            par,
        );
    }
}

/// Calls `gemm::gemm` on a destination of `lhs.rows() × rhs.cols()` elements with strides `(col, row)`: row-major
/// `(1, n)`, column-major `(m, 1)`, or rows further apart `(1, row_stride ≥ n)` ([`gemm_strided_rows`]).
#[allow(clippy::too_many_arguments)]
fn run_gemm(
    dst: &mut [f32],
    (dst_cs, dst_rs): (isize, isize),
    read_dst: bool,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    alpha: f32,
    beta: f32,
    par: Parallelism,
) {
    let (m, n, k) = (lhs.rows(), rhs.cols(), lhs.cols());
    debug_assert!(lhs.cols() == rhs.rows() && m > 0 && n > 0 && k > 0);
    debug_assert!(
        ((dst_cs, dst_rs) == (m as isize, 1) && dst.len() == m * n)
            || (dst_cs == 1 && dst_rs >= n as isize && (m - 1) * dst_rs as usize + n <= dst.len())
    );
    // SAFETY: `gemm::gemm` reads lhs(i, p) at `lhs_ptr + i*lhs_rs + p*lhs_cs` for i < m, p < k, rhs(p, j)
    // likewise for p < k, j < n, and reads (if `read_dst`) and writes dst(i, j) at `dst_ptr + i*dst_rs + j*dst_cs`.
    // - `MatRef::new` checked that (rows-1)*row_stride + (cols-1)*col_stride < data.len() <= isize::MAX for
    //   non-empty views, so every operand offset is in bounds and each stride of a dimension longer than 1 fits
    //   in isize; strides of dimensions of length 1 are passed as 0 (`gemm_stride`), so no offset is formed
    //   from them.
    // - The caller checked `lhs.cols() == rhs.rows()` and `dst.len() == m*n` (`check_product`); the destination
    //   strides are row-major (1, n) or column-major (m, 1), whose largest offset is m*n - 1 < dst.len(); or
    //   (`gemm_strided_rows`) (1, row_stride) with row_stride ≥ n, whose largest offset (m-1)*row_stride + n - 1
    //   it checked to be < dst.len() (and to fit in isize).
    // - `dst` is a `&mut` borrow, so it cannot alias the shared borrows behind `lhs` and `rhs`, and no other
    //   thread can touch it while `gemm` runs (its own worker threads write disjoint tiles).
    // - m, n, k > 0 (asserted above by the callers' early returns); T = f32 is one of gemm's supported types.
    unsafe {
        ::gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs,
            dst_rs,
            read_dst,
            lhs.data().as_ptr(),
            gemm_stride(k, lhs.col_stride()),
            gemm_stride(m, lhs.row_stride()),
            rhs.data().as_ptr(),
            gemm_stride(n, rhs.col_stride()),
            gemm_stride(k, rhs.row_stride()),
            // gemm's convention: dst := alpha·dst + beta·lhs·rhs.
            beta,
            alpha,
            false,
            false,
            false,
            par.to_gemm(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gemm_flops;
    use crate::kernels::test_util::{assert_bits_eq, assert_gemm_close, random_vec, with_threads};

    /// Runs `gemm` and `gemm_reference` on the same random operands and compares them.
    #[allow(clippy::too_many_arguments)]
    fn check(
        m: usize,
        n: usize,
        k: usize,
        lhs_t: bool,
        rhs_t: bool,
        alpha: f32,
        beta: f32,
        par: Parallelism,
    ) {
        let a = random_vec(m * k, 1 + m as u64);
        let b = random_vec(k * n, 2 + n as u64);
        let lhs = if lhs_t {
            MatRef::row_major(&a, k, m).unwrap().t()
        } else {
            MatRef::row_major(&a, m, k).unwrap()
        };
        let rhs = if rhs_t {
            MatRef::row_major(&b, n, k).unwrap().t()
        } else {
            MatRef::row_major(&b, k, n).unwrap()
        };
        let start = random_vec(m * n, 3);
        let (mut fast, mut slow) = (start.clone(), start.clone());
        gemm(&mut fast, lhs, rhs, alpha, beta, par).unwrap();
        gemm_reference(&mut slow, lhs, rhs, alpha, beta, par).unwrap();
        assert_gemm_close(
            &fast,
            &slow,
            k,
            &format!("{m}x{k}·{k}x{n} t=({lhs_t},{rhs_t}) α={alpha} β={beta} {par:?}"),
        );
    }

    #[test]
    fn matches_reference_over_awkward_shapes() {
        let dims = [0, 1, 4, 63, 127];
        for &m in &dims {
            for &n in &dims {
                for &k in &dims {
                    for (lhs_t, rhs_t) in
                        [(false, false), (true, false), (false, true), (true, true)]
                    {
                        for par in [Parallelism::None, Parallelism::Rayon(2)] {
                            check(m, n, k, lhs_t, rhs_t, 1.0, 0.0, par);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn alpha_and_beta_scale_as_documented() {
        for (alpha, beta) in [
            (0.0, 0.0),
            (0.0, 1.0),
            (1.0, 1.0),
            (2.3, 0.0),
            (2.3, 2.3),
            (1.0, 2.3),
            (0.0, 2.3),
        ] {
            for (m, n, k) in [
                (63, 127, 5),
                (68, 4, 64),
                (4, 68, 64),
                (17, 1, 9),
                (5, 7, 0),
            ] {
                check(m, n, k, false, true, alpha, beta, Parallelism::None);
                check(m, n, k, true, false, alpha, beta, Parallelism::Rayon(0));
            }
        }
    }

    #[test]
    fn large_parallel_product_matches_reference() {
        check(
            1031,
            517,
            263,
            false,
            false,
            1.0,
            0.0,
            Parallelism::Rayon(2),
        );
        check(263, 1031, 517, true, true, 2.3, 1.0, Parallelism::Rayon(0));
    }

    #[test]
    fn beta_zero_overwrites_nan_and_alpha_zero_ignores_operands() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let lhs = MatRef::row_major(&a, 3, 2).unwrap();
        let rhs = MatRef::row_major(&a, 2, 3).unwrap();
        let mut c = [f32::NAN; 9];
        gemm(&mut c, lhs, rhs, 1.0, 0.0, Parallelism::None).unwrap();
        // Row 0 of [[1,2],[3,4],[5,6]] · [[1,2,3],[4,5,6]] = [1+8, 2+10, 3+12].
        assert_eq!(&c[..3], &[9.0, 12.0, 15.0]);
        assert!(c.iter().all(|x| x.is_finite()));
        let inf = [f32::INFINITY; 6];
        let mut d = [1.0f32; 9];
        gemm(
            &mut d,
            MatRef::row_major(&inf, 3, 2).unwrap(),
            rhs,
            0.0,
            2.0,
            Parallelism::None,
        )
        .unwrap();
        assert_eq!(d, [2.0; 9]);
        let mut e = [f32::NAN; 9];
        gemm(
            &mut e,
            MatRef::row_major(&[], 3, 0).unwrap(),
            MatRef::row_major(&[], 0, 3).unwrap(),
            1.0,
            0.0,
            Parallelism::None,
        )
        .unwrap();
        assert_eq!(e, [0.0; 9]);
    }

    #[test]
    fn broadcast_and_strided_operands() {
        // rhs with a zero row stride: every row of rhs is b[0..n], so dst(i, j) = b[j] · Σ_p a(i, p).
        let a = random_vec(6 * 5, 9);
        let b = random_vec(3, 10);
        let lhs = MatRef::new(&a, 6, 3, 5, 2).unwrap(); // columns 0, 2, 4 of a 6×5 matrix
        let rhs = MatRef::new(&b, 3, 3, 0, 1).unwrap();
        let mut c = vec![0.0; 18];
        gemm(&mut c, lhs, rhs, 1.0, 0.0, Parallelism::None).unwrap();
        for i in 0..6 {
            let row_sum: f32 = (0..3).map(|p| a[i * 5 + 2 * p]).sum();
            for j in 0..3 {
                assert!((c[i * 3 + j] - row_sum * b[j]).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn strided_rows_give_the_contiguous_products_bits_and_leave_the_gaps() {
        for (m, n, k, stride) in [
            (200, 32, 200, 64),
            (7, 5, 3, 9),
            (1, 5, 6, 5),
            (33, 17, 0, 40),
        ] {
            let a = random_vec(m * k, 21);
            let b = random_vec(k * n, 22);
            let lhs = MatRef::row_major(&a, m, k).unwrap();
            let rhs = MatRef::row_major(&b, n, k).unwrap().t();
            let mut contiguous = vec![0.0; m * n];
            gemm(&mut contiguous, lhs, rhs, 0.7, 0.0, Parallelism::None).unwrap();
            let mut strided = vec![f32::NAN; (m - 1) * stride + n];
            gemm_strided_rows(&mut strided, stride, lhs, rhs, 0.7).unwrap();
            for i in 0..m {
                let row = &strided[i * stride..i * stride + n];
                assert_bits_eq(
                    row,
                    &contiguous[i * n..(i + 1) * n],
                    &format!("{m}x{k}x{n} row {i}"),
                );
                if i + 1 < m {
                    assert!(
                        strided[i * stride + n..(i + 1) * stride]
                            .iter()
                            .all(|x| x.is_nan())
                    );
                }
            }
        }
        let a = [0.0f32; 6];
        let lhs = MatRef::row_major(&a, 2, 3).unwrap();
        let rhs = MatRef::row_major(&a, 3, 2).unwrap();
        assert!(gemm_strided_rows(&mut [0.0; 4], 1, lhs, rhs, 1.0).is_err());
        assert!(gemm_strided_rows(&mut [0.0; 4], 3, lhs, rhs, 1.0).is_err());
        assert!(gemm_strided_rows(&mut [0.0; 5], 3, lhs, rhs, 1.0).is_ok());
        assert!(gemm_strided_rows(&mut [0.0; 5], 3, lhs, lhs, 1.0).is_err());
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let a = [0.0f32; 12];
        let lhs = MatRef::row_major(&a, 3, 4).unwrap();
        let rhs = MatRef::row_major(&a, 3, 4).unwrap();
        let mut c = [0.0f32; 12];
        assert_eq!(
            gemm(&mut c, lhs, rhs, 1.0, 0.0, Parallelism::None),
            Err(TensorError::shape_mismatch("gemm", &[3, 4], &[3, 4]))
        );
        let mut short = [0.0f32; 8];
        assert!(matches!(
            gemm(&mut short, lhs, rhs.t(), 1.0, 0.0, Parallelism::None),
            Err(TensorError::InvalidShape { op: "gemm", .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]
        #[test]
        fn any_shape_layout_and_scaling_matches_reference(
            m in 0usize..40,
            n in 0usize..40,
            k in 0usize..70,
            lhs_t in proptest::bool::ANY,
            rhs_t in proptest::bool::ANY,
            scaling in 0usize..4,
        ) {
            let (alpha, beta) = [(1.0, 0.0), (2.3, 1.0), (0.0, 2.3), (-1.5, 0.5)][scaling];
            check(m, n, k, lhs_t, rhs_t, alpha, beta, Parallelism::None);
        }
    }

    #[test]
    fn bit_identical_with_one_or_two_threads() {
        // A product above the gemm crate's own threading threshold, and a narrow one split over row tasks.
        for (m, n, k) in [(300, 257, 310), (1500, 4, 1400)] {
            let a = random_vec(m * k, 11);
            let b = random_vec(k * n, 12);
            let run = |threads: usize, par: Parallelism| {
                with_threads(threads, || {
                    let mut c = vec![0.0; m * n];
                    let lhs = MatRef::row_major(&a, m, k).unwrap();
                    let rhs = MatRef::row_major(&b, n, k).unwrap().t();
                    gemm(&mut c, lhs, rhs, 1.0, 0.0, par).unwrap();
                    c
                })
            };
            let one = run(1, Parallelism::Rayon(0));
            let what = format!("{m}x{k}·{k}x{n}");
            assert_bits_eq(&one, &run(2, Parallelism::Rayon(0)), &what);
            assert_bits_eq(&one, &run(2, Parallelism::Rayon(2)), &what);
            assert_bits_eq(&one, &run(2, Parallelism::auto(gemm_flops(m, n, k))), &what);
        }
    }
}
