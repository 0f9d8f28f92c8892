//! `hard_sigmoid` in a loaded file means what the Keras that wrote it meant: Keras 3's `relu6(x + 3) / 6` in a
//! Keras 3 file, Keras 1/2's `clip(0.2x + 0.5, 0, 1)` in one whose root `keras_version` is 2.x. Both files and the
//! expected outputs come from `scripts/keras_hard_sigmoid_golden.py` (the Keras 2 file is the Keras 3 file with
//! its version attribute changed; its outputs are Keras's with the legacy hard sigmoid).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::load_model;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../layers/tests/fixtures/hard_sigmoid.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

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

#[test]
fn the_file_s_keras_version_chooses_the_formula() {
    let g = golden();
    let x = array(&g["inputs"]);
    for (file, key) in [
        ("hard_sigmoid_keras3.h5", "keras3"),
        ("hard_sigmoid_keras2.h5", "keras2"),
    ] {
        let model = load_model(format!("{FIXTURES}/{file}")).unwrap();
        let y = model.predict(std::slice::from_ref(&x), 32).unwrap();
        let expected = array(&g[format!("{key}_outputs")]);
        assert_eq!(y.shape(), expected.shape());
        for (a, e) in y.iter().zip(&expected) {
            assert!((a - e).abs() < 1e-5, "{file}: {a} vs Keras's {e}");
        }
    }
}

#[test]
fn a_keras2_form_survives_an_rkeras_save() {
    let model = load_model(format!("{FIXTURES}/hard_sigmoid_keras2.h5")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.h5");
    model.save(&path).unwrap();
    let again = load_model(&path).unwrap();
    let x = array(&golden()["inputs"]);
    assert_eq!(
        model.predict(std::slice::from_ref(&x), 8).unwrap(),
        again.predict(&[x], 8).unwrap()
    );
}
