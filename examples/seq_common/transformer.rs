//! Keras's "Text classification with Transformer" model (keras.io/examples/nlp/text_classification_with_transformer)
//! on the Reuters topics: token and position embedding, one Transformer block (MultiHeadAttention, Dropout,
//! Add & LayerNormalization, a two-layer feed-forward network, Dropout, Add & LayerNormalization),
//! GlobalAveragePooling1D, Dropout, Dense 20 relu, Dropout, Dense softmax over the topics.

use super::token_position::TokenAndPositionEmbedding;
use ndarray::{Array2, ArrayD};
use rkeras::datasets::sequence::{PadOptions, pad_sequences};
use rkeras::layers::{GlobalPooling, GlobalPoolingKind, LayerNormalization, MultiHeadAttention};
use rkeras::prelude::*;

/// The sizes of Keras's example: `embed_dim`, `num_heads`, `ff_dim`, and the dropout rate of the block.
pub const EMBED_DIM: usize = 32;
pub const NUM_HEADS: usize = 2;
pub const FF_DIM: usize = 32;
pub const RATE: f32 = 0.1;

/// The settings of one Transformer block: Keras's `TransformerBlock(embed_dim, num_heads, ff_dim, rate)`, and
/// whether its attention is causal (`use_causal_mask=True`, for language models).
#[derive(Debug, Clone, Copy)]
pub struct Block {
    pub embed_dim: usize,
    pub num_heads: usize,
    pub ff_dim: usize,
    pub rate: f32,
    pub causal: bool,
}

/// The classifier's block.
pub const CLASSIFIER_BLOCK: Block = Block {
    embed_dim: EMBED_DIM,
    num_heads: NUM_HEADS,
    ff_dim: FF_DIM,
    rate: RATE,
    causal: false,
};

/// Keras's `TransformerBlock(embed_dim, num_heads, ff_dim, rate)` (attention with `key_dim = embed_dim`)
/// applied to `x` `[maxlen, embed_dim]`.
pub fn transformer_block(x: &SymbolicTensor, block: Block) -> rkeras::Result<SymbolicTensor> {
    let attention = MultiHeadAttention::new(block.num_heads, block.embed_dim)
        .with_causal_mask(block.causal)
        .call_many(&[x.clone(), x.clone()])?;
    let attention = Dropout::new(block.rate).call(&attention)?;
    let out1 = LayerNormalization::new()
        .with_epsilon(1e-6)
        .call(&add(&[x.clone(), attention])?)?;
    let ffn = Dense::new(block.ff_dim)
        .with_activation("relu")?
        .call(&out1)?;
    let ffn = Dropout::new(block.rate).call(&Dense::new(block.embed_dim).call(&ffn)?)?;
    Ok(LayerNormalization::new()
        .with_epsilon(1e-6)
        .call(&add(&[out1, ffn])?)?)
}

/// The classifier for `maxlen` ids below `vocab_size` and `classes` topics.
pub fn model(maxlen: usize, vocab_size: usize, classes: usize) -> rkeras::Result<Model> {
    let inputs = Input::new(&[maxlen]);
    let x = TokenAndPositionEmbedding::new(maxlen, vocab_size, EMBED_DIM).call(&inputs)?;
    let x = transformer_block(&x, CLASSIFIER_BLOCK)?;
    let x = GlobalPooling::new(GlobalPoolingKind::Average, 1).call(&x)?;
    let x = Dropout::new(0.1).call(&x)?;
    let x = Dense::new(20).with_activation("relu")?.call(&x)?;
    let x = Dropout::new(0.1).call(&x)?;
    let outputs = Dense::new(classes).with_activation("softmax")?.call(&x)?;
    Model::new(&[inputs], &outputs)
}

/// Keras's `pad_sequences(x, maxlen)` (padding and truncating at the start) as `[samples, maxlen]` ids.
pub fn pad(sequences: &[Vec<usize>], maxlen: usize) -> ArrayD<f32> {
    let ids: Vec<Vec<u32>> = sequences
        .iter()
        .map(|s| s.iter().map(|&w| w as u32).collect())
        .collect();
    pad_sequences(
        &ids,
        PadOptions {
            maxlen: Some(maxlen),
            ..Default::default()
        },
    )
    .into_dyn()
}

/// Topic labels as a `[samples, 1]` column (sparse categorical targets).
pub fn labels(ys: &[usize]) -> ArrayD<f32> {
    Array2::from_shape_fn((ys.len(), 1), |(i, _)| ys[i] as f32).into_dyn()
}
