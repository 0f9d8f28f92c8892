//! Tests of `stateful=True`: Keras 3's outputs on two consecutive batches and after `reset_states()` (fixture
//! from `scripts/keras_rnn_stateful_golden.py`), the batch-size check, the config and `Network::reset_states`.

use super::{GRU, LSTM};
use crate::layer::{CallContext, Layer};
use crate::{Input, LayerCall, Network, layer_from_config};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::Tensor;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_rnn_stateful_golden.json"
);

fn fixture_array(value: &Value) -> ArrayD<f32> {
    let shape: Vec<usize> = value["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let values = value["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

fn infer(layer: &dyn Layer, x: &ArrayD<f32>) -> crate::Result<Tensor> {
    let mut rng = StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    layer.forward(&[Tensor::new(x.clone())], &mut ctx)
}

fn assert_close(name: &str, what: &str, actual: &Tensor, expected: &Value) {
    let expected = fixture_array(expected);
    assert_eq!(actual.shape(), expected.shape(), "{name} {what}");
    for (a, e) in actual.to_vec().iter().zip(expected.iter()) {
        assert!((a - e).abs() < 1e-5, "{name} {what}: {a} vs {e}");
    }
}

#[test]
fn keras_outputs_over_two_batches_and_after_a_reset() {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let layer =
            layer_from_config(case["class_name"].as_str().unwrap(), &case["config"]).unwrap();
        assert_eq!(layer.config()["stateful"], Value::Bool(true), "{name}");
        let (x1, x2) = (fixture_array(&case["x1"]), fixture_array(&case["x2"]));
        crate::symbolic::apply(layer.clone(), &[Input::new(&x1.shape()[1..])]).unwrap();
        for (variable, value) in layer
            .weights()
            .iter()
            .zip(case["weights"].as_array().unwrap())
        {
            variable.set_value(fixture_array(value)).unwrap();
        }
        let first = infer(layer.as_ref(), &x1).unwrap();
        assert_close(name, "first batch", &first, &case["first"]);
        assert_close(
            name,
            "second batch",
            &infer(layer.as_ref(), &x2).unwrap(),
            &case["second"],
        );
        layer.reset_states();
        assert_close(
            name,
            "after reset",
            &infer(layer.as_ref(), &x1).unwrap(),
            &case["after_reset"],
        );
        // Without the reset, the second batch starts from the first's states; a fresh start differs.
        layer.reset_states();
        assert_ne!(
            infer(layer.as_ref(), &x2).unwrap().to_vec(),
            fixture_array(&case["second"])
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            "{name}"
        );
    }
}

#[test]
fn another_batch_size_is_an_error_until_reset_and_the_network_resets() {
    let input = Input::new(&[4, 2]);
    let lstm = LSTM::new(3).with_stateful(true).with_return_sequences(true);
    let h = lstm.call(&input).unwrap();
    let gru = GRU::new(2).with_stateful(true).call(&h).unwrap();
    let network = Network::new(&[input], &[gru]).unwrap();
    let x = |batch: usize, seed: usize| {
        ArrayD::from_shape_fn(IxDyn(&[batch, 4, 2]), |i| {
            ((i[0] + i[1] * 3 + i[2] * 7 + seed) as f32 * 0.3).sin()
        })
    };
    let run = |x: &ArrayD<f32>| -> crate::Result<Vec<f32>> {
        let mut rng = StdRng::seed_from_u64(0);
        let mut ctx = CallContext {
            training: false,
            rng: &mut rng,
        };
        Ok(network.forward(&[Tensor::new(x.clone())], &mut ctx)?[0].to_vec())
    };
    let first = run(&x(3, 0)).unwrap();
    let second = run(&x(3, 1)).unwrap();
    let error = run(&x(5, 0)).unwrap_err().to_string();
    assert!(
        error.contains("stateful") && error.contains("(3)") && error.contains("5"),
        "{error}"
    );
    network.reset_states();
    assert_eq!(run(&x(3, 0)).unwrap(), first);
    assert_eq!(run(&x(3, 1)).unwrap(), second);
    network.reset_states();
    assert_eq!(run(&x(5, 0)).unwrap().len(), 10);
    let config = LSTM::new(3).with_stateful(true).config();
    assert_eq!(LSTM::from_config(&config).unwrap().config(), config);
}
