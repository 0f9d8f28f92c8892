//! Preprocessing layers.

mod rescaling;

pub use rescaling::Rescaling;
