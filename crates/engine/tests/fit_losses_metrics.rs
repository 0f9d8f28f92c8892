//! fit with a loss object (arguments and `reduction`) and stateful metrics, against Keras 3's history and
//! weights (scripts/keras_fit_losses_metrics_golden.py); validation twins equal evaluate.

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Loss, Model};
use rkeras_layers::{Dense, Input, LayerCall};
use rkeras_optim::SGD;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_fit_losses_metrics.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn matrix(v: &Value) -> ArrayD<f32> {
    let rows: Vec<Vec<f32>> = serde_json::from_value(v.clone()).unwrap();
    ArrayD::from_shape_vec(IxDyn(&[rows.len(), rows[0].len()]), rows.concat()).unwrap()
}

fn model(loss: Loss) -> Model {
    let x = Input::new(&[2]);
    let y = Dense::new(1)
        .with_activation("sigmoid")
        .unwrap()
        .call(&x)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model
        .set_weights(&[
            ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![0.3, -0.5]).unwrap(),
            ArrayD::from_shape_vec(IxDyn(&[1]), vec![0.1]).unwrap(),
        ])
        .unwrap();
    model
        .compile(
            SGD::new(0.5).unwrap(),
            loss,
            &["accuracy", "auc", "precision", "mae"],
        )
        .unwrap();
    model
}

#[test]
fn fit_history_and_weights_match_keras() {
    let k = fixture();
    let loss = Loss::from_config(&k["loss_config"]).unwrap();
    let mut m = model(loss);
    let (x, y) = (matrix(&k["x"]), matrix(&k["y"]));
    let (xv, yv) = (matrix(&k["x_val"]), matrix(&k["y_val"]));
    let config = FitConfig::new()
        .batch_size(4)
        .epochs(2)
        .shuffle(false)
        .verbose(0)
        .validation_data(vec![xv.clone()], yv.clone());
    let history = m.fit(&[x], &y, config).unwrap();
    for (key, expected) in k["history"].as_object().unwrap() {
        let got = history
            .get(key)
            .unwrap_or_else(|| panic!("no `{key}` in the history"));
        let expected: Vec<f64> = serde_json::from_value(expected.clone()).unwrap();
        for (a, b) in got.iter().zip(&expected) {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{key}: rkeras {a} vs Keras {b}"
            );
        }
    }
    let weights: Vec<f32> = m
        .get_weights()
        .iter()
        .flat_map(|w| w.iter().copied())
        .collect();
    let expected: Vec<f32> = k["weights"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| serde_json::from_value::<Vec<f32>>(w.clone()).unwrap())
        .collect();
    for (a, b) in weights.iter().zip(&expected) {
        assert!((a - b).abs() <= 1e-5, "weights: rkeras {a} vs Keras {b}");
    }
    // The validation twins are computed as evaluate computes: same data, same values.
    let evaluated = m.evaluate(&[xv], &yv, 4).unwrap();
    for name in ["loss", "accuracy", "auc", "precision", "mae"] {
        assert_eq!(
            history.get(&format!("val_{name}")).unwrap()[1],
            evaluated[name],
            "{name}"
        );
    }
}

#[test]
fn a_loss_object_survives_saving_in_both_formats() {
    use rkeras_engine::losses::{LossKind, Reduction};
    let loss = Loss::new(LossKind::Huber { delta: 0.25 })
        .unwrap()
        .with_reduction(Reduction::Sum);
    let original = model(loss);
    let x = matrix(&serde_json::json!([[0.5, -1.0], [2.0, 0.3], [-0.7, 0.1]]));
    let y = matrix(&serde_json::json!([[1.0], [0.0], [1.0]]));
    let expected = original
        .test_on_batch(std::slice::from_ref(&x), &y, None)
        .unwrap()["loss"];
    let dir = tempfile::tempdir().unwrap();
    for file in ["m.keras", "m.h5"] {
        let path = dir.path().join(file);
        original.save(&path).unwrap();
        let loaded = rkeras_engine::load_model(&path).unwrap();
        let got = loaded
            .test_on_batch(std::slice::from_ref(&x), &y, None)
            .unwrap();
        assert_eq!(got["loss"], expected, "{file}");
        assert!(
            got.contains_key("auc") && got.contains_key("precision"),
            "{file}: {got:?}"
        );
    }
}
