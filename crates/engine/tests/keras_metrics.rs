//! Every stateful metric against Keras 3's values (scripts/keras_metrics_golden.py): several weighted
//! updates, the running result after each, and a reset.

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::Metric;
use rkeras_engine::metrics::{
    AtConstraint, Auc, Average, Condition, ConditionCount, Confusion, Curve, FBetaScore, MeanIoU,
    Summation, Target,
};
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

fn count(name: &str, condition: Condition, thresholds: Option<Vec<f32>>) -> Metric {
    Metric::new(name, ConditionCount::new(condition, thresholds).unwrap())
}

fn at(name: &str, target: Target, value: f32, n: usize, class_id: Option<usize>) -> Metric {
    Metric::new(name, AtConstraint::new(target, value, n, class_id).unwrap())
}

/// The metric of a fixture case built with rkeras's constructors, named as Keras named it (`keras_name`, from
/// the case's config).
fn metric(name: &str, keras_name: &str) -> Metric {
    let f1 = |avg, t| Metric::new("f1_score", FBetaScore::f1(avg, t).unwrap());
    let iou = |m: MeanIoU| Metric::new(keras_name, m);
    match name {
        "binary_accuracy_t0.7" => Metric::binary_accuracy(0.7).unwrap(),
        "accuracy_f64" => Metric::accuracy()
            .named(keras_name)
            .with_dtype("float64")
            .unwrap(),
        "binary_accuracy_t0.3" => Metric::binary_accuracy(0.3).unwrap().named(keras_name),
        "categorical_accuracy_named" => Metric::categorical_accuracy().named(keras_name),
        "sparse_categorical_accuracy_f64" => Metric::sparse_categorical_accuracy()
            .named(keras_name)
            .with_dtype("float64")
            .unwrap(),
        "sparse_top_k_sorted_ids_k2" => Metric::sparse_top_k_categorical_accuracy(2, true).unwrap(),
        "cosine_similarity_axis1" => Metric::cosine_similarity(1).unwrap(),
        "binary_crossentropy_logits_ls" => Metric::binary_crossentropy(true, 0.1).unwrap(),
        "categorical_crossentropy_ls" => Metric::categorical_crossentropy(false, 0.2, -1)
            .unwrap()
            .named(keras_name),
        "sparse_categorical_crossentropy_ignore1" => {
            Metric::sparse_categorical_crossentropy(false, Some(1), -1)
                .unwrap()
                .named(keras_name)
        }
        "mse_f64" => Metric::from_name("mse")
            .unwrap()
            .named(keras_name)
            .with_dtype("float64")
            .unwrap(),
        "mean_named" => Metric::from_name("Mean").unwrap().named(keras_name),
        "iou_0_2" => iou(MeanIoU::iou(4, vec![0, 2], None, true, true).unwrap()),
        "binary_iou_t0.3" => iou(MeanIoU::binary(vec![0, 1], 0.3).unwrap()),
        "binary_iou_1" => iou(MeanIoU::binary(vec![1], 0.5).unwrap()),
        "one_hot_iou_1_3" => iou(MeanIoU::one_hot_iou(4, vec![1, 3], None, false).unwrap()),
        "one_hot_mean_iou" => iou(MeanIoU::one_hot_mean_iou(4, None, false).unwrap()),
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
        "auc_prgain" => Metric::new(
            name,
            Auc::new(200, Curve::PrGain, Summation::Interpolation, false).unwrap(),
        ),
        "auc_prgain_minoring_50" => Metric::new(
            name,
            Auc::new(50, Curve::PrGain, Summation::Minoring, false).unwrap(),
        ),
        "auc_prgain_majoring" => Metric::new(
            name,
            Auc::new(200, Curve::PrGain, Summation::Majoring, false).unwrap(),
        ),
        "auc_prgain_multi_label" => Metric::new(
            name,
            Auc::new(200, Curve::PrGain, Summation::Interpolation, false)
                .unwrap()
                .multi_label(None)
                .unwrap(),
        ),
        "auc_50" => Metric::new(
            name,
            Auc::new(50, Curve::Roc, Summation::Interpolation, false).unwrap(),
        ),
        "f1_none" => f1(Average::PerClass, None),
        "f1_micro" => f1(Average::Micro, None),
        "f1_macro_t0.3" => f1(Average::Macro, Some(0.3)),
        "fbeta_weighted_b2" => Metric::new(
            "fbeta_score",
            FBetaScore::new(Average::Weighted, 2.0, None).unwrap(),
        ),
        // Named as Keras named them (the fixture's configs hold the names).
        "mean_iou" => Metric::new("mean_io_u", MeanIoU::new(4, None, true, true).unwrap()),
        "mean_iou_ignore0" => {
            Metric::new("mean_io_u_1", MeanIoU::new(4, Some(0), true, true).unwrap())
        }
        "rmse" => Metric::from_name("root_mean_squared_error").unwrap(),
        "true_negatives_t" => count("tn", Condition::TrueNegatives, Some(vec![0.3, 0.6])),
        "false_positives_t" => count("fp", Condition::FalsePositives, Some(vec![0.7])),
        "false_negatives_t" => count("fn", Condition::FalseNegatives, Some(vec![0.2, 0.5, 0.9])),
        "precision_at_recall" => at("par", Target::PrecisionAtRecall, 0.6, 200, None),
        "recall_at_precision" => at("rap", Target::RecallAtPrecision, 0.55, 50, None),
        "sensitivity_at_specificity" => {
            at("sas", Target::SensitivityAtSpecificity, 0.5, 200, Some(1))
        }
        "specificity_at_sensitivity" => {
            at("sas2", Target::SpecificityAtSensitivity, 0.4, 200, None)
        }
        "specificity_at_sensitivity_1" => {
            at("sas1", Target::SpecificityAtSensitivity, 0.3, 1, None)
        }
        "auc_multi_label" => Metric::new(
            "auc_ml",
            Auc::new(200, Curve::Roc, Summation::Interpolation, false)
                .unwrap()
                .multi_label(None)
                .unwrap(),
        ),
        "auc_multi_label_pr_weights" => Metric::new(
            "auc_mlw",
            Auc::new(200, Curve::Pr, Summation::Interpolation, false)
                .unwrap()
                .multi_label(Some(4))
                .unwrap()
                .label_weights(vec![0.5, 1.0, 2.0, 0.0])
                .unwrap(),
        ),
        "auc_label_weights" => Metric::new(
            "auc_lw",
            Auc::new(200, Curve::Roc, Summation::Interpolation, false)
                .unwrap()
                .label_weights(vec![1.0, 0.0, 2.0, 0.5])
                .unwrap(),
        ),
        "auc_thresholds" => Metric::new(
            "auc_t",
            Auc::with_thresholds(
                vec![0.7, 0.2, 0.5],
                Curve::Roc,
                Summation::Interpolation,
                false,
            )
            .unwrap(),
        ),
        "auc_thresholds_even_pr" => Metric::new(
            "auc_te",
            Auc::with_thresholds(
                vec![0.25, 0.5, 0.75],
                Curve::Pr,
                Summation::Interpolation,
                false,
            )
            .unwrap(),
        ),
        other => Metric::from_name(other).unwrap().named(keras_name),
    }
}

