//! Batched matrix products on slices: `dst[b] = alpha·lhs[b]·rhs[b] + beta·dst[b]` for every item `b`.
//!
//! With more than one thread allowed and more than one item, the batch is split over rayon tasks and every
//! item runs single-threaded, so an item's bits never depend on the number of threads. A batch of one item
//! hands the parallelism to the single product instead.
//!
//! ```
//! use rkeras_tensor::kernels::{batched_gemm, BatchedMatRef, Parallelism};
//!
//! // Two 1×2 · 2×1 dot products: [1, 2]·[3, 4] = 11 and [5, 6]·[7, 8] = 83.
//! let lhs = [1.0, 2.0, 5.0, 6.0];
//! let rhs = [3.0, 4.0, 7.0, 8.0];
//! let mut out = [0.0; 2];
//! batched_gemm(
//!     &mut out,
//!     BatchedMatRef::contiguous(&lhs, 2, 1, 2)?,
//!     BatchedMatRef::contiguous(&rhs, 2, 2, 1)?,
//!     1.0,
//!     0.0,
//!     Parallelism::None,
//! )?;
//! assert_eq!(out, [11.0, 83.0]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use rayon::prelude::*;

use super::matmul::{check_product, gemm_checked, gemm_reference};
use super::{BatchedMatRef, MatRef, PARALLEL_FLOPS_THRESHOLD, Parallelism, gemm_flops};
use crate::{Result, TensorError};

/// `dst[b] = alpha·lhs[b]·rhs[b] + beta·dst[b]`, `dst` holding `batch × m × n` elements contiguously.
///
/// `Parallelism::Rayon(t)` splits the batch into `t` tasks (all pool threads for `t = 0`) when the whole batch
/// is worth at least [`PARALLEL_FLOPS_THRESHOLD`] floating-point operations; a smaller batch stays on the
/// calling thread, where a fork-join would cost more than it saves (the `gemm` crate does the same for one
/// product).
///
/// # Errors
/// [`TensorError::ShapeMismatch`] if the batch sizes or the inner dimensions differ,
/// [`TensorError::InvalidShape`] if `dst` does not hold exactly `batch × m × n` elements.
pub fn batched_gemm(
    dst: &mut [f32],
    lhs: BatchedMatRef<'_>,
    rhs: BatchedMatRef<'_>,
    alpha: f32,
    beta: f32,
    par: Parallelism,
) -> Result<()> {
    let item_len = check_batched(dst.len(), &lhs, &rhs)?;
    let batch = lhs.batch();
    if batch == 0 || item_len == 0 {
        return Ok(());
    }
    let flops = gemm_flops(lhs.rows(), rhs.cols(), lhs.cols()).saturating_mul(batch as u64);
    let threads = if flops < PARALLEL_FLOPS_THRESHOLD {
        1
    } else {
        par.threads().min(batch)
    };
    if threads <= 1 || batch == 1 {
        // One item may still use several threads inside its own product.
        let item_par = if batch == 1 { par } else { Parallelism::None };
        let mut scratch = Vec::new();
        for (b, dst_item) in dst.chunks_exact_mut(item_len).enumerate() {
            let (l, r) = items(&lhs, &rhs, b)?;
            item_product(dst_item, l, r, alpha, beta, item_par, &mut scratch);
        }
        return Ok(());
    }
    let items_per_task = batch.div_ceil(threads);
    dst.par_chunks_mut(items_per_task * item_len)
        .enumerate()
        .try_for_each(|(task, dst_task)| {
            let mut scratch = Vec::new();
            for (offset, dst_item) in dst_task.chunks_exact_mut(item_len).enumerate() {
                let (l, r) = items(&lhs, &rhs, task * items_per_task + offset)?;
                item_product(dst_item, l, r, alpha, beta, Parallelism::None, &mut scratch);
            }
            Ok(())
        })
}

/// One item's product, by the `gemm` crate. (A kernel reading tiny items in place, without packing, was measured
/// against it on the memory network's products and was slower: `docs/performance.md`.)
fn item_product(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    alpha: f32,
    beta: f32,
    par: Parallelism,
    scratch: &mut Vec<f32>,
) {
    gemm_checked(dst, lhs, rhs, alpha, beta, par, scratch);
}

