//! Models with several outputs: a loss, a loss weight and metrics per output, Keras 3's log names, typed errors
//! at compile and at the start of fit, callbacks monitoring per-output logs, and the compiled state saved and
//! loaded both ways with Keras (fixture from scripts/keras_multi_output_golden.py).

mod common;

use common::column;
use ndarray::{Array1, ArrayD, IxDyn};
use rkeras_callbacks::EarlyStopping;
use rkeras_engine::{CompileConfig, EngineError, FitConfig, Logs, Model, load_model};
use rkeras_layers::{Dense, Input, LayerCall};
use rkeras_optim::{Adam, SGD};
use rkeras_tensor::Initializer;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Two outputs of one input, `a = wa·x` and `b = wb·x` (no bias), both mse.
fn two_heads(wa: f32, wb: f32, config: CompileConfig) -> Model {
    let x = Input::new(&[1]);
    let head = |w: f32, name: &str| {
        Dense::new(1)
            .with_bias(false)
            .with_kernel_initializer(Initializer::Constant(w))
            .with_name(name)
            .call(&x)
            .unwrap()
    };
    let (a, b) = (head(wa, "a"), head(wb, "b"));
    let mut model = Model::with_outputs(&[x], &[a, b]).unwrap();
    model.compile_with(SGD::new(0.1).unwrap(), config).unwrap();
    model
}

fn close(logs: &Logs, expected: &[(&str, f64)]) {
    let keys: Vec<&str> = logs.keys().map(String::as_str).collect();
    let want: Vec<&str> = expected.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, want, "log names and order");
    for (key, value) in expected {
        assert!(
            (logs[*key] - value).abs() < 1e-6,
            "{key}: {} instead of {value}",
            logs[*key]
        );
    }
}

/// x = [1, 2], a's targets 0, b's targets 1; wa = 1, wb = 2:
/// a_loss = mean((1−0)², (2−0)²) = 2.5, b_loss = mean((2−1)², (4−1)²) = 5, loss = 2.5 + 0.5·5 = 5.
/// Gradients: ∂a_loss/∂wa = mean(2·wa·x²) = 5, so wa = 1 − 0.1·5 = 0.5; ∂(0.5·b_loss)/∂wb =
/// 0.5·mean(2·(wb·x − 1)·x) = 0.5·(2 + 12)/2 = 3.5, so wb = 2 − 0.35 = 1.65.
#[test]
fn weighted_total_and_per_output_losses_match_hand_computed_values() {
    let config = CompileConfig::new("mse").loss_weights(&[1.0, 0.5]);
    let x = column(&[1.0, 2.0]);
    let ys = [column(&[0.0, 0.0]), column(&[1.0, 1.0])];
    let expected = [("loss", 5.0), ("a_loss", 2.5), ("b_loss", 5.0)];

    let model = two_heads(1.0, 2.0, config.clone());
    close(
        &model
            .test_on_batch(std::slice::from_ref(&x), &ys, None)
            .unwrap(),
        &expected,
    );
    close(
        &model.evaluate(std::slice::from_ref(&x), &ys, 1).unwrap(),
        &expected,
    );

    let mut model = two_heads(1.0, 2.0, config.clone());
    close(
        &model
            .train_on_batch(std::slice::from_ref(&x), &ys, None)
            .unwrap(),
        &expected,
    );
    let w: Vec<f32> = model.get_weights().iter().map(|w| w[[0, 0]]).collect();
    assert!(
        (w[0] - 0.5).abs() < 1e-6 && (w[1] - 1.65).abs() < 1e-6,
        "{w:?}"
    );

    // The same step through fit, with the targets as a Vec.
    let mut model = two_heads(1.0, 2.0, config);
    let history = model
        .fit(
            std::slice::from_ref(&x),
            &ys.to_vec(),
            FitConfig::new().batch_size(2).shuffle(false).verbose(0),
        )
        .unwrap();
    assert_eq!(
        history.keys().collect::<Vec<_>>(),
        ["loss", "a_loss", "b_loss", "learning_rate"]
    );
    for (key, value) in expected {
        assert!((history.get(key).unwrap()[0] - value).abs() < 1e-6, "{key}");
    }
    let w: Vec<f32> = model.get_weights().iter().map(|w| w[[0, 0]]).collect();
    assert!(
        (w[0] - 0.5).abs() < 1e-6 && (w[1] - 1.65).abs() < 1e-6,
        "{w:?}"
    );
}

