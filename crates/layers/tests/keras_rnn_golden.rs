//! Recurrent layers rebuilt from Keras 3's configs, given Keras's weights, against Keras's outputs on the same
//! inputs (within 1e-5). The fixture comes from `scripts/keras_rnn_golden.py`; the cases with `return_state` and
//! initial states (every output of Keras's call, `[output, *states]`), and the same layers in a graph whose states
//! feed other layers, from `scripts/keras_rnn_state_golden.py`.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::symbolic::{apply, apply_all};
use rkeras_layers::{CallContext, Dense, Input, LSTM, LayerCall, Network, layer_from_config};
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
            ("time_major", serde_json::json!(true)),
            ("dropout", serde_json::json!(1.5)),
        ] {
            let mut config = case["config"].clone();
            config[key] = value;
            let class = case["class_name"].as_str().unwrap();
            let error = layer_from_config(class, &config).err().unwrap().to_string();
            assert!(error.contains(key) && error.contains(class), "{error}");
        }
    }
}

const STATE_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_rnn_state_golden.json"
);

const BIDIRECTIONAL_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_bidirectional_golden.json"
);

fn fixture_cases(path: &str) -> Vec<Value> {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    fixture["cases"].as_array().unwrap().clone()
}

fn max_error(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn ctx(rng: &mut StdRng) -> CallContext<'_> {
    CallContext {
        training: false,
        rng,
    }
}

#[test]
fn every_output_of_every_case_matches_keras() {
    check_every_output(&fixture_cases(STATE_FIXTURE), 9);
}

/// `Bidirectional` around LSTM, GRU (also with its own backward layer) and SimpleRNN, every merge mode, with
/// states returned and given (`scripts/keras_bidirectional_golden.py`).
#[test]
fn bidirectional_matches_keras() {
    check_every_output(&fixture_cases(BIDIRECTIONAL_FIXTURE), 5);
}

/// Rebuilds each case's layer from Keras's config, loads Keras's weights and compares every output of a call on
/// Keras's input and initial states.
fn check_every_output(cases: &[Value], count: usize) {
    assert_eq!(cases.len(), count);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let layer =
            layer_from_config(case["class_name"].as_str().unwrap(), &case["config"]).unwrap();
        let x = array(&case["x"]);
        let states: Vec<ArrayD<f32>> = case["initial_states"]
            .as_array()
            .unwrap()
            .iter()
            .map(array)
            .collect();
        let mut symbolic = vec![Input::new(&x.shape()[1..])];
        symbolic.extend(states.iter().map(|s| Input::new(&s.shape()[1..])));
        let outputs = apply_all(layer.clone(), &symbolic).unwrap();
        let expected: Vec<ArrayD<f32>> = case["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(array)
            .collect();
        assert_eq!(outputs.len(), expected.len(), "{name}");
        for (out, e) in outputs.iter().zip(&expected) {
            assert_eq!(out.shape(), &e.shape()[1..], "{name}");
        }
        for (variable, value) in layer
            .weights()
            .iter()
            .zip(case["weights"].as_array().unwrap())
        {
            variable.set_value(array(value)).unwrap();
        }
        assert_eq!(
            layer.config()["return_state"],
            case["config"]["return_state"],
            "{name}"
        );
        let mut inputs = vec![Tensor::new(x)];
        inputs.extend(states.into_iter().map(Tensor::new));
        let mut rng = StdRng::seed_from_u64(0);
        let values = layer.forward_all(&inputs, &mut ctx(&mut rng)).unwrap();
        assert_eq!(values.len(), expected.len(), "{name}");
        for (i, (value, e)) in values.iter().zip(&expected).enumerate() {
            let error = max_error(value.data(), e);
            assert!(error < 1e-5, "{name} output {i}: max error {error}");
        }
    }
}

