//! A model used as a layer and frozen, holding BatchNormalizations, crossing both ways with Keras 3.15.
//!
//! The fixtures (`tests/fixtures/frozen_nested`, written by `scripts/keras_frozen_nested_golden.py`):
//! `Sequential([backbone, Dense(2)])` with `backbone = Sequential([Dense(5, tanh), BatchNormalization,
//! Dense(3), BatchNormalization])`, saved by Keras as `.keras` and legacy `.h5`, `frozen` with
//! `backbone.trainable = False`, `partial` with only the first Dense and BatchNormalization frozen. rkeras loads
//! them with Keras's trainable flags and weight counts, fits one epoch exactly as Keras (the frozen
//! BatchNormalizations in inference mode: their moving statistics do not move), and the files it writes load in
//! Keras with the same flags and predictions (run for real through `rkeras_testkit::keras_python`: a failure
//! with CI=true when it is missing, a loud notice otherwise).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model, Sequential, load_model};
use rkeras_layers::{BatchNormalization, Dense, set_random_seed};
use rkeras_optim::SGD;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod golden_json;
use golden_json::{array, assert_close, floats, sizes};

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/frozen_nested"
    ))
}

fn golden(case: &str) -> Value {
    let text = std::fs::read_to_string(fixture_dir().join(format!("{case}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The saved configs of the backbone's layers (the model named `backbone` inside the saved model), without
/// its input layer.
fn saved_backbone_layers(model: &Model) -> Vec<Value> {
    let config = model.network().to_config("m");
    let backbone = config["config"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["config"]["name"] == "backbone")
        .unwrap()
        .clone();
    backbone["config"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["class_name"] != "InputLayer")
        .cloned()
        .collect()
}

/// The `trainable` flag of every backbone layer in the config rkeras saves, by layer name.
fn saved_inner_flags(model: &Model) -> serde_json::Map<String, Value> {
    saved_backbone_layers(model)
        .iter()
        .map(|l| {
            (
                l["config"]["name"].as_str().unwrap().to_string(),
                l["config"]["trainable"].clone(),
            )
        })
        .collect()
}

/// Keras's counts of trainable and non-trainable weights and parameters, and its inner layers' flags.
fn assert_flags(model: &Model, flags: &Value, what: &str) {
    let weights = model.network().weights();
    let trainable = model.network().trainable_weights();
    let params = |ws: &[rkeras_tensor::Variable]| -> u64 {
        ws.iter()
            .map(|w| w.shape().iter().product::<usize>() as u64)
            .sum()
    };
    assert_eq!(
        trainable.len() as u64,
        flags["trainable_weights"].as_u64().unwrap(),
        "{what}: trainable weights"
    );
    assert_eq!(
        (weights.len() - trainable.len()) as u64,
        flags["non_trainable_weights"].as_u64().unwrap(),
        "{what}: non-trainable weights"
    );
    assert_eq!(
        params(&trainable),
        flags["trainable_params"].as_u64().unwrap(),
        "{what}: trainable params"
    );
    assert_eq!(
        params(&weights) - params(&trainable),
        flags["non_trainable_params"].as_u64().unwrap(),
        "{what}: non-trainable params"
    );
    assert_eq!(
        &saved_inner_flags(model),
        flags["inner"].as_object().unwrap(),
        "{what}: inner flags"
    );
    let summary = model.summary();
    let expected = format!(
        "Trainable params: {}",
        flags["trainable_params"].as_u64().unwrap()
    );
    assert!(summary.contains(&expected), "{what}: {summary}");
}

/// The moving mean and variance of the BatchNormalization `name` inside the backbone.
fn moving_statistics(model: &Model, name: &str) -> Vec<ArrayD<f32>> {
    let backbone = model
        .network()
        .layers()
        .iter()
        .find_map(|l| l.nested_network())
        .unwrap();
    let bn = backbone.layers().iter().find(|l| l.name() == name).unwrap();
    bn.weights()[2..]
        .iter()
        .map(|w| (*w.value()).clone())
        .collect()
}

/// Fits one SGD epoch as the golden script (SGD 0.1, mse, batch 4, no shuffling) and checks every weight
/// and the predictions after it against Keras's within 1e-5; writes the predictions to
/// `dir/predictions.json` for the Keras check and returns them with that file's path.
fn fit_one_epoch_as_keras(
    model: &mut Model,
    golden: &Value,
    dir: &Path,
    what: &str,
) -> (ArrayD<f32>, PathBuf) {
    let x = array(&golden["x"], &golden["x_shape"]);
    let y = array(&golden["y"], &golden["y_shape"]);
    model.compile(SGD::new(0.1).unwrap(), "mse", &[]).unwrap();
    let config = FitConfig::new()
        .epochs(1)
        .batch_size(4)
        .verbose(0)
        .shuffle(false);
    model.fit(std::slice::from_ref(&x), &y, config).unwrap();
    let after = model.get_weights();
    let expected = golden["weights_after"].as_array().unwrap();
    assert_eq!(after.len(), expected.len(), "{what}: weight count");
    for (i, (w, e)) in after.iter().zip(expected).enumerate() {
        let shape = sizes(&golden["weight_shapes"][i]);
        assert_eq!(w.shape(), &shape[..], "{what}: weight {i}");
        let values: Vec<f32> = w.iter().copied().collect();
        assert_close(
            &values,
            &floats(e),
            &format!("{what}: weight {i} after fit"),
        );
    }
    let predicted = model.predict(std::slice::from_ref(&x), 8).unwrap();
    assert_close(
        predicted.as_slice().unwrap(),
        &floats(&golden["predict_after"]),
        &format!("{what} after fit"),
    );
    let record = dir.join("predictions.json");
    let y_list: Vec<f32> = predicted.iter().copied().collect();
    std::fs::write(&record, serde_json::json!({ "y": y_list }).to_string()).unwrap();
    (predicted, record)
}

fn cross(case: &str, extension: &str) {
    let golden = golden(case);
    let what = format!("{case}.{extension}");
    let x = array(&golden["x"], &golden["x_shape"]);
    let mut model = load_model(fixture_dir().join(&what)).unwrap();
    assert_flags(&model, &golden["loaded_flags"][extension], &what);
    let before = model.predict(std::slice::from_ref(&x), 8).unwrap();
    assert_close(
        before.as_slice().unwrap(),
        &floats(&golden["predict_before"]),
        &what,
    );

    // One epoch as Keras's: the frozen BatchNormalizations keep their moving statistics.
    let moving_before = [
        moving_statistics(&model, "bn1"),
        moving_statistics(&model, "bn2"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (predicted, record) = fit_one_epoch_as_keras(&mut model, &golden, dir.path(), &what);
    assert_eq!(moving_statistics(&model, "bn1"), moving_before[0], "{what}");
    if case == "frozen" {
        assert_eq!(moving_statistics(&model, "bn2"), moving_before[1], "{what}");
    } else {
        assert_ne!(moving_statistics(&model, "bn2"), moving_before[1], "{what}");
    }

    // Saved back by rkeras: rkeras and Keras load the same flags and predictions.
    for written in ["keras", "h5"] {
        let path = dir.path().join(format!("{case}.{written}"));
        model.save(&path).unwrap();
        let reloaded = load_model(&path).unwrap();
        assert_flags(
            &reloaded,
            &golden["loaded_flags"][written],
            &format!("rkeras's reload of its {what} saved as .{written}"),
        );
        assert_eq!(
            reloaded.predict(std::slice::from_ref(&x), 8).unwrap(),
            predicted,
            "{what}: rkeras's reload of its .{written}"
        );
        rkeras_testkit::run_keras_check(
            &format!("Keras's load of the rkeras-written {case}.{written}"),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../scripts/keras_frozen_nested_golden.py"
            ),
            [
                Path::new("check"),
                &fixture_dir(),
                Path::new(case),
                &path,
                &record,
            ],
            "frozen ok",
        );
    }
}

#[test]
fn a_frozen_nested_model_from_keras_keras_file_trains_and_crosses_both_ways() {
    cross("frozen", "keras");
}

#[test]
fn a_frozen_nested_model_from_keras_h5_file_trains_and_crosses_both_ways() {
    cross("frozen", "h5");
}

#[test]
fn a_partly_frozen_nested_model_from_keras_keras_file_trains_and_crosses_both_ways() {
    cross("partial", "keras");
}

#[test]
fn a_partly_frozen_nested_model_from_keras_h5_file_trains_and_crosses_both_ways() {
    cross("partial", "h5");
}

#[test]
fn freezing_a_model_built_in_rkeras_freezes_its_layers_and_batch_statistics() {
    set_random_seed(12);
    let backbone = Sequential::new(&[4])
        .add(
            Dense::new(5)
                .with_activation("tanh")
                .unwrap()
                .with_name("d1"),
        )
        .unwrap()
        .add(BatchNormalization::new().with_name("bn1"))
        .unwrap()
        .build()
        .unwrap()
        .with_name("backbone");
    let layer = backbone.as_layer().with_trainable(false);
    let mut model = Sequential::new(&[4])
        .add(layer.clone())
        .unwrap()
        .add(Dense::new(2))
        .unwrap()
        .build()
        .unwrap();
    let all_false: serde_json::Map<String, Value> = ["d1", "bn1"]
        .iter()
        .map(|n| (n.to_string(), Value::Bool(false)))
        .collect();
    assert_eq!(saved_inner_flags(&model), all_false);
    assert_eq!(
        model.network().trainable_weights().len(),
        2,
        "the head only"
    );
    let x = ArrayD::from_shape_fn(IxDyn(&[8, 4]), |i| ((i[0] * 4 + i[1]) as f32).sin());
    let y = ArrayD::from_shape_fn(IxDyn(&[8, 2]), |i| ((i[0] + i[1]) as f32).cos());
    let moving = moving_statistics(&model, "bn1");
    model.compile("sgd", "mse", &[]).unwrap();
    let config = FitConfig::new().epochs(1).batch_size(4).verbose(0);
    model.fit(std::slice::from_ref(&x), &y, config).unwrap();
    assert_eq!(moving_statistics(&model, "bn1"), moving, "inference mode");

    // Unfreezing restores the layers' own flags: the moving statistics stay state, and now move.
    layer.set_trainable(true);
    assert_eq!(model.network().trainable_weights().len(), 6);
    let all_true: serde_json::Map<String, Value> = ["d1", "bn1"]
        .iter()
        .map(|n| (n.to_string(), Value::Bool(true)))
        .collect();
    assert_eq!(saved_inner_flags(&model), all_true);
    // As in Keras, the model is compiled again after its trainable weights changed.
    model.compile("sgd", "mse", &[]).unwrap();
    let config = FitConfig::new().epochs(1).batch_size(4).verbose(0);
    model.fit(std::slice::from_ref(&x), &y, config).unwrap();
    assert_ne!(moving_statistics(&model, "bn1"), moving, "training mode");
}

/// The saved `trainable` of each backbone wrapper and of the layers it wraps, by name (`td`, `td/layer`,
/// `bi/backward_layer`, …), as `scripts/keras_frozen_wrapped_golden.py` reads Keras's config.
fn saved_wrapped_flags(model: &Model) -> serde_json::Map<String, Value> {
    let mut flags = serde_json::Map::new();
    for layer in saved_backbone_layers(model) {
        let c = &layer["config"];
        let name = c["name"].as_str().unwrap();
        flags.insert(name.to_string(), c["trainable"].clone());
        for key in ["layer", "backward_layer"] {
            if let Some(inner) = c.get(key) {
                flags.insert(
                    format!("{name}/{key}"),
                    inner["config"]["trainable"].clone(),
                );
            }
        }
    }
    flags
}

/// A frozen model whose layers are `TimeDistributed(BatchNormalization)` and `Bidirectional(LSTM)`: the
/// freeze reaches the wrapped layers as Keras's setter does (saved flags false, the BatchNormalization in
/// inference mode during fit), and the files rkeras writes load in Keras with the wrapped layers frozen.
#[test]
fn a_frozen_nested_model_freezes_the_layers_its_wrappers_hold_as_keras() {
    let golden = golden("wrapped");
    let mut model = load_model(fixture_dir().join("wrapped.keras")).unwrap();
    assert_eq!(
        &saved_wrapped_flags(&model),
        golden["flags"].as_object().unwrap(),
        "the wrapped layers' saved flags"
    );
    // The BatchNormalization's moving statistics are among the weights: Keras's are unmoved.
    let dir = tempfile::tempdir().unwrap();
    let (_, record) = fit_one_epoch_as_keras(&mut model, &golden, dir.path(), "wrapped");
    for written in ["keras", "h5"] {
        let path = dir.path().join(format!("wrapped.{written}"));
        model.save(&path).unwrap();
        let reloaded = load_model(&path).unwrap();
        assert_eq!(
            &saved_wrapped_flags(&reloaded),
            golden["flags"].as_object().unwrap(),
            "rkeras's reload of its .{written}"
        );
        rkeras_testkit::run_keras_check(
            &format!("Keras's load of the rkeras-written wrapped.{written}"),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../scripts/keras_frozen_wrapped_golden.py"
            ),
            [Path::new("check"), &fixture_dir(), &path, &record],
            "wrapped ok",
        );
    }
}
