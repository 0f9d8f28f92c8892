//! A two-output model used as a layer, both outputs carrying its inner `Embedding(mask_zero)`'s mask, as Keras 3
//! passes them: the mask of the second output (not only the first) reaches the layers after it and
//! [`Network::output_masks`].
//!
//! The fixtures (`tests/fixtures/nested_masks`, written by `scripts/keras_nested_masks_golden.py`): Keras's model
//! (`.keras` and legacy `.h5`) whose inner model's first output feeds a pooling layer and whose second output
//! feeds a GRU and another pooling layer, and its two outputs' predictions (the script checks they change
//! when the second output loses its mask). rkeras loads both files, predicts Keras's outputs within 1e-5, and
//! the `.keras`, `.h5` and `.weights.h5` files it writes load in Keras with the same predictions (run for real
//! through `rkeras_testkit::keras_python`: a failure with CI=true when it is missing, a loud notice otherwise).

use ndarray::ArrayD;
use rand::SeedableRng;
use rkeras_engine::{Model, load_model};
use rkeras_layers::{
    CallContext, Dense, Embedding, Input, LSTM, LayerCall, Masking, NestedModel, Network,
};
use rkeras_tensor::Tensor;
use serde_json::Value;
use std::path::PathBuf;

mod golden_json;
use golden_json::{array, assert_close, floats};

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/nested_masks"
    ))
}

fn golden() -> Value {
    golden_json::read(&fixture_dir().join("golden.json"))
}

/// Both outputs' predictions within 1e-5 of Keras's; they must also differ from Keras's predictions without
/// the second output's mask, or the test would not see that mask.
fn assert_keras_predictions(model: &Model, what: &str) -> Vec<ArrayD<f32>> {
    let golden = golden();
    let x = array(&golden["x"], &golden["x_shape"]);
    let outputs = model.predict_outputs(&[x], 3).unwrap();
    assert_eq!(outputs.len(), 2, "{what}: two outputs");
    for (output, name) in outputs.iter().zip(["first", "second"]) {
        let got: Vec<f32> = output.iter().copied().collect();
        assert_close(&got, &floats(&golden[name]), &format!("{what}: `{name}`"));
        let unmasked = floats(&golden[format!("{name}_without_second_mask").as_str()]);
        let gap = got
            .iter()
            .zip(&unmasked)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            gap > 1e-3,
            "{what}: `{name}` ignores the second output's mask"
        );
    }
    outputs
}

/// Keras's `file` loads, predicts Keras's outputs, and what rkeras writes of it reloads in rkeras and in Keras.
fn keras_file_predicts_and_crosses_back(file: &str) {
    let model = load_model(fixture_dir().join(file)).unwrap();
    let predictions = assert_keras_predictions(&model, file);
    let dir = tempfile::tempdir().unwrap();
    for name in ["model.keras", "model.h5", "model.weights.h5"] {
        let path = dir.path().join(name);
        let reloaded = if name.ends_with(".weights.h5") {
            model.save_weights(&path).unwrap();
            let mut fresh = load_model(fixture_dir().join(file)).unwrap();
            let zeros: Vec<ArrayD<f32>> = fresh
                .get_weights()
                .iter()
                .map(|w| ArrayD::zeros(w.raw_dim()))
                .collect();
            fresh.set_weights(&zeros).unwrap();
            fresh.load_weights(&path).unwrap();
            fresh
        } else {
            model.save(&path).unwrap();
            load_model(&path).unwrap()
        };
        let x = array(&golden()["x"], &golden()["x_shape"]);
        assert_eq!(
            reloaded.predict_outputs(&[x], 3).unwrap(),
            predictions,
            "{file} → rkeras's {name}"
        );
        rkeras_testkit::run_keras_check(
            &format!("Keras reads rkeras's {name} of the nested two-output model"),
            rkeras_testkit::workspace_root().join("scripts/keras_nested_masks_golden.py"),
            [
                "check".to_string(),
                fixture_dir().display().to_string(),
                path.display().to_string(),
            ],
            "nested masks ok",
        );
    }
}

