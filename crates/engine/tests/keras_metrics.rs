//! Every stateful metric against Keras 3's values (scripts/keras_metrics_golden.py): several weighted
//! updates, the running result after each, and a reset.

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::Metric;
use rkeras_engine::metrics::{Auc, Average, Confusion, Curve, FBetaScore, MeanIoU, Summation};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_metrics_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn array(values: &Value, shape: &Value) -> ArrayD<f32> {
    let v: Vec<f32> = serde_json::from_value(values.clone()).unwrap();
    let s: Vec<usize> = serde_json::from_value(shape.clone()).unwrap();
    ArrayD::from_shape_vec(IxDyn(&s), v).unwrap()
}

fn metric(name: &str) -> Metric {
    let f1 = |avg, t| Metric::new(name, FBetaScore::f1(avg, t).unwrap());
    match name {
        "binary_accuracy_t0.7" => Metric::new(
            name,
            rkeras_engine::metrics::MeanMetricWrapper::new(|t: &ArrayD<f32>, p: &ArrayD<f32>| {
                Ok(ndarray::Zip::from(t)
                    .and(p)
                    .map_collect(|&t, &p| f32::from(t == f32::from(p > 0.7))))
            }),
        ),
        "top_k_categorical_accuracy_k2" | "sparse_top_k_categorical_accuracy_k2" => {
            Metric::with_top_k(name.trim_end_matches("_k2"), 2).unwrap()
        }
        "precision_thresholds" => Metric::new(
            name,
            Confusion::precision(Some(vec![0.3, 0.6]), None, None).unwrap(),
        ),
        "precision_top_k2" => Metric::new(name, Confusion::precision(None, Some(2), None).unwrap()),
        "recall_class_id1" => Metric::new(name, Confusion::recall(None, None, Some(1)).unwrap()),
        "recall_top_k1_class_id2" => {
            Metric::new(name, Confusion::recall(None, Some(1), Some(2)).unwrap())
        }
        "auc_pr" => Metric::new(
            name,
            Auc::new(200, Curve::Pr, Summation::Interpolation, false).unwrap(),
        ),
        "auc_minoring" => Metric::new(
            name,
            Auc::new(200, Curve::Roc, Summation::Minoring, false).unwrap(),
        ),
        "auc_pr_majoring" => Metric::new(
            name,
            Auc::new(200, Curve::Pr, Summation::Majoring, false).unwrap(),
        ),
        "auc_50" => Metric::new(
            name,
            Auc::new(50, Curve::Roc, Summation::Interpolation, false).unwrap(),
        ),
        "f1_none" => f1(Average::PerClass, None),
        "f1_micro" => f1(Average::Micro, None),
        "f1_macro_t0.3" => f1(Average::Macro, Some(0.3)),
        "fbeta_weighted_b2" => {
            Metric::new(name, FBetaScore::new(Average::Weighted, 2.0, None).unwrap())
        }
        "mean_iou" => Metric::new(name, MeanIoU::new(4, None, true, true).unwrap()),
        "mean_iou_ignore0" => Metric::new(name, MeanIoU::new(4, Some(0), true, true).unwrap()),
        "rmse" => Metric::from_name("root_mean_squared_error").unwrap(),
        other => Metric::from_name(other).unwrap(),
    }
}

#[test]
fn every_metric_matches_keras_through_updates_and_resets() {
    let cases = fixture()["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 39);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let mut m = metric(name);
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            if step["reset_before"].as_bool().unwrap() {
                m.reset_state();
            }
            let t = array(&step["y_true"], &step["y_true_shape"]);
            let p = array(&step["y_pred"], &step["y_pred_shape"]);
            let w = step["sample_weight"].as_array().map(|w| {
                let v: Vec<f32> = w.iter().map(|x| x.as_f64().unwrap() as f32).collect();
                ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap()
            });
            m.update_state(&t, &p, w.as_ref()).unwrap();
            let expected: Vec<f32> = serde_json::from_value(step["result"].clone()).unwrap();
            let got = m.results();
            assert_eq!(got.len(), expected.len(), "{name} step {i}");
            for (a, b) in got.iter().zip(&expected) {
                assert!(
                    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0),
                    "{name} step {i}: rkeras {a} vs Keras {b}"
                );
            }
        }
    }
}

#[test]
fn bad_metric_arguments_are_typed_errors() {
    let e = Confusion::precision(Some(vec![0.5, 1.5]), None, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1.5"), "{e}");
    let e = Auc::new(1, Curve::Roc, Summation::Interpolation, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("num_thresholds=1"), "{e}");
    let e = FBetaScore::new(Average::Macro, 0.0, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("beta=0"), "{e}");
    let e = FBetaScore::f1(Average::Macro, Some(1.5))
        .unwrap_err()
        .to_string();
    assert!(e.contains("threshold=1.5"), "{e}");
    let e = Metric::from_name("acuracy").unwrap_err().to_string();
    assert!(
        e.contains("acuracy") && e.contains("sparse_top_k_categorical_accuracy"),
        "{e}"
    );
    let mut auc = Metric::from_name("auc").unwrap();
    let t = ndarray::arr2(&[[1.0f32]]).into_dyn();
    let e = auc
        .update_state(&t, &ndarray::arr2(&[[1.7f32]]).into_dyn(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1.7"), "{e}");
}
