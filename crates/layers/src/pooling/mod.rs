//! Pooling layers (channels last): [`MaxPooling1D`], [`MaxPooling2D`], [`AveragePooling1D`],
//! [`AveragePooling2D`].

mod average_pooling1d;
mod average_pooling2d;
mod base;
mod max_pooling1d;
mod max_pooling2d;

pub use average_pooling1d::AveragePooling1D;
pub use average_pooling2d::AveragePooling2D;
pub use max_pooling1d::MaxPooling1D;
pub use max_pooling2d::MaxPooling2D;
