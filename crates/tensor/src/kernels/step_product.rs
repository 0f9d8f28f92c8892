//! The recurrent kernels' per-step products, such as an LSTM(64) step's `[32 × 64]·[64 × 256]`: a register-blocked
//! AVX2/FMA kernel that reads its operands in place, without the `gemm` crate's per-call setup and packing.
//!
//! Blocks of 6 result rows × 16 columns stay in 12 vector registers over the whole depth; each step of the depth
//! loads 16 elements of a row of the right operand (contiguous rows: column stride 1) and broadcasts 6 elements
//! of the left one (any strides, so a transposed left operand is read in place). Every result element is one
//! chain of fused multiply-adds over `k` in order, starting from zero, then stored or added to the destination:
//! the arithmetic the `gemm` crate's micro-kernels do for a depth of at most 512 (its smallest depth block), so
//! both give the same bits. Shapes the `gemm` crate takes to other paths (one row or column, a depth of at most
//! 2, at most 256 results), right operands with strided rows, and products large enough for the `gemm` crate
//! to split over threads go to the `gemm` crate.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::{MatRef, PARALLEL_FLOPS_THRESHOLD, Parallelism, gemm, gemm_flops};
use crate::Result;

/// The deepest product taken: the `gemm` crate sums a depth of up to 512 in one block.
const MAX_DEPTH: usize = 512;

/// Whether [`step_gemm`] computes `lhs·rhs` itself on this machine rather than through the `gemm` crate.
fn applies(lhs: &MatRef<'_>, rhs: &MatRef<'_>, beta: f32) -> bool {
    let (m, n, k) = (lhs.rows(), rhs.cols(), lhs.cols());
    m >= 2
        && n >= 2
        && m * n > 256
        && (3..=MAX_DEPTH).contains(&k)
        && rhs.col_stride() == 1
        && (beta == 0.0 || beta == 1.0)
        && gemm_flops(m, n, k) < PARALLEL_FLOPS_THRESHOLD
        && simd::available()
}

/// `dst = lhs·rhs + beta·dst` (row-major `m × n`), the same bits as [`gemm()`] with `alpha = 1`.
///
/// # Errors
/// As [`gemm()`].
pub(crate) fn step_gemm(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    beta: f32,
) -> Result<()> {
    super::matmul::check_product("step_gemm", dst.len(), &lhs, &rhs)?;
    if applies(&lhs, &rhs, beta) && simd::product(dst, &lhs, &rhs, beta == 1.0) {
        return Ok(());
    }
    let flops = gemm_flops(lhs.rows(), rhs.cols(), lhs.cols());
    gemm(dst, lhs, rhs, 1.0, beta, Parallelism::auto(flops))
}

/// [`step_gemm`] on `ndarray` views: `dst = lhs·rhs + beta·dst`, the same bits as
/// [`matmul_into`](super::matmul_into) with `alpha = 1`. Operands whose memory is not one contiguous block
/// go to [`matmul_into`](super::matmul_into).
///
/// # Errors
/// As [`matmul_into`](super::matmul_into).
pub(crate) fn step_matmul_into(
    mut dst: ArrayViewMut2<'_, f32>,
    lhs: ArrayView2<'_, f32>,
    rhs: ArrayView2<'_, f32>,
    beta: f32,
) -> Result<()> {
    let fits = dst.dim() == (lhs.nrows(), rhs.ncols());
    match (mat_ref(&lhs), mat_ref(&rhs), dst.as_slice_mut()) {
        (Some(lhs_ref), Some(rhs_ref), Some(out)) if fits => step_gemm(out, lhs_ref, rhs_ref, beta),
        _ => super::matmul_into(dst, lhs, rhs, 1.0, beta),
    }
}

