//! The sequence examples learn, each on a small subset in a few seconds, measured against a baseline computed
//! from the data itself (a model that learned nothing scores the baseline):
//! - reuters_mlp: the most frequent topic's share of the test newswires;
//! - addition_rnn: the best constant answer per character position;
//! - babi_rnn: the most frequent answer;
//! - text_generation: the cross-entropy of the characters' own frequencies (a unigram model).
//!
//! The models and data preparation are the examples' own (examples/seq_common).

#[allow(dead_code)]
#[path = "../examples/seq_common/addition.rs"]
mod addition;
#[path = "../examples/seq_common/babi_rnn.rs"]
mod babi_rnn;
#[allow(dead_code)]
#[path = "../examples/seq_common/charlm.rs"]
mod charlm;
#[allow(dead_code)]
#[path = "../examples/seq_common/reuters.rs"]
mod reuters;

use ndarray::{ArrayD, Axis};
use rkeras::datasets::reuters::{ReutersOptions, load_reuters};
use rkeras::datasets::sequence::to_categorical;
use rkeras::datasets::text::{MatrixMode, Tokenizer, TokenizerConfig};
use rkeras::datasets::{BabiSource, Task, Vectorizer};
use rkeras::prelude::*;
use std::path::PathBuf;

/// A shared data file; `None` with a loud notice when missing, a failure when `CI=true`.
fn shared(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")).join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} missing (CI=true: the real-data learning tests must run)",
        path.display()
    );
    eprintln!(
        "\n*** NOT TESTED: {} missing — the learning test did not run ***\n",
        path.display()
    );
    None
}

/// The share of the most frequent column among one-hot rows (the last axis).
fn majority_share(y: &ArrayD<f32>) -> f64 {
    let flat = y
        .to_shape((y.len() / y.shape()[y.ndim() - 1], y.shape()[y.ndim() - 1]))
        .unwrap();
    let counts = flat.sum_axis(Axis(0));
    f64::from(counts.iter().copied().fold(0.0, f32::max)) / flat.nrows() as f64
}

/// The cross-entropy on one-hot `targets` of the class frequencies in one-hot `reference` (add-one smoothed):
/// what a model that learned only the frequencies scores.
fn unigram_cross_entropy(reference: &ArrayD<f32>, targets: &ArrayD<f32>) -> f64 {
    let reference = reference
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let targets = targets
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let counts = reference.sum_axis(Axis(0));
    let total = f64::from(counts.sum()) + counts.len() as f64;
    -targets
        .outer_iter()
        .map(|row| {
            let k = row.iter().position(|&v| v == 1.0).unwrap();
            ((f64::from(counts[k]) + 1.0) / total).ln()
        })
        .sum::<f64>()
        / targets.nrows() as f64
}

fn rows(a: &ArrayD<f32>, range: std::ops::Range<usize>) -> ArrayD<f32> {
    a.slice_axis(Axis(0), range.into()).to_owned()
}

