//! Pooling layers.

mod global_pooling;

pub use global_pooling::{GlobalPooling, GlobalPoolingKind};