/// Without loss weights the total is the plain sum; sample weights apply to every output (Keras's one
/// `sample_weight` array for several outputs): with weights [1, 0], a_loss = 1/2 and b_loss = 1/2.
#[test]
fn unweighted_sum_and_sample_weights() {
    let model = two_heads(1.0, 2.0, CompileConfig::losses(["mse", "mse"]));
    let x = column(&[1.0, 2.0]);
    let ys = [column(&[0.0, 0.0]), column(&[1.0, 1.0])];
    close(
        &model
            .test_on_batch(std::slice::from_ref(&x), &ys, None)
            .unwrap(),
        &[("loss", 7.5), ("a_loss", 2.5), ("b_loss", 5.0)],
    );
    let w = Array1::from(vec![1.0f32, 0.0]);
    close(
        &model.test_on_batch(&[x], &ys, Some(&w)).unwrap(),
        &[("loss", 1.0), ("a_loss", 0.5), ("b_loss", 0.5)],
    );
}

fn invalid(result: Result<(), EngineError>, argument: &str, words: &[&str]) {
    match result {
        Err(EngineError::InvalidArgument {
            argument: got,
            reason,
        }) => {
            assert_eq!(got, argument, "{reason}");
            for w in words {
                assert!(reason.contains(w), "`{w}` not in: {reason}");
            }
        }
        other => panic!("expected an invalid `{argument}`, got {other:?}"),
    }
}

#[test]
fn what_cannot_train_is_a_typed_error_at_compile() {
    let mut model = two_heads(1.0, 2.0, CompileConfig::new("mse"));
    let mut compile = |config: CompileConfig| model.compile_with("sgd", config);
    invalid(
        compile(CompileConfig::losses(["mse", "mse", "mse"])),
        "loss",
        &["3 entries", "2 output(s)", "a, b"],
    );
    invalid(
        compile(CompileConfig::losses_by_name([("a", "mse"), ("c", "mse")])),
        "loss",
        &["`c` is not an output", "a, b"],
    );
    invalid(
        compile(CompileConfig::losses_by_name([("a", "mse")])),
        "loss",
        &["output `b`"],
    );
    invalid(
        compile(CompileConfig::new("mse").loss_weights_by_name([("c", 1.0)])),
        "loss_weights",
        &["`c` is not an output"],
    );
    invalid(
        compile(CompileConfig::new("mse").loss_weights(&[1.0])),
        "loss_weights",
        &["1 entries"],
    );
    invalid(
        compile(CompileConfig::new("mse").metrics(&["mae", "mse", "mae"])),
        "metrics",
        &["flat list of 3"],
    );
    invalid(
        compile(CompileConfig::new("mse").metrics_per_output(&[&["mae"]])),
        "metrics",
        &["1 entries"],
    );
    invalid(
        compile(CompileConfig::new("mse").metrics_by_name([("c", &["mae"][..])])),
        "metrics",
        &["`c` is not an output"],
    );
    assert!(matches!(
        compile(CompileConfig::losses(["mse", "msee"])),
        Err(EngineError::UnknownName { .. })
    ));
    // Keras 3 reads a flat list as one metric per output.
    compile(CompileConfig::new("mse").metrics(&["mae", "mse"])).unwrap();
    assert_eq!(
        model.metrics_names(),
        ["loss", "a_loss", "b_loss", "a_mae", "b_mse"]
    );
}

