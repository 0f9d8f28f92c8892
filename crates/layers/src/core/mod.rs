//! Core layers.

mod activation;
mod dense;
mod einsum_dense;
mod einsum_equation;
mod embedding;
mod lambda;
mod masking;

pub use activation::Activation;
pub use dense::Dense;
pub use einsum_dense::EinsumDense;
pub use einsum_equation::EinsumEquation;
pub use embedding::{DEFAULT_EMBEDDINGS_INITIALIZER, Embedding};
pub use lambda::Lambda;
pub use masking::Masking;
