//! Keras 3's `.keras` and `.weights.h5` formats against Keras 3.15 itself.
//!
//! The fixtures (`tests/fixtures/keras3`, written by `scripts/keras3_format_golden.py`) are `.keras` files Keras
//! saved after two training steps (Dense, Embedding+LSTM, GRU, Conv2D, BatchNormalization, and the bAbI memory
//! network; a Sequential model, Bidirectional and TimeDistributed wrappers, models used as layers, also as a legacy
//! `.h5`) with Keras's predictions and optimizer variables. rkeras loads each and predicts Keras's outputs
//! within 1e-5, writes the optimizer's variables back in Keras's order, and the `.keras` and `.weights.h5` files
//! it writes load in Keras with the same predictions and optimizer state (run for real through the Python of
//! `rkeras_testkit::keras_python`: a failure with CI=true when it is missing, a loud notice otherwise).

use ndarray::{ArrayD, IxDyn};
use rkeras_callbacks::ModelCheckpoint;
use rkeras_engine::{FitConfig, Model, load_model};
use rkeras_io::{IoError, load_keras_file, load_keras_weights_file};
use std::path::{Path, PathBuf};

const NAMES: [&str; 6] = [
    "dense",
    "embedding_lstm",
    "gru",
    "conv2d",
    "batchnorm",
    "memnn",
];

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras3"
    ))
}

struct Golden {
    x: Vec<ArrayD<f32>>,
    y: ArrayD<f32>,
    optimizer_vars: Vec<Vec<f64>>,
}