#[test]
fn a_metric_that_does_not_fit_its_output_is_an_error_at_compile() {
    let x = Input::new(&[3]);
    let cls = Dense::new(2)
        .with_activation("softmax")
        .unwrap()
        .with_name("cls")
        .call(&x)
        .unwrap();
    let reg = Dense::new(1).with_name("reg").call(&x).unwrap();
    let mut model = Model::with_outputs(&[x], &[cls, reg]).unwrap();
    let config = CompileConfig::losses(["sparse_categorical_crossentropy", "mse"])
        .metrics_by_name([("cls", &["mae"][..])]);
    invalid(
        model.compile_with("sgd", config),
        "metrics",
        &["`mae` on output `cls`", "integer class ids"],
    );
}

#[test]
fn wrong_targets_are_errors_at_the_start_of_fit_naming_the_output() {
    let mut model = two_heads(1.0, 2.0, CompileConfig::new("mse"));
    let x = column(&[1.0, 2.0]);
    let config = || FitConfig::new().verbose(0);
    let err = model
        .fit(std::slice::from_ref(&x), &column(&[0.0, 0.0]), config())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2 output(s) (a, b), received 1 target array(s)"),
        "{err}"
    );
    let bad = [column(&[0.0, 0.0]), ArrayD::zeros(IxDyn(&[2, 3]))];
    let err = model
        .fit(std::slice::from_ref(&x), &bad, config())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("y[1] (output `b`)") && err.contains("(2, 1)"),
        "{err}"
    );
    let short = [column(&[0.0, 0.0]), column(&[1.0])];
    let err = model.fit(&[x], &short, config()).unwrap_err().to_string();
    assert!(err.contains("y[1] (output `b`)"), "{err}");
}

#[test]
fn callbacks_monitor_per_output_logs() {
    // b_loss falls every epoch (wb moves from 2 towards its optimum 0.6), so with mode max and patience 0
    // EarlyStopping stops after the second epoch; a key it could not find would never stop training.
    let mut model = two_heads(1.0, 2.0, CompileConfig::new("mse"));
    let x = column(&[1.0, 2.0]);
    let ys = [column(&[0.0, 0.0]), column(&[1.0, 1.0])];
    let mut stop = EarlyStopping::new().with_monitor("b_loss").with_mode("max");
    let history = model
        .fit(
            &[x],
            &ys,
            FitConfig::new()
                .epochs(10)
                .batch_size(2)
                .verbose(0)
                .callback(&mut stop),
        )
        .unwrap();
    let b = history.get("b_loss").unwrap();
    assert_eq!(b.len(), 2, "{b:?}");
    assert!(b[1] < b[0]);
    assert_eq!(stop.stopped_epoch(), Some(1));
}

// ---- Against Keras ----

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn golden() -> Value {
    let text = std::fs::read_to_string(fixture_dir().join("keras_multi_output.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn array(value: &Value) -> ArrayD<f32> {
    fn shape(v: &Value, dims: &mut Vec<usize>) {
        if let Value::Array(items) = v {
            dims.push(items.len());
            if let Some(first) = items.first() {
                shape(first, dims);
            }
        }
    }
    fn flat(v: &Value, out: &mut Vec<f32>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| flat(i, out)),
            other => out.push(other.as_f64().unwrap() as f32),
        }
    }
    let (mut dims, mut values) = (Vec::new(), Vec::new());
    shape(value, &mut dims);
    flat(value, &mut values);
    ArrayD::from_shape_vec(IxDyn(&dims), values).unwrap()
}

fn rows(a: &ArrayD<f32>, range: std::ops::Range<usize>) -> ArrayD<f32> {
    a.slice_axis(ndarray::Axis(0), range.into()).to_owned()
}

struct Data {
    x: ArrayD<f32>,
    cls: ArrayD<f32>,
    reg: ArrayD<f32>,
}

fn data(golden: &Value) -> Data {
    Data {
        x: array(&golden["x"]),
        cls: array(&golden["cls"]),
        reg: array(&golden["reg"]),
    }
}

