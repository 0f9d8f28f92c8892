//! Metric objects per output against Keras (scripts/keras_metric_outputs_golden.py): a two-output model
//! (`cls` sparse categorical, `bin` binary) compiled with metrics by output name and as a list of lists, mixing
//! names with objects that carry arguments (BinaryAccuracy(threshold), SparseTopKCategoricalAccuracy(k),
//! Precision(thresholds), BinaryIoU, CosineSimilarity, a float64 dtype). Keras's files load compiled with those
//! objects from .keras and legacy .h5; the same compile written in Rust logs Keras 3's `<output>_<metric>` names
//! with evaluate and one epoch's History within 1e-5; the files rkeras saves carry Keras's metric configs when
//! Keras loads them (through the Python of `rkeras_testkit::keras_python`: a failure with CI=true when it is
//! missing, a loud notice otherwise).

use ndarray::{ArrayD, IxDyn};
use rkeras_callbacks::Logs;
use rkeras_engine::metrics::{Confusion, MeanIoU, Metric};
use rkeras_engine::{CompileConfig, FitConfig, MetricArg, Model, load_model};
use serde_json::Value;
use std::path::{Path, PathBuf};

mod golden_json;
use golden_json::nested_floats as floats;

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_metric_outputs"
    ))
}

fn golden() -> Value {
    golden_json::read(&fixture_dir().join("golden.json"))
}

struct Data {
    x: ArrayD<f32>,
    targets: [ArrayD<f32>; 2],
}

fn data(golden: &Value) -> Data {
    let array = |key: &str, shape: &[usize]| {
        ArrayD::from_shape_vec(IxDyn(shape), floats(&golden[key])).unwrap()
    };
    Data {
        x: array("x", &[24, 4]),
        targets: [array("ids", &[24]), array("yb", &[24, 2])],
    }
}

const FORMS: [&str; 2] = ["dict", "list"];

/// Keras 3's log names, in rkeras's order.
fn names(form: &str) -> Vec<&'static str> {
    let mut names = vec!["loss", "cls_loss", "bin_loss"];
    names.extend(if form == "dict" {
        &[
            "cls_accuracy",
            "cls_sca",
            "cls_top2",
            "cls_xent",
            "bin_ba7",
            "bin_mae",
            "bin_p04",
            "bin_biou",
        ][..]
    } else {
        &[
            "cls_accuracy",
            "cls_sca",
            "bin_binary_accuracy",
            "bin_mse",
            "bin_cos",
        ][..]
    });
    names
}

fn assert_logs_match(what: &str, logs: &Logs, want: &Value) {
    let want = want.as_object().unwrap();
    let mut keys: Vec<&String> = logs.keys().collect();
    let mut want_keys: Vec<&String> = want.keys().collect();
    keys.sort_unstable();
    want_keys.sort_unstable();
    assert_eq!(keys, want_keys, "{what}: Keras's log names");
    for (key, value) in want {
        let (got, want) = (logs[key], value.as_f64().unwrap());
        assert!(
            (got - want).abs() <= 1e-5,
            "{what} {key}: rkeras {got}, Keras {want}"
        );
    }
}

fn check_model(what: &str, form: &str, mut model: Model, golden: &Value) {
    let d = data(golden);
    let want = &golden[form];
    assert_eq!(model.metrics_names(), names(form), "{what}");
    let x = std::slice::from_ref(&d.x);
    let before = model.evaluate(x, &d.targets, 8).unwrap();
    assert_logs_match(
        &format!("{what} evaluate"),
        &before,
        &want["evaluate_before"],
    );
    let config = FitConfig::new()
        .epochs(1)
        .batch_size(8)
        .verbose(0)
        .shuffle(false);
    let history = model.fit(x, &d.targets, config).unwrap();
    let first: Logs = history
        .history
        .iter()
        .filter(|(k, _)| *k != "learning_rate")
        .map(|(k, v)| (k.clone(), v[0]))
        .collect();
    let want_history: serde_json::Map<String, Value> = want["history"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v[0].clone()))
        .collect();
    assert_logs_match(
        &format!("{what} history"),
        &first,
        &Value::Object(want_history),
    );
    let after = model.evaluate(x, &d.targets, 8).unwrap();
    assert_logs_match(
        &format!("{what} evaluate after fit"),
        &after,
        &want["evaluate_after"],
    );
}

#[test]
fn keras_files_load_compiled_with_metric_objects_per_output() {
    let golden = golden();
    for form in FORMS {
        for ext in ["keras", "h5"] {
            let file = format!("metric_outputs_{form}.{ext}");
            check_model(
                &file,
                form,
                load_model(fixture_dir().join(&file)).unwrap(),
                &golden,
            );
        }
    }
}

