//! Both hard sigmoids against Keras 3 (`scripts/keras_hard_sigmoid_golden.py`): Keras 3's `hard_sigmoid`
//! (`relu6(x + 3) / 6`) and Keras 1/2's (`clip(0.2x + 0.5, 0, 1)`, Keras 3's `legacy.backend.hard_sigmoid`), as
//! an activation, as a Dense activation and as an LSTM's recurrent activation.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::{ActivationFn, CallContext, Dense, Input, LSTM, LayerCall, Network};
use rkeras_tensor::Tensor;
use serde_json::Value;

fn golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hard_sigmoid.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A nested JSON list as an array.
fn array(value: &Value) -> ArrayD<f32> {
    fn walk(v: &Value, shape: &mut Vec<usize>, depth: usize, out: &mut Vec<f32>) {
        match v {
            Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                }
                items.iter().for_each(|i| walk(i, shape, depth + 1, out));
            }
            other => out.push(other.as_f64().unwrap() as f32),
        }
    }
    let (mut shape, mut values) = (Vec::new(), Vec::new());
    walk(value, &mut shape, 0, &mut values);
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

fn assert_close(actual: &ArrayD<f32>, expected: &ArrayD<f32>, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}");
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-5, "{what}: {a} vs Keras's {e}");
    }
}

#[test]
fn both_forms_match_keras_on_a_grid_through_the_kinks() {
    let g = golden();
    let grid = Tensor::new(array(&g["grid"]));
    for (name, key) in [
        ("hard_sigmoid", "keras3"),
        ("hard_sigmoid_keras2", "keras2"),
    ] {
        let out = ActivationFn::from_name(name).unwrap().apply(&grid).unwrap();
        assert_close(out.data(), &array(&g[key]), name);
    }
}

#[test]
fn lstm_gates_and_dense_activation_match_keras_in_both_forms() {
    let g = golden();
    let x = array(&g["inputs"]);
    for (name, key) in [
        ("hard_sigmoid", "keras3"),
        ("hard_sigmoid_keras2", "keras2"),
    ] {
        let input = Input::new(&[3, 4]);
        let seq = LSTM::new(5)
            .with_return_sequences(true)
            .with_recurrent_activation(name)
            .unwrap()
            .call(&input)
            .unwrap();
        let out = Dense::new(6)
            .with_activation(name)
            .unwrap()
            .call(&seq)
            .unwrap();
        let net = Network::new(&[input], &[out]).unwrap();
        let weights = g[format!("{key}_weights")].as_array().unwrap();
        for (w, v) in net.weights().iter().zip(weights) {
            w.set_value(array(v)).unwrap();
        }
        let mut rng = StdRng::seed_from_u64(0);
        let mut ctx = CallContext {
            training: false,
            rng: &mut rng,
        };
        let y = net.forward(&[Tensor::new(x.clone())], &mut ctx).unwrap();
        assert_close(y[0].data(), &array(&g[format!("{key}_outputs")]), name);
    }
}
