//! Core layers.

mod activation;
mod dense;
mod embedding;
mod lambda;
mod masking;

pub use activation::Activation;
pub use dense::Dense;
pub use embedding::{DEFAULT_EMBEDDINGS_INITIALIZER, Embedding};
pub use lambda::Lambda;
pub use masking::Masking;
