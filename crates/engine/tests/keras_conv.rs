//! Conv1D/Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D and the 1-D/2-D poolings against Keras:
//! rkeras loads the `.h5` files Keras saved (scripts/keras_conv_golden.py), predicts Keras's outputs within 1e-5 on
//! the golden inputs, and the weights it saves load back in Keras with the same predictions (through the Python of
//! `rkeras_testkit::keras_python`: a failure with CI=true when it is missing, a loud notice otherwise).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::load_model;
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_conv"
    ))
}

fn golden(name: &str) -> (ArrayD<f32>, ArrayD<f32>) {
    let text = std::fs::read_to_string(fixture_dir().join(format!("{name}.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let array = |key: &str| {
        let shape: Vec<usize> = json[format!("{key}_shape")]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let values: Vec<f32> = json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
    };
    (array("x"), array("y"))
}

fn max_difference(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Keras's check of a weights file rkeras wrote.
fn keras_check(name: &str, weights: &Path) {
    rkeras_testkit::run_keras_check(
        &format!("Keras's load of the rkeras-written {name} weights"),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras_conv_golden.py"
        ),
        [Path::new("check"), &fixture_dir(), Path::new(name), weights],
        "keras weights ok",
    );
}

fn round_trip(name: &str, layers: &[&str]) {
    let model = load_model(fixture_dir().join(format!("{name}.h5"))).unwrap();
    let classes: Vec<String> = model
        .network()
        .layers()
        .iter()
        .map(|l| l.class_name().to_string())
        .collect();
    for layer in layers {
        assert!(
            classes.iter().any(|c| c == layer),
            "{name}: {layer} in {classes:?}"
        );
    }
    let (x, y) = golden(name);
    let predicted = model.predict(std::slice::from_ref(&x), 2).unwrap();
    let worst = max_difference(&predicted, &y);
    assert!(
        worst <= 1e-5,
        "{name}: predictions differ from Keras's by {worst}"
    );

    let dir = tempfile::tempdir().unwrap();
    // Keras reads a `.h5` name (not `.weights.h5`) as the legacy HDF5 weights layout that rkeras writes.
    let weights = dir.path().join(format!("{name}_weights.h5"));
    model.save_weights(&weights).unwrap();
    let mut reloaded = load_model(fixture_dir().join(format!("{name}.h5"))).unwrap();
    reloaded.load_weights(&weights).unwrap();
    assert_eq!(reloaded.predict(&[x], 4).unwrap(), predicted);
    keras_check(name, &weights);
}

#[test]
fn conv2d_and_2d_poolings_predict_as_keras_and_their_weights_load_in_keras() {
    round_trip("conv2d", &["Conv2D", "MaxPooling2D", "AveragePooling2D"]);
}

#[test]
fn conv1d_and_1d_poolings_predict_as_keras_and_their_weights_load_in_keras() {
    round_trip("conv1d", &["Conv1D", "MaxPooling1D", "AveragePooling1D"]);
}

#[test]
fn conv2d_transpose_predicts_as_keras_and_its_weights_load_in_keras() {
    round_trip("conv2d_transpose", &["Conv2DTranspose"]);
}

#[test]
fn depthwise_and_separable_conv2d_predict_as_keras_and_their_weights_load_in_keras() {
    round_trip(
        "depthwise_separable",
        &["DepthwiseConv2D", "SeparableConv2D"],
    );
}

#[test]
fn depthwise_and_separable_conv2d_with_strides_and_dilation_together_predict_as_keras() {
    round_trip(
        "depthwise_strided_dilated",
        &["DepthwiseConv2D", "SeparableConv2D", "Concatenate"],
    );
}

#[test]
fn convolutions_without_bias_and_the_remaining_pooling_paddings_predict_as_keras() {
    round_trip(
        "conv_options",
        &[
            "Conv2D",
            "AveragePooling2D",
            "MaxPooling2D",
            "MaxPooling1D",
            "Conv1D",
        ],
    );
}

/// 3×3 convolutions from 8 or more channels into 8 or more filters (valid and same, without bias): the ones rkeras
/// computes by Winograd F(2×2, 3×3); the second, with relu and followed by 2×2 max pooling, runs fused with it.
#[test]
fn conv2d_on_the_winograd_path_predicts_as_keras_and_its_weights_load_in_keras() {
    round_trip(
        "conv2d_winograd",
        &["Conv2D", "MaxPooling2D", "Flatten", "Dense"],
    );
}

/// Two Conv2D layers with stride 1, valid padding and 8 and 10 input channels (one with an unequal kernel and no
/// bias): the convolutions rkeras computes by implicit GEMM instead of im2col.
#[test]
fn conv2d_on_the_implicit_gemm_path_predicts_as_keras_and_its_weights_load_in_keras() {
    round_trip("conv2d_implicit", &["Conv2D", "Flatten", "Dense"]);
}
