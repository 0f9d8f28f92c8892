//! Convolution layers (channels last): [`Conv1D`], [`Conv2D`], [`Conv2DTranspose`], [`DepthwiseConv2D`],
//! [`SeparableConv2D`].

mod base;
mod builders;
mod conv1d;
mod conv2d;
mod conv2d_transpose;
mod depthwise;
mod depthwise_conv2d;
mod separable_conv2d;
pub(crate) mod window;

pub use conv1d::Conv1D;
pub use conv2d::Conv2D;
pub use conv2d_transpose::Conv2DTranspose;
pub use depthwise_conv2d::DepthwiseConv2D;
pub use separable_conv2d::SeparableConv2D;
