//! A model with a stateful LSTM (Keras's fixture `crates/layers/tests/fixtures/keras_rnn_stateful_golden.json`,
//! from `scripts/keras_rnn_stateful_golden.py`): `predict` over two consecutive batches gives Keras's outputs on
//! the first and then on the second, `Network::reset_states` starts over, and `fit` without shuffling runs.

use ndarray::{ArrayD, Axis, IxDyn, concatenate};
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::symbolic::apply;
use rkeras_layers::{Input, layer_from_config};
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../layers/tests/fixtures/keras_rnn_stateful_golden.json"
);

fn array(value: &Value) -> ArrayD<f32> {
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

fn assert_close(actual: &ArrayD<f32>, expected: &ArrayD<f32>) {
    assert_eq!(actual.shape(), expected.shape());
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-5, "{a} vs {e}");
    }
}

#[test]
fn predict_carries_the_states_from_batch_to_batch_as_keras() {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let case = &fixture["cases"][0];
    assert_eq!(case["class_name"], "LSTM");
    let (x1, x2) = (array(&case["x1"]), array(&case["x2"]));
    let input = Input::new(&x1.shape()[1..]);
    let layer = layer_from_config("LSTM", &case["config"]).unwrap();
    let output = apply(layer.clone(), std::slice::from_ref(&input)).unwrap();
    for (variable, value) in layer
        .weights()
        .iter()
        .zip(case["weights"].as_array().unwrap())
    {
        variable.set_value(array(value)).unwrap();
    }
    let mut model = Model::new(&[input], &output).unwrap();
    let batch = x1.shape()[0];
    let both = concatenate(Axis(0), &[x1.view(), x2.view()]).unwrap();
    let expected = concatenate(
        Axis(0),
        &[array(&case["first"]).view(), array(&case["second"]).view()],
    )
    .unwrap();
    for _ in 0..3 {
        model.network().reset_states();
        assert_close(
            &model.predict(std::slice::from_ref(&both), batch).unwrap(),
            &expected,
        );
    }
    // Without a reset the next call continues from the second batch's states.
    let continued = model.predict(std::slice::from_ref(&x1), batch).unwrap();
    assert!(
        continued
            .iter()
            .zip(array(&case["first"]).iter())
            .any(|(a, e)| (a - e).abs() > 1e-3)
    );
    model.network().reset_states();
    model.compile("sgd", "mse", &[]).unwrap();
    let y = ArrayD::zeros(IxDyn(&[2 * batch, 3]));
    let history = model
        .fit(
            &[both],
            &y,
            FitConfig::new()
                .epochs(2)
                .batch_size(batch)
                .shuffle(false)
                .verbose(0),
        )
        .unwrap();
    assert!(history.history["loss"].iter().all(|v| v.is_finite()));
}