#[test]
fn states_feed_other_layers_and_the_graph_saves_and_loads() {
    let (encoder_input, decoder_input) = (Input::new(&[5, 3]), Input::new(&[4, 2]));
    let encoder = LSTM::new(4).with_return_state(true).with_name("encoder");
    let [_, h, c] = <[_; 3]>::try_from(
        encoder
            .call_outputs(std::slice::from_ref(&encoder_input))
            .unwrap(),
    )
    .unwrap();
    let decoded = LSTM::new(4)
        .with_return_sequences(true)
        .with_name("decoder")
        .call_many(&[decoder_input.clone(), h.clone(), c.clone()])
        .unwrap();
    let head = Dense::new(1).with_name("head").call(&h).unwrap();
    let net = Network::new(&[encoder_input, decoder_input], &[decoded, head, c]).unwrap();
    let config = net.to_config("seq2seq");
    let layers = config["config"]["layers"].as_array().unwrap();
    let decoder = layers.iter().find(|l| l["name"] == "decoder").unwrap();
    let states = &decoder["inbound_nodes"][0]["kwargs"]["initial_state"];
    assert_eq!(
        states[0]["config"]["keras_history"],
        serde_json::json!(["encoder", 0, 1])
    );
    assert_eq!(
        states[1]["config"]["keras_history"],
        serde_json::json!(["encoder", 0, 2])
    );
    assert_eq!(
        config["config"]["output_layers"][2],
        serde_json::json!(["encoder", 0, 2])
    );

    let loaded = Network::from_config(&config).unwrap();
    for (a, b) in net.weights().iter().zip(loaded.weights()) {
        b.set_value((*a.value()).clone()).unwrap();
    }
    assert_eq!(loaded.to_config("seq2seq"), config);
    let x = [
        Tensor::new(ArrayD::from_shape_fn(IxDyn(&[2, 5, 3]), |i| {
            (i[0] as f32 - i[1] as f32 * 0.3 + i[2] as f32 * 0.1).sin()
        })),
        Tensor::new(ArrayD::from_shape_fn(IxDyn(&[2, 4, 2]), |i| {
            (i[0] as f32 * 0.5 + i[1] as f32 * 0.2 - i[2] as f32).cos()
        })),
    ];
    let mut rng = StdRng::seed_from_u64(0);
    let a = net.forward(&x, &mut ctx(&mut rng)).unwrap();
    let b = loaded.forward(&x, &mut ctx(&mut rng)).unwrap();
    assert_eq!(a.len(), 3);
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.to_vec(), b.to_vec());
    }
    // The decoder really starts from the encoder's states: from zero states its output differs.
    let plain = LSTM::new(4).with_return_sequences(true);
    let y = plain.call(&Input::new(&[4, 2])).unwrap();
    for (w, v) in y
        .layer()
        .weights()
        .iter()
        .zip(net.layer("decoder").unwrap().weights())
    {
        w.set_value((*v.value()).clone()).unwrap();
    }
    let from_zero = y.layer().forward(&x[1..], &mut ctx(&mut rng)).unwrap();
    assert_ne!(from_zero.to_vec(), a[0].to_vec());
}

#[test]
fn a_multi_output_call_through_call_is_an_error_naming_the_layer() {
    let error = LSTM::new(2)
        .with_return_state(true)
        .with_name("stateful_encoder")
        .call(&Input::new(&[3, 2]))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("stateful_encoder") && error.contains("call_outputs"),
        "{error}"
    );
    let error = LSTM::new(2)
        .with_name("two_states")
        .call_many(&[Input::new(&[3, 2]), Input::new(&[2])])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("two_states") && error.contains("2 initial state"),
        "{error}"
    );
}

const TIME_DISTRIBUTED_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_time_distributed_golden.json"
);

/// `TimeDistributed` around Dense, Conv1D and Flatten (`scripts/keras_time_distributed_golden.py`).
#[test]
fn time_distributed_matches_keras() {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(TIME_DISTRIBUTED_FIXTURE).unwrap()).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let layer = layer_from_config("TimeDistributed", &case["config"]).unwrap();
        let x = array(&case["x"]);
        let y = apply(layer.clone(), &[Input::new(&x.shape()[1..])]).unwrap();
        let expected = array(&case["output"]);
        assert_eq!(y.shape(), &expected.shape()[1..], "{name}");
        let weights = case["weights"].as_array().unwrap();
        assert_eq!(layer.weights().len(), weights.len(), "{name}");
        for (variable, value) in layer.weights().iter().zip(weights) {
            variable.set_value(array(value)).unwrap();
        }
        let config = layer.config();
        assert_eq!(
            config["layer"]["class_name"],
            case["config"]["layer"]["class_name"]
        );
        let mut rng = StdRng::seed_from_u64(0);
        let output = layer
            .forward(&[Tensor::new(x)], &mut ctx(&mut rng))
            .unwrap();
        let error = max_error(output.data(), &expected);
        assert!(error < 1e-5, "{name}: max error {error}");
    }
}
