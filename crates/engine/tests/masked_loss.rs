//! Losses on a sequence output that carries a timestep mask, against Keras 3's values
//! (`scripts/keras_masked_loss_golden.py`): masked steps count for nothing, and `sum_over_batch_size`
//! divides by the kept steps only (Keras's `apply_mask`).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::Loss;
use rkeras_engine::losses::Reduction;
use rkeras_tensor::Tensor;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_masked_loss.json"
);

fn tensor(value: &Value) -> Tensor {
    let shape: Vec<usize> = value["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let values: Vec<f32> = value["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    Tensor::new(ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap())
}

#[test]
fn masked_losses_match_keras() {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 18);
    for case in cases {
        let reduction = Reduction::from_name(case["reduction"].as_str().unwrap()).unwrap();
        let loss = Loss::from_name(case["loss"].as_str().unwrap())
            .unwrap()
            .with_reduction(reduction);
        let weights = (!case["sample_weight"].is_null()).then(|| tensor(&case["sample_weight"]));
        let mask = tensor(&case["mask"]);
        let value = loss
            .call_masked(
                &tensor(&case["y_true"]),
                &tensor(&case["y_pred"]),
                weights.as_ref(),
                Some(&mask),
            )
            .unwrap()
            .to_scalar()
            .unwrap();
        let expected = case["value"].as_f64().unwrap() as f32;
        assert!(
            (value - expected).abs() <= 1e-5 * expected.abs().max(1.0),
            "{} {} weights={}: {value} vs Keras {expected}",
            case["loss"],
            case["reduction"],
            !case["sample_weight"].is_null()
        );
    }
}
