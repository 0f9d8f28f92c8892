//! Recurrent layers rebuilt from Keras 3's configs, given Keras's weights, against Keras's outputs on the same
//! inputs (within 1e-5). The fixture comes from `scripts/keras_rnn_golden.py`.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::symbolic::apply;
use rkeras_layers::{CallContext, Input, layer_from_config};
use rkeras_tensor::Tensor;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_rnn_golden.json"
);

fn array(value: &Value) -> ArrayD<f32> {
    let shape: Vec<usize> = value["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let values: Vec<f32> = value["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

fn cases(class_name: &str) -> Vec<Value> {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let cases: Vec<Value> = fixture["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|case| case["class_name"] == class_name)
        .cloned()
        .collect();
    assert!(!cases.is_empty(), "no {class_name} case in the fixture");
    cases
}

/// Rebuilds the case's layer from its config, loads Keras's weights and runs it on Keras's input.
fn run_case(case: &Value) -> ArrayD<f32> {
    let layer = layer_from_config(case["class_name"].as_str().unwrap(), &case["config"]).unwrap();
    let x = array(&case["x"]);
    let state = (!case["initial_state"].is_null()).then(|| array(&case["initial_state"]));
    let mut symbolic = vec![Input::new(&x.shape()[1..])];
    symbolic.extend(state.iter().map(|s| Input::new(&s.shape()[1..])));
    apply(layer.clone(), &symbolic).unwrap();
    let weights = layer.weights();
    let expected_weights = case["weights"].as_array().unwrap();
    assert_eq!(weights.len(), expected_weights.len(), "{}", case["name"]);
    for (variable, value) in weights.iter().zip(expected_weights) {
        variable.set_value(array(value)).unwrap();
    }
    let mut inputs = vec![Tensor::new(x)];
    inputs.extend(state.map(Tensor::new));
    let mut rng = StdRng::seed_from_u64(0);
    let ctx = &mut CallContext {
        training: false,
        rng: &mut rng,
    };
    // Keras's config round-trips through rkeras's.
    let config = layer.config();
    for (key, value) in case["config"].as_object().unwrap() {
        if key != "dtype" && !key.ends_with("initializer") {
            assert_eq!(&config[key], value, "{} config `{key}`", case["name"]);
        }
    }
    layer.forward(&inputs, ctx).unwrap().data().clone()
}

fn check_class(class_name: &str) {
    for case in cases(class_name) {
        let output = run_case(&case);
        let expected = array(&case["output"]);
        assert_eq!(output.shape(), expected.shape(), "{}", case["name"]);
        let error = output
            .iter()
            .zip(expected.iter())
            .map(|(a, e)| (a - e).abs())
            .fold(0.0f32, f32::max);
        assert!(error < 1e-5, "{}: max error {error}", case["name"]);
    }
}

#[test]
fn gru_matches_keras() {
    check_class("GRU");
}

#[test]
fn simple_rnn_matches_keras() {
    check_class("SimpleRNN");
}

#[test]
fn lstm_going_backwards_matches_keras() {
    check_class("LSTM");
}

#[test]
fn options_rkeras_lacks_are_errors_naming_them() {
    for case in cases("GRU").iter().chain(&cases("SimpleRNN")) {
        for (key, value) in [
            ("return_state", serde_json::json!(true)),
            ("stateful", serde_json::json!(true)),
            ("dropout", serde_json::json!(0.25)),
        ] {
            let mut config = case["config"].clone();
            config[key] = value;
            let class = case["class_name"].as_str().unwrap();
            let error = layer_from_config(class, &config).err().unwrap().to_string();
            assert!(error.contains(key) && error.contains(class), "{error}");
        }
    }
}
