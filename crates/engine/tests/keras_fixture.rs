//! A memory network trained and saved by Keras 3 (`model.save("model.h5")`, the bAbI qa1 example) loaded by
//! rkeras: rebuilt from the file alone, or built in Rust with the weights loaded by position, it must give
//! Keras's predictions, test loss and accuracy, and carry on Keras's optimizer state.
//!
//! The fixture lives in the shared material next to the repository; without it every test fails with CI=true
//! and prints a loud notice otherwise.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod common;
use common::{layer_names, weighted_layer_names};

use common::inputs;
use ndarray::{ArrayD, Axis};
use rkeras_datasets::{Task, Vectorized, Vectorizer, load_task_dir};
use rkeras_engine::{Model, load_model};
use rkeras_layers::set_random_seed;
use serde_json::Value;
use std::path::PathBuf;

/// Keras's `model.layers` for the example's graph, as listed in the file's `layer_names`.
const KERAS_LAYERS: [&str; 17] = [
    "input_layer",
    "input_layer_1",
    "embedding",
    "embedding_2",
    "dropout",
    "dropout_2",
    "dot",
    "embedding_1",
    "activation",
    "dropout_1",
    "add",
    "permute",
    "concatenate",
    "lstm",
    "dropout_3",
    "dense",
    "activation_1",
];

/// The layers with weights, in the order loading by position pairs them.
const WEIGHTED_LAYERS: [&str; 5] = ["embedding", "embedding_2", "embedding_1", "lstm", "dense"];

/// The fixture's directory, or `None` (a loud notice; a failure with CI=true) when the shared material is absent.
fn fixture() -> Option<PathBuf> {
    common::fixture(&["model.h5", "expected.json"])
}

fn expected(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap()
}

/// The test split vectorised as the Keras example does (vocabulary and lengths fitted on train + test).
fn test_split(dir: &std::path::Path) -> (Vectorizer, Vectorized) {
    let splits = load_task_dir(dir.join("data"), Task::QA1, false).unwrap();
    let vectorizer = Vectorizer::fit(&splits.train, &splits.test).unwrap();
    let test = vectorizer.vectorize(&splits.test).unwrap();
    (vectorizer, test)
}

/// The expected probabilities of the first rows, `[rows, vocab]`.
fn expected_probabilities(expected: &Value) -> Vec<Vec<f64>> {
    expected["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row["probabilities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_f64().unwrap())
                .collect()
        })
        .collect()
}

/// The largest absolute difference between the predictions of the first rows and Keras's.
fn max_probability_difference(
    model: &Model,
    test: &Vectorized,
    expected: &Value,
) -> (f64, ArrayD<f32>) {
    let want = expected_probabilities(expected);
    let rows = want.len();
    let x: Vec<ArrayD<f32>> = inputs(test)
        .iter()
        .map(|a| {
            a.slice_axis(Axis(0), ndarray::Slice::from(0..rows))
                .to_owned()
        })
        .collect();
    let predicted = model.predict(&x, 32).unwrap();
    assert_eq!(predicted.shape(), &[rows, want[0].len()]);
    let mut worst = 0.0f64;
    for (r, row) in want.iter().enumerate() {
        for (c, &p) in row.iter().enumerate() {
            worst = worst.max((f64::from(predicted[[r, c]]) - p).abs());
        }
    }
    (worst, predicted)
}

