//! Matrix products on `ndarray` views of any strides, choosing the parallelism from the work size.
//!
//! A view that is contiguous in some axis order with non-negative strides (standard layout, `.t()`,
//! `.permuted_axes(..)`) is read in place; any other view (a negative-step slice, a sub-block of a larger
//! array) is first copied to standard layout.
//!
//! ```
//! use ndarray::array;
//! use rkeras_tensor::kernels::{matmul, batched_matmul};
//!
//! let a = array![[1.0f32, 2.0], [3.0, 4.0]];
//! assert_eq!(matmul(a.view(), a.t())?, array![[5.0, 11.0], [11.0, 25.0]]);
//! let x = array![[[1.0f32, 2.0]], [[3.0, 4.0]]]; // [2, 1, 2]
//! // x · xᵀ per item: [[5]] and [[25]].
//! let xxt = batched_matmul(x.view(), x.view().permuted_axes([0, 2, 1]))?;
//! assert_eq!(xxt, array![[[5.0]], [[25.0]]]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

use ndarray::{
    Array2, Array3, ArrayView, ArrayView2, ArrayView3, ArrayViewMut2, CowArray, Dimension,
};

use super::{BatchedMatRef, MatRef, Parallelism, batched_gemm, gemm, gemm_flops};
use crate::{Result, TensorError};

/// `lhs · rhs` for `[m, k]` and `[k, n]` views.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] if the inner dimensions differ.
pub fn matmul(lhs: ArrayView2<'_, f32>, rhs: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
    let (m, n) = (lhs.nrows(), rhs.ncols());
    // `beta = 0` overwrites every element.
    let mut out = crate::pooled::for_overwrite(ndarray::Ix2(m, n));
    matmul_into(out.view_mut(), lhs, rhs, 1.0, 0.0)?;
    Ok(out)
}

/// `dst = alpha·lhs·rhs + beta·dst` for a standard-layout (contiguous row-major) `dst`.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] if the inner dimensions differ, [`TensorError::InvalidShape`] if `dst` is not
/// `m × n` or not in standard layout.
pub fn matmul_into(
    mut dst: ArrayViewMut2<'_, f32>,
    lhs: ArrayView2<'_, f32>,
    rhs: ArrayView2<'_, f32>,
    alpha: f32,
    beta: f32,
) -> Result<()> {
    let (m, k, n) = (lhs.nrows(), lhs.ncols(), rhs.ncols());
    if k != rhs.nrows() {
        return Err(TensorError::shape_mismatch(
            "matmul",
            lhs.shape(),
            rhs.shape(),
        ));
    }
    if dst.dim() != (m, n) {
        return Err(TensorError::invalid_shape(
            "matmul",
            dst.shape(),
            format!("the destination of a {m}×{k} · {k}×{n} product must be {m}×{n}"),
        ));
    }
    if !dst.is_standard_layout() {
        return Err(TensorError::invalid_shape(
            "matmul",
            dst.shape(),
            "the destination must be contiguous",
        ));
    }
    let dst = dst
        .as_slice_mut()
        .ok_or_else(|| internal("a standard-layout view is not contiguous"))?;
    let (lhs, rhs) = (in_place_or_copy(lhs), in_place_or_copy(rhs));
    let product = match (mat_ref(&lhs), mat_ref(&rhs)) {
        (Ok(lhs_ref), Ok(rhs_ref)) => gemm(
            dst,
            lhs_ref,
            rhs_ref,
            alpha,
            beta,
            Parallelism::auto(gemm_flops(m, n, k)),
        ),
        (Err(error), _) | (_, Err(error)) => Err(error),
    };
    give_back(lhs);
    give_back(rhs);
    product
}

