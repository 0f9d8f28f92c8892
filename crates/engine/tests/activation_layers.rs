//! A Keras-written `.h5` of the activation layers (ReLU with arguments, LeakyReLU, PReLU with shared axes and
//! learned alphas, ELU, Softmax over axis 1, Dense with gelu/silu/mish and he_normal/lecun_uniform/
//! truncated-normal initializer configs, `Activation("hard_silu")`) loads with `load_model` and predicts as
//! Keras does; saved by rkeras it loads back unchanged, and Keras loads rkeras's file with the same layers,
//! configs, weights (PReLU's alpha included) and predictions (`scripts/keras_activations_golden.py check`).

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
fn keras_activation_layers_load_predict_and_save_back_both_ways() {
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("activation_layers_golden.json")).unwrap(),
    )
    .unwrap();
    let model = load_model(fixture("activation_layers.h5")).unwrap();
    let x = array(&golden["x"]);
    let expected = array(&golden["predict"]);
    let predicted = model.predict(std::slice::from_ref(&x), 6).unwrap();
    assert_eq!(predicted.shape(), expected.shape());
    for (i, (a, e)) in predicted.iter().zip(&expected).enumerate() {
        assert!((a - e).abs() <= 1e-5, "element {i}: {a} vs Keras {e}");
    }
    // PReLU's alpha came from Keras's file: shape [1, 3] (shared over the 4 steps).
    let alpha = model
        .weights()
        .into_iter()
        .find(|w| w.name() == "alpha")
        .unwrap();
    assert_eq!(alpha.shape(), vec![1, 3]);
    let keras_alpha = golden["weights"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(path, _)| path.ends_with("alpha"))
        .map(|(_, v)| array(v))
        .unwrap();
    assert_eq!(*alpha.value(), keras_alpha);

    let dir = std::env::temp_dir().join(format!("rkeras_activation_h5_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("activation_layers.h5");
    model.save(&saved).unwrap();
    let reloaded = load_model(&saved).unwrap();
    assert_eq!(reloaded.predict(&[x], 6).unwrap(), predicted);
    rkeras_testkit::run_keras_check(
        "Keras's load of the rkeras-written activation_layers.h5",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras_activations_golden.py"
        ),
        [std::path::Path::new("check"), dir.as_path()],
        "keras load ok",
    );
}
