//! BatchNormalization and LayerNormalization in whole models, against Keras 3:
//! - two SGD steps of `fit` move the weights and the moving statistics exactly as Keras's `train_on_batch`
//!   does, and `evaluate`/`predict` then use the moving statistics;
//! - models of the new layers saved by Keras (`.h5`) load with `load_model` and predict as Keras does; saved
//!   again by rkeras they load back unchanged (and in Keras: `scripts/keras_norm_h5_check.py`);
//! - the moving statistics are non-trainable in `summary()`;
//! - a seeded fit gives the same bits with 1 and 2 threads.
//!
//! Fixtures written by `scripts/keras_norm_golden.py`.
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model, Sequential, load_model};
use rkeras_layers::{BatchNormalization, Dense, LayerNormalization};
use rkeras_optim::SGD;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

fn array(v: &Value) -> ArrayD<f32> {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap() as usize)
        .collect();
    let values: Vec<f32> = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

fn assert_close(actual: &ArrayD<f32>, expected: &ArrayD<f32>, tolerance: f32, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    for (i, (a, e)) in actual.iter().zip(expected.iter()).enumerate() {
        assert!(
            (a - e).abs() <= tolerance,
            "{what}: element {i}: {a} vs Keras {e}"
        );
    }
}

/// Dense(3) → BatchNormalization(momentum 0.8) → Dense(1), as in the fixture.
fn bn_model() -> Model {
    let mut model = Sequential::new(&[2])
        .add(Dense::new(3))
        .unwrap()
        .add(BatchNormalization::new().with_momentum(0.8))
        .unwrap()
        .add(Dense::new(1))
        .unwrap()
        .build()
        .unwrap();
    model.compile(SGD::new(0.1).unwrap(), "mse", &[]).unwrap();
    model
}

