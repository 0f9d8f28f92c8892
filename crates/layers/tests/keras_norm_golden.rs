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

/// Finite differences confirm every layer's input gradient (BatchNormalization in training mode too, where
/// the gradient flows through the batch statistics), and gamma/beta's gradients of the normalization layers.
#[test]
fn gradients_match_finite_differences() {
    use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
    use rkeras_tensor::{TensorError, Variable};
    let golden = golden();
    for case in golden["cases"].as_array().unwrap() {
        let what = case["name"].as_str().unwrap();
        let layer = layer_from_config(case["class"].as_str().unwrap(), &case["config"]).unwrap();
        let x = array(&case["input"]);
        apply(layer.clone(), &[Input::new(&x.shape()[1..])]).unwrap();
        let weights: Vec<Variable> = layer.weights();
        for (w, value) in weights.iter().zip(case["weights"].as_array().unwrap()) {
            w.set_value(array(value)).unwrap();
        }
        let modes: &[bool] = if case.get("training_output").is_some() {
            &[false, true]
        } else {
            &[false]
        };
        for &training in modes {
            let run = |xs: &[Tensor]| {
                let mut rng = StdRng::seed_from_u64(0);
                let ctx = &mut CallContext {
                    training,
                    rng: &mut rng,
                };
                layer
                    .forward(&xs[..1], ctx)
                    .map_err(|e| TensorError::invalid_argument("layer", e.to_string()))
            };
            let report =
                check_gradients(std::slice::from_ref(&x), run, GradCheck::default()).unwrap();
            assert!(report.passed(), "{what} (training {training}): {report:?}");
            // Gamma and beta (and BatchNormalization's trainable weights): Σ out·R perturbed element by element.
            let forward_loss = || {
                let mut rng = StdRng::seed_from_u64(0);
                let ctx = &mut CallContext {
                    training,
                    rng: &mut rng,
                };
                let out = layer.forward(&[Tensor::new(x.clone())], ctx).unwrap();
                let r = Tensor::new(out.data().mapv(|v| (v * 7.3).sin()));
                (out.mul(&r).unwrap().sum_all().unwrap(), r)
            };
            let (loss, r) = forward_loss();
            let grads = loss.backward().unwrap();
            for w in weights.iter().filter(|w| w.trainable()) {
                let original = w.value().as_ref().clone();
                let analytic = grads.get_var(w).unwrap().clone();
                for j in 0..original.len() {
                    let eval = |delta: f32| {
                        let mut v = original.clone();
                        v.as_slice_mut().unwrap()[j] += delta;
                        w.set_value(v).unwrap();
                        let mut rng = StdRng::seed_from_u64(0);
                        let ctx = &mut CallContext {
                            training,
                            rng: &mut rng,
                        };
                        let out = layer.forward(&[Tensor::new(x.clone())], ctx).unwrap();
                        f64::from(out.mul(&r).unwrap().sum_all().unwrap().to_scalar().unwrap())
                    };
                    let numeric = (eval(5e-3) - eval(-5e-3)) / 1e-2;
                    let a = f64::from(analytic.as_slice().unwrap()[j]);
                    assert!(
                        (a - numeric).abs() <= 1e-3 + 1e-2 * a.abs().max(numeric.abs()),
                        "{what} (training {training}): d/d {}[{j}]: {a} vs {numeric}",
                        w.name()
                    );
                }
                w.set_value(original).unwrap();
            }
        }
    }
}
