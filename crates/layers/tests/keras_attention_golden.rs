//! Attention, AdditiveAttention and EinsumDense against Keras 3: each layer is rebuilt from Keras's config,
//! given Keras's weights and call options (explicit masks, causal mask, returned scores), and must give Keras's
//! outputs within 1e-5; its config comes back with Keras's names and values; finite differences confirm the
//! gradients with respect to every input and weight; runs with 1 and 2 threads are bit-identical.
//! Fixture written by `scripts/keras_attention_golden.py`.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::{
    AdditiveAttention, Attention, CallContext, EinsumDense, Input, Layer, LayerRef,
    layer_from_config,
};
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::{Tensor, TensorError};
use serde_json::Value;
use std::sync::Arc;

fn golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/attention_golden.json"
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

/// The case's layer, with its call options, built on the case's input shapes and given Keras's weights; and
/// the call's inputs (masks as ones and zeros after the data).
fn layer_and_inputs(case: &Value) -> (LayerRef, Vec<ArrayD<f32>>) {
    let config = &case["config"];
    let masks = !case["masks"].is_null();
    let causal = case["use_causal_mask"].as_bool().unwrap_or(false);
    let scores = case["return_attention_scores"].as_bool().unwrap_or(false);
    let layer: LayerRef = match case["class"].as_str().unwrap() {
        "Attention" => Arc::new(
            Attention::from_config(config)
                .unwrap()
                .with_masks(masks)
                .with_causal_mask(causal)
                .with_return_attention_scores(scores),
        ),
        "AdditiveAttention" => Arc::new(
            AdditiveAttention::from_config(config)
                .unwrap()
                .with_masks(masks)
                .with_causal_mask(causal)
                .with_return_attention_scores(scores),
        ),
        "EinsumDense" => Arc::new(EinsumDense::from_config(config).unwrap()),
        other => panic!("unexpected class {other}"),
    };
    let mut inputs: Vec<ArrayD<f32>> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(array)
        .collect();
    if masks {
        inputs.extend(case["masks"].as_array().unwrap().iter().map(array));
    }
    let symbolic: Vec<_> = inputs.iter().map(|x| Input::new(&x.shape()[1..])).collect();
    let outputs = rkeras_layers::symbolic::apply_all(layer.clone(), &symbolic).unwrap();
    let expected = array(&case["output"]);
    assert_eq!(outputs[0].shape(), &expected.shape()[1..], "built shape");
    let weights = case["weights"].as_array().unwrap();
    assert_eq!(layer.weights().len(), weights.len(), "weight count");
    for (w, value) in layer.weights().iter().zip(weights) {
        assert_eq!(w.name(), value["name"].as_str().unwrap(), "weight name");
        w.set_value(array(value)).unwrap();
    }
    (layer, inputs)
}

fn run(layer: &dyn Layer, inputs: &[Tensor], training: bool) -> Vec<Tensor> {
    let mut rng = StdRng::seed_from_u64(3);
    let ctx = &mut CallContext {
        training,
        rng: &mut rng,
    };
    layer.forward_all(inputs, ctx).unwrap()
}

fn tensors(inputs: &[ArrayD<f32>]) -> Vec<Tensor> {
    inputs.iter().cloned().map(Tensor::new).collect()
}

