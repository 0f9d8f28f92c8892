//! Weight regularizers against Keras: rkeras loads the untrained models Keras saved with L1, L2, L1L2 and
//! orthogonal kernel/bias regularizers (scripts/keras_regularizers_golden.py), trains them as Keras did and
//! matches Keras's logged loss per epoch, `evaluate`'s loss and the trained weights within 1e-5; the model
//! rkeras saves carries the same regularizer configs when Keras loads it (through the Python of
//! `rkeras_testkit::keras_python`: a failure with CI=true when it is missing, a loud notice otherwise).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, load_model};
use rkeras_optim::SGDConfig;
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_regularizers"
    ))
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-5, "{what}[{i}]: rkeras {g}, Keras {w}");
    }
}

fn train_like_keras(case: &str) {
    let text = std::fs::read_to_string(fixture_dir().join(format!("{case}.json"))).unwrap();
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    let x = ArrayD::from_shape_vec(IxDyn(&[16, 4]), floats(&golden["x"])).unwrap();
    let y = ArrayD::from_shape_vec(IxDyn(&[16, 2]), floats(&golden["y"])).unwrap();
    let mut model = load_model(fixture_dir().join(format!("{case}.h5"))).unwrap();
    let sgd = SGDConfig::default()
        .with_learning_rate(0.1)
        .build()
        .unwrap();
    model.compile(sgd, "mse", &[]).unwrap();
    let config = FitConfig::new()
        .epochs(3)
        .batch_size(8)
        .verbose(0)
        .shuffle(false);
    let history = model.fit(std::slice::from_ref(&x), &y, config).unwrap();
    let losses: Vec<f32> = history
        .get("loss")
        .unwrap()
        .iter()
        .map(|v| *v as f32)
        .collect();
    assert_close(&format!("{case} loss"), &losses, &floats(&golden["loss"]));
    let weights: Vec<f32> = model.get_weights().iter().flatten().copied().collect();
    let want: Vec<f32> = golden["weights"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    assert_close(&format!("{case} weights"), &weights, &want);
    let evaluated = model.evaluate(std::slice::from_ref(&x), &y, 16).unwrap();
    assert_close(
        &format!("{case} evaluate"),
        &[evaluated["loss"] as f32],
        &[golden["evaluate_loss"].as_f64().unwrap() as f32],
    );

    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join(format!("{case}.h5"));
    model.save(&saved).unwrap();
    rkeras_testkit::run_keras_check(
        &format!("Keras's load of the rkeras-saved {case} regularizers"),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras_regularizers_golden.py"
        ),
        [Path::new("check"), &fixture_dir(), Path::new(case), &saved],
        "keras regularizers ok",
    );
}

#[test]
fn l1_matches_keras() {
    train_like_keras("l1");
}

#[test]
fn l2_matches_keras() {
    train_like_keras("l2");
}

#[test]
fn l1l2_matches_keras() {
    train_like_keras("l1l2");
}

#[test]
fn orthogonal_rows_matches_keras() {
    train_like_keras("orthogonal_rows");
}

#[test]
fn orthogonal_columns_matches_keras() {
    train_like_keras("orthogonal_columns");
}

#[test]
fn string_names_match_keras() {
    train_like_keras("names");
}

#[test]
fn max_norm_and_non_neg_match_keras() {
    train_like_keras("max_norm");
}

#[test]
fn min_max_norm_matches_keras() {
    train_like_keras("min_max_norm");
}

#[test]
fn unit_norm_and_max_norm_by_name_match_keras() {
    train_like_keras("unit_norm");
}

#[test]
fn non_neg_and_unit_norm_by_name_match_keras() {
    train_like_keras("non_neg");
}