/// `dst = lhs·rhs + beta·dst` for a right operand `rhs` with strided rows (a transposed weight matrix), of
/// which `rhs_rows` is a row-major copy (made once for many products): the kernel reads the copy, and products
/// it does not take go to [`matmul_into`](super::matmul_into) with `rhs` itself, so that they take the
/// `gemm` crate's path for that layout (its kernel for small products sums differently). The same bits as
/// [`matmul_into`](super::matmul_into) with `rhs` and `alpha = 1`.
///
/// # Errors
/// As [`matmul_into`](super::matmul_into); an internal error if `rhs_rows` differs in shape from `rhs`.
pub(crate) fn step_matmul_into_copied(
    mut dst: ArrayViewMut2<'_, f32>,
    lhs: ArrayView2<'_, f32>,
    rhs: ArrayView2<'_, f32>,
    rhs_rows: ArrayView2<'_, f32>,
    beta: f32,
) -> Result<()> {
    if rhs_rows.dim() != rhs.dim() {
        return Err(crate::TensorError::Internal {
            op: "step_matmul_into_copied",
            reason: format!(
                "a copy of {:?} of shape {:?}",
                rhs.shape(),
                rhs_rows.shape()
            ),
        });
    }
    let fits = dst.dim() == (lhs.nrows(), rhs.ncols());
    match (mat_ref(&lhs), mat_ref(&rhs_rows), dst.as_slice_mut()) {
        (Some(lhs_ref), Some(rhs_ref), Some(out)) if fits && applies(&lhs_ref, &rhs_ref, beta) => {
            step_gemm(out, lhs_ref, rhs_ref, beta)
        }
        _ => super::matmul_into(dst, lhs, rhs, 1.0, beta),
    }
}