fn array(values: &serde_json::Value, shape: &serde_json::Value) -> ArrayD<f32> {
    let shape: Vec<usize> = shape
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let values: Vec<f32> = values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

fn golden(name: &str) -> Golden {
    let text = std::fs::read_to_string(fixture_dir().join(format!("{name}.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let x = json["x"]
        .as_array()
        .unwrap()
        .iter()
        .zip(json["x_shape"].as_array().unwrap())
        .map(|(v, s)| array(v, s))
        .collect();
    let optimizer_vars = json["optimizer_vars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_f64().unwrap())
                .collect()
        })
        .collect();
    Golden {
        x,
        y: array(&json["y"], &json["y_shape"]),
        optimizer_vars,
    }
}

fn max_difference(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The optimizer's variables of an rkeras-written `.keras` file, flattened as the fixture lists them.
fn written_optimizer_vars(path: &Path) -> Vec<Vec<f64>> {
    let optimizer = load_keras_file(path).unwrap().weights.optimizer.unwrap();
    let mut vars = vec![vec![optimizer.iterations as f64]];
    vars.extend(
        optimizer
            .vars
            .iter()
            .map(|v| v.iter().map(|&f| f64::from(f)).collect()),
    );
    vars
}

fn keras_check(name: &str, keras_file: &Path, weights_file: &Path) {
    rkeras_testkit::run_keras_check(
        &format!("Keras's load of the rkeras-written {name}.keras and {name}.weights.h5"),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras3_format_golden.py"
        ),
        [
            Path::new("check"),
            &fixture_dir(),
            Path::new(name),
            keras_file,
            weights_file,
        ],
        "keras3 ok",
    );
}

fn round_trip(name: &str) {
    let golden = golden(name);
    let model = load_model(fixture_dir().join(format!("{name}.keras"))).unwrap();
    let predicted = model.predict(&golden.x, 2).unwrap();
    let worst = max_difference(&predicted, &golden.y);
    assert!(
        worst <= 1e-5,
        "{name}: predictions differ from Keras's by {worst}"
    );

    let dir = tempfile::tempdir().unwrap();
    let keras_file = dir.path().join(format!("{name}.keras"));
    let weights_file = dir.path().join(format!("{name}.weights.h5"));
    model.save(&keras_file).unwrap();
    model.save_weights(&weights_file).unwrap();

    // The optimizer state crossed unchanged and in Keras 3's variable order.
    let written = written_optimizer_vars(&keras_file);
    assert_eq!(written.len(), golden.optimizer_vars.len(), "{name}");
    for (i, (w, g)) in written.iter().zip(&golden.optimizer_vars).enumerate() {
        assert_eq!(w.len(), g.len(), "{name}: optimizer variable {i}");
        for (a, b) in w.iter().zip(g) {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{name}: optimizer variable {i}: {a} vs {b}"
            );
        }
    }
    assert_eq!(
        load_keras_weights_file(&weights_file).unwrap().optimizer,
        load_keras_file(&keras_file).unwrap().weights.optimizer,
        "{name}: .weights.h5 carries the optimizer like .keras"
    );

    // rkeras reads back what it wrote.
    let reloaded = load_model(&keras_file).unwrap();
    assert_eq!(reloaded.predict(&golden.x, 3).unwrap(), predicted, "{name}");
    let mut fresh = load_model(&keras_file).unwrap();
    for w in fresh.network().layers().iter().flat_map(|l| l.weights()) {
        w.set_value(ArrayD::zeros(IxDyn(&w.shape()))).unwrap();
    }
    fresh.load_weights(&weights_file).unwrap();
    assert_eq!(fresh.predict(&golden.x, 3).unwrap(), predicted, "{name}");

    keras_check(name, &keras_file, &weights_file);
}

#[test]
fn dense_crosses_both_ways_with_keras() {
    round_trip(NAMES[0]);
}

#[test]
fn embedding_and_lstm_cross_both_ways_with_keras() {
    round_trip(NAMES[1]);
}

#[test]
fn gru_crosses_both_ways_with_keras() {
    round_trip(NAMES[2]);
}

#[test]
fn conv2d_crosses_both_ways_with_keras() {
    round_trip(NAMES[3]);
}

#[test]
fn batch_normalization_crosses_both_ways_with_keras() {
    round_trip(NAMES[4]);
}

#[test]
fn the_memory_network_crosses_both_ways_with_keras() {
    round_trip(NAMES[5]);
}

#[test]
fn a_sequential_model_crosses_both_ways_with_keras() {
    round_trip("sequential");
}

#[test]
fn bidirectional_wrappers_cross_both_ways_with_keras() {
    round_trip("bidirectional");
}

#[test]
fn a_time_distributed_wrapper_crosses_both_ways_with_keras() {
    round_trip("time_distributed");
}

#[test]
fn nested_models_cross_both_ways_with_keras() {
    // Keras's nested.keras: a Sequential and a functional model called as layers inside a functional one.
    round_trip("nested");
    let model = load_model(fixture_dir().join("nested.keras")).unwrap();
    let classes: Vec<&str> = model
        .network()
        .layers()
        .iter()
        .map(|l| l.class_name())
        .collect();
    assert_eq!(classes, ["InputLayer", "Sequential", "Functional", "Dense"]);
    let names: Vec<&str> = model.network().layers().iter().map(|l| l.name()).collect();
    assert_eq!(names[1..3], ["inner_sequential", "inner_functional"]);
    // Keras's variable order: the inner models' weights in place of the layers that hold them.
    let shapes: Vec<Vec<usize>> = model.weights().iter().map(|w| w.shape()).collect();
    assert_eq!(
        shapes,
        [
            vec![4, 3],
            vec![3],
            vec![3, 3],
            vec![3],
            vec![3, 2],
            vec![2]
        ]
    );
    // The paths Keras 3.15's saving_lib gives them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.keras");
    model.save(&path).unwrap();
    let store = load_keras_file(&path).unwrap().weights;
    for (object, count) in [
        ("layers/input_layer", 0),
        ("layers/sequential", 0),
        ("layers/sequential/layers/dense", 2),
        ("layers/functional", 0),
        ("layers/functional/layers/input_layer", 0),
        ("layers/functional/layers/dense", 2),
        ("layers/dense", 2),
    ] {
        let found = store.object(object).unwrap_or_else(|| panic!("{object}"));
        assert_eq!(found.vars.len(), count, "{object}");
    }
    assert_eq!(store.objects.len(), 7, "{:?}", store.objects);
    assert!(model.summary().contains("inner_sequential (Sequential)"));
}

#[test]
fn nested_models_cross_both_ways_in_legacy_h5() {
    // nested.h5: Keras's legacy save of nested.keras (`keras3_format_golden.py legacy-h5`), each nested model
    // one group of `model_weights` holding its layers' weights, named `dense_5/kernel`.
    let golden = golden("nested");
    let from_keras = load_model(fixture_dir().join("nested.h5")).unwrap();
    let worst = max_difference(&from_keras.predict(&golden.x, 2).unwrap(), &golden.y);
    assert!(worst <= 1e-5, "predictions differ from Keras's by {worst}");
    // The optimizer's slots paired by name through the nested models (`adam_1/dense_5_kernel_momentum`).
    let optimizer = from_keras.optimizer().unwrap().state();
    assert_eq!(optimizer.iterations, 2);
    assert_eq!(optimizer.slots.len(), 12);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.h5");
    from_keras.save(&path).unwrap();
    let file = rkeras_io::load_model_file(&path).unwrap();
    let inner = file
        .layers
        .iter()
        .find(|l| l.layer_name == "inner_sequential")
        .unwrap();
    let names: Vec<&str> = inner.weights.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["dense_5/kernel", "dense_5/bias"]);
    let slots: Vec<&str> = file
        .optimizer
        .as_ref()
        .unwrap()
        .weights
        .iter()
        .map(|w| w.name.as_str())
        .collect();
    assert!(slots.contains(&"adam_1/dense_6_bias_velocity"), "{slots:?}");
    let reloaded = load_model(&path).unwrap();
    assert_eq!(
        reloaded.predict(&golden.x, 2).unwrap(),
        from_keras.predict(&golden.x, 2).unwrap()
    );
    assert_eq!(reloaded.optimizer().unwrap().state(), optimizer);
    rkeras_testkit::run_keras_check(
        "Keras's load of the rkeras-written nested.h5",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras3_format_golden.py"
        ),
        [
            Path::new("check-h5"),
            &fixture_dir(),
            Path::new("nested"),
            &path,
        ],
        "keras3 ok",
    );
}

