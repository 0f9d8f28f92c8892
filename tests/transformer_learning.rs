//! The Transformer examples' models learn on small subsets in a few seconds:
//! - transformer_classifier (examples/seq_common/transformer.rs): its test accuracy on the Reuters topics beats
//!   the most frequent topic's share by a clear margin;
//! - char_transformer (examples/seq_common/causal_lm.rs): its held-out loss per character on Nietzsche's text
//!   falls well below the uniform `ln(vocabulary)`, its predictions are causal and its sampling is seeded.

#[path = "../examples/seq_common/causal_lm.rs"]
mod causal_lm;
#[allow(dead_code)]
#[path = "../examples/seq_common/charlm.rs"]
mod charlm;
#[path = "../examples/seq_common/token_position.rs"]
#[allow(dead_code)]
mod token_position;
#[path = "../examples/seq_common/transformer.rs"]
mod transformer;

use ndarray::{Axis, s};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras::datasets::reuters::{ReutersOptions, load_reuters};
use rkeras::prelude::*;
use std::path::PathBuf;

/// A shared data file (`None` with a loud notice when missing, a failure when `CI=true`).
fn shared(rel: &str) -> Option<PathBuf> {
    rkeras_testkit::shared_path(rel, "the Transformer examples learn on real data")
}

#[test]
fn transformer_classifier_learns_topics() {
    let Some(npz) = shared("datasets/reuters/reuters.npz") else {
        return;
    };
    let (vocab, maxlen) = (2000, 64);
    let options = ReutersOptions {
        num_words: Some(vocab),
        ..Default::default()
    };
    let data = load_reuters(&npz, &options).unwrap();
    let x_train = transformer::pad(&data.x_train[..2000], maxlen);
    let y_train = transformer::labels(&data.y_train[..2000]);
    let x_test = transformer::pad(&data.x_test[..500], maxlen);
    let y_test = transformer::labels(&data.y_test[..500]);
    set_random_seed(1);
    let mut model = transformer::model(maxlen, vocab, 46).unwrap();
    model
        .compile("adam", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
        .fit(
            &[x_train],
            &y_train,
            FitConfig::new().epochs(4).batch_size(32).verbose(0).seed(1),
        )
        .unwrap();
    let accuracy = model.evaluate(&[x_test], &y_test, 256).unwrap()["accuracy"];
    let mut counts = [0usize; 46];
    data.y_test[..500].iter().for_each(|&y| counts[y] += 1);
    let majority = *counts.iter().max().unwrap() as f64 / 500.0;
    eprintln!("transformer: test accuracy {accuracy:.3}, majority {majority:.3}");
    assert!(
        accuracy > majority + 0.1,
        "accuracy {accuracy} vs majority {majority}"
    );
}

#[test]
fn char_transformer_learns_characters() {
    let Some(path) = shared("datasets/nietzsche/nietzsche.txt") else {
        return;
    };
    let text: String = std::fs::read_to_string(path)
        .unwrap()
        .chars()
        .take(24_000)
        .collect();
    let (maxlen, step) = (40, 3);
    let data = causal_lm::prepare(&text, maxlen, step);
    let n = data.y.shape()[0];
    let cut = n - n / 10;
    // Targets are the inputs shifted by one character.
    assert_eq!(
        data.x.slice(s![.., 1..]),
        data.y.slice(s![.., ..maxlen - 1])
    );
    let head = |a: &ndarray::ArrayD<f32>| a.slice_axis(Axis(0), (0..cut).into()).to_owned();
    let tail = |a: &ndarray::ArrayD<f32>| a.slice_axis(Axis(0), (cut..n).into()).to_owned();
    set_random_seed(1);
    let mut model = causal_lm::model(maxlen, data.chars.len()).unwrap();
    model
        .compile("adam", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
        .fit(
            &[head(&data.x)],
            &head(&data.y),
            FitConfig::new().epochs(3).batch_size(64).verbose(0).seed(1),
        )
        .unwrap();
    let (x_val, y_val) = (tail(&data.x), tail(&data.y));
    let loss = model
        .evaluate(std::slice::from_ref(&x_val), &y_val, 256)
        .unwrap()["loss"];
    let last = causal_lm::last_position_loss(&model, &x_val, &y_val).unwrap();
    let uniform = (data.chars.len() as f64).ln();
    eprintln!(
        "char_transformer: held-out loss {loss:.3} (last position {last:.3}), uniform {uniform:.3}"
    );
    assert!(loss < 0.7 * uniform, "loss {loss} vs uniform {uniform}");
    assert!(
        last < 0.7 * uniform,
        "last-position loss {last} vs uniform {uniform}"
    );

    // Causal: changing the last character changes no earlier position's prediction.
    let x = x_val.slice_axis(Axis(0), (0..4).into()).to_owned();
    let mut changed = x.clone();
    changed
        .slice_mut(s![.., maxlen - 1])
        .mapv_inplace(|c| (c + 1.0) % data.chars.len() as f32);
    let (p, q) = (
        model.predict(&[x], 4).unwrap(),
        model.predict(&[changed], 4).unwrap(),
    );
    assert_eq!(
        p.slice(s![.., ..maxlen - 1, ..]),
        q.slice(s![.., ..maxlen - 1, ..])
    );
    assert_ne!(
        p.slice(s![.., maxlen - 1, ..]),
        q.slice(s![.., maxlen - 1, ..])
    );

    // Sampling is seeded and draws from the vocabulary.
    let seed: Vec<char> = data.text[..maxlen].to_vec();
    let (mut a, mut b) = (StdRng::seed_from_u64(7), StdRng::seed_from_u64(7));
    let first = causal_lm::generate(&model, &data, &seed, 30, 0.5, &mut a).unwrap();
    assert_eq!(first.chars().count(), 30);
    assert!(first.chars().all(|c| data.chars.contains(&c)));
    assert_eq!(
        first,
        causal_lm::generate(&model, &data, &seed, 30, 0.5, &mut b).unwrap()
    );
}