/// The view as a [`MatRef`] read in place, when its memory is one block with non-negative strides.
fn mat_ref<'a>(view: &ArrayView2<'a, f32>) -> Option<MatRef<'a>> {
    let data = view.to_slice_memory_order()?;
    let [rs, cs] = [view.strides()[0], view.strides()[1]].map(usize::try_from);
    MatRef::new(data, view.nrows(), view.ncols(), rs.ok()?, cs.ok()?).ok()
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    use super::MatRef;

    /// Result rows per register block.
    const ROWS: usize = 6;
    /// Vectors of 8 result columns per register block: 12 accumulators, 2 vectors of `rhs` and the broadcasts
    /// of `lhs` fit the 16 vector registers (4 × 3 blocks spill an accumulator to the stack every step).
    const VECTORS: usize = 2;

    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    /// `dst = lhs·rhs`, or `dst += lhs·rhs` with `accumulate`; `false` (nothing written) if the operands do not
    /// fit the kernel.
    pub(super) fn product(
        dst: &mut [f32],
        lhs: &MatRef<'_>,
        rhs: &MatRef<'_>,
        accumulate: bool,
    ) -> bool {
        let (m, n, k) = (lhs.rows(), rhs.cols(), lhs.cols());
        // Preconditions of `product_fma`, checked here so that the unsafe call below cannot go out of bounds.
        let fits = rhs.rows() == k
            && rhs.col_stride() == 1
            && dst.len() == m * n
            && m > 0
            && n > 0
            && k > 0;
        if !fits || !available() {
            return false;
        }
        // SAFETY: AVX2 and FMA are available (checked above). `MatRef::new` guaranteed that every element
        // (i, p) of `lhs` (i < m, p < k) and (p, j) of `rhs` (p < k, j < n) lies inside its data, the latter at
        // `p·row_stride + j` (column stride 1, checked above); `dst` holds m × n elements (checked above).
        unsafe { product_fma(dst, lhs, rhs, accumulate) };
        true
    }

    /// # Safety
    /// AVX2 and FMA available; `rhs.col_stride() == 1`, `lhs.cols() == rhs.rows()` and
    /// `dst.len() == lhs.rows() · rhs.cols()`, all non-zero.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn product_fma(dst: &mut [f32], lhs: &MatRef<'_>, rhs: &MatRef<'_>, accumulate: bool) {
        let (m, n, k) = (lhs.rows(), rhs.cols(), lhs.cols());
        let operands = Operands {
            a: lhs.data().as_ptr(),
            a_rs: lhs.row_stride(),
            a_cs: lhs.col_stride(),
            b: rhs.data().as_ptr(),
            b_rs: rhs.row_stride(),
            k,
            dst: dst.as_mut_ptr(),
            dst_rs: n,
            accumulate,
        };
        let vector_cols = n / 8 * 8;
        let mut col = 0;
        while col < vector_cols {
            let vectors = ((vector_cols - col) / 8).min(VECTORS);
            let mut row = 0;
            while row < m {
                let rows = (m - row).min(ROWS);
                // SAFETY: rows row .. row + rows < m and columns col .. col + 8·vectors ≤ n lie inside the
                // operands and the destination (the caller's contract).
                unsafe { block_dispatch(&operands, row, col, rows, vectors) };
                row += rows;
            }
            col += 8 * vectors;
        }
        for row in 0..m {
            for col in vector_cols..n {
                // SAFETY: row < m, col < n, p < k (the caller's contract).
                unsafe { operands.scalar(row, col) };
            }
        }
    }

    /// Raw views of one product's operands, checked by [`product`].
    struct Operands {
        a: *const f32,
        a_rs: usize,
        a_cs: usize,
        b: *const f32,
        b_rs: usize,
        k: usize,
        dst: *mut f32,
        dst_rs: usize,
        accumulate: bool,
    }

    impl Operands {
        /// One result element: the same chain of fused multiply-adds as a vector lane.
        ///
        /// # Safety
        /// FMA available; `(row, col)` an element of the destination.
        #[target_feature(enable = "avx2,fma")]
        unsafe fn scalar(&self, row: usize, col: usize) {
            let mut acc = 0.0f32;
            for p in 0..self.k {
                // SAFETY: (row, p) of lhs and (p, col) of rhs are in bounds (the caller's contract).
                let (a, b) = unsafe {
                    (
                        *self.a.add(row * self.a_rs + p * self.a_cs),
                        *self.b.add(p * self.b_rs + col),
                    )
                };
                acc = a.mul_add(b, acc);
            }
            // SAFETY: (row, col) is in the destination.
            let out = unsafe { &mut *self.dst.add(row * self.dst_rs + col) };
            *out = if self.accumulate { *out + acc } else { acc };
        }
    }

    /// [`block`] for `rows ≤ ROWS` rows and `vectors ≤ VECTORS` vectors of columns.
    ///
    /// # Safety
    /// As [`block`].
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block_dispatch(o: &Operands, row: usize, col: usize, rows: usize, vectors: usize) {
        // SAFETY: the caller's contract, with the block's sizes as the constants.
        unsafe {
            match (rows, vectors) {
                (6, 2) => block::<6, 2>(o, row, col),
                (6, _) => block::<6, 1>(o, row, col),
                (5, 2) => block::<5, 2>(o, row, col),
                (5, _) => block::<5, 1>(o, row, col),
                (4, 2) => block::<4, 2>(o, row, col),
                (4, _) => block::<4, 1>(o, row, col),
                (3, 2) => block::<3, 2>(o, row, col),
                (3, _) => block::<3, 1>(o, row, col),
                (2, 2) => block::<2, 2>(o, row, col),
                (2, _) => block::<2, 1>(o, row, col),
                (_, 2) => block::<1, 2>(o, row, col),
                _ => block::<1, 1>(o, row, col),
            }
        }
    }

    /// Result rows `row .. row + R`, columns `col .. col + 8·V`: `R × V` accumulators over the whole depth.
    ///
    /// # Safety
    /// AVX2 and FMA available; those rows and columns lie inside the destination, and so rows `row .. row + R`
    /// of `lhs` and columns `col .. col + 8·V` of `rhs` inside the operands (every `p < k`).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block<const R: usize, const V: usize>(o: &Operands, row: usize, col: usize) {
        let mut acc = [[_mm256_setzero_ps(); V]; R];
        let a_rows = o.a.wrapping_add(row * o.a_rs);
        let b_cols = o.b.wrapping_add(col);
        for p in 0..o.k {
            let b_row = b_cols.wrapping_add(p * o.b_rs);
            let mut b = [_mm256_setzero_ps(); V];
            for (v, b) in b.iter_mut().enumerate() {
                // SAFETY: columns col + 8v .. col + 8v + 8 of rhs row p are in bounds (the caller's contract).
                *b = unsafe { _mm256_loadu_ps(b_row.add(8 * v)) };
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                // SAFETY: (row + r, p) is an element of lhs (the caller's contract).
                let a = unsafe { _mm256_broadcast_ss(&*a_rows.add(r * o.a_rs + p * o.a_cs)) };
                for (acc, &b) in acc.iter_mut().zip(&b) {
                    *acc = _mm256_fmadd_ps(a, b, *acc);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let out_row = o.dst.wrapping_add((row + r) * o.dst_rs + col);
            for (v, &acc) in acc.iter().enumerate() {
                let out = out_row.wrapping_add(8 * v);
                // SAFETY: 8 elements of destination row row + r from column col + 8v are in bounds.
                unsafe {
                    let value = if o.accumulate {
                        _mm256_add_ps(_mm256_loadu_ps(out), acc)
                    } else {
                        acc
                    };
                    _mm256_storeu_ps(out, value);
                }
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod simd {
    use super::MatRef;

    pub(super) fn available() -> bool {
        false
    }

    pub(super) fn product(_: &mut [f32], _: &MatRef<'_>, _: &MatRef<'_>, _: bool) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::gemm_reference;
    use crate::kernels::test_util::{assert_bits_eq, assert_gemm_close, random_vec, with_threads};

    /// `(fast, gemm crate, reference)` for `lhs·rhs + beta·start`.
    fn products(lhs: MatRef<'_>, rhs: MatRef<'_>, beta: f32, start: &[f32]) -> [Vec<f32>; 3] {
        let mut fast = start.to_vec();
        step_gemm(&mut fast, lhs, rhs, beta).unwrap();
        let mut crate_gemm = start.to_vec();
        gemm(&mut crate_gemm, lhs, rhs, 1.0, beta, Parallelism::None).unwrap();
        let mut reference = start.to_vec();
        gemm_reference(&mut reference, lhs, rhs, 1.0, beta, Parallelism::None).unwrap();
        [fast, crate_gemm, reference]
    }

    /// Row counts of a step's kept samples (all 32, and fewer when masked), depths of the recurrent shapes and
    /// odd ones, widths with partial register blocks and columns beyond the last whole vector.
    #[test]
    fn gives_the_gemm_crates_bits_for_step_shapes_and_tails() {
        for m in [2, 3, 5, 7, 8, 13, 31, 32, 64] {
            for k in [3, 7, 32, 33, 64, 100, 256, 512] {
                for n in [9, 17, 24, 40, 64, 100, 192, 256] {
                    if m * n <= 256 {
                        continue;
                    }
                    let a = random_vec(m * (k + 2), 91);
                    let b = random_vec(k * (n + 3), 92);
                    // lhs rows padded to k + 2, rhs rows to n + 3.
                    let lhs = MatRef::new(&a, m, k, k + 2, 1).unwrap();
                    let rhs = MatRef::new(&b, k, n, n + 3, 1).unwrap();
                    let parallel = gemm_flops(m, n, k) >= PARALLEL_FLOPS_THRESHOLD;
                    assert!(!simd::available() || parallel || applies(&lhs, &rhs, 0.0));
                    for beta in [0.0, 1.0] {
                        let start = random_vec(m * n, 93);
                        let [fast, crate_gemm, reference] = products(lhs, rhs, beta, &start);
                        let what = format!("{m}x{k}·{k}x{n}, beta {beta}");
                        assert_bits_eq(&fast, &crate_gemm, &what);
                        assert_gemm_close(&fast, &reference, k, &what);
                    }
                }
            }
        }
    }

    /// The recurrent weight gradient's `hᵀ·dGates`: a transposed left operand, read in place.
    #[test]
    fn a_transposed_left_operand_gives_the_same_bits() {
        for (batch, units, width) in [(32, 64, 256), (32, 64, 192), (5, 37, 111), (2, 16, 48)] {
            let h = random_vec(batch * units, 94);
            let d = random_vec(batch * width, 95);
            let lhs = MatRef::row_major(&h, batch, units).unwrap().t();
            let rhs = MatRef::row_major(&d, batch, width).unwrap();
            let start = random_vec(units * width, 96);
            let [fast, crate_gemm, reference] = products(lhs, rhs, 1.0, &start);
            let what = format!("hᵀ·dGates, {batch} x {units} x {width}");
            assert_bits_eq(&fast, &crate_gemm, &what);
            assert_gemm_close(&fast, &reference, batch, &what);
        }
    }

    /// Shapes the kernel leaves to the `gemm` crate still give its results: strided right-operand rows, one row,
    /// small products, depths beyond 512, other `beta`.
    #[test]
    fn other_shapes_go_to_the_gemm_crate() {
        let a = random_vec(40 * 600, 97);
        let b = random_vec(600 * 40, 98);
        let cases = [
            (
                MatRef::row_major(&a, 32, 64).unwrap(),
                MatRef::row_major(&b, 40, 64).unwrap().t(),
                0.0,
            ),
            (
                MatRef::row_major(&a, 1, 64).unwrap(),
                MatRef::row_major(&b, 64, 40).unwrap(),
                0.0,
            ),
            (
                MatRef::row_major(&a, 4, 64).unwrap(),
                MatRef::row_major(&b, 64, 16).unwrap(),
                1.0,
            ),
            (
                MatRef::row_major(&a, 32, 600).unwrap(),
                MatRef::row_major(&b, 600, 40).unwrap(),
                0.0,
            ),
            (
                MatRef::row_major(&a, 32, 2).unwrap(),
                MatRef::row_major(&b, 2, 40).unwrap(),
                0.0,
            ),
            (
                MatRef::row_major(&a, 32, 64).unwrap(),
                MatRef::row_major(&b, 64, 40).unwrap(),
                0.5,
            ),
        ];
        for (lhs, rhs, beta) in cases {
            assert!(!applies(&lhs, &rhs, beta));
            let start = random_vec(lhs.rows() * rhs.cols(), 99);
            let [fast, crate_gemm, _] = products(lhs, rhs, beta, &start);
            assert_bits_eq(&fast, &crate_gemm, "fallback");
        }
    }

    /// `dGates·Uᵀ` from a row-major copy of `Uᵀ` gives `matmul_into`'s bits on `Uᵀ` itself for every kept row
    /// count, including those the kernel leaves to the `gemm` crate (one row, few results).
    #[test]
    fn a_copied_right_operand_gives_the_bits_of_the_strided_one() {
        for (units, width) in [(64, 256), (32, 96), (37, 111)] {
            let u = ndarray::Array2::from_shape_vec((units, width), random_vec(units * width, 102))
                .unwrap();
            let u_t = crate::pooled::standard_copy(&u.t());
            for rows in [1, 2, 3, 5, 8, 9, 31, 32] {
                let d =
                    ndarray::Array2::from_shape_vec((rows, width), random_vec(rows * width, 103))
                        .unwrap();
                for beta in [0.0, 1.0] {
                    let start = random_vec(rows * units, 104);
                    let mut fast =
                        ndarray::Array2::from_shape_vec((rows, units), start.clone()).unwrap();
                    step_matmul_into_copied(fast.view_mut(), d.view(), u.t(), u_t.view(), beta)
                        .unwrap();
                    let mut expected =
                        ndarray::Array2::from_shape_vec((rows, units), start).unwrap();
                    crate::kernels::matmul_into(expected.view_mut(), d.view(), u.t(), 1.0, beta)
                        .unwrap();
                    let what = format!("{rows} rows, {units} units, beta {beta}");
                    assert_bits_eq(
                        fast.as_slice().unwrap(),
                        expected.as_slice().unwrap(),
                        &what,
                    );
                }
            }
        }
        let u = ndarray::Array2::<f32>::zeros((4, 8));
        let mut dst = ndarray::Array2::<f32>::zeros((2, 4));
        let d = ndarray::Array2::<f32>::zeros((2, 8));
        assert!(step_matmul_into_copied(dst.view_mut(), d.view(), u.t(), u.view(), 0.0).is_err());
    }

    #[test]
    fn ndarray_views_and_threads_give_the_same_bits() {
        let a = ndarray::Array2::from_shape_vec((32, 64), random_vec(32 * 64, 100)).unwrap();
        let b = ndarray::Array2::from_shape_vec((64, 256), random_vec(64 * 256, 101)).unwrap();
        let run = |threads| {
            with_threads(threads, || {
                let mut out = ndarray::Array2::<f32>::from_elem((32, 256), f32::NAN);
                step_matmul_into(out.view_mut(), a.view(), b.view(), 0.0).unwrap();
                // Transposed operands: Aᵀ in place, Bᵀ through the `gemm` crate.
                let mut back = ndarray::Array2::<f32>::zeros((64, 64));
                step_matmul_into(back.view_mut(), a.t(), a.view(), 1.0).unwrap();
                let mut dh = ndarray::Array2::<f32>::zeros((32, 64));
                step_matmul_into(dh.view_mut(), out.view(), b.t(), 0.0).unwrap();
                (out, back, dh)
            })
        };
        let (one, two) = (run(1), run(2));
        let mut expected = ndarray::Array2::<f32>::zeros((32, 256));
        crate::kernels::matmul_into(expected.view_mut(), a.view(), b.view(), 1.0, 0.0).unwrap();
        let slice = |x: &ndarray::Array2<f32>| x.as_slice().unwrap().to_vec();
        assert_bits_eq(&slice(&one.0), &slice(&expected), "ndarray product");
        for (x, y, what) in [
            (&one.0, &two.0, "h·U"),
            (&one.1, &two.1, "hᵀ·h"),
            (&one.2, &two.2, "d·Uᵀ"),
        ] {
            assert_bits_eq(&slice(x), &slice(y), what);
        }
        let mut expected_back = ndarray::Array2::<f32>::zeros((64, 64));
        crate::kernels::matmul_into(expected_back.view_mut(), a.t(), a.view(), 1.0, 1.0).unwrap();
        assert_bits_eq(&slice(&one.1), &slice(&expected_back), "transposed lhs");
    }
}