#[test]
fn every_metric_matches_keras_through_updates_and_resets() {
    let cases = fixture()["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 75);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let keras_name = case["config"]["config"]["name"].as_str().unwrap();
        let mut candidates = vec![metric(name, keras_name)];
        // Every metric has Keras's config form: rkeras writes Keras's config, and Keras's config builds the
        // same metric, which writes it back unchanged.
        let config = candidates[0].to_config().unwrap();
        let mut want = case["config"].clone();
        if want["class_name"].as_str().unwrap().contains("IoU") {
            // Keras writes its backend's integer type (int64 on TensorFlow, which made this fixture; int32
            // on JAX); rkeras writes int32 by default and keeps the one it read.
            want["config"]["dtype"] = "int32".into();
        }
        if name == "cosine_similarity_axis1" {
            // Keras's CosineSimilarity config drops `axis`; rkeras writes it when it is not −1.
            want["config"]["axis"] = 1.into();
        }
        assert_eq!(config, want, "{name}: rkeras's config vs Keras's");
        let rebuilt = Metric::from_config(&case["config"]).unwrap();
        assert_eq!(rebuilt.to_config().unwrap(), case["config"], "{name}");
        if name != "cosine_similarity_axis1" {
            // (Keras's own config of CosineSimilarity(axis=1) rebuilds axis −1, in Keras as in rkeras.)
            candidates.push(rebuilt);
        }
        candidates.push(Metric::from_config(&config).unwrap());
        for m in &mut candidates {
            check_steps(name, m, case);
        }
    }
}