/// Item-by-item [`gemm_reference`] with the same contract as [`batched_gemm`]; the reference for tests.
///
/// # Errors
/// As [`batched_gemm`].
pub fn batched_gemm_reference(
    dst: &mut [f32],
    lhs: BatchedMatRef<'_>,
    rhs: BatchedMatRef<'_>,
    alpha: f32,
    beta: f32,
    par: Parallelism,
) -> Result<()> {
    let item_len = check_batched(dst.len(), &lhs, &rhs)?;
    if item_len == 0 {
        return Ok(());
    }
    for (b, dst_item) in dst.chunks_exact_mut(item_len).enumerate() {
        let (l, r) = items(&lhs, &rhs, b)?;
        gemm_reference(dst_item, l, r, alpha, beta, par)?;
    }
    Ok(())
}

/// Checks batch sizes, inner dimensions and the destination length; returns the elements per output item.
fn check_batched(
    dst_len: usize,
    lhs: &BatchedMatRef<'_>,
    rhs: &BatchedMatRef<'_>,
) -> Result<usize> {
    let shapes = || {
        TensorError::shape_mismatch(
            "batched_gemm",
            &[lhs.batch(), lhs.rows(), lhs.cols()],
            &[rhs.batch(), rhs.rows(), rhs.cols()],
        )
    };
    if lhs.batch() != rhs.batch() || lhs.cols() != rhs.rows() {
        return Err(shapes());
    }
    let (batch, m, n) = (lhs.batch(), lhs.rows(), rhs.cols());
    let item_len = m.checked_mul(n).ok_or_else(shapes)?;
    if item_len.checked_mul(batch) != Some(dst_len) {
        return Err(TensorError::invalid_shape(
            "batched_gemm",
            &[dst_len],
            format!(
                "the destination of {batch} products of {m}×{n} needs {batch}×{m}×{n} elements"
            ),
        ));
    }
    Ok(item_len)
}

