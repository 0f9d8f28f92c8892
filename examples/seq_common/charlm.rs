//! Keras's character-level text generation: sentences of `maxlen` characters every `step` characters, the next
//! character as target, one-hot over the text's sorted characters; sampling with a temperature.

use ndarray::{Array2, Array3, ArrayD};
use rand::Rng;
use rkeras::prelude::*;

/// The corpus as sequences and targets.
pub struct CharData {
    /// The lower-cased text as characters.
    pub text: Vec<char>,
    /// The sorted distinct characters.
    pub chars: Vec<char>,
    /// `(n, maxlen, chars)`.
    pub x: ArrayD<f32>,
    /// `(n, chars)`.
    pub y: ArrayD<f32>,
}

impl CharData {
    /// The index of `c` in [`CharData::chars`].
    pub fn index(&self, c: char) -> Option<usize> {
        self.chars.binary_search(&c).ok()
    }

    /// One sentence one-hot: `(1, len, chars)`.
    pub fn encode(&self, sentence: &[char]) -> ArrayD<f32> {
        let mut x = Array3::<f32>::zeros((1, sentence.len(), self.chars.len()));
        for (t, &c) in sentence.iter().enumerate() {
            if let Some(k) = self.index(c) {
                x[[0, t, k]] = 1.0;
            }
        }
        x.into_dyn()
    }
}

/// The lower-cased text (as Python's `str.lower`) as characters, and its sorted distinct characters.
pub fn vocabulary(text: &str) -> (Vec<char>, Vec<char>) {
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let mut chars = text.clone();
    chars.sort_unstable();
    chars.dedup();
    (text, chars)
}

/// Keras's sentence starts: every `step` characters while `maxlen` characters and a target follow.
pub fn starts(len: usize, maxlen: usize, step: usize) -> Vec<usize> {
    (0..len.saturating_sub(maxlen)).step_by(step).collect()
}

/// Keras's preparation of `text` (lower-cased as Python's `str.lower`).
pub fn prepare(text: &str, maxlen: usize, step: usize) -> CharData {
    let (text, chars) = vocabulary(text);
    let starts = starts(text.len(), maxlen, step);
    let mut x = Array3::<f32>::zeros((starts.len(), maxlen, chars.len()));
    let mut y = Array2::<f32>::zeros((starts.len(), chars.len()));
    let index = |c: char| chars.binary_search(&c).unwrap_or(0);
    for (i, &start) in starts.iter().enumerate() {
        for t in 0..maxlen {
            x[[i, t, index(text[start + t])]] = 1.0;
        }
        y[[i, index(text[start + maxlen])]] = 1.0;
    }
    CharData {
        text,
        chars,
        x: x.into_dyn(),
        y: y.into_dyn(),
    }
}

/// Keras's `sample(preds, temperature)`: reweights the distribution by `log(p) / temperature`, renormalises
/// and draws one index.
pub fn sample(probabilities: &[f32], temperature: f64, rng: &mut impl Rng) -> usize {
    let logits: Vec<f64> = probabilities
        .iter()
        .map(|&p| (f64::from(p).max(1e-30)).ln() / temperature)
        .collect();
    let top = logits.iter().copied().fold(f64::MIN, f64::max);
    let weights: Vec<f64> = logits.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut draw = rng.random::<f64>() * total;
    for (k, w) in weights.iter().enumerate() {
        draw -= w;
        if draw < 0.0 {
            return k;
        }
    }
    weights.len() - 1
}

/// `length` characters generated from `seed` (of `maxlen` characters) at `temperature`.
pub fn generate(
    model: &Model,
    data: &CharData,
    seed: &[char],
    length: usize,
    temperature: f64,
    rng: &mut impl Rng,
) -> rkeras::Result<String> {
    generate_with(&data.chars, seed, length, temperature, rng, |sentence| {
        Ok(model
            .predict(&[data.encode(sentence)], 1)?
            .iter()
            .copied()
            .collect())
    })
}

/// `length` characters among `chars` generated from `seed` at `temperature`, each drawn from the probabilities
/// `next` gives for the current sentence (the last `seed.len()` characters).
pub fn generate_with(
    chars: &[char],
    seed: &[char],
    length: usize,
    temperature: f64,
    rng: &mut impl Rng,
    mut next: impl FnMut(&[char]) -> rkeras::Result<Vec<f32>>,
) -> rkeras::Result<String> {
    let mut sentence = seed.to_vec();
    let mut out = String::new();
    for _ in 0..length {
        let c = chars[sample(&next(&sentence)?, temperature, rng)];
        out.push(c);
        sentence.remove(0);
        sentence.push(c);
    }
    Ok(out)
}

/// Keras's model: LSTM(hidden) on the one-hot sentence, Dense softmax over the characters.
pub fn model(maxlen: usize, chars: usize, hidden: usize) -> rkeras::Result<Model> {
    Sequential::new(&[maxlen, chars])
        .add(LSTM::new(hidden))?
        .add(Dense::new(chars).with_activation("softmax")?)?
        .build()
}
