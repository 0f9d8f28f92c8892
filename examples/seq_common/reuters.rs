//! Keras's Reuters models: the MLP (Dense 512 relu, Dropout, Dense softmax over the topics, on binary bags of
//! words) and the recurrent classifier (masked Embedding, Bidirectional GRU, Dense softmax).

use rkeras::prelude::*;

/// The model for `max_words`-column bags of words and `classes` topics (Keras's dropout: 0.5).
pub fn model(max_words: usize, classes: usize, dropout: f32) -> rkeras::Result<Model> {
    Sequential::new(&[max_words])
        .add(Dense::new(512).with_activation("relu")?)?
        .add(Dropout::new(dropout))?
        .add(Dense::new(classes).with_activation("softmax")?)?
        .build()
}

/// The Reuters recurrent classifier: Embedding with `mask_zero` (index 0 is padding), a bidirectional GRU that
/// skips the padded steps, Dense softmax over the topics.
pub fn rnn_model(
    maxlen: usize,
    num_words: usize,
    embed_dim: usize,
    units: usize,
    classes: usize,
) -> rkeras::Result<Model> {
    Sequential::new(&[maxlen])
        .add(Embedding::new(num_words, embed_dim).with_mask_zero(true))?
        .add(rkeras::layers::Bidirectional::new(
            rkeras::layers::GRU::new(units),
        )?)?
        .add(Dense::new(classes).with_activation("softmax")?)?
        .build()
}
