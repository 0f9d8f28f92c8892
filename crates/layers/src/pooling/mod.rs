//! Pooling layers (channels last): [`MaxPooling1D`], [`MaxPooling2D`], [`AveragePooling1D`],
//! [`AveragePooling2D`], and the global poolings ([`GlobalPooling`]).

mod average_pooling1d;
mod average_pooling2d;
mod base;
mod global_pooling;
mod max_pooling1d;
mod max_pooling2d;

pub use average_pooling1d::AveragePooling1D;
pub use average_pooling2d::AveragePooling2D;
pub use base::MaxPool2dWindow;
pub use global_pooling::{GlobalPooling, GlobalPoolingKind};
pub use max_pooling1d::MaxPooling1D;
pub use max_pooling2d::MaxPooling2D;
