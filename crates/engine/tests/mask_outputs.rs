//! Timestep masks reaching layers through a Bidirectional's two unmerged outputs and through
//! LayerNormalization, against Keras 3 (`scripts/keras_mask_outputs_golden.py`): Keras's models (`.h5`) load,
//! predict Keras's outputs within 1e-5 (the golden script checks that they differ without the mask), save and
//! reload in rkeras, and the weights rkeras saves load back in Keras (`scripts/keras_mask_outputs_h5_check.py`).
//! In rkeras's own graph each unmerged output carries the sequence's mask, as Keras's `compute_mask` gives it.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rkeras_engine::load_model;
use rkeras_layers::{Bidirectional, CallContext, Embedding, GRU, Input, LayerCall, Network};
use rkeras_tensor::Tensor;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn expected() -> Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/keras_mask_outputs_expected.json"));
    serde_json::from_str(&text.unwrap()).unwrap()
}

/// A JSON array of numbers (nested rows or `{shape, values}`) as a float array of `shape`.
fn floats(values: &Value, shape: &[usize]) -> ArrayD<f32> {
    fn flatten(v: &Value, out: &mut Vec<f32>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
            number => out.push(number.as_f64().unwrap() as f32),
        }
    }
    let mut out = Vec::new();
    flatten(values, &mut out);
    ArrayD::from_shape_vec(IxDyn(shape), out).unwrap()
}

/// Loads Keras's `case` model, checks its predictions, its rkeras round trip and Keras reading rkeras's weights.
fn keras_model_predicts_and_round_trips(case: &str) {
    let golden = expected();
    let x = floats(&golden["x"], &[4, 7]);
    let shape: Vec<usize> = golden[case]["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let keras = floats(&golden[case]["values"], &shape);
    let model = load_model(format!("{FIXTURES}/keras_mask_outputs_{case}.h5")).unwrap();
    let predictions = model.predict(std::slice::from_ref(&x), 3).unwrap();
    assert_eq!(predictions.shape(), keras.shape());
    for (a, e) in predictions.iter().zip(&keras) {
        assert!((a - e).abs() < 1e-5, "{case}: {a} vs Keras {e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (full, weights) = (dir.path().join("model.h5"), dir.path().join("weights.h5"));
    model.save(&full).unwrap();
    let reloaded = load_model(&full).unwrap();
    assert_eq!(reloaded.predict(&[x], 3).unwrap(), predictions);
    model.save_weights(&weights).unwrap();
    rkeras_testkit::run_keras_check(
        &format!("weights of `{case}` saved by rkeras load in Keras"),
        rkeras_testkit::workspace_root().join("scripts/keras_mask_outputs_h5_check.py"),
        [case.to_string(), weights.display().to_string()],
        "keras load ok",
    );
}

#[test]
fn an_unmerged_bidirectional_masks_the_layers_after_either_output_as_keras() {
    keras_model_predicts_and_round_trips("bidi_unmerged");
}

#[test]
fn layer_normalization_passes_the_mask_on_as_keras() {
    keras_model_predicts_and_round_trips("layer_norm");
}

#[test]
fn both_unmerged_outputs_carry_the_sequence_mask_and_states_none() {
    let ids = Input::new(&[4]);
    let x = Embedding::new(6, 3)
        .with_mask_zero(true)
        .call(&ids)
        .unwrap();
    let bidi = Bidirectional::new(
        GRU::new(2)
            .with_return_sequences(true)
            .with_return_state(true),
    )
    .unwrap()
    .with_merge_mode(None);
    let outs = bidi.call_outputs(&[x]).unwrap();
    assert_eq!(
        outs.len(),
        4,
        "forward, backward and one state per direction"
    );
    let network = Network::new(&[ids], &outs).unwrap();
    let batch = Tensor::from_vec(&[2, 4], vec![0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 5.0, 1.0]).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    let outputs = network
        .forward_outputs(std::slice::from_ref(&batch), &mut ctx, false)
        .unwrap();
    let padding = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0];
    for output in &outputs[..2] {
        let mask = output
            .mask
            .as_ref()
            .expect("each sequence output carries the mask");
        assert_eq!(mask.data().iter().copied().collect::<Vec<f32>>(), padding);
    }
    assert!(outputs[2..].iter().all(|o| o.mask.is_none()));
    // The masks without the forward pass are the same.
    let masks = network.output_masks(&[batch]).unwrap();
    for (mask, output) in masks.iter().zip(&outputs) {
        assert_eq!(
            mask.as_ref().map(|m| m.data().clone()),
            output.mask.as_ref().map(|m| m.data().clone())
        );
    }
}
