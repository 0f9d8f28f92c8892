//! `load_weights` as Keras 3.15 behaves, case by case: what it restores, what it ignores, what is an error.
//!
//! The fixture (`tests/fixtures/keras3_load_weights`, from scripts/keras_load_weights_golden.py) holds files Keras
//! wrote and, for each (target model, file, `by_name`), what Keras's `load_weights` did: loaded or refused,
//! whether the weights changed and the predictions became the trained model's, and the target optimizer's
//! iteration count afterwards (a Keras 3 file's optimizer variables are loaded into a built optimizer only,
//! skipped with a warning otherwise; a legacy `.h5` never touches the optimizer). rkeras must agree on every
//! case. Where Keras refuses a file after assigning some layers (a layer the file lacks), rkeras refuses it
//! without changing anything: loads are all or none.

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model, Sequential};
use rkeras_layers::{Dense, set_random_seed};
use rkeras_optim::AdamConfig;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keras3_load_weights")
        .join(name)
}

fn array(value: &Value) -> ArrayD<f32> {
    let rows: Vec<Vec<f32>> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    let cols = rows[0].len();
    ArrayD::from_shape_vec(IxDyn(&[rows.len(), cols]), rows.concat()).unwrap()
}

/// The targets of the script, built as Keras builds them (Keras's store names layers by class and position).
fn target(kind: &str, x: &ArrayD<f32>) -> Model {
    set_random_seed(1);
    let units: &[usize] = match kind {
        "wide" => &[3, 1],
        "three" => &[2, 1, 1],
        _ => &[2, 1],
    };
    let mut builder = Sequential::new(&[3])
        .add(Dense::new(units[0]).with_activation("tanh").unwrap())
        .unwrap();
    for &u in &units[1..] {
        builder = builder.add(Dense::new(u)).unwrap();
    }
    let mut model = builder.build().unwrap();
    if kind == "trained" || kind == "compiled" {
        let adam = AdamConfig::default()
            .with_learning_rate(0.01)
            .build()
            .unwrap();
        model.compile(adam, "mse", &[]).unwrap();
    }
    if kind == "trained" {
        let reversed = x.slice(ndarray::s![..;-1, ..]).to_owned().into_dyn();
        let y = ArrayD::from_shape_fn(IxDyn(&[8, 1]), |i| (i[0] as f32).cos());
        let config = FitConfig::new()
            .epochs(1)
            .batch_size(8)
            .shuffle(false)
            .verbose(0);
        model.fit(&[reversed], &y, config).unwrap();
    }
    model
}

#[test]
fn load_weights_restores_ignores_and_refuses_what_keras_does() {
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("cases.json")).unwrap()).unwrap();
    let x = array(&golden["x"]);
    let expected = array(&golden["expected"]);
    let cases = golden["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 49);
    for case in cases {
        let kind = case["target"].as_str().unwrap();
        let file = fixture(case["file"].as_str().unwrap());
        let by_name = case["by_name"].as_bool().unwrap();
        let what = format!("{kind} <- {} (by_name {by_name})", file.display());
        let mut model = target(kind, &x);
        let before = model.get_weights();
        let result = if by_name {
            model.load_weights_by_name(&file)
        } else {
            model.load_weights(&file)
        };
        let keras_ok = case["outcome"] == "ok";
        assert_eq!(result.is_ok(), keras_ok, "{what}: {result:?}");
        let changed = model.get_weights() != before;
        if !keras_ok {
            assert!(!changed, "{what}: a refused file changes nothing");
        } else if !by_name {
            // (By name, Keras's automatic layer names differ from rkeras's: which layers match is not compared.)
            assert_eq!(
                changed,
                case["weights_changed"].as_bool().unwrap(),
                "{what}"
            );
            let predicted = model.predict(std::slice::from_ref(&x), 8).unwrap();
            let worst = predicted
                .iter()
                .zip(&expected)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert_eq!(
                worst <= 1e-5,
                case["predicts_as_trained"].as_bool().unwrap(),
                "{what}: predictions differ from the trained model's by {worst}"
            );
        }
        let iterations = model.optimizer().map(|o| o.state().iterations);
        assert_eq!(iterations, case["iterations"].as_u64(), "{what}");
    }
}

#[test]
fn a_built_optimizer_takes_every_keras_variable() {
    // After `load_weights` of Keras's trained.weights.h5 into a model that has trained, rkeras's optimizer holds
    // Keras's variables: written back, they are Keras's, in Keras's order.
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("cases.json")).unwrap()).unwrap();
    let x = array(&golden["x"]);
    for file in ["trained.weights.h5", "trained.keras"] {
        let mut model = target("trained", &x);
        model.load_weights(fixture(file)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("again.weights.h5");
        model.save_weights(&path).unwrap();
        let optimizer = rkeras_io::load_keras_weights_file(&path)
            .unwrap()
            .optimizer
            .unwrap();
        let mut written = vec![vec![optimizer.iterations as f32]];
        written.extend(optimizer.vars.iter().map(|v| v.iter().copied().collect()));
        let keras: Vec<Vec<f32>> = golden["optimizer_vars"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_f64().unwrap() as f32)
                    .collect()
            })
            .collect();
        assert_eq!(written, keras, "{file}");
    }
}
