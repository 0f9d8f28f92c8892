//! Keras's legacy `.h5` files of `keras.layers.Attention` in both score modes, with and without `use_scale`
//! (fixtures `tests/fixtures/attention_modes` from `scripts/keras_attention_modes_golden.py`): rkeras loads them
//! and predicts Keras's outputs within 1e-5, and the `.h5` files it saves back load in Keras 3.15 with the
//! same settings and predictions — also for `score_mode="dot"`, whose own legacy file Keras 3.15 cannot read
//! (run for real through `rkeras_testkit::keras_python`: a failure with CI=true when it is missing, a loud
//! notice otherwise). MultiHeadAttention over other `attention_axes` crosses the same way; one shared by calls
//! with different settings in a Keras-written file is a typed error naming the layer.

use ndarray::ArrayD;
use rkeras_engine::load_model;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod golden_json;
use golden_json::{array, assert_close, floats};

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/attention_modes"
    ))
}

/// NAME.json and its input batches.
fn golden(name: &str) -> (Value, Vec<ArrayD<f32>>) {
    let text = std::fs::read_to_string(fixture_dir().join(format!("{name}.json"))).unwrap();
    let golden: Value = serde_json::from_str(&text).unwrap();
    let x = golden["x"]
        .as_array()
        .unwrap()
        .iter()
        .zip(golden["x_shape"].as_array().unwrap())
        .map(|(v, s)| array(v, s))
        .collect();
    (golden, x)
}

fn cross(name: &str) {
    let (golden, x) = golden(name);
    let model = load_model(fixture_dir().join(format!("{name}.h5"))).unwrap();
    let attention = model
        .network()
        .layers()
        .iter()
        .find(|l| l.name() == "attention")
        .unwrap()
        .config();
    assert_eq!(attention["score_mode"], golden["score_mode"], "{name}");
    assert_eq!(attention["use_scale"], golden["use_scale"], "{name}");
    let predicted = model.predict(&x, 2).unwrap();
    assert_eq!(predicted.shape(), [2, 5, 3]);
    assert_close(predicted.as_slice().unwrap(), &floats(&golden["y"]), name);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.h5"));
    model.save(&path).unwrap();
    assert_eq!(
        load_model(&path).unwrap().predict(&x, 2).unwrap(),
        predicted
    );
    rkeras_testkit::run_keras_check(
        &format!("Keras's load of the rkeras-written {name}.h5"),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras_attention_modes_golden.py"
        ),
        [Path::new("check"), &fixture_dir(), Path::new(name), &path],
        "attention ok",
    );
}

#[test]
fn dot_attention_from_keras_h5_crosses_both_ways() {
    cross("dot");
}

#[test]
fn scaled_dot_attention_from_keras_h5_crosses_both_ways() {
    cross("dot_scaled");
}

#[test]
fn concat_attention_from_keras_h5_crosses_both_ways() {
    cross("concat");
}

#[test]
fn scaled_concat_attention_from_keras_h5_crosses_both_ways() {
    cross("concat_scaled");
}

/// `load_model` of a Keras file rkeras cannot rebuild faithfully: the typed error's message.
fn refusal(name: &str) -> String {
    match load_model(fixture_dir().join(name)) {
        Ok(_) => panic!("{name} loaded"),
        Err(err) => err.to_string(),
    }
}

/// A Keras MultiHeadAttention over other attention axes, from `.keras` and `.h5`: Keras's predictions within
/// 1e-5, and the files rkeras writes load in Keras with the same axes and predictions.
fn cross_mha(name: &str) {
    let (golden, x) = golden(name);
    let dir = tempfile::tempdir().unwrap();
    for extension in ["keras", "h5"] {
        let model = load_model(fixture_dir().join(format!("{name}.{extension}"))).unwrap();
        let predicted = model.predict(&x, 2).unwrap();
        assert_close(
            predicted.as_slice().unwrap(),
            &floats(&golden["y"]),
            &format!("{name}.{extension}"),
        );
        let path = dir.path().join(format!("{name}.{extension}"));
        model.save(&path).unwrap();
        assert_eq!(
            load_model(&path).unwrap().predict(&x, 2).unwrap(),
            predicted
        );
        rkeras_testkit::run_keras_check(
            &format!("Keras's load of the rkeras-written {name}.{extension}"),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../scripts/keras_attention_modes_golden.py"
            ),
            [
                Path::new("check-mha"),
                &fixture_dir(),
                Path::new(name),
                &path,
            ],
            "attention ok",
        );
    }
}

#[test]
fn multi_head_attention_over_one_inner_axis_crosses_both_ways() {
    // attention_axes=(2,) on [batch, 3, 4, 6]: one attention over the 4 positions per index of axis 1.
    cross_mha("mha_axes_2");
}

#[test]
fn multi_head_attention_over_two_axes_jointly_crosses_both_ways() {
    // Keras's default on 4-D inputs, axes (1, 2), a [batch, 3, 4, 6] query and a [batch, 2, 5, 6] value.
    cross_mha("mha_axes_default");
}

#[test]
fn a_shared_multi_head_attention_called_with_different_settings_is_a_typed_error() {
    // One Keras MultiHeadAttention called as mha(x, x) and mha(x, x, use_causal_mask=True).
    let message = refusal("mha_shared_kwargs.keras");
    assert!(message.contains("mha_shared"), "{message}");
}