#[test]
fn two_sgd_steps_update_weights_and_moving_statistics_as_keras() {
    let golden = json("bn_fit_golden.json");
    let model_weights =
        |v: &Value| -> Vec<ArrayD<f32>> { v.as_array().unwrap().iter().map(array).collect() };
    let mut model = bn_model();
    model
        .set_weights(&model_weights(&golden["initial"]))
        .unwrap();
    let (x, y) = (array(&golden["x"]), array(&golden["y"]));
    let history = model
        .fit(
            &[x.clone()],
            &y,
            FitConfig::new()
                .batch_size(4)
                .shuffle(false)
                .epochs(1)
                .verbose(0),
        )
        .unwrap();
    let names: Vec<&str> = golden["weight_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let expected = model_weights(&golden["steps"][1]["weights"]);
    for ((actual, expected), name) in model.get_weights().iter().zip(&expected).zip(&names) {
        assert_close(actual, expected, 1e-5, name);
    }
    // The moving statistics did move (momentum 0.8 from the initial values), as the names say.
    assert!(names[4].ends_with("moving_mean") && names[5].ends_with("moving_variance"));
    let initial = model_weights(&golden["initial"]);
    assert!((&expected[4] - &initial[4]).iter().all(|d| d.abs() > 1e-4));
    // The epoch's loss is the mean of Keras's two batch losses.
    let losses: Vec<f64> = (0..2)
        .map(|s| golden["steps"][s]["loss"].as_f64().unwrap())
        .collect();
    let mean_loss = history.history["loss"][0];
    assert!(
        (mean_loss - (losses[0] + losses[1]) / 2.0).abs() < 1e-5,
        "{mean_loss} vs {losses:?}"
    );
    // Inference uses the moving statistics.
    let predicted = model.predict(&[x.clone()], 8).unwrap();
    assert_close(&predicted, &array(&golden["predict"]), 1e-5, "predict");
    let logs = model.evaluate(&[x], &y, 8).unwrap();
    let keras_loss = golden["evaluate_loss"].as_f64().unwrap();
    assert!(
        (logs["loss"] - keras_loss).abs() < 1e-5,
        "{} vs {keras_loss}",
        logs["loss"]
    );
}

#[test]
fn moving_statistics_are_non_trainable_in_the_summary() {
    let model = bn_model();
    let summary = model.summary();
    // Dense 2·3+3, BatchNormalization 4·3 (6 of them moving), Dense 3+1.
    assert!(summary.contains("Total params: 25"), "{summary}");
    assert!(summary.contains("Trainable params: 19"), "{summary}");
    assert!(summary.contains("Non-trainable params: 6"), "{summary}");
    let trainable: Vec<String> = model
        .network()
        .trainable_weights()
        .iter()
        .map(|w| w.name().to_string())
        .collect();
    assert_eq!(
        trainable,
        ["kernel", "bias", "gamma", "beta", "kernel", "bias"]
    );
}

#[test]
fn keras_models_of_the_new_layers_load_predict_and_save_back() {
    let golden = json("norm_h5_golden.json");
    let out_dir = std::env::temp_dir().join(format!("rkeras_norm_h5_{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    for name in ["norm_1d", "norm_2d"] {
        let model = load_model(fixture(&format!("{name}.h5"))).unwrap();
        let x = array(&golden[name]["x"]);
        let expected = array(&golden[name]["predict"]);
        let predicted = model.predict(&[x.clone()], 4).unwrap();
        assert_close(&predicted, &expected, 1e-5, name);
        let saved = out_dir.join(format!("{name}.h5"));
        model.save(&saved).unwrap();
        let reloaded = load_model(&saved).unwrap();
        assert_eq!(
            reloaded.predict(&[x], 4).unwrap(),
            predicted,
            "{name}: reloaded"
        );
        for (a, b) in reloaded.weights().iter().zip(model.weights()) {
            assert_eq!((a.name(), a.trainable()), (b.name(), b.trainable()));
        }
        println!("rkeras saved {}", saved.display());
    }
}

fn seeded_fit() -> Vec<ArrayD<f32>> {
    rkeras_layers::set_random_seed(5);
    let mut model = Sequential::new(&[4, 6])
        .add(LayerNormalization::new())
        .unwrap()
        .add(BatchNormalization::new())
        .unwrap()
        .add(rkeras_layers::Flatten::new())
        .unwrap()
        .add(Dense::new(1))
        .unwrap()
        .build()
        .unwrap();
    model.compile(SGD::new(0.05).unwrap(), "mse", &[]).unwrap();
    let x = ArrayD::from_shape_fn(IxDyn(&[64, 4, 6]), |i| {
        ((i[0] * 7 + i[1] * 3 + i[2]) % 11) as f32 * 0.3 - 1.0
    });
    let y = ArrayD::from_shape_fn(IxDyn(&[64, 1]), |i| (i[0] % 3) as f32);
    model
        .fit(
            &[x],
            &y,
            FitConfig::new().batch_size(32).epochs(2).seed(3).verbose(0),
        )
        .unwrap();
    model.get_weights()
}

#[test]
fn one_and_two_threads_give_the_same_bits() {
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(seeded_fit)
    };
    let (one, two) = (run(1), run(2));
    let bits = |w: &[ArrayD<f32>]| -> Vec<Vec<u32>> {
        w.iter()
            .map(|a| a.iter().map(|v| v.to_bits()).collect())
            .collect()
    };
    assert_eq!(bits(&one), bits(&two));
}

/// Keras 3: a BatchNormalization with `trainable = False` has no trainable weights (gamma and beta join the
/// moving statistics), runs in inference mode during fit, and fit leaves all four unchanged.
#[test]
fn frozen_batch_normalization_is_non_trainable_and_runs_in_inference_mode_in_fit() {
    let mut model = Sequential::new(&[2])
        .add(Dense::new(3))
        .unwrap()
        .add(BatchNormalization::new().with_trainable(false))
        .unwrap()
        .add(Dense::new(1))
        .unwrap()
        .build()
        .unwrap();
    model.compile(SGD::new(0.1).unwrap(), "mse", &[]).unwrap();
    let summary = model.summary();
    // Dense 2·3+3 and 3+1 trainable; all 4·3 of BatchNormalization non-trainable.
    assert!(summary.contains("Trainable params: 13"), "{summary}");
    assert!(summary.contains("Non-trainable params: 12"), "{summary}");
    let bn_weights = |model: &Model| -> Vec<ArrayD<f32>> {
        model.network().layers()[2]
            .weights()
            .iter()
            .map(|w| (*w.value()).clone())
            .collect()
    };
    let before = bn_weights(&model);
    let x = ArrayD::from_shape_vec(
        IxDyn(&[4, 2]),
        vec![1.0, 2.0, -1.0, 0.5, 3.0, -2.0, 0.0, 1.0],
    )
    .unwrap();
    let y = ArrayD::from_shape_vec(IxDyn(&[4, 1]), vec![1.0, 0.0, -1.0, 2.0]).unwrap();
    model
        .fit(
            &[x],
            &y,
            FitConfig::new().epochs(2).batch_size(2).verbose(0),
        )
        .unwrap();
    assert_eq!(
        bn_weights(&model),
        before,
        "frozen gamma, beta and moving statistics"
    );
}