#[test]
fn every_layer_matches_keras() {
    let golden = golden();
    let cases = golden["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 18);
    for case in cases {
        let what = case["name"].as_str().unwrap();
        let (layer, inputs) = layer_and_inputs(case);
        let outputs = run(&*layer, &tensors(&inputs), false);
        assert_close(outputs[0].data(), &array(&case["output"]), what);
        if let Some(scores) = case.get("scores") {
            assert_eq!(outputs.len(), 2, "{what}: the scores are returned");
            assert_close(outputs[1].data(), &array(scores), &format!("{what} scores"));
        }
        // Keras's config keys come back with Keras's values (dtype and initializers aside), and the registry
        // rebuilds the layer from its own config.
        let ours = layer.config();
        for (key, value) in case["config"].as_object().unwrap() {
            if key == "dtype" || key.ends_with("initializer") || key == "quantization_config" {
                continue;
            }
            let mine = &ours[key.as_str()];
            let same = match (mine.as_f64(), value.as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-7 * b.abs().max(1.0),
                _ => mine == value,
            };
            assert!(same, "{what}: config `{key}`: ours {mine}, Keras {value}");
        }
        let again = layer_from_config(layer.class_name(), &ours).unwrap();
        assert_eq!(again.config(), ours, "{what}: config round trip");
    }
}

/// Dropout on the attention distribution: in training, a seeded run repeats itself and differs from
/// inference; the kept weights are scaled by `1 / (1 − rate)`, so each row of the scores sums to about 1 only in
/// expectation, while inference rows sum to exactly 1.
#[test]
fn dropout_applies_to_the_scores_in_training_only() {
    let golden = golden();
    let case = golden["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "concat_scale_masks")
        .unwrap();
    let (layer, inputs) = layer_and_inputs(case);
    let x = tensors(&inputs);
    let (a, b) = (run(&*layer, &x, true), run(&*layer, &x, true));
    assert_eq!(a[1].to_vec(), b[1].to_vec());
    let inference = run(&*layer, &x, false);
    assert_ne!(a[1].to_vec(), inference[1].to_vec());
    let rate = 0.1f32;
    for (t, i) in a[1].to_vec().iter().zip(inference[1].to_vec()) {
        assert!(
            *t == 0.0 || (t - i / (1.0 - rate)).abs() < 1e-6,
            "{t} vs {i}"
        );
    }
}

/// Finite differences confirm the gradients with respect to the query, value and key, and every weight.
#[test]
fn gradients_match_finite_differences() {
    let golden = golden();
    for case in golden["cases"].as_array().unwrap() {
        let what = case["name"].as_str().unwrap();
        let (layer, inputs) = layer_and_inputs(case);
        let data = case["inputs"].as_array().unwrap().len();
        let masks: Vec<Tensor> = tensors(&inputs[data..]);
        let f = |xs: &[Tensor]| {
            let all: Vec<Tensor> = xs.iter().chain(&masks).cloned().collect();
            let mut rng = StdRng::seed_from_u64(0);
            let ctx = &mut CallContext {
                training: false,
                rng: &mut rng,
            };
            let outputs = layer
                .forward_all(&all, ctx)
                .map_err(|e| TensorError::invalid_argument("layer", e.to_string()))?;
            // The scores too, when returned: Σ output·R + Σ scores·R' with a fixed R'.
            match outputs.as_slice() {
                [out, scores] => {
                    let r = Tensor::new(ArrayD::from_shape_fn(IxDyn(scores.shape()), |ix| {
                        ((ix[0] + 2 * ix[1] + 3 * ix[2]) as f32 * 1.7).cos()
                    }));
                    out.mul(&r.sum(&[-1], true)?)?
                        .add(&scores.mul(&r)?.sum(&[-1], true)?)
                }
                [out] => Ok(out.clone()),
                _ => unreachable!(),
            }
        };
        let report = check_gradients(&inputs[..data], f, GradCheck::default()).unwrap();
        assert!(report.passed(), "{what}: {report:?}");
        // Weights: the gradient of Σ out·R against central differences, element by element.
        let loss_of = |r: Option<&Tensor>| {
            let out = run(&*layer, &tensors(&inputs), false).swap_remove(0);
            let r = r
                .cloned()
                .unwrap_or_else(|| Tensor::new(out.data().mapv(|v| (v * 7.3).sin() + 0.2)));
            (out.mul(&r).unwrap().sum_all().unwrap(), r)
        };
        let (loss, r) = loss_of(None);
        let grads = loss.backward().unwrap();
        for w in layer.weights() {
            let original = w.value().as_ref().clone();
            let analytic = grads.get_var(&w).unwrap().clone();
            for j in 0..original.len() {
                let eval = |delta: f32| {
                    let mut v = original.clone();
                    v.as_slice_mut().unwrap()[j] += delta;
                    w.set_value(v).unwrap();
                    f64::from(loss_of(Some(&r)).0.to_scalar().unwrap())
                };
                let numeric = (eval(5e-3) - eval(-5e-3)) / 1e-2;
                let a = f64::from(analytic.as_slice().unwrap()[j]);
                assert!(
                    (a - numeric).abs() <= 2e-3 + 1e-2 * a.abs().max(numeric.abs()),
                    "{what}: d/d {}[{j}]: {a} vs {numeric}",
                    w.name()
                );
            }
            w.set_value(original).unwrap();
        }
    }
}

/// Forward and backward with 1 and with 2 threads give the same bits (training mode, dropout included).
#[test]
fn one_and_two_threads_are_bit_identical() {
    let golden = golden();
    for case in golden["cases"].as_array().unwrap() {
        let what = case["name"].as_str().unwrap();
        let (layer, inputs) = layer_and_inputs(case);
        let once = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let xs: Vec<Tensor> = inputs.iter().cloned().map(Tensor::leaf).collect();
                let out = run(&*layer, &xs, true).swap_remove(0);
                let grads = out.sum_all().unwrap().backward().unwrap();
                let mut bits = out.to_vec();
                for x in &xs {
                    if let Some(g) = grads.gradient(x) {
                        bits.extend(g.clone().into_dense().unwrap().iter());
                    }
                }
                for w in layer.weights() {
                    bits.extend(grads.get_var(&w).unwrap().iter());
                }
                bits.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
            })
        };
        assert_eq!(once(1), once(2), "{what}");
    }
}
