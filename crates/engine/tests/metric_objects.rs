//! Metric objects in `compile` against Keras (scripts/keras_metric_objects_golden.py): a model Keras compiled
//! with Precision(thresholds=[0.3, 0.6]), Recall(thresholds=[…], name="rec"), AUC(num_thresholds=50,
//! curve="PR"), Precision(thresholds=0.3), MeanIoU(num_classes=2, …) and "accuracy" loads from .keras and
//! legacy .h5 compiled with those objects; `metrics_names`, `evaluate` and one epoch's History match Keras
//! (keys as Keras 3 names them, vector results element by element within 1e-5); the files rkeras saves carry
//! the same metric configs when Keras loads them and evaluate as Keras did (through the Python of
//! `rkeras_testkit::keras_python`: a failure with CI=true when it is missing, a loud notice otherwise).

use ndarray::{ArrayD, IxDyn};
use rkeras_callbacks::Logs;
use rkeras_engine::metrics::{Auc, Confusion, Curve, MeanIoU, Metric, Summation};
use rkeras_engine::{CompileConfig, FitConfig, MetricArg, Model, load_model};
use serde_json::Value;
use std::path::{Path, PathBuf};

mod golden_json;
use golden_json::nested_floats as floats;

fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_metric_objects"
    ))
}

fn golden() -> Value {
    golden_json::read(&fixture_dir().join("golden.json"))
}

fn data(golden: &Value) -> (ArrayD<f32>, ArrayD<f32>) {
    let x = ArrayD::from_shape_vec(IxDyn(&[24, 3]), floats(&golden["x"])).unwrap();
    let y = ArrayD::from_shape_vec(IxDyn(&[24, 2]), floats(&golden["y"])).unwrap();
    (x, y)
}

const NAMES: [&str; 7] = [
    "loss",
    "precision",
    "rec",
    "auc",
    "p03",
    "mean_io_u",
    "accuracy",
];

fn close(what: &str, got: f64, want: f32) {
    assert!(
        (got as f32 - want).abs() <= 1e-5,
        "{what}: rkeras {got}, Keras {want}"
    );
}

/// Keras's key holds a number, or for a vector result the array rkeras logs as its mean under the key and
/// element by element under `key_0`, `key_1`, ….
fn assert_logs_match(what: &str, logs: &Logs, want: &serde_json::Map<String, Value>) {
    for (key, value) in want {
        let got = |k: &str| {
            *logs
                .get(k)
                .unwrap_or_else(|| panic!("{what}: `{k}` not logged: {logs:?}"))
        };
        match value {
            Value::Array(_) => {
                let values = floats(value);
                let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64;
                close(&format!("{what} {key} (mean)"), got(key), mean as f32);
                for (i, v) in values.iter().enumerate() {
                    close(
                        &format!("{what} {key}[{i}]"),
                        got(&format!("{key}_{i}")),
                        *v,
                    );
                }
                assert!(!logs.contains_key(&format!("{key}_{}", values.len())));
            }
            v => close(
                &format!("{what} {key}"),
                got(key),
                v.as_f64().unwrap() as f32,
            ),
        }
    }
}

fn check_model(what: &str, mut model: Model, golden: &Value) {
    let (x, y) = data(golden);
    assert_eq!(model.metrics_names(), NAMES, "{what}");
    let before = model.evaluate(std::slice::from_ref(&x), &y, 8).unwrap();
    assert_logs_match(
        &format!("{what} evaluate"),
        &before,
        golden["evaluate_before"].as_object().unwrap(),
    );
    let config = FitConfig::new()
        .epochs(1)
        .batch_size(8)
        .verbose(0)
        .shuffle(false);
    let history = model.fit(std::slice::from_ref(&x), &y, config).unwrap();
    let last: Logs = history
        .history
        .iter()
        .map(|(k, v)| (k.clone(), v[0]))
        .collect();
    let want: serde_json::Map<String, Value> = golden["history"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v[0].clone()))
        .collect();
    assert_logs_match(&format!("{what} history"), &last, &want);
    let after = model.evaluate(std::slice::from_ref(&x), &y, 8).unwrap();
    assert_logs_match(
        &format!("{what} evaluate after fit"),
        &after,
        golden["evaluate_after"].as_object().unwrap(),
    );
}

