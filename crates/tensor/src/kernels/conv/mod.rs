//! Convolution and pooling over channels-last images: [`Conv2dGeometry`] (Keras's output sizes and padding),
//! [`conv2d_forward`] / [`conv2d_backward`] as im2col + packed GEMM (implicit GEMM, without the copy, for
//! stride-1 unpadded windows; Winograd F(2×2, 3×3) for 3×3 stride-1 windows with channels), max/average pooling,
//! and convolution + ReLU + max pooling fused per shard of images; each with a direct reference for tests.

mod conv2d;
mod conv2d_transpose;
mod conv_relu_pool;
mod direct;
mod geometry;
mod im2col;
mod implicit;
mod pool2d;
mod pool2d_inside;
mod pool2d_winners;
mod winograd;
mod winograd_kernel_grad;
mod winograd_product;
mod winograd_transforms;

pub use conv_relu_pool::{
    conv_relu_pool_applies, conv2d_relu_max_pool2d_backward, conv2d_relu_max_pool2d_forward,
};
pub use conv2d::{
    Conv2dGrads, conv2d_backward, conv2d_backward_relu, conv2d_forward, conv2d_forward_relu,
    conv2d_reference,
};
pub use conv2d_transpose::{
    conv2d_transpose_backward, conv2d_transpose_forward, conv2d_transpose_reference,
};
pub use geometry::{Conv2dGeometry, ConvPadding};
pub use pool2d::{
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_backward_replay,
    max_pool2d_forward, max_pool2d_values, pool2d_reference,
};