#[test]
fn keras_nested_two_output_model_masks_both_outputs_keras_format() {
    keras_file_predicts_and_crosses_back("model.keras");
}

#[test]
fn keras_nested_two_output_model_masks_both_outputs_legacy_h5() {
    keras_file_predicts_and_crosses_back("model.h5");
}

/// `ids → nested(Embedding(mask_zero) → [LSTM(return_sequences), Dense])`, the outer outputs being the nested
/// model's two outputs and a `Masking` after its second.
fn nested_two_output_network() -> Network {
    let inner_ids = Input::new(&[4]);
    let e = Embedding::new(6, 3)
        .with_mask_zero(true)
        .call(&inner_ids)
        .unwrap();
    let seq = LSTM::new(2).with_return_sequences(true).call(&e).unwrap();
    let feat = Dense::new(3).call(&e).unwrap();
    let inner = Network::new(&[inner_ids], &[seq, feat]).unwrap();
    let ids = Input::new(&[4]);
    let outs = NestedModel::new(inner, "inner")
        .call_outputs(std::slice::from_ref(&ids))
        .unwrap();
    let after = Dense::new(2).call(&outs[1]).unwrap();
    Network::new(&[ids], &[outs[0].clone(), outs[1].clone(), after]).unwrap()
}

#[test]
fn output_masks_carry_every_output_of_a_nested_model() {
    let network = nested_two_output_network();
    let batch = Tensor::from_vec(&[2, 4], vec![0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 5.0]).unwrap();
    let padding = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    let outputs = network
        .forward_outputs(std::slice::from_ref(&batch), &mut ctx, false)
        .unwrap();
    let masks = network.output_masks(&[batch]).unwrap();
    assert_eq!(masks.len(), 3);
    for (i, (mask, output)) in masks.iter().zip(&outputs).enumerate() {
        let forward = output.mask.as_ref().expect("the forward pass's mask");
        let mask = mask
            .as_ref()
            .expect("output_masks gives every output's mask");
        assert_eq!(
            mask.data().iter().copied().collect::<Vec<f32>>(),
            padding,
            "output {i}"
        );
        assert_eq!(mask.data(), forward.data(), "output {i}");
    }
}

#[test]
fn output_masks_read_a_masking_layer_after_a_nested_second_output() {
    // The Masking layer reads the nested model's second output's values: output_masks must run the nested
    // model (with its inner mask) to compute them.
    let inner_ids = Input::new(&[3]);
    let e = Embedding::new(5, 2)
        .with_mask_zero(true)
        .call(&inner_ids)
        .unwrap();
    let first = Dense::new(1).call(&e).unwrap();
    let inner = Network::new(&[inner_ids], &[first, e]).unwrap();
    let embedding = inner
        .layers()
        .iter()
        .find(|l| l.class_name() == "Embedding")
        .unwrap()
        .clone();
    embedding.weights()[0]
        .set_value(
            ArrayD::from_shape_vec(
                ndarray::IxDyn(&[5, 2]),
                vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 2.0, 2.0, 3.0, 3.0],
            )
            .unwrap(),
        )
        .unwrap();
    let ids = Input::new(&[3]);
    let outs = NestedModel::new(inner, "inner")
        .call_outputs(std::slice::from_ref(&ids))
        .unwrap();
    let masked = Masking::new(0.0).call(&outs[1]).unwrap();
    let network = Network::new(&[ids], &[masked]).unwrap();
    // Ids 0 and 2 embed to zeros, which Masking masks (Keras's Masking reads only the values).
    let batch = Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 0.0, 3.0, 4.0, 1.0]).unwrap();
    let mask = network.output_masks(std::slice::from_ref(&batch)).unwrap()[0]
        .clone()
        .expect("a mask");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    let forward = network.forward_outputs(&[batch], &mut ctx, false).unwrap()[0]
        .mask
        .clone()
        .expect("the forward pass's mask");
    assert_eq!(mask.data(), forward.data());
    assert_eq!(
        mask.data().iter().copied().collect::<Vec<f32>>(),
        [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    );
}
