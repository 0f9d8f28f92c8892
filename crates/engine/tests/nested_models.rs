//! Models used as layers (Keras's `outer = Sequential([inner, Dense(...)])`), built in rkeras: they compute and
//! train exactly as the same layers laid out flat, freeze with `trainable = false`, pass masks in, and the
//! `.keras`, `.weights.h5` and legacy `.h5` files rkeras writes for them load in Keras 3.15 with the same
//! predictions (run for real through `rkeras_testkit::keras_python`).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model, Sequential, load_model};
use rkeras_layers::{BatchNormalization, Dense, Embedding, LSTM, set_random_seed};
use std::path::Path;

fn inputs() -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(&[6, 4]), |i| ((i[0] * 4 + i[1]) as f32 * 0.37).sin())
}

fn targets() -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(&[6, 2]), |i| ((i[0] + 2 * i[1]) as f32 * 0.5).cos())
}

fn config() -> FitConfig<'static> {
    FitConfig::new()
        .epochs(2)
        .batch_size(3)
        .verbose(0)
        .shuffle(false)
}

/// `Sequential([Sequential([Dense(3, tanh)], name="backbone"), Dense(2)])`.
fn nested(trainable: bool) -> (Model, Model) {
    let inner = Sequential::new(&[4])
        .add(Dense::new(3).with_activation("tanh").unwrap())
        .unwrap()
        .build()
        .unwrap()
        .with_name("backbone");
    let outer = Sequential::new(&[4])
        .add(inner.as_layer().with_trainable(trainable))
        .unwrap()
        .add(Dense::new(2))
        .unwrap()
        .build()
        .unwrap();
    (inner, outer)
}

fn flat() -> Model {
    Sequential::new(&[4])
        .add(Dense::new(3).with_activation("tanh").unwrap())
        .unwrap()
        .add(Dense::new(2))
        .unwrap()
        .build()
        .unwrap()
}

#[test]
fn a_nested_model_trains_exactly_as_its_layers_laid_out_flat() {
    set_random_seed(3);
    let (inner, mut outer) = nested(true);
    let mut flat = flat();
    flat.set_weights(&outer.get_weights()).unwrap();
    assert_eq!(outer.weights().len(), 4);
    assert_eq!(
        outer.predict(&[inputs()], 6).unwrap(),
        flat.predict(&[inputs()], 6).unwrap()
    );
    outer.compile("sgd", "mse", &[]).unwrap();
    flat.compile("sgd", "mse", &[]).unwrap();
    let before = outer.get_weights();
    outer.fit(&[inputs()], &targets(), config()).unwrap();
    flat.fit(&[inputs()], &targets(), config()).unwrap();
    // The gradient reached the inner model's weights, as it reaches the flat model's first layer.
    assert_ne!(outer.get_weights()[0], before[0]);
    assert_eq!(outer.get_weights(), flat.get_weights());
    // The inner model shares its weights with the layer made from it.
    assert_eq!(inner.get_weights()[..], outer.get_weights()[..2]);
    let summary = outer.summary();
    assert!(summary.contains("backbone (Sequential)"), "{summary}");
    assert!(summary.contains("Total params: 23"), "{summary}");
}

#[test]
fn a_frozen_nested_model_keeps_its_weights() {
    set_random_seed(4);
    let (inner, mut outer) = nested(false);
    assert_eq!(outer.network().trainable_weights().len(), 2);
    let before = outer.get_weights();
    outer.compile("adam", "mse", &[]).unwrap();
    outer.fit(&[inputs()], &targets(), config()).unwrap();
    let after = outer.get_weights();
    assert_eq!(after[..2], before[..2], "the frozen inner weights");
    assert_ne!(after[2], before[2], "the outer Dense trains");
    assert_eq!(inner.network().trainable_weights().len(), 0);
    assert!(!outer.summary().contains("Non-trainable params: 0 "));
}

