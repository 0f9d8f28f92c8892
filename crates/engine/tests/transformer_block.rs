//! A Keras-built Transformer block (token ids → Embedding → MultiHeadAttention → Dropout → Add →
//! LayerNormalization → Dense feed-forward → Add → LayerNormalization → GlobalAveragePooling1D → Dense softmax)
//! crossing both ways with Keras 3.15 through `load_model` and `save`, as `.keras` and as legacy `.h5`.
//!
//! The fixtures (`tests/fixtures/transformer`, written by `scripts/keras_transformer_block_golden.py`):
//! `self_attention` calls `mha(x, x)`; `cross_causal` calls `mha(query, value, attention_mask=mask,
//! use_causal_mask=True)` on two embedded token inputs and a mask input. rkeras rebuilds the calls from the
//! saved `kwargs` and predicts Keras's outputs within 1e-5; the files it writes load in Keras with the same
//! predictions (run for real through the Python of `rkeras_testkit::keras_python`: a failure with CI=true
//! when it is missing, a loud notice otherwise).

use ndarray::ArrayD;
use rkeras_engine::load_model;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod golden_json;
use golden_json::array;

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/transformer"
    ))
}

/// The fixture's input batches and Keras's predictions.
fn golden(name: &str) -> (Vec<ArrayD<f32>>, ArrayD<f32>) {
    let text = std::fs::read_to_string(fixture_dir().join(format!("{name}.json"))).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let x = json["x"]
        .as_array()
        .unwrap()
        .iter()
        .zip(json["x_shape"].as_array().unwrap())
        .map(|(v, s)| array(v, s))
        .collect();
    (x, array(&json["y"], &json["y_shape"]))
}

fn assert_close(actual: &ArrayD<f32>, expected: &ArrayD<f32>, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5,
            "{what}: element {i}: {a} vs Keras {e}"
        );
    }
}

fn keras_check(name: &str, written: &Path) {
    rkeras_testkit::run_keras_check(
        &format!("Keras's load of the rkeras-written {}", written.display()),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras_transformer_block_golden.py"
        ),
        [Path::new("check"), &fixture_dir(), Path::new(name), written],
        "transformer ok",
    );
}

/// The saved call of the model's MultiHeadAttention layer (its one inbound node) in the config of a `.keras`
/// file rkeras wrote.
fn saved_attention_call(model: &rkeras_engine::Model) -> Value {
    let config = model.network().to_config("m");
    config["config"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["class_name"] == "MultiHeadAttention")
        .unwrap()["inbound_nodes"][0]
        .clone()
}

/// Loads NAME.EXTENSION (Keras's save), checks its predictions, saves it back in both formats, reloads those
/// in rkeras and has Keras load and predict them.
fn cross_both_ways(name: &str, extension: &str) -> rkeras_engine::Model {
    let (x, y) = golden(name);
    let model = load_model(fixture_dir().join(format!("{name}.{extension}"))).unwrap();
    let predicted = model.predict(&x, 3).unwrap();
    assert_close(&predicted, &y, &format!("{name}.{extension}"));

    let dir = tempfile::tempdir().unwrap();
    for written in ["keras", "h5"] {
        let path = dir.path().join(format!("{name}.{written}"));
        model.save(&path).unwrap();
        let reloaded = load_model(&path).unwrap();
        assert_eq!(
            reloaded.predict(&x, 3).unwrap(),
            predicted,
            "{name}: rkeras's reload of its {written}"
        );
        keras_check(name, &path);
    }
    model
}

#[test]
fn a_self_attention_block_from_keras_keras_file_crosses_both_ways() {
    let model = cross_both_ways("self_attention", "keras");
    let call = saved_attention_call(&model);
    let args = call["args"].as_array().unwrap();
    assert_eq!(args.len(), 2, "query and value are two arguments: {call}");
    assert_eq!(args[0]["config"]["keras_history"][0], "embedding");
    assert_eq!(args[1]["config"]["keras_history"][0], "embedding");
    assert_eq!(call["kwargs"], serde_json::json!({}));
}

#[test]
fn a_self_attention_block_from_keras_h5_file_crosses_both_ways() {
    cross_both_ways("self_attention", "h5");
}

#[test]
fn a_causal_masked_cross_attention_block_from_keras_keras_file_crosses_both_ways() {
    let model = cross_both_ways("cross_causal", "keras");
    let call = saved_attention_call(&model);
    let history = |v: &Value| v["config"]["keras_history"][0].clone();
    let args = call["args"].as_array().unwrap();
    assert_eq!(
        args.iter().map(history).collect::<Vec<_>>(),
        ["embedding_1", "embedding_2"],
        "{call}"
    );
    assert_eq!(history(&call["kwargs"]["attention_mask"]), "attention_mask");
    assert_eq!(call["kwargs"]["use_causal_mask"], true);
    assert_eq!(call["kwargs"].as_object().unwrap().len(), 2, "{call}");
}

#[test]
fn a_causal_masked_cross_attention_block_from_keras_h5_file_crosses_both_ways() {
    cross_both_ways("cross_causal", "h5");
}

#[test]
fn the_call_settings_decide_the_predictions() {
    // Without the causal mask read from the saved call, the predictions are not Keras's.
    let (x, y) = golden("cross_causal");
    let path = fixture_dir().join("cross_causal.keras");
    let saved: Value =
        serde_json::from_str(&rkeras_io::load_keras_file(&path).unwrap().config).unwrap();
    let mut config = saved.clone();
    let layers = config["config"]["layers"].as_array_mut().unwrap();
    let mha = layers
        .iter_mut()
        .find(|l| l["class_name"] == "MultiHeadAttention")
        .unwrap();
    mha["inbound_nodes"][0]["kwargs"]["use_causal_mask"] = Value::Bool(false);
    let network = rkeras_layers::Network::from_config(&config).unwrap();
    let model = load_model(&path).unwrap();
    for (from, to) in model.network().layers().iter().zip(network.layers()) {
        for (a, b) in from.weights().iter().zip(to.weights()) {
            b.set_value((*a.value()).clone()).unwrap();
        }
    }
    let without = rkeras_engine::Model::from_network(network)
        .predict(&x, 3)
        .unwrap();
    let worst = without
        .iter()
        .zip(&y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst > 1e-3, "the causal mask changed nothing ({worst})");

    // Calls of one layer with different settings cannot be held as the layer's settings.
    let mut shared = saved;
    let layers = shared["config"]["layers"].as_array_mut().unwrap();
    let mha = layers
        .iter_mut()
        .find(|l| l["class_name"] == "MultiHeadAttention")
        .unwrap();
    let mut second = mha["inbound_nodes"][0].clone();
    second["kwargs"]["use_causal_mask"] = Value::Bool(false);
    mha["inbound_nodes"].as_array_mut().unwrap().push(second);
    let Err(err) = rkeras_layers::Network::from_config(&shared) else {
        panic!("differing call settings of one layer were accepted");
    };
    assert!(err.to_string().contains("multi_head_attention"), "{err}");
}
