//! rkeras's training step by step against Keras's: from the weights Keras trained on the fixture's data, with
//! dropout off and the training data in file order, nothing is random, so three epochs of fit (939 RMSprop
//! steps, the last batch of each epoch partial) must end where Keras's end, epoch logs and weights alike.
//!
//! The figures are Keras 3.15.1's, printed by `python3 scripts/keras_lockstep.py --data
//! ../shared/fixtures/keras_memnn_qa1/data --weights ../shared/fixtures/keras_memnn_qa1/model.h5 --epochs 3
//! --out out.json` on TensorFlow 2.21 and with `KERAS_BACKEND=jax` on JAX 0.10:
//! TensorFlow squares an embedding's gradient per lookup in RMSprop's velocity, JAX after summing the lookups
//! (rkeras's `with_per_lookup_squares`). The fixture lives in the shared material next to the repository;
//! without it each test fails with CI=true and prints a loud notice otherwise.

mod common;

use common::inputs;
use rkeras_datasets::{Task, Vectorizer, load_task_dir};
use rkeras_engine::{FitConfig, History, Model};
use rkeras_layers::set_random_seed;
use rkeras_optim::RMSpropConfig;
use std::path::PathBuf;

/// One backend's figures: each epoch's `[loss, accuracy, val_loss, val_accuracy]`, then the sum of each weight
/// after the last epoch, in Keras's weight order.
struct KerasRun {
    epochs: [[f64; 4]; 3],
    weight_sums: [(&'static str, f64); 8],
}

const TENSORFLOW: KerasRun = KerasRun {
    epochs: [
        [
            0.20918574929237366,
            0.921500027179718,
            0.48487576842308044,
            0.8529999852180481,
        ],
        [
            0.1901918649673462,
            0.9305999875068665,
            0.503230094909668,
            0.8510000109672546,
        ],
        [
            0.17755800485610962,
            0.9373999834060669,
            0.5218532085418701,
            0.8500000238418579,
        ],
    ],
    weight_sums: [
        ("embedding/embeddings", -2.0703471820406776),
        ("embedding_2/embeddings", 9.82861077497364),
        ("embedding_1/embeddings", -2.586099425694556),
        ("lstm/lstm_cell/kernel", 528.3644979083001),
        ("lstm/lstm_cell/recurrent_kernel", 86.32808849291177),
        ("lstm/lstm_cell/bias", 35.96617551188683),
        ("dense/kernel", -94.98950671358034),
        ("dense/bias", -86.81386653333902),
    ],
};

const JAX: KerasRun = KerasRun {
    epochs: [
        [
            0.20842470228672028,
            0.9208999872207642,
            0.4847513437271118,
            0.8560000061988831,
        ],
        [
            0.18982353806495667,
            0.9304999709129333,
            0.5017504096031189,
            0.8510000109672546,
        ],
        [
            0.17732185125350952,
            0.9372000098228455,
            0.519273042678833,
            0.8539999723434448,
        ],
    ],
    weight_sums: [
        ("embedding/embeddings", -2.387907133976114),
        ("embedding_2/embeddings", 9.9863110515289),
        ("embedding_1/embeddings", -2.4926371816836763),
        ("lstm/lstm_cell/kernel", 527.4725137209798),
        ("lstm/lstm_cell/recurrent_kernel", 86.40006523300326),
        ("lstm/lstm_cell/bias", 35.90076891379431),
        ("dense/kernel", -95.0072272263933),
        ("dense/bias", -86.8110573515296),
    ],
};

/// Relative tolerance of losses and weight sums: float32 sums in another order over 939 steps. The two
/// backends' figures differ from each other by 1e-3 to 1e-1.
const TOLERANCE: f64 = 2e-4;

/// The fixture's directory, or `None` (with a loud notice; a failure with CI=true) when the shared material is absent.
fn fixture() -> Option<PathBuf> {
    common::fixture(&["model.h5", "data"])
}

/// Trains the dropout-free network from Keras's weights for three epochs in file order.
fn train(dir: &std::path::Path, per_lookup_squares: bool) -> (History, Model) {
    let splits = load_task_dir(dir.join("data"), Task::QA1, false).unwrap();
    let vectorizer = Vectorizer::fit(&splits.train, &splits.test).unwrap();
    let train = vectorizer.vectorize(&splits.train).unwrap();
    let test = vectorizer.vectorize(&splits.test).unwrap();
    set_random_seed(1);
    let mut model = rkeras_engine::models::memory_network_with_dropout(
        vectorizer.vocab_size(),
        vectorizer.story_maxlen(),
        vectorizer.query_maxlen(),
        0.0,
    )
    .unwrap();
    let rmsprop = RMSpropConfig::default()
        .with_per_lookup_squares(per_lookup_squares)
        .build()
        .unwrap();
    model
        .compile(rmsprop, "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model.load_weights(dir.join("model.h5")).unwrap();
    let config = FitConfig::new()
        .epochs(3)
        .batch_size(32)
        .shuffle(false)
        .verbose(0)
        .validation_data(inputs(&test), test.answers.clone().into_dyn());
    let history = model
        .fit(&inputs(&train), &train.answers.clone().into_dyn(), config)
        .unwrap();
    (history, model)
}

fn relative(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-12)
}

/// The largest relative difference from a backend's figures, after checking each against the tolerance
/// (accuracies as counts of 10,000 training / 1,000 test questions, within one question).
fn check_against(history: &History, model: &Model, keras: &KerasRun, backend: &str) -> f64 {
    let mut worst = 0.0f64;
    for (epoch, want) in keras.epochs.iter().enumerate() {
        let log = |key: &str| history.get(key).unwrap()[epoch];
        for (key, value) in [("loss", want[0]), ("val_loss", want[2])] {
            let difference = relative(log(key), value);
            eprintln!(
                "{backend} epoch {} {key}: rkeras {} Keras {value} ({difference:.1e})",
                epoch + 1,
                log(key)
            );
            assert!(
                difference <= TOLERANCE,
                "{backend}, epoch {}: {key} {} against Keras's {value}",
                epoch + 1,
                log(key)
            );
            worst = worst.max(difference);
        }
        for (key, value, questions) in [
            ("accuracy", want[1], 10_000.0),
            ("val_accuracy", want[3], 1_000.0),
        ] {
            let off = ((log(key) - value) * questions).abs();
            assert!(
                off <= 1.01,
                "{backend}, epoch {}: {key} {} against Keras's {value}",
                epoch + 1,
                log(key)
            );
        }
    }
    let weights = model.weights();
    assert_eq!(weights.len(), keras.weight_sums.len());
    for (weight, (path, want)) in weights.iter().zip(keras.weight_sums) {
        let sum: f64 = weight.value().iter().map(|&v| f64::from(v)).sum();
        let difference = relative(sum, want);
        eprintln!("{backend} {path}: sum {sum} Keras {want} ({difference:.1e})");
        assert!(
            difference <= TOLERANCE,
            "{backend}: the sum of {path} is {sum}, Keras's {want}"
        );
        worst = worst.max(difference);
    }
    worst
}

/// The largest relative difference between two sets of figures (losses and weight sums).
fn distance(a: &KerasRun, b: &KerasRun) -> f64 {
    let losses = a
        .epochs
        .iter()
        .zip(&b.epochs)
        .flat_map(|(x, y)| [relative(x[0], y[0]), relative(x[2], y[2])]);
    let sums = a
        .weight_sums
        .iter()
        .zip(&b.weight_sums)
        .map(|((_, x), (_, y))| relative(*x, *y));
    losses.chain(sums).fold(0.0, f64::max)
}

#[test]
fn the_backends_figures_are_far_enough_apart_to_tell_them_from_each_other() {
    assert!(distance(&TENSORFLOW, &JAX) > 10.0 * TOLERANCE);
}

#[test]
fn per_lookup_squares_train_as_keras_on_tensorflow() {
    let Some(dir) = fixture() else { return };
    let (history, model) = train(&dir, true);
    check_against(&history, &model, &TENSORFLOW, "TensorFlow");
}

#[test]
fn summed_squares_train_as_keras_on_jax() {
    let Some(dir) = fixture() else { return };
    let (history, model) = train(&dir, false);
    check_against(&history, &model, &JAX, "JAX");
}
