//! Convolution layers (channels last): [`Conv1D`], [`Conv2D`].

mod base;
mod conv1d;
mod conv2d;
pub(crate) mod window;

pub use conv1d::Conv1D;
pub use conv2d::Conv2D;