#[test]
fn keras_files_load_compiled_with_their_metric_objects() {
    let golden = golden();
    for file in ["metric_objects.keras", "metric_objects.h5"] {
        check_model(file, load_model(fixture_dir().join(file)).unwrap(), &golden);
    }
}

#[test]
fn metric_configs_round_trip_as_keras_writes_them() {
    for value in golden()["compile_metrics"].as_array().unwrap() {
        if value.is_object() {
            assert_eq!(
                &Metric::from_config(value).unwrap().to_config().unwrap(),
                value
            );
        }
    }
    let bad = serde_json::json!({"class_name": "MeanIoU", "config": {"num_classes": 2, "axis": 1}});
    let err = Metric::from_config(&bad).unwrap_err().to_string();
    assert!(err.contains("axis=1"), "{err}");
}

fn compiled_in_rust() -> Model {
    let mut model = load_model(fixture_dir().join("metric_objects.keras")).unwrap();
    let metrics: Vec<MetricArg> = vec![
        Metric::new(
            "precision",
            Confusion::precision(Some(vec![0.3, 0.6]), None, None).unwrap(),
        )
        .into(),
        Metric::new(
            "rec",
            Confusion::recall(Some(vec![0.2, 0.5, 0.7]), None, None).unwrap(),
        )
        .into(),
        Metric::new(
            "auc",
            Auc::new(50, Curve::Pr, Summation::Interpolation, false).unwrap(),
        )
        .into(),
        Metric::new(
            "p03",
            Confusion::precision(Some(vec![0.3]), None, None).unwrap(),
        )
        .into(),
        Metric::new("mean_io_u", MeanIoU::new(2, None, false, false).unwrap()).into(),
        "accuracy".into(),
    ];
    let sgd = rkeras_optim::SGDConfig::default()
        .with_learning_rate(0.1)
        .build()
        .unwrap();
    model
        .compile_with(
            sgd,
            CompileConfig::new("categorical_crossentropy").metric_list(metrics),
        )
        .unwrap();
    model
}

#[test]
fn metric_objects_compiled_in_rust_train_as_keras() {
    check_model("compile_with", compiled_in_rust(), &golden());
}

#[test]
fn keras_reads_the_metric_objects_rkeras_saves() {
    let golden = golden();
    let dir = tempfile::tempdir().unwrap();
    for file in ["saved.keras", "saved.h5"] {
        let path = dir.path().join(file);
        compiled_in_rust().save(&path).unwrap();
        check_model(
            &format!("rkeras {file}"),
            load_model(&path).unwrap(),
            &golden,
        );
        rkeras_testkit::run_keras_check(
            &format!("Keras's load of the rkeras-saved {file} metric objects"),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../scripts/keras_metric_objects_golden.py"
            ),
            [Path::new("check"), &fixture_dir(), &path],
            "keras metric objects ok",
        );
    }
}

#[test]
fn callbacks_monitor_a_vector_result_by_key_and_element() {
    let golden = golden();
    let (x, y) = data(&golden);
    let fit = |monitor: &str| {
        let mut model = compiled_in_rust();
        let mut stop = rkeras_callbacks::EarlyStopping::new()
            .with_monitor(monitor)
            .with_mode("max");
        let config = FitConfig::new()
            .epochs(1)
            .batch_size(8)
            .verbose(0)
            .shuffle(false)
            .validation_data(vec![x.clone()], y.clone())
            .callback(&mut stop);
        model
            .fit(std::slice::from_ref(&x), &y, config)
            .map(|h| h.history.keys().cloned().collect::<Vec<_>>())
    };
    let keys = fit("val_precision").unwrap();
    for key in [
        "val_precision",
        "val_precision_0",
        "val_precision_1",
        "val_rec_2",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} not in {keys:?}");
    }
    fit("val_precision_1").unwrap();
    let err = fit("val_precision_2").unwrap_err().to_string();
    assert!(err.contains("val_precision_2"), "{err}");
}
