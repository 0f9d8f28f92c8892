//! Keras's Reuters MLP: Dense 512 relu, Dropout, Dense softmax over the topics, on binary bags of words.

use rkeras::prelude::*;

/// The model for `max_words`-column bags of words and `classes` topics (Keras's dropout: 0.5).
pub fn model(max_words: usize, classes: usize, dropout: f32) -> rkeras::Result<Model> {
    Sequential::new(&[max_words])
        .add(Dense::new(512).with_activation("relu")?)?
        .add(Dropout::new(dropout))?
        .add(Dense::new(classes).with_activation("softmax")?)?
        .build()
}