#[test]
fn reuters_mlp_learns_topics() {
    let Some(npz) = shared("datasets/reuters/reuters.npz") else {
        return;
    };
    let options = ReutersOptions {
        num_words: Some(1000),
        ..Default::default()
    };
    let data = load_reuters(&npz, &options).unwrap();
    let tokenizer = Tokenizer::new(TokenizerConfig {
        num_words: Some(1000),
        ..Default::default()
    })
    .unwrap();
    let x = |xs: &[Vec<usize>]| {
        tokenizer
            .sequences_to_matrix(xs, MatrixMode::Binary)
            .unwrap()
            .into_dyn()
    };
    let y = |ys: &[usize]| to_categorical(ys, Some(46)).unwrap().into_dyn();
    let (x_train, y_train) = (x(&data.x_train[..2000]), y(&data.y_train[..2000]));
    let (x_test, y_test) = (x(&data.x_test[..500]), y(&data.y_test[..500]));
    set_random_seed(1);
    let mut model = reuters::model(1000, 46, 0.5).unwrap();
    model
        .compile("adam", "categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
        .fit(
            &[x_train],
            &y_train,
            FitConfig::new().epochs(3).batch_size(32).verbose(0).seed(1),
        )
        .unwrap();
    let accuracy = model.evaluate(&[x_test], &y_test, 256).unwrap()["accuracy"];
    let baseline = majority_share(&y_test);
    eprintln!("reuters: test accuracy {accuracy:.3}, majority {baseline:.3}");
    assert!(
        accuracy > baseline + 0.25,
        "accuracy {accuracy} vs majority {baseline}"
    );
}

#[test]
fn addition_rnn_learns_digits() {
    let data = addition::generate(2000, 2, true, 1);
    set_random_seed(1);
    let mut model = addition::model(2, 64).unwrap();
    model
        .compile("adam", "categorical_crossentropy", &["accuracy"])
        .unwrap();
    let (x_train, y_train) = (rows(&data.x, 0..1800), rows(&data.y, 0..1800));
    let (x_val, y_val) = (rows(&data.x, 1800..2000), rows(&data.y, 1800..2000));
    // The best constant answer: each position's training character frequencies, scored by cross-entropy.
    let baseline: f64 = (0..3)
        .map(|t| {
            unigram_cross_entropy(
                &y_train.index_axis(Axis(1), t).to_owned(),
                &y_val.index_axis(Axis(1), t).to_owned(),
            )
        })
        .sum::<f64>()
        / 3.0;
    model
        .fit(
            &[x_train],
            &y_train,
            FitConfig::new().epochs(6).batch_size(32).verbose(0).seed(1),
        )
        .unwrap();
    let logs = model.evaluate(&[x_val], &y_val, 200).unwrap();
    let loss = logs["loss"];
    eprintln!(
        "addition: loss {loss:.3} (per-character accuracy {:.3}), constant answer {baseline:.3}",
        logs["accuracy"]
    );
    assert!(
        loss < baseline - 0.2,
        "loss {loss} vs constant answer {baseline}"
    );
}

#[test]
fn babi_rnn_learns_qa1() {
    let source = BabiSource::Generated {
        train_stories: 300,
        test_stories: 60,
        seed: 1,
    };
    let splits = source.load(Task::QA1, false).unwrap();
    let vectorizer = Vectorizer::fit(&splits.train, &splits.test).unwrap();
    let (train, test) = (
        vectorizer.vectorize(&splits.train).unwrap(),
        vectorizer.vectorize(&splits.test).unwrap(),
    );
    let vocab = vectorizer.vocab_size();
    let one_hot = |answers: &ndarray::Array1<f32>| {
        let labels: Vec<usize> = answers.iter().map(|&a| a as usize).collect();
        to_categorical(&labels, Some(vocab)).unwrap().into_dyn()
    };
    set_random_seed(1);
    let mut model = babi_rnn::model(
        vocab,
        vectorizer.story_maxlen(),
        vectorizer.query_maxlen(),
        0.3,
    )
    .unwrap();
    model
        .compile("adam", "categorical_crossentropy", &["accuracy"])
        .unwrap();
    let x_train = vec![
        train.stories.clone().into_dyn(),
        train.queries.clone().into_dyn(),
    ];
    let x_test = vec![
        test.stories.clone().into_dyn(),
        test.queries.clone().into_dyn(),
    ];
    let y_test = one_hot(&test.answers);
    model
        .fit(
            &x_train,
            &one_hot(&train.answers),
            FitConfig::new().epochs(8).batch_size(32).verbose(0).seed(1),
        )
        .unwrap();
    let accuracy = model.evaluate(&x_test, &y_test, 256).unwrap()["accuracy"];
    let baseline = majority_share(&y_test);
    eprintln!("babi_rnn: test accuracy {accuracy:.3}, majority answer {baseline:.3}");
    assert!(
        accuracy > baseline + 0.1,
        "accuracy {accuracy} vs majority answer {baseline}"
    );
}

#[test]
fn text_generation_learns_characters() {
    let Some(path) = shared("datasets/nietzsche/nietzsche.txt") else {
        return;
    };
    let text: String = std::fs::read_to_string(path)
        .unwrap()
        .chars()
        .take(15_000)
        .collect();
    let data = charlm::prepare(&text, 40, 3);
    let n = data.y.shape()[0];
    let cut = n - n / 10;
    let (x_train, y_train) = (rows(&data.x, 0..cut), rows(&data.y, 0..cut));
    let (x_val, y_val) = (rows(&data.x, cut..n), rows(&data.y, cut..n));
    // The cross-entropy of the training characters' frequencies on the held-out targets.
    let unigram = unigram_cross_entropy(&y_train, &y_val);
    set_random_seed(1);
    let mut model = charlm::model(40, data.chars.len(), 128).unwrap();
    let optimizer: Box<dyn Optimizer> = Box::new(
        rkeras::optim::RMSpropConfig::default()
            .with_learning_rate(0.01)
            .build()
            .unwrap(),
    );
    model
        .compile(optimizer, "categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
        .fit(
            &[x_train],
            &y_train,
            FitConfig::new()
                .epochs(3)
                .batch_size(128)
                .verbose(0)
                .seed(1),
        )
        .unwrap();
    let loss = model.evaluate(&[x_val], &y_val, 256).unwrap()["loss"];
    eprintln!("text_generation: held-out loss {loss:.3}, unigram {unigram:.3}");
    assert!(loss < unigram - 0.3, "loss {loss} vs unigram {unigram}");

    // The sampler: seeded runs agree; a low temperature picks the most likely character.
    use rand::SeedableRng;
    let seed: Vec<char> = data.text[..40].to_vec();
    let mut a = rand::rngs::StdRng::seed_from_u64(3);
    let mut b = rand::rngs::StdRng::seed_from_u64(3);
    let first = charlm::generate(&model, &data, &seed, 30, 0.5, &mut a).unwrap();
    assert_eq!(
        first,
        charlm::generate(&model, &data, &seed, 30, 0.5, &mut b).unwrap()
    );
    assert_eq!(first.chars().count(), 30);
    let probabilities = [0.1f32, 0.6, 0.3];
    let picks: Vec<usize> = (0..200)
        .map(|_| charlm::sample(&probabilities, 0.05, &mut a))
        .collect();
    assert!(picks.iter().all(|&k| k == 1));
    let spread: std::collections::HashSet<usize> = (0..200)
        .map(|_| charlm::sample(&probabilities, 1.0, &mut a))
        .collect();
    assert_eq!(spread.len(), 3);
}