/// The script's compile, written in Rust.
fn compiled_in_rust(form: &str) -> Model {
    let mut model = load_model(fixture_dir().join(format!("metric_outputs_{form}.keras"))).unwrap();
    let sgd = rkeras_optim::SGDConfig::default()
        .with_learning_rate(0.1)
        .build()
        .unwrap();
    let config = if form == "dict" {
        let cls: Vec<MetricArg> = vec![
            "accuracy".into(),
            Metric::sparse_categorical_accuracy()
                .named("sca")
                .with_dtype("float64")
                .unwrap()
                .into(),
            Metric::sparse_top_k_categorical_accuracy(2, false)
                .unwrap()
                .named("top2")
                .into(),
            Metric::sparse_categorical_crossentropy(false, None, -1)
                .unwrap()
                .named("xent")
                .into(),
        ];
        let bin: Vec<MetricArg> = vec![
            Metric::binary_accuracy(0.7).unwrap().named("ba7").into(),
            "mae".into(),
            Metric::new(
                "p04",
                Confusion::precision(Some(vec![0.4]), None, None).unwrap(),
            )
            .into(),
            Metric::new("biou", MeanIoU::binary(vec![1], 0.6).unwrap()).into(),
        ];
        CompileConfig::losses_by_name([
            ("cls", "sparse_categorical_crossentropy"),
            ("bin", "binary_crossentropy"),
        ])
        .metric_lists_by_name([("cls", cls), ("bin", bin)])
    } else {
        CompileConfig::losses(["sparse_categorical_crossentropy", "binary_crossentropy"])
            .metric_lists([
                vec![
                    "accuracy".into(),
                    Metric::sparse_categorical_accuracy().named("sca").into(),
                ],
                vec![
                    Metric::binary_accuracy(0.3).unwrap().into(),
                    "mse".into(),
                    Metric::cosine_similarity(-1).unwrap().named("cos").into(),
                ],
            ])
    };
    model.compile_with(sgd, config).unwrap();
    model
}

#[test]
fn metric_objects_per_output_compiled_in_rust_train_as_keras() {
    let golden = golden();
    for form in FORMS {
        check_model(
            &format!("{form} compile_with"),
            form,
            compiled_in_rust(form),
            &golden,
        );
    }
}

#[test]
fn keras_reads_the_metric_objects_per_output_rkeras_saves() {
    let golden = golden();
    let dir = tempfile::tempdir().unwrap();
    for form in FORMS {
        for ext in ["keras", "h5"] {
            let path = dir.path().join(format!("saved_{form}.{ext}"));
            compiled_in_rust(form).save(&path).unwrap();
            check_model(
                &format!("rkeras {form} .{ext}"),
                form,
                load_model(&path).unwrap(),
                &golden,
            );
            rkeras_testkit::run_keras_check(
                &format!("Keras's load of the rkeras-saved {form} .{ext} metrics per output"),
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../scripts/keras_metric_outputs_golden.py"
                ),
                [Path::new("check"), &fixture_dir(), Path::new(form), &path],
                "keras metric outputs ok",
            );
        }
    }
}

#[test]
fn metric_objects_per_output_are_checked_at_compile() {
    let mut model = compiled_in_rust("dict");
    let twice = CompileConfig::losses(["sparse_categorical_crossentropy", "binary_crossentropy"])
        .metric_lists([
            vec![
                Metric::sparse_categorical_accuracy().into(),
                "sparse_categorical_accuracy".into(),
            ],
            vec![],
        ]);
    let e = model.compile_with("sgd", twice).unwrap_err().to_string();
    assert!(e.contains("listed twice"), "{e}");
    // A sparse metric object on the binary output: its class, not its name, says it reads class ids.
    let sparse_on_binary =
        CompileConfig::losses(["sparse_categorical_crossentropy", "binary_crossentropy"])
            .metric_lists([
                vec![],
                vec![Metric::sparse_categorical_accuracy().named("acc2").into()],
            ]);
    let e = model
        .compile_with("sgd", sparse_on_binary)
        .unwrap_err()
        .to_string();
    assert!(e.contains("acc2") && e.contains("integer class ids"), "{e}");
    let unknown = CompileConfig::losses(["sparse_categorical_crossentropy", "binary_crossentropy"])
        .metric_lists_by_name([("binary", vec![Metric::accuracy().into()])]);
    let e = model.compile_with("sgd", unknown).unwrap_err().to_string();
    assert!(e.contains("`binary` is not an output"), "{e}");
}
