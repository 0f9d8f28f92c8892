//! Keras's second bAbI model (`babi_rnn.py`): the story embedded, the question embedded and encoded by an
//! LSTM, repeated along the story and added to it, an LSTM over the sum, Dense softmax over the vocabulary.

use rkeras::layers::RepeatVector;
use rkeras::prelude::*;

/// Keras's `EMBED_HIDDEN_SIZE`.
pub const EMBED_HIDDEN_SIZE: usize = 50;

/// The model for a vocabulary of `vocab` words (padding included) and the given story and query lengths,
/// with Keras's dropout rate 0.3.
pub fn model(
    vocab: usize,
    story_len: usize,
    query_len: usize,
    dropout: f32,
) -> rkeras::Result<Model> {
    let sentence = Input::new(&[story_len]);
    let encoded_sentence = Embedding::new(vocab, EMBED_HIDDEN_SIZE).call(&sentence)?;
    let encoded_sentence = Dropout::new(dropout).call(&encoded_sentence)?;

    let question = Input::new(&[query_len]);
    let encoded_question = Embedding::new(vocab, EMBED_HIDDEN_SIZE).call(&question)?;
    let encoded_question = Dropout::new(dropout).call(&encoded_question)?;
    let encoded_question = LSTM::new(EMBED_HIDDEN_SIZE).call(&encoded_question)?;
    let encoded_question = RepeatVector::new(story_len).call(&encoded_question)?;

    let merged = add(&[encoded_sentence, encoded_question])?;
    let merged = LSTM::new(EMBED_HIDDEN_SIZE).call(&merged)?;
    let merged = Dropout::new(dropout).call(&merged)?;
    let predictions = Dense::new(vocab)
        .with_activation("softmax")?
        .call(&merged)?;
    Model::new(&[sentence, question], &predictions)
}