/// The example's memory network (built in the Keras script's order, so with Keras's automatic names).
fn rust_memory_network(vocab_size: usize, story_maxlen: usize, query_maxlen: usize) -> Model {
    set_random_seed(5);
    let mut model =
        rkeras_engine::models::memory_network(vocab_size, story_maxlen, query_maxlen).unwrap();
    model
        .compile("rmsprop", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
}

#[test]
fn vectorised_fixture_data_matches_keras_padding() {
    let Some(dir) = fixture() else { return };
    let expected = expected(&dir);
    let (vectorizer, test) = test_split(&dir);
    let vocab: Vec<&str> = expected["vocab"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(vectorizer.vocab(), vocab);
    assert_eq!(
        vectorizer.story_maxlen() as u64,
        expected["story_maxlen"].as_u64().unwrap()
    );
    assert_eq!(
        vectorizer.query_maxlen() as u64,
        expected["query_maxlen"].as_u64().unwrap()
    );
    assert_eq!(test.stories.nrows(), 1000);
    for (i, row) in expected["rows"].as_array().unwrap().iter().enumerate() {
        let ints = |key: &str| -> Vec<f32> {
            row[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as f32)
                .collect()
        };
        assert_eq!(
            test.stories.row(i).to_vec(),
            ints("story"),
            "story of row {i}"
        );
        assert_eq!(
            test.queries.row(i).to_vec(),
            ints("query"),
            "query of row {i}"
        );
        assert_eq!(
            test.answers[i],
            row["answer"].as_u64().unwrap() as f32,
            "answer of row {i}"
        );
    }
}

#[test]
fn load_model_rebuilds_keras_memory_network_and_predicts_as_keras() {
    let Some(dir) = fixture() else { return };
    let expected = expected(&dir);
    let model = load_model(dir.join("model.h5")).unwrap();
    assert_eq!(layer_names(&model), KERAS_LAYERS);
    assert_eq!(model.count_params(), 24_750);
    assert_eq!(model.metrics_names(), ["loss", "accuracy"]);
    let (_, test) = test_split(&dir);
    let (worst, _) = max_probability_difference(&model, &test, &expected);
    eprintln!("max probability difference against Keras: {worst:e}");
    assert!(
        worst <= 1e-5,
        "max probability difference {worst:e} against Keras"
    );
}

#[test]
fn evaluate_gives_keras_test_loss_and_accuracy() {
    let Some(dir) = fixture() else { return };
    let expected = expected(&dir);
    let model = load_model(dir.join("model.h5")).unwrap();
    let (_, test) = test_split(&dir);
    let logs = model
        .evaluate(&inputs(&test), &test.answers.clone().into_dyn(), 32)
        .unwrap();
    let n = test.answers.len() as f64;
    let correct = (logs["accuracy"] * n).round();
    let keras_correct = (expected["test_accuracy"].as_f64().unwrap() * n).round();
    assert_eq!(
        correct, keras_correct,
        "accuracy {} against Keras's {}",
        logs["accuracy"], expected["test_accuracy"]
    );
    let keras_loss = expected["test_loss"].as_f64().unwrap();
    let relative = (logs["loss"] - keras_loss).abs() / keras_loss;
    eprintln!(
        "test loss {} (Keras {keras_loss}), accuracy {} (Keras {})",
        logs["loss"], logs["accuracy"], expected["test_accuracy"]
    );
    assert!(
        relative <= 1e-4,
        "loss {} against Keras's {keras_loss} (relative difference {relative:e})",
        logs["loss"]
    );
}

#[test]
fn weights_loaded_by_position_into_a_rust_model_predict_as_keras() {
    let Some(dir) = fixture() else { return };
    let expected = expected(&dir);
    let (vectorizer, test) = test_split(&dir);
    let mut model = rust_memory_network(
        vectorizer.vocab_size(),
        vectorizer.story_maxlen(),
        vectorizer.query_maxlen(),
    );
    // The same graph written in Rust lists its layers, and so pairs its weights, as Keras does.
    assert_eq!(layer_names(&model), KERAS_LAYERS);
    assert_eq!(weighted_layer_names(&model), WEIGHTED_LAYERS);
    let (before, _) = max_probability_difference(&model, &test, &expected);
    assert!(
        before > 0.1,
        "an untrained network should not predict as the trained one ({before})"
    );
    model.load_weights(dir.join("model.h5")).unwrap();
    let (worst, predicted) = max_probability_difference(&model, &test, &expected);
    eprintln!("max probability difference against Keras (weights by position): {worst:e}");
    assert!(
        worst <= 1e-5,
        "max probability difference {worst:e} against Keras"
    );
    // The same weights in the same graph as the model rebuilt from the file: the same numbers exactly.
    let (_, from_file) =
        max_probability_difference(&load_model(dir.join("model.h5")).unwrap(), &test, &expected);
    assert_eq!(predicted, from_file);
}

#[test]
fn keras_rmsprop_state_is_restored() {
    let Some(dir) = fixture() else { return };
    let path = dir.join("model.h5");
    let file = rkeras_io::load_model_file(&path).unwrap();
    let saved = file.optimizer.expect("the fixture holds optimizer weights");
    let model = load_model(&path).unwrap();
    let optimizer = model
        .optimizer()
        .expect("the file's training config compiles the model");
    assert_eq!(optimizer.class_name(), "RMSprop");
    assert_eq!(optimizer.name(), "rm_sprop");
    let state = optimizer.state();
    assert!(state.iterations > 0);
    assert_eq!(state.iterations as i64, saved.iterations);
    assert_eq!(optimizer.learning_rate() as f32, 0.001f32);
    // One velocity per trainable weight, each equal to the file's array of the same Keras path.
    let params: Vec<String> = model
        .network()
        .layers()
        .iter()
        .flat_map(|l| {
            l.weights()
                .into_iter()
                .filter(|w| w.trainable())
                .map(|w| format!("{}/{}", l.name(), w.name()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(params.len(), 8);
    assert_eq!(state.slots.len(), params.len());
    for slot in &state.slots {
        assert_eq!(slot.slot, "velocity");
        let name = rkeras_optim::keras_slot_path("rm_sprop", &params[slot.param_index], &slot.slot);
        let in_file = saved
            .weights
            .iter()
            .find(|w| w.name == name)
            .unwrap_or_else(|| panic!("no `{name}` in the file"));
        assert_eq!(slot.value, in_file.value, "{name}");
        assert!(slot.value.iter().any(|&v| v > 0.0), "{name} is all zeros");
    }
}
