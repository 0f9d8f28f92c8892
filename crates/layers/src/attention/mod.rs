//! Attention layers.

mod additive_attention;
#[allow(clippy::module_inception)]
mod attention;
mod base;
mod multi_head_attention;

pub use additive_attention::AdditiveAttention;
pub use attention::{Attention, ScoreMode};
pub use base::AttentionOptions;
pub use multi_head_attention::MultiHeadAttention;
