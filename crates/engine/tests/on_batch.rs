//! `train_on_batch`, `test_on_batch`, `predict_on_batch`: one fit step's arithmetic, Keras's values.
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::{Array1, ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{Dense, Dropout, Input, LayerCall};
use serde_json::Value;

mod common;
use common::{column, kernel, linear_model, weight_bits};

fn array(v: &Value) -> ArrayD<f32> {
    let rows: Vec<Vec<f32>> = serde_json::from_value(v.clone()).unwrap();
    let flat: Vec<f32> = rows.concat();
    ArrayD::from_shape_vec(IxDyn(&[rows.len(), rows[0].len()]), flat).unwrap()
}

fn vector(v: &Value) -> Array1<f32> {
    Array1::from(serde_json::from_value::<Vec<f32>>(v.clone()).unwrap())
}

fn keras() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_on_batch.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A two-layer MLP with dropout (so that the dropout stream matters), 32 samples (so that batches split into
/// shards).
fn mlp() -> Model {
    let x = Input::new(&[4]);
    let h = Dense::new(8)
        .with_activation("relu")
        .unwrap()
        .call(&x)
        .unwrap();
    let h = Dropout::new(0.3).call(&h).unwrap();
    let y = Dense::new(3)
        .with_activation("softmax")
        .unwrap()
        .call(&h)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model
        .compile("adam", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
}

fn data(n: usize) -> (ArrayD<f32>, ArrayD<f32>) {
    let x = ArrayD::from_shape_fn(IxDyn(&[n, 4]), |i| {
        ((i[0] * 7 + i[1] * 3) % 11) as f32 / 11.0 - 0.4
    });
    let y = ArrayD::from_shape_fn(IxDyn(&[n]), |i| (i[0] % 3) as f32);
    (x, y)
}

#[test]
fn train_on_batch_calls_equal_an_epoch_of_fit_bit_for_bit() {
    let (x, y) = data(64);
    let mut fitted = mlp();
    let mut stepped = mlp();
    stepped.set_weights(&fitted.get_weights()).unwrap();
    let history = fitted
        .fit(
            &[x.clone()],
            &y,
            FitConfig::new().batch_size(32).shuffle(false).verbose(0),
        )
        .unwrap();
    let halves = [(0, 32), (32, 64)];
    let mut losses = Vec::new();
    for (start, end) in halves {
        let xs = x.slice(ndarray::s![start..end, ..]).to_owned().into_dyn();
        let ys = y.slice(ndarray::s![start..end]).to_owned().into_dyn();
        losses.push(stepped.train_on_batch(&[xs], &ys, None).unwrap()["loss"]);
    }
    assert_eq!(
        weight_bits(&stepped.get_weights()),
        weight_bits(&fitted.get_weights())
    );
    let epoch_loss = history.get("loss").unwrap()[0];
    assert_eq!(epoch_loss, (losses[0] * 32.0 + losses[1] * 32.0) / 64.0);
}

#[test]
fn train_on_batch_matches_a_hand_computed_sgd_step() {
    // mean((0.5·1 − 1)², (0.5·2 − 2)²) = 0.625; w ← 0.5 − 0.1·mean(2(w·x − y)·x) = 0.5 + 0.25.
    let mut model = linear_model(0.5);
    let logs = model
        .train_on_batch(&[column(&[1.0, 2.0])], &column(&[1.0, 2.0]), None)
        .unwrap();
    assert_eq!(logs.keys().collect::<Vec<_>>(), ["loss"]);
    assert!((logs["loss"] - 0.625).abs() < 1e-7);
    assert!((kernel(&model) - 0.75).abs() < 1e-7);
    // With sample weights [1, 0]: loss (1·0.0625 + 0)/2 at w = 0.75; w ← 0.75 − 0.1·(2·(−0.25)·1)/2.
    let weights = Array1::from(vec![1.0f32, 0.0]);
    let logs = model
        .train_on_batch(&[column(&[1.0, 2.0])], &column(&[1.0, 2.0]), Some(&weights))
        .unwrap();
    assert!((logs["loss"] - 0.03125).abs() < 1e-7, "{logs:?}");
    assert!((kernel(&model) - 0.775).abs() < 1e-6);
}

#[test]
fn on_batch_calls_give_kerass_values() {
    let k = keras();
    let mut model = common::softmax_classifier(rkeras_optim::SGD::new(0.1).unwrap());
    model
        .set_weights(&[array(&k["kernel"]), vector(&k["bias"]).into_dyn()])
        .unwrap();
    let xs = array(&k["x"]);
    let ys = vector(&k["y"]).into_dyn();
    let w = vector(&k["sample_weight"]);
    let close = |got: f64, want: &Value, what: &str| {
        let want = want.as_f64().unwrap();
        assert!((got - want).abs() < 1e-6, "{what}: {got} vs Keras {want}");
    };
    let first = model.train_on_batch(&[xs.clone()], &ys, None).unwrap();
    let second = model.train_on_batch(&[xs.clone()], &ys, Some(&w)).unwrap();
    for (ours, theirs) in [first, second]
        .iter()
        .zip(k["train_on_batch"].as_array().unwrap())
    {
        close(ours["loss"], &theirs["loss"], "train_on_batch loss");
        close(
            ours["accuracy"],
            &theirs["accuracy"],
            "train_on_batch accuracy",
        );
    }
    let after = model.get_weights();
    let want = [
        array(&k["weights_after"][0]),
        vector(&k["weights_after"][1]).into_dyn(),
    ];
    for (got, want) in after.iter().zip(&want) {
        let diff = (got - want).mapv(f32::abs).fold(0.0f32, |m, &v| m.max(v));
        assert!(
            diff < 1e-6,
            "weights after two steps differ from Keras by {diff}"
        );
    }
    let test = model.test_on_batch(&[xs.clone()], &ys, None).unwrap();
    close(
        test["loss"],
        &k["test_on_batch"]["loss"],
        "test_on_batch loss",
    );
    close(
        test["accuracy"],
        &k["test_on_batch"]["accuracy"],
        "test_on_batch accuracy",
    );
    let weighted = model.test_on_batch(&[xs.clone()], &ys, Some(&w)).unwrap();
    close(
        weighted["loss"],
        &k["test_on_batch_weighted"]["loss"],
        "weighted test_on_batch loss",
    );
    let predicted = model.predict_on_batch(&[xs.clone()]).unwrap();
    let diff = (&predicted - &array(&k["predict_on_batch"]))
        .mapv(f32::abs)
        .fold(0.0f32, |m, &v| m.max(v));
    assert!(diff < 1e-6, "predict_on_batch differs from Keras by {diff}");
    assert_eq!(predicted, model.predict(&[xs.clone()], 2).unwrap());
    assert_eq!(test, model.evaluate(&[xs], &ys, 4).unwrap());
}

#[test]
fn on_batch_calls_check_their_arguments() {
    let mut model = linear_model(0.5);
    let err = model
        .train_on_batch(&[column(&[1.0, 2.0])], &column(&[1.0]), None)
        .unwrap_err();
    assert!(err.to_string().contains("`y`"), "{err}");
    let err = model
        .train_on_batch(
            &[column(&[1.0])],
            &column(&[1.0]),
            Some(&Array1::from(vec![1.0, 2.0])),
        )
        .unwrap_err();
    assert!(err.to_string().contains("sample_weight"), "{err}");
    let x = Input::new(&[1]);
    let uncompiled = Model::new(&[x.clone()], &Dense::new(1).call(&x).unwrap()).unwrap();
    assert!(
        uncompiled
            .test_on_batch(&[column(&[1.0])], &column(&[1.0]), None)
            .is_err()
    );
}

#[test]
fn the_step_profile_counts_every_training_step_and_its_optimizer_time() {
    let (x, y) = data(64);
    let mut model = mlp();
    assert_eq!(model.step_profile().unwrap().steps, 0);
    model
        .fit(
            &[x.clone()],
            &y,
            FitConfig::new()
                .batch_size(16)
                .epochs(2)
                .shuffle(false)
                .verbose(0),
        )
        .unwrap();
    let profile = model.step_profile().unwrap();
    assert_eq!(profile.steps, 8, "2 epochs of 4 batches");
    assert!(profile.optimizer > std::time::Duration::ZERO);
    assert!(profile.forward + profile.backward > std::time::Duration::ZERO);
    let xs = x.slice(ndarray::s![0..16, ..]).to_owned().into_dyn();
    let ys = y.slice(ndarray::s![0..16]).to_owned().into_dyn();
    model.train_on_batch(&[xs.clone()], &ys, None).unwrap();
    assert_eq!(model.step_profile().unwrap().steps, 9);
    model.test_on_batch(&[xs], &ys, None).unwrap();
    assert_eq!(
        model.step_profile().unwrap().steps,
        9,
        "evaluation is not a training step"
    );
    model.reset_step_profile();
    assert_eq!(model.step_profile().unwrap(), Default::default());
}
