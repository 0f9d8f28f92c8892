//! Keras 3.15 writes a parameter's optimizer slots together in a legacy `.h5` (`dense_kernel_momentum`,
//! `dense_kernel_velocity`, `dense_1_kernel_momentum`, …); rkeras pairs them by their names' slot suffix, so
//! that two parameters of the same shape do not swap their Adam state silently. Fixture:
//! scripts/keras3_legacy_adam_h5.py.

use rkeras_engine::load_model;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keras3_legacy_adam")
        .join(name)
}

#[test]
fn adam_state_from_a_keras3_legacy_h5_lands_on_its_own_parameters() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap();
    let model = load_model(fixture("adam.h5")).unwrap();
    let state = model
        .optimizer()
        .expect("the file's model is compiled")
        .state();
    assert_eq!(state.iterations, expected["iterations"].as_u64().unwrap());
    for slot in ["momentum", "velocity"] {
        let wanted = expected[slot].as_array().unwrap();
        for (param, values) in wanted.iter().enumerate() {
            let got = state
                .slots
                .iter()
                .find(|s| s.slot == slot && s.param_index == param)
                .unwrap_or_else(|| panic!("no {slot} for parameter {param}"));
            let want: Vec<f32> = values
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let got: Vec<f32> = got.value.iter().copied().collect();
            assert_eq!(got, want, "{slot} of parameter {param}");
        }
    }
}