/// `lhs[b] · rhs[b]` for `[batch, m, k]` and `[batch, k, n]` views; permuted views
/// (`.permuted_axes([0, 2, 1])`) give transposed items without a copy.
///
/// # Errors
/// [`TensorError::ShapeMismatch`] if the batch sizes or inner dimensions differ.
pub fn batched_matmul(lhs: ArrayView3<'_, f32>, rhs: ArrayView3<'_, f32>) -> Result<Array3<f32>> {
    let (batch, m, k) = lhs.dim();
    let (rhs_batch, rhs_k, n) = rhs.dim();
    if batch != rhs_batch || k != rhs_k {
        return Err(TensorError::shape_mismatch(
            "batched_matmul",
            lhs.shape(),
            rhs.shape(),
        ));
    }
    let (lhs, rhs) = (in_place_or_copy(lhs), in_place_or_copy(rhs));
    // `beta = 0` overwrites every element.
    let mut out = crate::pooled::for_overwrite(ndarray::Ix3(batch, m, n));
    let flops = gemm_flops(m, n, k).saturating_mul(batch as u64);
    let product = match (
        batched_mat_ref(&lhs),
        batched_mat_ref(&rhs),
        out.as_slice_mut(),
    ) {
        (Ok(lhs_ref), Ok(rhs_ref), Some(dst)) => {
            batched_gemm(dst, lhs_ref, rhs_ref, 1.0, 0.0, Parallelism::auto(flops))
        }
        (Err(error), _, _) | (_, Err(error), _) => Err(error),
        (_, _, None) => Err(internal("a fresh array is not contiguous")),
    };
    give_back(lhs);
    give_back(rhs);
    product.map(|()| out)
}

fn internal(reason: &str) -> TensorError {
    TensorError::Internal {
        op: "matmul",
        reason: reason.to_string(),
    }
}

/// The view itself when its memory is one contiguous block with non-negative strides, else a standard copy
/// (in a pooled buffer: hand it back with [`give_back`]).
fn in_place_or_copy<D: Dimension>(view: ArrayView<'_, f32, D>) -> CowArray<'_, f32, D> {
    let readable = view.strides().iter().all(|&s| s >= 0) && view.to_slice_memory_order().is_some();
    if readable {
        CowArray::from(view)
    } else {
        CowArray::from(crate::pooled::standard_copy(&view))
    }
}

/// Returns the buffer of a copy made by [`in_place_or_copy`] to the pool.
fn give_back<D: Dimension>(operand: CowArray<'_, f32, D>) {
    if !operand.is_view() {
        crate::buffer_pool::give_array(operand.into_owned());
    }
}

/// The slice under a view prepared by [`in_place_or_copy`] and its `N` strides as `usize`.
fn slice_and_strides<'a, D: Dimension, const N: usize>(
    view: &'a CowArray<'_, f32, D>,
) -> Result<(&'a [f32], [usize; N])> {
    let data = view
        .as_slice_memory_order()
        .ok_or_else(|| internal("operand is not contiguous"))?;
    let signed = view.strides();
    if signed.len() != N {
        return Err(internal("a view of unexpected rank"));
    }
    let mut strides = [0; N];
    for (stride, &s) in strides.iter_mut().zip(signed) {
        *stride = usize::try_from(s).map_err(|_| internal("negative stride"))?;
    }
    Ok((data, strides))
}

fn mat_ref<'a>(view: &'a CowArray<'_, f32, ndarray::Ix2>) -> Result<MatRef<'a>> {
    let (data, [rs, cs]) = slice_and_strides(view)?;
    MatRef::new(data, view.nrows(), view.ncols(), rs, cs)
}

