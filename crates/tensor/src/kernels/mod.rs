//! CPU kernels: plain functions on slices and array views, each tested against a naive reference.
//!
//! Parallel kernels take an explicit [`Parallelism`] (or pick one from the work size); work below a size
//! threshold stays on one thread, and reductions use a fixed chunking so that results do not depend on the
//! number of threads.
//!
//! - [`gemm()`] / [`batched_gemm`]: matrix products on strided slice views ([`MatRef`], [`BatchedMatRef`]), with
//!   the `gemm` crate as micro-kernel (tiny items of a batch read in place by a row-sum kernel instead);
//!   [`matmul`], [`matmul_into`], [`batched_matmul`] on `ndarray` views.
//! - [`conv2d_forward`] / [`conv2d_backward`]: 2-D convolution as im2col + GEMM over batch shards; max and
//!   average pooling ([`max_pool2d_forward`], [`avg_pool2d_forward`]); [`conv2d_transpose_forward`] /
//!   [`conv2d_transpose_backward`], the transposed convolution built on them; [`conv2d_relu_max_pool2d_forward`]
//!   / [`conv2d_relu_max_pool2d_backward`], convolution + ReLU + max pooling per shard of images.
//! - [`map_inplace`], [`map`], [`zip_map`], [`zip_map_inplace`]: elementwise kernels.
//! - [`sum`], [`dot`], [`max`], [`sum_rows`], [`sum_axis0`]: reductions.
//! - [`gather::gather_rows_into`] / [`gather::scatter_add_rows`]: embedding lookups' row copies and their
//!   gradient rows' sums.
//! - [`exp::exp`]: `e^x` in plain arithmetic, so that loops over it vectorize (softmax, sigmoid, tanh, LSTM).
//! - [`batch_norm::batch_norm_forward`] / [`batch_norm::batch_norm_backward`]: fused batch normalization over
//!   the whole batch (masked statistics and the inference-mode backward beside them).
//! - [`layer_norm::layer_norm_forward`] / [`layer_norm::layer_norm_backward`]: fused layer normalization.
//! - [`attention::attention_forward`] / [`attention::attention_backward`]: fused scaled-dot-product attention.
//! - [`random::dropout_mask_into`]: dropout masks from eight xoshiro256++ streams run side by side;
//!   [`dropout::dropout_forward_into`] draws the same mask while it multiplies, keeping a byte per entry.
//!
//! ```
//! use rkeras_tensor::kernels::{gemm, gemm_flops, MatRef, Parallelism};
//!
//! let (m, n, k) = (2, 2, 3);
//! let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let mut c = [0.0; 4];
//! // A·Aᵀ for A = [[1, 2, 3], [4, 5, 6]].
//! let a_ref = MatRef::row_major(&a, m, k)?;
//! gemm(&mut c, a_ref, a_ref.t(), 1.0, 0.0, Parallelism::auto(gemm_flops(m, n, k)))?;
//! assert_eq!(c, [14.0, 32.0, 32.0, 77.0]);
//! # Ok::<(), rkeras_tensor::TensorError>(())
//! ```

pub mod activation;
mod array_matmul;
pub mod attention;
pub mod batch_norm;
mod batched;
mod conv;
pub mod dropout;
mod elementwise;
pub mod exp;
pub mod gather;
pub mod gru;
pub mod layer_norm;
mod layer_norm_lanes;
pub mod layout;
pub mod lstm;
mod mat_ref;
mod matmul;
mod narrow;
mod packed_rows;
mod parallelism;
mod per_target;
pub mod random;
mod recurrent;
mod reduce;
pub mod simple_rnn;
pub mod smooth_activation;
mod step_mask;
mod step_product;
#[cfg(test)]
mod test_util;

pub use array_matmul::{batched_matmul, matmul, matmul_into};
pub use batched::{batched_gemm, batched_gemm_reference};
pub use conv::{
    Conv2dGeometry, Conv2dGrads, ConvPadding, avg_pool2d_backward, avg_pool2d_forward,
    conv_relu_pool_applies, conv2d_backward, conv2d_backward_relu, conv2d_forward,
    conv2d_forward_relu, conv2d_reference, conv2d_relu_max_pool2d_backward,
    conv2d_relu_max_pool2d_forward, conv2d_transpose_backward, conv2d_transpose_forward,
    conv2d_transpose_reference, max_pool2d_backward, max_pool2d_backward_replay,
    max_pool2d_forward, max_pool2d_values, pool2d_reference,
};
pub use elementwise::{ELEMENTWISE_CHUNK, map, map_inplace, zip_map, zip_map_inplace};
pub use mat_ref::{BatchedMatRef, MatRef};
pub use matmul::{gemm, gemm_reference, gemm_strided_rows};
pub use parallelism::{
    PARALLEL_ELEMENTS_THRESHOLD, PARALLEL_FLOPS_THRESHOLD, Parallelism, gemm_flops,
};
pub use reduce::{AXIS0_BLOCK_ROWS, REDUCE_CHUNK, dot, max, sum, sum_axis0, sum_rows};
