//! Attention, AdditiveAttention and EinsumDense in a whole model, against Keras 3: a model of the three saved
//! by Keras (`.h5`) loads with `load_model` and predicts as Keras does; saved again by rkeras it loads back
//! unchanged (and in Keras: `scripts/keras_attention_h5.py check DIR`).
//!
//! Fixtures written by `scripts/keras_attention_h5.py`.

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::load_model;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
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

#[test]
fn keras_attention_model_loads_predicts_and_saves_back() {
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("attention_h5_golden.json")).unwrap(),
    )
    .unwrap();
    let model = load_model(fixture("attention_layers.h5")).unwrap();
    let inputs = [array(&golden["query"]), array(&golden["value"])];
    let expected = array(&golden["predict"]);
    let predicted = model.predict(&inputs, 3).unwrap();
    assert_eq!(predicted.shape(), expected.shape());
    for (i, (a, e)) in predicted.iter().zip(expected.iter()).enumerate() {
        assert!((a - e).abs() <= 1e-5, "element {i}: {a} vs Keras {e}");
    }
    let out_dir = std::env::temp_dir().join(format!("rkeras_attention_h5_{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let saved = out_dir.join("attention_layers.h5");
    model.save(&saved).unwrap();
    let reloaded = load_model(&saved).unwrap();
    assert_eq!(reloaded.predict(&inputs, 3).unwrap(), predicted);
    let names = |m: &rkeras_engine::Model| -> Vec<String> {
        m.weights().iter().map(|w| w.name().to_string()).collect()
    };
    assert_eq!(names(&reloaded), names(&model));
    assert_eq!(
        names(&model),
        [
            "kernel",
            "bias",
            "scale",
            "concat_score_weight",
            "scale",
            "scale",
            "kernel",
            "bias"
        ]
    );
    println!("rkeras saved {}", saved.display());
}