/// Item `b` of both operands, already known to fit together.
fn items<'a>(
    lhs: &BatchedMatRef<'a>,
    rhs: &BatchedMatRef<'a>,
    b: usize,
) -> Result<(MatRef<'a>, MatRef<'a>)> {
    match (lhs.item(b), rhs.item(b)) {
        (Some(l), Some(r)) => {
            check_product("batched_gemm", l.rows() * r.cols(), &l, &r)?;
            Ok((l, r))
        }
        _ => Err(TensorError::Internal {
            op: "batched_gemm",
            reason: format!("batch item {b} out of range"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::{assert_bits_eq, assert_gemm_close, random_vec, with_threads};

    /// A `[batch, rows, cols]` operand stored as `[batch, cols, rows]` when `transposed` (a permuted view).
    fn operand(
        data: &[f32],
        batch: usize,
        rows: usize,
        cols: usize,
        transposed: bool,
    ) -> BatchedMatRef<'_> {
        if transposed {
            BatchedMatRef::contiguous(data, batch, cols, rows)
                .unwrap()
                .t()
        } else {
            BatchedMatRef::contiguous(data, batch, rows, cols).unwrap()
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check(
        batch: usize,
        m: usize,
        n: usize,
        k: usize,
        lhs_t: bool,
        rhs_t: bool,
        beta: f32,
        par: Parallelism,
    ) {
        let a = random_vec(batch * m * k, 21);
        let b = random_vec(batch * k * n, 22);
        let (lhs, rhs) = (
            operand(&a, batch, m, k, lhs_t),
            operand(&b, batch, k, n, rhs_t),
        );
        let start = random_vec(batch * m * n, 23);
        let (mut fast, mut slow) = (start.clone(), start);
        batched_gemm(&mut fast, lhs, rhs, 2.3, beta, par).unwrap();
        batched_gemm_reference(&mut slow, lhs, rhs, 2.3, beta, par).unwrap();
        assert_gemm_close(
            &fast,
            &slow,
            k,
            &format!("{batch}×[{m}x{k}·{k}x{n}] t=({lhs_t},{rhs_t}) {par:?}"),
        );
    }

    #[test]
    fn matches_reference_with_permuted_operands() {
        for (batch, m, n, k) in [
            (0, 3, 3, 3),
            (1, 63, 1, 127),
            (3, 0, 4, 5),
            (5, 4, 0, 2),
            (7, 5, 6, 0),
            (32, 68, 4, 64),
        ] {
            for (lhs_t, rhs_t) in [(false, false), (true, false), (false, true), (true, true)] {
                for par in [
                    Parallelism::None,
                    Parallelism::Rayon(2),
                    Parallelism::Rayon(0),
                ] {
                    check(batch, m, n, k, lhs_t, rhs_t, 0.0, par);
                    check(batch, m, n, k, lhs_t, rhs_t, 1.0, par);
                }
            }
        }
        // Batches above PARALLEL_FLOPS_THRESHOLD, split over rayon tasks (the last one shorter).
        check(16, 64, 64, 160, false, true, 0.0, Parallelism::Rayon(2));
        check(40, 68, 4, 800, false, true, 1.0, Parallelism::Rayon(0));
        check(3, 127, 63, 700, true, false, 2.3, Parallelism::Rayon(2));
    }

    #[test]
    fn broadcast_rhs_over_the_batch() {
        // batch stride 0: the same 3×2 matrix for every item.
        let a = random_vec(4 * 2 * 3, 31);
        let w = random_vec(6, 32);
        let lhs = BatchedMatRef::contiguous(&a, 4, 2, 3).unwrap();
        let rhs = BatchedMatRef::new(&w, 4, 3, 2, 0, 2, 1).unwrap();
        let mut out = vec![0.0; 4 * 2 * 2];
        batched_gemm(&mut out, lhs, rhs, 1.0, 0.0, Parallelism::Rayon(2)).unwrap();
        let (a, w) = (&a, &w);
        let expected: Vec<f32> = (0..4 * 2)
            .flat_map(|row| {
                (0..2).map(move |j| (0..3).map(|p| a[row * 3 + p] * w[p * 2 + j]).sum::<f32>())
            })
            .collect();
        assert_gemm_close(&out, &expected, 3, "broadcast");
    }

    #[test]
    fn mismatched_batches_are_errors() {
        let data = vec![0.0; 64];
        let mut out = vec![0.0; 8];
        let two = BatchedMatRef::contiguous(&data, 2, 2, 2).unwrap();
        let three = BatchedMatRef::contiguous(&data, 3, 2, 2).unwrap();
        assert_eq!(
            batched_gemm(&mut out, two, three, 1.0, 0.0, Parallelism::None),
            Err(TensorError::shape_mismatch(
                "batched_gemm",
                &[2, 2, 2],
                &[3, 2, 2]
            ))
        );
        let wide = BatchedMatRef::contiguous(&data, 2, 3, 2).unwrap();
        assert!(matches!(
            batched_gemm(&mut out, two, wide, 1.0, 0.0, Parallelism::None),
            Err(TensorError::ShapeMismatch { .. })
        ));
        assert!(matches!(
            batched_gemm(&mut out[..7], two, two, 1.0, 0.0, Parallelism::None),
            Err(TensorError::InvalidShape { .. })
        ));
    }

    #[test]
    fn bit_identical_with_one_or_two_threads() {
        // Below and above the threshold; narrow and general items; one large item.
        for (batch, m, n, k) in [
            (32, 68, 4, 64),
            (40, 68, 4, 800),
            (16, 4, 64, 160),
            (3, 130, 70, 300),
            (1, 300, 257, 310),
        ] {
            let a = random_vec(batch * m * k, 41);
            let b = random_vec(batch * k * n, 42);
            let run = |threads| {
                with_threads(threads, || {
                    let mut out = vec![0.0; batch * m * n];
                    let lhs = BatchedMatRef::contiguous(&a, batch, m, k).unwrap();
                    let rhs = operand(&b, batch, k, n, true);
                    batched_gemm(&mut out, lhs, rhs, 1.0, 0.0, Parallelism::Rayon(0)).unwrap();
                    out
                })
            };
            assert_bits_eq(&run(1), &run(2), &format!("{batch}×[{m}x{k}·{k}x{n}]"));
        }
    }
}
