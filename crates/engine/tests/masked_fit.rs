//! fit, evaluate, train_on_batch and test_on_batch on a sequence model whose output carries a timestep mask
//! (Embedding(mask_zero) → LSTM(return_sequences) → Dense), against Keras 3
//! on TensorFlow (`scripts/keras_masked_fit_golden.py`; see there why not JAX): losses and metrics count the kept steps only, shards divide by the
//! whole batch's kept steps (1 and 2 shards agree), and 1 or 2 threads give the same bits.

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{Dense, Embedding, Input, LSTM, LayerCall};
use rkeras_optim::SGD;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_masked_fit.json"
);

fn flatten(v: &Value, out: &mut Vec<f32>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(other.as_f64().unwrap() as f32),
    }
}

fn shape_of(v: &Value) -> Vec<usize> {
    let mut shape = Vec::new();
    let mut v = v;
    while let Value::Array(items) = v {
        shape.push(items.len());
        v = &items[0];
    }
    shape
}

fn array(v: &Value) -> ArrayD<f32> {
    let mut values = Vec::new();
    flatten(v, &mut values);
    ArrayD::from_shape_vec(IxDyn(&shape_of(v)), values).unwrap()
}

fn weights(case: &Value, key: &str) -> Vec<ArrayD<f32>> {
    let shapes = case["weight_shapes"].as_array().unwrap();
    case[key]
        .as_array()
        .unwrap()
        .iter()
        .zip(shapes)
        .map(|(w, shape)| {
            let shape: Vec<usize> = serde_json::from_value(shape.clone()).unwrap();
            let mut values = Vec::new();
            flatten(w, &mut values);
            ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
        })
        .collect()
}

fn model(case: &Value) -> Model {
    let ids = Input::new(&[7]);
    let x = Embedding::new(12, 4)
        .with_mask_zero(true)
        .call(&ids)
        .unwrap();
    let x = LSTM::new(5).with_return_sequences(true).call(&x).unwrap();
    let sparse = case["case"] == "sparse";
    let dense = if sparse {
        Dense::new(3).with_activation("softmax").unwrap()
    } else {
        Dense::new(2)
    };
    let y = dense.call(&x).unwrap();
    let mut model = Model::new(&[ids], &y).unwrap();
    model
        .set_weights(&weights(case, "initial_weights"))
        .unwrap();
    if sparse {
        model
            .compile(
                SGD::new(0.5).unwrap(),
                "sparse_categorical_crossentropy",
                &["accuracy"],
            )
            .unwrap();
    } else {
        model
            .compile(SGD::new(0.1).unwrap(), "mse", &["mae"])
            .unwrap();
    }
    model
}

fn close(what: &str, got: f64, expected: f64) {
    assert!(
        (got - expected).abs() <= 1e-5 * expected.abs().max(1.0),
        "{what}: rkeras {got} vs Keras {expected}"
    );
}

fn close_weights(what: &str, got: &[ArrayD<f32>], expected: &[ArrayD<f32>]) {
    assert_eq!(got.len(), expected.len());
    for (i, (a, b)) in got.iter().zip(expected).enumerate() {
        assert_eq!(a.shape(), b.shape(), "{what} weight {i}");
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x - y).abs() <= 1e-5,
                "{what} weight {i}: rkeras {x} vs Keras {y}"
            );
        }
    }
}

fn logs_match(what: &str, got: &rkeras_callbacks::Logs, expected: &Value) {
    for (key, value) in expected.as_object().unwrap() {
        close(&format!("{what} {key}"), got[key], value.as_f64().unwrap());
    }
}

/// One run against Keras. Returns, for comparisons between runs, the bits of fit's history and of the weights
/// after fit (train_on_batch splits its batch by the number of threads, so its step is compared with Keras
/// only).
fn run(case: &Value, shards: usize) -> (Vec<u64>, Vec<u32>) {
    let mut m = model(case);
    let (x, y) = (array(&case["x"]), array(&case["y"]));
    let (xt, yt) = (array(&case["x_test"]), array(&case["y_test"]));
    let config = FitConfig::new()
        .batch_size(16)
        .epochs(3)
        .shuffle(false)
        .verbose(0)
        .shards(shards);
    let history = m.fit(std::slice::from_ref(&x), &y, config).unwrap();
    let mut bits = Vec::new();
    for (key, expected) in case["history"].as_object().unwrap() {
        let got = history.get(key).unwrap();
        for (epoch, (a, b)) in got.iter().zip(expected.as_array().unwrap()).enumerate() {
            close(
                &format!("shards {shards} epoch {epoch} {key}"),
                *a,
                b.as_f64().unwrap(),
            );
            bits.push(a.to_bits());
        }
    }
    let fitted = m.get_weights();
    close_weights("after fit", &fitted, &weights(case, "fit_weights"));
    let evaluated = m.evaluate(std::slice::from_ref(&xt), &yt, 16).unwrap();
    logs_match("evaluate", &evaluated, &case["evaluate"]);
    let rows = |a: &ArrayD<f32>, r: std::ops::Range<usize>| {
        a.slice_axis(ndarray::Axis(0), r.into()).to_owned()
    };
    let tested = m
        .test_on_batch(&[rows(&x, 0..16)], &rows(&y, 0..16), None)
        .unwrap();
    logs_match("test_on_batch", &tested, &case["test_on_batch"]);
    let trained = m
        .train_on_batch(&[rows(&x, 16..32)], &rows(&y, 16..32), None)
        .unwrap();
    logs_match("train_on_batch", &trained, &case["train_on_batch"]);
    close_weights(
        "at the end",
        &m.get_weights(),
        &weights(case, "final_weights"),
    );
    let fitted = fitted.iter().flat_map(|w| w.iter().map(|v| v.to_bits()));
    (bits, fitted.collect())
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn masked_sequence_training_matches_keras_with_one_and_two_shards() {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        for shards in [1, 2] {
            let one = in_pool(1, || run(case, shards));
            let two = in_pool(2, || run(case, shards));
            assert_eq!(
                one, two,
                "{} with {shards} shard(s): 1 and 2 threads differ",
                case["case"]
            );
        }
    }
}
