//! Keras's addition example data and model: questions "a+b" (numbers of 1 to `digits` digits, each pair once,
//! optionally reversed), answers `a+b` padded with spaces, one-hot over "0123456789+ ".

use ndarray::{Array3, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras::layers::RepeatVector;
use rkeras::prelude::*;
use std::collections::HashSet;

/// The characters of questions and answers.
pub const CHARS: &str = "0123456789+ ";

/// Generated questions and answers (as text) and their one-hot arrays.
pub struct Addition {
    pub questions: Vec<String>,
    pub answers: Vec<String>,
    /// `(n, 2·digits + 1, 12)`.
    pub x: ArrayD<f32>,
    /// `(n, digits + 1, 12)`.
    pub y: ArrayD<f32>,
}

/// One-hot rows of `texts` (all of length `len`) over [`CHARS`].
pub fn one_hot(texts: &[String], len: usize) -> ArrayD<f32> {
    let mut x = Array3::<f32>::zeros((texts.len(), len, CHARS.len()));
    for (i, text) in texts.iter().enumerate() {
        for (t, c) in text.chars().enumerate() {
            if let Some(k) = CHARS.find(c) {
                x[[i, t, k]] = 1.0;
            }
        }
    }
    x.into_dyn()
}

/// The text of a one-hot (or softmax) row: the most likely character at every step.
pub fn decode(row: ndarray::ArrayView2<f32>) -> String {
    row.rows()
        .into_iter()
        .map(|step| {
            let best =
                step.iter().enumerate().fold(
                    (0, f32::MIN),
                    |acc, (k, &v)| if v > acc.1 { (k, v) } else { acc },
                );
            CHARS.as_bytes()[best.0] as char
        })
        .collect()
}

/// `n` distinct questions as Keras's script makes them (with a seeded generator instead of NumPy's).
pub fn generate(n: usize, digits: u32, reverse: bool, seed: u64) -> Addition {
    let maxlen = 2 * digits as usize + 1;
    let mut rng = StdRng::seed_from_u64(seed);
    let number = |rng: &mut StdRng| -> u64 {
        let len = rng.random_range(1..=digits);
        (0..len).fold(0, |acc, _| acc * 10 + rng.random_range(0..10u64))
    };
    let mut seen = HashSet::new();
    let (mut questions, mut answers) = (Vec::new(), Vec::new());
    while questions.len() < n {
        let (a, b) = (number(&mut rng), number(&mut rng));
        if !seen.insert((a.min(b), a.max(b))) {
            continue;
        }
        let mut query = format!("{a}+{b}");
        query = format!("{query:<maxlen$}");
        if reverse {
            query = query.chars().rev().collect();
        }
        questions.push(query);
        answers.push(format!("{:<width$}", a + b, width = digits as usize + 1));
    }
    let x = one_hot(&questions, maxlen);
    let y = one_hot(&answers, digits as usize + 1);
    Addition {
        questions,
        answers,
        x,
        y,
    }
}

/// Keras's model: LSTM(128) encoder, RepeatVector(digits + 1), LSTM(128, return_sequences) decoder, Dense
/// softmax on every step.
pub fn model(digits: usize, hidden: usize) -> rkeras::Result<Model> {
    Sequential::new(&[2 * digits + 1, CHARS.len()])
        .add(LSTM::new(hidden))?
        .add(RepeatVector::new(digits + 1))?
        .add(LSTM::new(hidden).with_return_sequences(true))?
        .add(Dense::new(CHARS.len()).with_activation("softmax")?)?
        .build()
}

/// The share of answers predicted right in every character.
pub fn answer_accuracy(predictions: &ArrayD<f32>, answers: &[String]) -> f64 {
    let right = answers
        .iter()
        .enumerate()
        .filter(|(i, answer)| {
            let row = predictions.index_axis(ndarray::Axis(0), *i);
            let row = row.into_dimensionality::<ndarray::Ix2>().ok();
            row.is_some_and(|r| decode(r) == **answer)
        })
        .count();
    right as f64 / answers.len().max(1) as f64
}