fn batched_mat_ref<'a>(view: &'a CowArray<'_, f32, ndarray::Ix3>) -> Result<BatchedMatRef<'a>> {
    let (data, [bs, rs, cs]) = slice_and_strides(view)?;
    let (batch, rows, cols) = view.dim();
    BatchedMatRef::new(data, batch, rows, cols, bs, rs, cs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_util::{assert_gemm_close, random_vec};
    use ndarray::{Array, s};

    fn naive(a: &ArrayView2<'_, f32>, b: &ArrayView2<'_, f32>) -> Array2<f32> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).map(|p| a[[i, p]] * b[[p, j]]).sum()
        })
    }

    #[test]
    fn any_strides_match_a_naive_product() {
        let big = Array::from_shape_vec((9, 12), random_vec(108, 51)).unwrap();
        let cases: Vec<(ArrayView2<'_, f32>, ArrayView2<'_, f32>)> = vec![
            (big.slice(s![..5, ..7]), big.slice(s![2..9, 3..])), // sub-blocks: copied
            (big.slice(s![..;-1, ..4]), big.slice(s![..4, ..;-2])), // negative steps: copied
            (big.t(), big.view()),                               // transposed: in place
            (big.slice(s![..0, ..]), big.t()),                   // empty
        ];
        for (a, b) in cases {
            let fast = matmul(a, b).unwrap();
            let expected = naive(&a, &b);
            assert_eq!(fast.dim(), expected.dim());
            assert_gemm_close(
                fast.as_slice().unwrap(),
                expected.as_slice().unwrap(),
                a.ncols(),
                "matmul",
            );
        }
    }

    #[test]
    fn matmul_into_accumulates_and_checks_the_destination() {
        let a = Array::from_shape_vec((3, 4), random_vec(12, 52)).unwrap();
        let mut dst = Array2::from_elem((3, 3), 1.0f32);
        matmul_into(dst.view_mut(), a.view(), a.t(), 2.0, 0.5).unwrap();
        let expected = naive(&a.view(), &a.t()).mapv(|x| 2.0 * x + 0.5);
        assert_gemm_close(
            dst.as_slice().unwrap(),
            expected.as_slice().unwrap(),
            4,
            "matmul_into",
        );
        let mut wide = Array2::<f32>::zeros((3, 6));
        let not_contiguous = wide.slice_mut(s![.., ..;2]);
        assert!(matches!(
            matmul_into(not_contiguous, a.view(), a.t(), 1.0, 0.0),
            Err(TensorError::InvalidShape { .. })
        ));
        let mut square = Array2::<f32>::zeros((4, 4));
        assert!(matches!(
            matmul_into(square.view_mut(), a.view(), a.t(), 1.0, 0.0),
            Err(TensorError::InvalidShape { op: "matmul", .. })
        ));
        assert!(matches!(
            matmul(a.view(), a.view()),
            Err(TensorError::ShapeMismatch { op: "matmul", .. })
        ));
    }

    #[test]
    fn batched_permuted_views_match_per_item_products() {
        // The memory network's match: [b, 68, 64] · [b, 4, 64]ᵀ.
        let (batch, story, query, dim) = (5, 68, 4, 64);
        let memory =
            Array::from_shape_vec((batch, story, dim), random_vec(batch * story * dim, 53))
                .unwrap();
        let question =
            Array::from_shape_vec((batch, query, dim), random_vec(batch * query * dim, 54))
                .unwrap();
        let matched =
            batched_matmul(memory.view(), question.view().permuted_axes([0, 2, 1])).unwrap();
        assert_eq!(matched.dim(), (batch, story, query));
        for b in 0..batch {
            let expected = naive(
                &memory.slice(s![b, .., ..]),
                &question.slice(s![b, .., ..]).t(),
            );
            let got = matched.slice(s![b, .., ..]).to_owned();
            assert_gemm_close(
                got.as_slice().unwrap(),
                expected.as_slice().unwrap(),
                dim,
                "batched item",
            );
        }
        // A negatively strided batch axis is copied first.
        let reversed = batched_matmul(
            memory.slice(s![..;-1, .., ..]),
            question.view().permuted_axes([0, 2, 1]),
        );
        assert_eq!(reversed.unwrap().dim(), (batch, story, query));
        assert!(matches!(
            batched_matmul(memory.view(), question.view()),
            Err(TensorError::ShapeMismatch {
                op: "batched_matmul",
                ..
            })
        ));
    }
}
