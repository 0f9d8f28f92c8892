//! Normalization, global pooling, padding, cropping, up-sampling, spatial dropout and rescaling layers
//! against Keras 3: each layer is rebuilt from Keras's config, given Keras's weights, and must give Keras's
//! outputs within 1e-5 (inference, and for BatchNormalization training, with the moving statistics Keras
//! holds after that call). Fixture written by `scripts/keras_norm_golden.py`.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::symbolic::apply;
use rkeras_layers::{CallContext, Input, Layer, layer_from_config};
use rkeras_tensor::Tensor;
use serde_json::Value;

fn golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/norm_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
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

fn assert_close(actual: &ArrayD<f32>, expected: &ArrayD<f32>, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    for (i, (a, e)) in actual.iter().zip(expected.iter()).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5,
            "{what}: element {i}: {a} vs Keras {e}"
        );
    }
}

fn forward(layer: &dyn Layer, x: &ArrayD<f32>, training: bool) -> ArrayD<f32> {
    let mut rng = StdRng::seed_from_u64(0);
    let ctx = &mut CallContext {
        training,
        rng: &mut rng,
    };
    layer
        .forward(&[Tensor::new(x.clone())], ctx)
        .unwrap()
        .data()
        .clone()
}

#[test]
fn every_layer_matches_keras() {
    let golden = golden();
    let cases = golden["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 28);
    for case in cases {
        let what = case["name"].as_str().unwrap();
        let class = case["class"].as_str().unwrap();
        let layer = layer_from_config(class, &case["config"]).unwrap();
        let x = array(&case["input"]);
        let expected = array(&case["output"]);
        // The symbolic call checks the output shape at build time.
        let out = apply(layer.clone(), &[Input::new(&x.shape()[1..])]).unwrap();
        assert_eq!(out.shape(), &expected.shape()[1..], "{what}: built shape");
        let weights = case["weights"].as_array().unwrap();
        assert_eq!(layer.weights().len(), weights.len(), "{what}: weight count");
        for (w, value) in layer.weights().iter().zip(weights) {
            assert_eq!(
                w.name(),
                value["name"].as_str().unwrap(),
                "{what}: weight name"
            );
            w.set_value(array(value)).unwrap();
        }
        assert_close(&forward(&*layer, &x, false), &expected, what);
        if let Some(training) = case.get("training_output") {
            assert_close(
                &forward(&*layer, &x, true),
                &array(training),
                &format!("{what} training"),
            );
            for (w, value) in layer
                .weights()
                .iter()
                .zip(case["weights_after_training_call"].as_array().unwrap())
            {
                assert_close(
                    &w.value(),
                    &array(value),
                    &format!("{what}: {} after training", w.name()),
                );
            }
        }
        // Keras's config keys come back with Keras's values (initializers, dtype and name aside).
        let ours = layer.config();
        for (key, value) in case["config"].as_object().unwrap() {
            if key == "dtype" || key.ends_with("initializer") {
                continue;
            }
            let mine = &ours[key.as_str()];
            let same = match (mine.as_f64(), value.as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-7 * b.abs().max(1.0),
                _ => mine == value || (key == "axis" && value[0] == *mine),
            };
            assert!(same, "{what}: config `{key}`: ours {mine}, Keras {value}");
        }
    }
}
