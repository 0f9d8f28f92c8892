//! Timestep masks against Keras 3: models whose mask comes from `Embedding(mask_zero=True)` or `Masking`, feeding
//! LSTM, GRU (both `reset_after` modes) and SimpleRNN layers (`return_sequences`, `go_backwards`,
//! `zero_output_for_mask`, initial states and `return_state`, stacked through a Dense layer), `Bidirectional`,
//! `TimeDistributed`, pooling and merge layers, rebuilt from Keras's configs with Keras's weights; outputs within 1e-5 and the output mask
//! equal to the one Keras attaches. The fixture comes from `scripts/keras_masking_golden.py`.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::symbolic::{apply, apply_all};
use rkeras_layers::{CallContext, Input, Layer, Network, layer_from_config};
use rkeras_tensor::Tensor;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_masking_golden.json"
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

fn cases() -> Vec<Value> {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    fixture["cases"].as_array().unwrap().clone()
}

/// Rebuilds the case's chain of layers, loads Keras's weights and runs it on Keras's input.
fn run_case(case: &Value) -> (Tensor, Option<Tensor>) {
    let x = array(&case["x"]);
    let input = Input::new(&x.shape()[1..]);
    let mut y = input.clone();
    let mut layers = Vec::new();
    for (spec, weights) in case["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(case["weights"].as_array().unwrap())
    {
        let layer =
            layer_from_config(spec["class_name"].as_str().unwrap(), &spec["config"]).unwrap();
        y = apply(layer.clone(), &[y]).unwrap();
        let variables = layer.weights();
        let values = weights.as_array().unwrap();
        assert_eq!(
            variables.len(),
            values.len(),
            "{} {}",
            case["name"],
            layer.name()
        );
        for (variable, value) in variables.iter().zip(values) {
            variable.set_value(array(value)).unwrap();
        }
        layers.push(layer);
    }
    let network = Network::new(&[input], &[y]).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let ctx = &mut CallContext {
        training: false,
        rng: &mut rng,
    };
    let out = network
        .forward_outputs(&[Tensor::new(x)], ctx, false)
        .unwrap()
        .remove(0);
    (out.output, out.mask)
}

#[test]
fn masked_models_match_keras() {
    let cases = cases();
    assert!(cases.len() >= 12);
    for case in &cases {
        let (output, mask) = run_case(case);
        let expected = array(&case["y"]);
        assert_eq!(output.shape(), expected.shape(), "{}", case["name"]);
        for (a, b) in output.data().iter().zip(expected.iter()) {
            assert!((a - b).abs() < 1e-5, "{}: {a} vs Keras {b}", case["name"]);
        }
        match (&mask, case["mask"].is_null()) {
            (None, true) => {}
            (Some(mask), false) => {
                assert_eq!(mask.data(), &array(&case["mask"]), "{} mask", case["name"])
            }
            _ => panic!(
                "{}: rkeras mask {:?}, Keras's {}",
                case["name"],
                mask.map(|m| m.to_vec()),
                case["mask"]
            ),
        }
    }
}

#[test]
fn embedding_mask_zero_round_trips_through_its_config() {
    let layer = rkeras_layers::Embedding::new(5, 2).with_mask_zero(true);
    let config = layer.config();
    assert_eq!(config["mask_zero"], true);
    let back = layer_from_config("Embedding", &config).unwrap();
    assert!(back.supports_masking());
    let ids = Tensor::from_vec(&[1, 3], vec![0.0, 2.0, 0.0]).unwrap();
    let mask = back.compute_mask(&[ids], &[None]).unwrap().unwrap();
    assert_eq!(mask.to_vec(), vec![0.0, 1.0, 0.0]);
}

/// Every merge on two embedded id inputs (the second with or without `mask_zero`): the values of `Multiply`,
/// `Maximum` and `Minimum` leave masked steps out as Keras's do, `Add`, `Subtract`, `Average` and the
/// elementwise merges OR their masks, `Concatenate` joins them (along the features or the time axis) and `Dot`
/// drops them, as Keras does (the mask walk of `Network::output_masks` gives the same mask).
#[test]
fn merges_join_their_inputs_masks_as_keras_does() {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let cases = fixture["merges"].as_array().unwrap();
    assert_eq!(cases.len(), 14);
    for case in cases {
        let xs: Vec<ArrayD<f32>> = case["x"].as_array().unwrap().iter().map(array).collect();
        let inputs: Vec<_> = xs.iter().map(|x| Input::new(&x.shape()[1..])).collect();
        let mut embedded = Vec::new();
        for (i, (input, weights)) in inputs
            .iter()
            .zip(case["embeddings"].as_array().unwrap())
            .enumerate()
        {
            let masked = i == 0 || case["second_masked"].as_bool().unwrap();
            let layer: rkeras_layers::LayerRef =
                std::sync::Arc::new(rkeras_layers::Embedding::new(10, 3).with_mask_zero(masked));
            embedded.push(apply(layer.clone(), std::slice::from_ref(input)).unwrap());
            layer.weights()[0].set_value(array(weights)).unwrap();
        }
        let merge = &case["merge"];
        let layer =
            layer_from_config(merge["class_name"].as_str().unwrap(), &merge["config"]).unwrap();
        let y = apply(layer, &embedded).unwrap();
        let network = Network::new(&inputs, &[y]).unwrap();
        let mut rng = StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training: false,
            rng: &mut rng,
        };
        let feed: Vec<Tensor> = xs.into_iter().map(Tensor::new).collect();
        let out = network
            .forward_outputs(&feed, ctx, false)
            .unwrap()
            .remove(0);
        for (a, b) in out.output.data().iter().zip(array(&case["y"]).iter()) {
            assert!((a - b).abs() < 1e-5, "{}: {a} vs Keras {b}", case["name"]);
        }
        let walked = network.output_masks(&feed).unwrap().remove(0);
        match (&out.mask, case["mask"].is_null()) {
            (None, true) => assert!(walked.is_none(), "{}", case["name"]),
            (Some(mask), false) => {
                assert_eq!(mask.data(), &array(&case["mask"]), "{} mask", case["name"]);
                assert_eq!(walked.unwrap().data(), mask.data(), "{} walk", case["name"]);
            }
            _ => panic!(
                "{}: rkeras mask {:?}, Keras's {}",
                case["name"], out.mask, case["mask"]
            ),
        }
    }
}