#[test]
fn a_mask_passes_into_a_nested_model() {
    // Embedding(mask_zero) outside, the LSTM inside a nested Sequential: the padded steps must be skipped as
    // in the flat model (without the mask they would change the output).
    set_random_seed(5);
    let inner = Sequential::new(&[5, 3])
        .add(LSTM::new(4))
        .unwrap()
        .build()
        .unwrap()
        .with_name("encoder");
    let outer = Sequential::new(&[5])
        .add(Embedding::new(6, 3).with_mask_zero(true))
        .unwrap()
        .add(inner.as_layer())
        .unwrap()
        .add(Dense::new(1))
        .unwrap()
        .build()
        .unwrap();
    let flat = Sequential::new(&[5])
        .add(Embedding::new(6, 3).with_mask_zero(true))
        .unwrap()
        .add(LSTM::new(4))
        .unwrap()
        .add(Dense::new(1))
        .unwrap()
        .build()
        .unwrap();
    flat.set_weights(&outer.get_weights()).unwrap();
    let x = ArrayD::from_shape_vec(
        IxDyn(&[2, 5]),
        vec![1.0, 4.0, 2.0, 0.0, 0.0, 3.0, 5.0, 1.0, 2.0, 0.0],
    )
    .unwrap();
    let nested = outer.predict(std::slice::from_ref(&x), 2).unwrap();
    assert_eq!(nested, flat.predict(std::slice::from_ref(&x), 2).unwrap());
    // Without the mask (mask_zero off) the outputs differ: the mask really was applied inside.
    let unmasked = Sequential::new(&[5])
        .add(Embedding::new(6, 3))
        .unwrap()
        .add(LSTM::new(4))
        .unwrap()
        .add(Dense::new(1))
        .unwrap()
        .build()
        .unwrap();
    unmasked.set_weights(&outer.get_weights()).unwrap();
    assert_ne!(nested, unmasked.predict(&[x], 2).unwrap());
}

#[test]
fn keras_loads_the_nested_models_rkeras_writes() {
    // Sequential([Sequential([Dense(3, tanh), BatchNormalization()]), Dense(2)]) after training, so that the
    // moving statistics are not their initial values.
    set_random_seed(6);
    let inner = Sequential::new(&[4])
        .add(Dense::new(3).with_activation("tanh").unwrap())
        .unwrap()
        .add(BatchNormalization::new())
        .unwrap()
        .build()
        .unwrap()
        .with_name("backbone");
    let mut outer = Sequential::new(&[4])
        .add(inner.as_layer())
        .unwrap()
        .add(Dense::new(2))
        .unwrap()
        .build()
        .unwrap()
        .with_name("outer");
    outer.compile("adam", "mse", &[]).unwrap();
    outer.fit(&[inputs()], &targets(), config()).unwrap();
    let y = outer.predict(&[inputs()], 6).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let record = serde_json::json!({
        "x": [inputs().iter().copied().collect::<Vec<f32>>()],
        "x_shape": [[6, 4]],
        "y": y.iter().copied().collect::<Vec<f32>>(),
        "y_shape": y.shape(),
    });
    std::fs::write(dir.path().join("built.json"), record.to_string()).unwrap();
    let keras_file = dir.path().join("built.keras");
    let weights_file = dir.path().join("built.weights.h5");
    let legacy_file = dir.path().join("built.h5");
    outer.save(&keras_file).unwrap();
    outer.save_weights(&weights_file).unwrap();
    outer.save(&legacy_file).unwrap();

    // rkeras reads all three back.
    for path in [&keras_file, &legacy_file] {
        let reloaded = load_model(path).unwrap();
        assert_eq!(reloaded.predict(&[inputs()], 6).unwrap(), y, "{path:?}");
        assert_eq!(
            reloaded.network().keras_layers()[0].class_name(),
            "Sequential"
        );
    }
    let (_, mut fresh) = {
        set_random_seed(7);
        let inner = Sequential::new(&[4])
            .add(Dense::new(3).with_activation("tanh").unwrap())
            .unwrap()
            .add(BatchNormalization::new())
            .unwrap()
            .build()
            .unwrap()
            .with_name("backbone");
        let outer = Sequential::new(&[4])
            .add(inner.as_layer())
            .unwrap()
            .add(Dense::new(2))
            .unwrap()
            .build()
            .unwrap();
        (inner, outer)
    };
    fresh.load_weights(&weights_file).unwrap();
    assert_eq!(fresh.predict(&[inputs()], 6).unwrap(), y);

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/keras3_format_golden.py"
    );
    rkeras_testkit::run_keras_check(
        "Keras's load of an rkeras-built nested model (.keras, .weights.h5)",
        script,
        [
            Path::new("check"),
            dir.path(),
            Path::new("built"),
            &keras_file,
            &weights_file,
        ],
        "keras3 ok",
    );
    rkeras_testkit::run_keras_check(
        "Keras's load of an rkeras-built nested model (legacy .h5)",
        script,
        [
            Path::new("check-h5"),
            dir.path(),
            Path::new("built"),
            &legacy_file,
        ],
        "keras3 ok",
    );
}