/// The Keras model of the script, with its initial weights.
fn keras_model(golden: &Value) -> Model {
    let x = Input::new(&[3]);
    let h = Dense::new(4)
        .with_activation("tanh")
        .unwrap()
        .with_name("hidden")
        .call(&x)
        .unwrap();
    let cls = Dense::new(2)
        .with_activation("softmax")
        .unwrap()
        .with_name("cls")
        .call(&h)
        .unwrap();
    let reg = Dense::new(1).with_name("reg").call(&h).unwrap();
    let model = Model::with_outputs(&[x], &[cls, reg]).unwrap();
    let weights: Vec<ArrayD<f32>> = golden["initial_weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(array)
        .collect();
    model.set_weights(&weights).unwrap();
    model
}

fn assert_history(history: &rkeras_callbacks::History, expected: &Value, tolerance: f64) {
    let expected = expected.as_object().unwrap();
    let mut keys: Vec<&str> = history.keys().filter(|k| *k != "learning_rate").collect();
    keys.sort_unstable();
    let mut want: Vec<&str> = expected.keys().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(keys, want, "Keras's log names");
    for (key, values) in expected {
        let got = history.get(key).unwrap()[0];
        let want = values[0].as_f64().unwrap();
        assert!(
            (got - want).abs() < tolerance,
            "{key}: rkeras {got}, Keras {want}"
        );
    }
}

fn assert_weights(model: &Model, expected: &Value) {
    for (got, want) in model.get_weights().iter().zip(expected.as_array().unwrap()) {
        let want = array(want);
        let worst = got
            .iter()
            .zip(want.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "weights differ from Keras's by {worst}");
    }
}

#[test]
fn one_epoch_logs_as_keras_with_names_by_output() {
    let golden = golden();
    let d = data(&golden);
    let sgd = &golden["sgd"];
    let mut model = keras_model(&golden);
    let config =
        CompileConfig::losses_by_name([("cls", "sparse_categorical_crossentropy"), ("reg", "mse")])
            .loss_weights_by_name([("cls", 1.0), ("reg", 0.5)])
            .metrics_by_name([("cls", &["accuracy"][..]), ("reg", &["mae"][..])]);
    model.compile_with(SGD::new(0.1).unwrap(), config).unwrap();
    let train = [rows(&d.cls, 0..8), rows(&d.reg, 0..8)];
    let val = [rows(&d.cls, 8..12), rows(&d.reg, 8..12)];
    let history = model
        .fit(
            &[rows(&d.x, 0..8)],
            &train,
            FitConfig::new()
                .batch_size(4)
                .shuffle(false)
                .verbose(0)
                .validation_data(vec![rows(&d.x, 8..12)], val),
        )
        .unwrap();
    assert_history(&history, &sgd["history"], 1e-5);
    assert_weights(&model, &sgd["weights_after"]);
    let logs = model
        .evaluate(std::slice::from_ref(&d.x), &[d.cls, d.reg], 4)
        .unwrap();
    let order: Vec<&str> = sgd["history_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(logs.keys().collect::<Vec<_>>(), order, "Keras's order");
    for (key, value) in sgd["evaluate"].as_object().unwrap() {
        assert!((logs[key] - value.as_f64().unwrap()).abs() < 1e-5, "{key}");
    }
}

fn adam_config() -> CompileConfig {
    CompileConfig::losses(["sparse_categorical_crossentropy", "mean_squared_error"])
        .loss_weights(&[1.0, 0.5])
        .metrics_per_output(&[&["accuracy"], &["mae"]])
}

fn second_epoch(model: &mut Model, d: &Data) -> rkeras_callbacks::History {
    let expected = ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"];
    assert!(model.is_compiled());
    assert_eq!(model.metrics_names(), expected);
    model
        .fit(
            &[rows(&d.x, 0..8)],
            &[rows(&d.cls, 0..8), rows(&d.reg, 0..8)],
            FitConfig::new().batch_size(4).shuffle(false).verbose(0),
        )
        .unwrap()
}

#[test]
fn keras_written_compiled_models_load_compiled_and_continue_training() {
    let golden = golden();
    let d = data(&golden);
    for file in ["keras_multi_output.keras", "keras_multi_output.h5"] {
        let mut model = load_model(fixture_dir().join(file)).unwrap();
        let history = second_epoch(&mut model, &d);
        assert_history(&history, &golden["continued"]["history"], 1e-5);
        assert_weights(&model, &golden["continued"]["weights_after"]);
    }
}

#[test]
fn rkeras_written_compiled_models_load_compiled_in_rkeras_and_keras() {
    let golden = golden();
    let d = data(&golden);
    let mut model = keras_model(&golden);
    model
        .compile_with(Adam::new(0.01).unwrap(), adam_config())
        .unwrap();
    let first = second_epoch(&mut model, &d);
    assert_history(&first, &golden["adam_first"], 1e-5);
    let dir = tempfile::tempdir().unwrap();
    for name in ["multi.keras", "multi.h5"] {
        let path = dir.path().join(name);
        model.save(&path).unwrap();
        let mut loaded = load_model(&path).unwrap();
        let history = second_epoch(&mut loaded, &d);
        assert_history(&history, &golden["continued"]["history"], 1e-5);
        assert_weights(&loaded, &golden["continued"]["weights_after"]);
    }
    // Keras 3.15 cannot restore the optimizer of a legacy .h5 on the JAX backend (even one it wrote itself),
    // so Keras checks the .keras archive.
    rkeras_testkit::run_keras_check(
        "Keras's load of an rkeras-written compiled two-output model",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras_multi_output_golden.py"
        ),
        [
            Path::new("check"),
            &dir.path().join("multi.keras"),
            &fixture_dir().join("keras_multi_output.json"),
        ],
        "multi output ok",
    );
}

#[test]
fn data_sources_and_validation_split_take_one_target_per_output() {
    use rkeras_engine::source::{ArrayDataset, DataSource};
    let x = column(&[1.0, 2.0, 3.0, 4.0, -1.0, 0.5, 2.5, -2.0]);
    let ys = [x.mapv(|v| 2.0 * v), x.mapv(|v| 1.0 - v)];
    let config = || FitConfig::new().batch_size(4).shuffle(false).verbose(0);

    let mut on_arrays = two_heads(
        0.3,
        -0.2,
        CompileConfig::new("mse").loss_weights(&[1.0, 0.5]),
    );
    let arrays = on_arrays
        .fit(std::slice::from_ref(&x), &ys, config())
        .unwrap();
    let mut on_source = two_heads(
        0.3,
        -0.2,
        CompileConfig::new("mse").loss_weights(&[1.0, 0.5]),
    );
    let dataset = ArrayDataset::with_targets(vec![x.clone()], ys.to_vec(), 4).unwrap();
    let source = on_source
        .fit_source(DataSource::dataset(dataset), config())
        .unwrap();
    for key in ["loss", "a_loss", "b_loss"] {
        assert_eq!(arrays.get(key), source.get(key), "{key}");
    }
    assert_eq!(on_arrays.get_weights(), on_source.get_weights());

    // The last quarter of every target array validates.
    let mut split = two_heads(0.3, -0.2, CompileConfig::new("mse"));
    let history = split
        .fit(
            std::slice::from_ref(&x),
            &ys,
            config().validation_split(0.25),
        )
        .unwrap();
    let expected = split
        .evaluate(
            &[x.slice_axis(ndarray::Axis(0), (6..8).into()).to_owned()],
            &[rows(&ys[0], 6..8), rows(&ys[1], 6..8)],
            4,
        )
        .unwrap();
    for key in ["loss", "a_loss", "b_loss"] {
        assert_eq!(
            history.get(&format!("val_{key}")).unwrap()[0],
            expected[key]
        );
    }
}

/// Per output, any loss of the catalogue as an object (its reduction reducing its own output's loss) and
/// stateful metrics (`root_mean_squared_error` accumulates over the epoch, it is not a mean of batch values),
/// with sample weights: one epoch of fit and an evaluate equal Keras's; the loss objects survive `.keras` and
/// `.h5` saving (fixture from scripts/keras_multi_output_loss_objects_golden.py).
#[test]
fn loss_objects_and_stateful_metrics_per_output_match_keras_and_survive_saving() {
    use rkeras_engine::Loss;
    use rkeras_engine::losses::{LossKind, Reduction};
    let golden = golden();
    let d = data(&golden);
    let text = std::fs::read_to_string(fixture_dir().join("keras_multi_output_loss_objects.json"))
        .unwrap();
    let keras: Value = serde_json::from_str(&text).unwrap();
    let mut model = keras_model(&golden);
    let cls = Loss::from_name("SparseCategoricalCrossentropy")
        .unwrap()
        .with_reduction(Reduction::Sum);
    let reg = Loss::new(LossKind::Huber { delta: 0.5 }).unwrap();
    let config = CompileConfig::losses_by_name([("cls", cls), ("reg", reg)])
        .loss_weights_by_name([("cls", 1.0), ("reg", 0.5)])
        .metrics_by_name([
            ("cls", &["accuracy"][..]),
            ("reg", &["mae", "root_mean_squared_error"][..]),
        ]);
    model.compile_with(SGD::new(0.1).unwrap(), config).unwrap();
    let weights = array(&keras["sample_weight"]);
    let weights = Array1::from(weights.iter().take(9).copied().collect::<Vec<_>>());
    let history = model
        .fit(
            &[rows(&d.x, 0..9)],
            &[rows(&d.cls, 0..9), rows(&d.reg, 0..9)],
            FitConfig::new()
                .batch_size(3)
                .shuffle(false)
                .verbose(0)
                .sample_weight(weights)
                .validation_data(
                    vec![rows(&d.x, 9..12)],
                    [rows(&d.cls, 9..12), rows(&d.reg, 9..12)],
                ),
        )
        .unwrap();
    assert_history(&history, &keras["history"], 1e-5);
    assert_weights(&model, &keras["weights_after"]);
    let ys = [d.cls.clone(), d.reg.clone()];
    let logs = model.evaluate(std::slice::from_ref(&d.x), &ys, 4).unwrap();
    for (key, value) in keras["evaluate"].as_object().unwrap() {
        assert!(
            (logs[key] - value.as_f64().unwrap()).abs() < 1e-5,
            "{key}: rkeras {}, Keras {value}",
            logs[key]
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for name in ["objects.keras", "objects.h5"] {
        let path = dir.path().join(name);
        model.save(&path).unwrap();
        let loaded = load_model(&path).unwrap();
        let again = loaded.evaluate(std::slice::from_ref(&d.x), &ys, 4).unwrap();
        assert_eq!(
            again.keys().collect::<Vec<_>>(),
            logs.keys().collect::<Vec<_>>(),
            "{name}"
        );
        for (key, value) in &logs {
            assert!((again[key] - value).abs() < 1e-6, "{name} {key}");
        }
    }
    // The compile config holds each output's loss object as Keras writes it (class and reduction).
    let archive = rkeras_io::load_keras_file(&dir.path().join("objects.keras")).unwrap();
    let config: Value = serde_json::from_str(&archive.config).unwrap();
    let written = &config["compile_config"]["loss"];
    for (output, want) in keras["compile_loss"].as_object().unwrap() {
        for key in ["module", "class_name"] {
            assert_eq!(written[output][key], want[key], "{output} {key}");
        }
        assert_eq!(
            written[output]["config"]["reduction"], want["config"]["reduction"],
            "{output}"
        );
    }
    assert_eq!(written["reg"]["config"]["delta"], 0.5);
}
