//! Regularization layers.

mod dropout;
mod spatial_dropout;

pub use dropout::Dropout;
pub use spatial_dropout::SpatialDropout;