#[test]
fn multi_head_attention_weights_sit_under_keras_sublayers() {
    // mha_self_attention.weights.h5: Keras 3.15's `save_weights` of `Model(i, MultiHeadAttention(2, 3)(i, i))`
    // for `i = Input((5, 4))`, its projections under `query_dense`, `key_dense`, `value_dense`, `output_dense`.
    let x = rkeras_layers::Input::new(&[5, 4]);
    let y = rkeras_layers::LayerCall::call_many(
        &rkeras_layers::MultiHeadAttention::new(2, 3),
        &[x.clone(), x.clone()],
    )
    .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    let keras_file = fixture_dir().join("mha_self_attention.weights.h5");
    model.load_weights(&keras_file).unwrap();
    let store = load_keras_weights_file(&keras_file).unwrap();
    let query = store
        .object("layers/multi_head_attention/query_dense")
        .unwrap();
    assert_eq!(model.get_weights()[0], query.vars[0]);
    let output = store
        .object("layers/multi_head_attention/output_dense")
        .unwrap();
    assert_eq!(model.get_weights()[7], output.vars[1]);

    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("mha.weights.h5");
    model.save_weights(&written).unwrap();
    let ours = load_keras_weights_file(&written).unwrap();
    for (part, shapes) in [
        ("query_dense", [vec![4, 2, 3], vec![2, 3]]),
        ("key_dense", [vec![4, 2, 3], vec![2, 3]]),
        ("value_dense", [vec![4, 2, 3], vec![2, 3]]),
        ("output_dense", [vec![2, 3, 4], vec![4]]),
    ] {
        let object = ours
            .object(&format!("layers/multi_head_attention/{part}"))
            .unwrap_or_else(|| panic!("{part}"));
        let got: Vec<Vec<usize>> = object.vars.iter().map(|v| v.shape().to_vec()).collect();
        assert_eq!(got, shapes, "{part}");
        let theirs = store
            .object(&format!("layers/multi_head_attention/{part}"))
            .unwrap();
        assert_eq!(object.vars, theirs.vars, "{part}");
    }
}