/// Recurrent layers (and `Bidirectional`) on embedded ids with `mask_zero`, called with initial states and/or
/// `return_state`: every output of the call (`[output, *states]`) within 1e-5 of Keras's, run in a graph. With
/// initial states Keras's call gets no mask (it fills `mask` only for a call on one tensor) and runs unmasked.
#[test]
fn masked_calls_with_initial_and_returned_states_match_keras() {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let cases = fixture["states"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let x = array(&case["x"]);
        let states: Vec<ArrayD<f32>> = case["initial_states"]
            .as_array()
            .unwrap()
            .iter()
            .map(array)
            .collect();
        let ids = Input::new(&x.shape()[1..]);
        let embedding: rkeras_layers::LayerRef =
            std::sync::Arc::new(rkeras_layers::Embedding::new(10, 3).with_mask_zero(true));
        let embedded = apply(embedding.clone(), std::slice::from_ref(&ids)).unwrap();
        embedding.weights()[0]
            .set_value(array(&case["embedding"]))
            .unwrap();
        let state_inputs: Vec<_> = states.iter().map(|s| Input::new(&s.shape()[1..])).collect();
        let spec = &case["layer"];
        let layer =
            layer_from_config(spec["class_name"].as_str().unwrap(), &spec["config"]).unwrap();
        let mut args = vec![embedded];
        args.extend(state_inputs.iter().cloned());
        let outputs = apply_all(layer.clone(), &args).unwrap();
        for (variable, value) in layer
            .weights()
            .iter()
            .zip(case["weights"].as_array().unwrap())
        {
            variable.set_value(array(value)).unwrap();
        }
        let mut inputs = vec![ids];
        inputs.extend(state_inputs);
        let network = Network::new(&inputs, &outputs).unwrap();
        let mut feed = vec![Tensor::new(x)];
        feed.extend(states.into_iter().map(Tensor::new));
        let mut rng = StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training: false,
            rng: &mut rng,
        };
        let got = network.forward_outputs(&feed, ctx, false).unwrap();
        let expected = case["outputs"].as_array().unwrap();
        assert_eq!(got.len(), expected.len(), "{name}");
        for (i, (out, e)) in got.iter().zip(expected).enumerate() {
            let e = array(e);
            assert_eq!(out.output.shape(), e.shape(), "{name} output {i}");
            for (a, b) in out.output.data().iter().zip(e.iter()) {
                assert!((a - b).abs() < 1e-5, "{name} output {i}: {a} vs Keras {b}");
            }
        }
    }
}