fn check_steps(name: &str, m: &mut Metric, case: &Value) {
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
    let e = AtConstraint::new(Target::RecallAtPrecision, 1.5, 200, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Received: precision=1.5"), "{e}");
    let e = AtConstraint::new(Target::PrecisionAtRecall, 0.5, 0, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("num_thresholds=0"), "{e}");
    let e = ConditionCount::new(Condition::TruePositives, Some(vec![-0.1]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("-0.1"), "{e}");
    let e = Auc::new(200, Curve::Roc, Summation::Interpolation, false)
        .unwrap()
        .label_weights(vec![1.0, -2.0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("-2"), "{e}");
    // A multi-label AUC needs rank-2 predictions.
    let mut ml = Auc::new(200, Curve::Roc, Summation::Interpolation, false)
        .unwrap()
        .multi_label(None)
        .unwrap();
    let flat = ndarray::arr1(&[1.0f32, 0.0]).into_dyn();
    let e = rkeras_engine::StatefulMetric::update_state(&mut ml, &flat, &flat, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("rank 2") && e.contains("[2]"), "{e}");
    let config = |class: &str, args: Value| {
        Metric::from_config(&serde_json::json!({"class_name": class, "config": args}))
            .unwrap_err()
            .to_string()
    };
    let e = config("AUC", serde_json::json!({"num_labels": 3}));
    assert!(e.contains("only when `multi_label` is True"), "{e}");
    let e = config("PrecisionAtRecall", serde_json::json!({"precision": 0.5}));
    assert!(e.contains("`precision`"), "{e}");
    let e = config("RecallAtPrecision", serde_json::json!({}));
    assert!(e.contains("`precision`"), "{e}");
    let e = config("R2Score", serde_json::json!({"num_regressors": 1}));
    assert!(e.contains("R2Score") && e.contains("BinaryIoU"), "{e}");
    let e = config(
        "IoU",
        serde_json::json!({"num_classes": 3, "target_class_ids": [0, 3]}),
    );
    assert!(e.contains("Target class id 3 is out of range"), "{e}");
    let e = config(
        "OneHotIoU",
        serde_json::json!({"num_classes": 3, "target_class_ids": [0], "sparse_y_true": true}),
    );
    assert!(
        e.contains("OneHotIoU does not take the argument `sparse_y_true`"),
        "{e}"
    );
    let e = config("BinaryAccuracy", serde_json::json!({"threshold": "high"}));
    assert!(e.contains("threshold") && e.contains("high"), "{e}");
    let e = config("Hinge", serde_json::json!({"dtype": "float8"}));
    assert!(e.contains("float8"), "{e}");
    let e = config("MeanIoU", serde_json::json!({}));
    assert!(
        e.contains("missing the required argument `num_classes`"),
        "{e}"
    );
    let e = config("Precision", serde_json::json!({"beta": 2}));
    assert!(
        e.contains("Precision does not take the argument `beta`"),
        "{e}"
    );
    let custom = Metric::new(
        "mine",
        rkeras_engine::metrics::MeanMetricWrapper::new(|t: &ArrayD<f32>, _: &ArrayD<f32>| {
            Ok(t.clone())
        }),
    );
    let e = custom.to_config().unwrap_err().to_string();
    assert!(e.contains("mine"), "{e}");
    let mut auc = Metric::from_name("auc").unwrap();
    let t = ndarray::arr2(&[[1.0f32]]).into_dyn();
    let e = auc
        .update_state(&t, &ndarray::arr2(&[[1.7f32]]).into_dyn(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1.7"), "{e}");
}