#[test]
fn a_sequential_model_is_written_as_keras_sequential() {
    let model = load_model(fixture_dir().join("sequential.keras")).unwrap();
    assert!(model.network().is_sequential());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sequential.keras");
    model.save(&path).unwrap();
    let archive = load_keras_file(&path).unwrap();
    let config: serde_json::Value = serde_json::from_str(&archive.config).unwrap();
    assert_eq!(config["class_name"], "Sequential");
    assert_eq!(config["module"], "keras");
    assert_eq!(config["config"]["name"], "sequential_golden");
    assert_eq!(
        config["config"]["build_input_shape"],
        serde_json::json!([null, 4])
    );
    let classes: Vec<&str> = config["config"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["class_name"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["InputLayer", "Dense", "Dense"]);
    // Keras's Sequential store has no input layer object.
    let paths: Vec<&str> = archive
        .weights
        .objects
        .iter()
        .map(|o| o.path.as_str())
        .collect();
    assert_eq!(paths, ["layers/dense", "layers/dense_1"]);
}

#[test]
fn the_loaded_optimizer_continues_from_keras_state() {
    // Keras's Adam after two steps: a third rkeras step must use the saved moments and iteration count, so it
    // differs from a step of a freshly compiled optimizer on the same weights.
    let golden = golden("dense");
    let target =
        ArrayD::from_shape_fn(IxDyn(&[5, 2]), |i| if i[1] == i[0] % 2 { 1.0 } else { 0.0 });
    let mut resumed = load_model(fixture_dir().join("dense.keras")).unwrap();
    let mut fresh = load_model(fixture_dir().join("dense.keras")).unwrap();
    fresh
        .compile(
            rkeras_optim::AdamConfig::default()
                .with_learning_rate(0.01)
                .build()
                .unwrap(),
            "categorical_crossentropy",
            &[],
        )
        .unwrap();
    let config = || {
        FitConfig::new()
            .epochs(1)
            .batch_size(5)
            .verbose(0)
            .shuffle(false)
    };
    resumed.fit(&golden.x, &target, config()).unwrap();
    fresh.fit(&golden.x, &target, config()).unwrap();
    assert_ne!(resumed.get_weights(), fresh.get_weights());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resumed.keras");
    resumed.save(&path).unwrap();
    let optimizer = load_keras_file(&path).unwrap().weights.optimizer.unwrap();
    assert_eq!(optimizer.iterations, 3, "Keras's two steps plus one");
}

fn small_model() -> Model {
    let mut model = load_model(fixture_dir().join("dense.keras")).unwrap();
    model.compile("sgd", "mse", &[]).unwrap();
    model
}

#[test]
fn model_checkpoint_chooses_the_format_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let x = golden("dense").x;
    let y = ArrayD::from_elem(IxDyn(&[5, 2]), 0.5f32);
    let mut model = small_model();
    let mut archive = ModelCheckpoint::new(dir.path().join("model-{epoch:02d}.keras")).unwrap();
    let mut weights = ModelCheckpoint::new(dir.path().join("w-{epoch:02d}.weights.h5"))
        .unwrap()
        .with_save_weights_only(true);
    let mut legacy = ModelCheckpoint::new(dir.path().join("legacy-{epoch:02d}.h5")).unwrap();
    let config = FitConfig::new()
        .epochs(2)
        .batch_size(5)
        .verbose(0)
        .callback(&mut archive)
        .callback(&mut weights)
        .callback(&mut legacy);
    model.fit(&x, &y, config).unwrap();
    let expected = model.predict(&x, 5).unwrap();

    let from_archive = load_model(dir.path().join("model-02.keras")).unwrap();
    assert_eq!(from_archive.predict(&x, 5).unwrap(), expected);
    assert_eq!(
        &std::fs::read(dir.path().join("model-01.keras")).unwrap()[..2],
        b"PK"
    );
    let store = load_keras_weights_file(&dir.path().join("w-02.weights.h5")).unwrap();
    assert!(store.object("layers/dense").is_some(), "{store:?}");
    let mut from_weights = small_model();
    from_weights
        .load_weights(dir.path().join("w-02.weights.h5"))
        .unwrap();
    assert_eq!(from_weights.predict(&x, 5).unwrap(), expected);
    let from_legacy = load_model(dir.path().join("legacy-02.h5")).unwrap();
    assert_eq!(from_legacy.predict(&x, 5).unwrap(), expected);
    assert!(rkeras_io::load_model_file(&dir.path().join("legacy-02.h5")).is_ok());
}

#[test]
fn damaged_and_mismatched_files_are_errors_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture_dir().join("gru.keras")).unwrap();
    let truncated = dir.path().join("truncated.keras");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    let Err(err) = load_model(&truncated) else {
        panic!("a truncated archive loaded")
    };
    let err = err.to_string();
    assert!(err.contains("truncated.keras"), "{err}");
    assert!(matches!(
        load_keras_file(&truncated),
        Err(IoError::Zip { .. })
    ));

    // The GRU model's weights do not fit the Dense model: a shape or count error, and no weight changes.
    let gru = load_model(fixture_dir().join("gru.keras")).unwrap();
    let weights = dir.path().join("gru.weights.h5");
    gru.save_weights(&weights).unwrap();
    let mut dense = load_model(fixture_dir().join("dense.keras")).unwrap();
    let before = dense.get_weights();
    let err = dense.load_weights(&weights).unwrap_err().to_string();
    assert!(err.contains("layers/"), "{err}");
    assert_eq!(dense.get_weights(), before);
}
