//! A small causal Transformer language model over characters (keras.io's "miniature GPT" pattern on the character
//! data of Keras's text-generation script): the sentences of [`super::charlm`] as character ids, each position
//! trained to predict the character that follows it; token and position embedding, causal Transformer blocks,
//! Dense softmax over the characters at every position.

use super::charlm::{generate_with, starts, vocabulary};
use super::token_position::TokenAndPositionEmbedding;
use super::transformer::{Block, transformer_block};
use ndarray::{Array2, ArrayD, Axis};
use rand::Rng;
use rkeras::prelude::*;

/// The model's sizes: one [`Block`] setting (causal) repeated `blocks` times.
pub const BLOCK: Block = Block {
    embed_dim: 64,
    num_heads: 2,
    ff_dim: 128,
    rate: 0.1,
    causal: true,
};
pub const BLOCKS: usize = 2;

/// The corpus as character ids.
pub struct CharIds {
    /// The lower-cased text as characters.
    pub text: Vec<char>,
    /// The sorted distinct characters.
    pub chars: Vec<char>,
    /// `(n, maxlen)`: the ids of the sentences of Keras's script (`maxlen` characters every `step`).
    pub x: ArrayD<f32>,
    /// `(n, maxlen)`: the id of the character after each position (the last column is the script's target).
    pub y: ArrayD<f32>,
}

impl CharIds {
    /// The id of `c` (0 for a character outside the vocabulary).
    pub fn index(&self, c: char) -> usize {
        self.chars.binary_search(&c).unwrap_or(0)
    }

    /// One sentence as ids: `(1, len)`.
    pub fn encode(&self, sentence: &[char]) -> ArrayD<f32> {
        Array2::from_shape_fn((1, sentence.len()), |(_, t)| self.index(sentence[t]) as f32)
            .into_dyn()
    }
}

/// Keras's sentences of `text` (those of [`super::charlm::prepare`]) as ids, with the next character of every
/// position as target.
pub fn prepare(text: &str, maxlen: usize, step: usize) -> CharIds {
    let (text, chars) = vocabulary(text);
    let starts = starts(text.len(), maxlen, step);
    let index = |c: char| chars.binary_search(&c).unwrap_or(0) as f32;
    let x = Array2::from_shape_fn((starts.len(), maxlen), |(i, t)| index(text[starts[i] + t]));
    let y = Array2::from_shape_fn((starts.len(), maxlen), |(i, t)| {
        index(text[starts[i] + t + 1])
    });
    CharIds {
        text,
        chars,
        x: x.into_dyn(),
        y: y.into_dyn(),
    }
}

/// The language model for sentences of `maxlen` characters among `chars`: `[maxlen]` ids →
/// `[maxlen, chars]` next-character probabilities.
pub fn model(maxlen: usize, chars: usize) -> rkeras::Result<Model> {
    let inputs = Input::new(&[maxlen]);
    let mut x = TokenAndPositionEmbedding::new(maxlen, chars, BLOCK.embed_dim).call(&inputs)?;
    for _ in 0..BLOCKS {
        x = transformer_block(&x, BLOCK)?;
    }
    let outputs = Dense::new(chars).with_activation("softmax")?.call(&x)?;
    Model::new(&[inputs], &outputs)
}

/// The mean cross-entropy (nats per character) of the predictions at the last position of each sentence: the
/// loss of Keras's script, which predicts the character after a whole sentence only.
pub fn last_position_loss(
    model: &Model,
    data_x: &ArrayD<f32>,
    data_y: &ArrayD<f32>,
) -> rkeras::Result<f64> {
    let probabilities = model.predict(std::slice::from_ref(data_x), 256)?;
    let last = data_x.shape()[1] - 1;
    let rows = probabilities.index_axis(Axis(1), last);
    let total: f64 = rows
        .outer_iter()
        .zip(data_y.index_axis(Axis(1), last))
        .map(|(p, &y)| -f64::from(p[y as usize].clamp(1e-7, 1.0 - 1e-7)).ln())
        .sum();
    Ok(total / rows.len_of(Axis(0)).max(1) as f64)
}

/// `length` characters generated from `seed` (of `maxlen` characters) at `temperature`, each drawn from the
/// prediction at the last position.
pub fn generate(
    model: &Model,
    data: &CharIds,
    seed: &[char],
    length: usize,
    temperature: f64,
    rng: &mut impl Rng,
) -> rkeras::Result<String> {
    generate_with(&data.chars, seed, length, temperature, rng, |sentence| {
        let predictions = model.predict(&[data.encode(sentence)], 1)?;
        let last = predictions.index_axis(Axis(1), sentence.len() - 1);
        Ok(last.iter().copied().collect())
    })
}
