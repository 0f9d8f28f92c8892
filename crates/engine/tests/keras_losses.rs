//! Every loss against Keras 3's own values (scripts/keras_losses_golden.py), its config round trip, and
//! finite-difference gradients.

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::Loss;
use rkeras_engine::losses::{
    BinaryFocal, CategoricalFocal, Crossentropy, LossKind, Reduction, SparseCrossentropy,
};
use rkeras_tensor::Tensor;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_losses_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn array(values: &Value, shape: &Value) -> ArrayD<f32> {
    let v: Vec<f32> = serde_json::from_value(values.clone()).unwrap();
    let s: Vec<usize> = serde_json::from_value(shape.clone()).unwrap();
    ArrayD::from_shape_vec(IxDyn(&s), v).unwrap()
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn every_loss_matches_keras() {
    let cases = fixture()["cases"].as_array().unwrap().clone();
    assert!(cases.len() > 60);
    for case in &cases {
        let loss = Loss::from_config(&case["config"]).unwrap();
        let y = Tensor::new(array(&case["y_true"], &case["y_true_shape"]));
        let p = Tensor::new(array(&case["y_pred"], &case["y_pred_shape"]));
        let w = case["sample_weight"].as_array().map(|w| {
            Tensor::new(
                ArrayD::from_shape_vec(
                    IxDyn(&[w.len()]),
                    w.iter().map(|v| v.as_f64().unwrap() as f32).collect(),
                )
                .unwrap(),
            )
        });
        let got = loss.call(&y, &p, w.as_ref()).unwrap();
        let expected = array(&case["value"], &case["value_shape"]);
        assert_eq!(got.shape(), expected.shape(), "{}", case["config"]);
        for (a, b) in got.data().iter().zip(expected.iter()) {
            assert!(close(*a, *b), "{}: rkeras {a} vs Keras {b}", case["config"]);
        }
        // The config Keras wrote parses and writes back the same.
        assert_eq!(loss.to_config(), case["config"], "config round trip");
    }
}

fn check(kind: LossKind, y: &[f32], p: Vec<f32>, shape: &[usize]) {
    let loss = Loss::new(kind).unwrap();
    let y_true = Tensor::from_vec(shape, y.to_vec()).unwrap();
    let x = ArrayD::from_shape_vec(IxDyn(shape), p).unwrap();
    let report = check_gradients(
        &[x],
        |xs| {
            loss.call(&y_true, &xs[0], None)
                .map_err(|e| rkeras_tensor::TensorError::invalid_argument("loss", e.to_string()))
        },
        GradCheck::default(),
    )
    .unwrap();
    assert!(report.passed(), "{}: {report:?}", loss.name());
}

#[test]
fn every_loss_has_finite_difference_gradients() {
    let shape = [2, 3];
    let probs = vec![0.2, 0.5, 0.3, 0.6, 0.1, 0.3];
    let logits = vec![0.4, -1.1, 0.7, 1.3, 0.2, -0.5];
    let onehot = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
    let binary = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    let reg = [0.3, -0.8, 1.5, 0.1, 2.0, -0.4];
    let logit_args = Crossentropy {
        from_logits: true,
        label_smoothing: 0.1,
        axis: -1,
    };
    check(
        LossKind::BinaryCrossentropy(Crossentropy::default()),
        &binary,
        probs.clone(),
        &shape,
    );
    check(
        LossKind::BinaryCrossentropy(logit_args),
        &binary,
        logits.clone(),
        &shape,
    );
    check(
        LossKind::CategoricalCrossentropy(Crossentropy {
            label_smoothing: 0.2,
            ..Default::default()
        }),
        &onehot,
        probs.clone(),
        &shape,
    );
    check(
        LossKind::CategoricalCrossentropy(logit_args),
        &onehot,
        logits.clone(),
        &shape,
    );
    check(
        LossKind::BinaryFocalCrossentropy(BinaryFocal {
            apply_class_balancing: true,
            ..Default::default()
        }),
        &binary,
        probs.clone(),
        &shape,
    );
    check(
        LossKind::BinaryFocalCrossentropy(BinaryFocal {
            from_logits: true,
            ..Default::default()
        }),
        &binary,
        logits.clone(),
        &shape,
    );
    check(
        LossKind::CategoricalFocalCrossentropy(CategoricalFocal::default()),
        &onehot,
        probs.clone(),
        &shape,
    );
    check(
        LossKind::CategoricalFocalCrossentropy(CategoricalFocal {
            from_logits: true,
            ..Default::default()
        }),
        &onehot,
        logits.clone(),
        &shape,
    );
    check(
        LossKind::MeanAbsolutePercentageError,
        &reg,
        logits.clone(),
        &shape,
    );
    check(
        LossKind::MeanSquaredLogarithmicError,
        &[0.3, 0.8, 1.5, 0.1, 2.0, 0.4],
        probs.clone(),
        &shape,
    );
    check(LossKind::Huber { delta: 0.5 }, &reg, logits.clone(), &shape);
    check(LossKind::LogCosh, &reg, logits.clone(), &shape);
    check(
        LossKind::KLDivergence,
        &[0.1, 0.6, 0.3, 0.5, 0.25, 0.25],
        probs.clone(),
        &shape,
    );
    check(
        LossKind::Poisson,
        &[1.0, 0.0, 2.0, 3.0, 1.0, 0.0],
        probs.clone(),
        &shape,
    );
    check(LossKind::Hinge, &binary, logits.clone(), &shape);
    check(LossKind::SquaredHinge, &binary, logits.clone(), &shape);
    check(LossKind::CategoricalHinge, &onehot, logits.clone(), &shape);
    check(
        LossKind::CosineSimilarity { axis: -1 },
        &reg,
        logits.clone(),
        &shape,
    );
    let sparse = Loss::new(LossKind::SparseCategoricalCrossentropy(
        SparseCrossentropy {
            from_logits: true,
            ignore_class: Some(2),
            axis: -1,
        },
    ))
    .unwrap();
    let ids = Tensor::from_vec(&[2], vec![1.0, 2.0]).unwrap();
    let x = ArrayD::from_shape_vec(IxDyn(&shape), logits).unwrap();
    let report = check_gradients(
        &[x],
        |xs| {
            sparse
                .call(&ids, &xs[0], None)
                .map_err(|e| rkeras_tensor::TensorError::invalid_argument("loss", e.to_string()))
        },
        GradCheck::default(),
    )
    .unwrap();
    assert!(report.passed(), "{report:?}");
}

#[test]
fn bad_arguments_are_typed_errors_that_echo_the_value() {
    let err = |r: Result<Loss, rkeras_engine::EngineError>| r.unwrap_err().to_string();
    let e = err(Loss::new(LossKind::BinaryCrossentropy(Crossentropy {
        label_smoothing: -0.1,
        ..Default::default()
    })));
    assert!(e.contains("label_smoothing=-0.1"), "{e}");
    let e = err(Loss::new(LossKind::Huber { delta: 0.0 }));
    assert!(e.contains("delta=0"), "{e}");
    let e = err(Loss::from_name("hubber"));
    assert!(e.contains("hubber") && e.contains("huber"), "{e}");
    let e = err(Loss::from_config(
        &serde_json::json!({"class_name": "Huber", "config": {"deltaa": 2.0}}),
    ));
    assert!(e.contains("deltaa"), "{e}");
    let e = err(Loss::from_config(
        &serde_json::json!({"class_name": "MeanSquaredError", "config": {"reduction": "avg"}}),
    ));
    assert!(
        e.contains("avg") && e.contains("sum_over_batch_size"),
        "{e}"
    );
    // from_logits with a mismatched shape.
    let loss = Loss::new(LossKind::CategoricalCrossentropy(Crossentropy {
        from_logits: true,
        ..Default::default()
    }))
    .unwrap();
    let y = Tensor::from_vec(&[2], vec![0.0, 1.0]).unwrap();
    let p = Tensor::from_vec(&[2, 2], vec![0.0, 1.0, 2.0, 3.0]).unwrap();
    let e = loss.call(&y, &p, None).unwrap_err().to_string();
    assert!(e.contains("[2]") && e.contains("[2, 2]"), "{e}");
}

#[test]
fn reductions_and_custom_losses_serialise() {
    let loss = Loss::from_name("mse")
        .unwrap()
        .with_reduction(Reduction::Sum);
    assert_eq!(loss.to_config()["config"]["reduction"], "sum");
    assert_eq!(
        Loss::from_name("mse").unwrap().to_compile_value(),
        "mean_squared_error"
    );
    let custom = Loss::custom("twice_mae", |y: &Tensor, p: &Tensor| {
        y.sub(p)?.abs()?.mean(&[-1], false)?.mul_scalar(2.0)
    });
    assert_eq!(custom.to_config()["class_name"], "twice_mae");
    let y = Tensor::from_vec(&[2, 1], vec![0.0, 1.0]).unwrap();
    let p = Tensor::from_vec(&[2, 1], vec![0.5, 0.0]).unwrap();
    assert_eq!(custom.call(&y, &p, None).unwrap().to_scalar().unwrap(), 1.5);
    assert!(Loss::from_config(&custom.to_config()).is_err());
}
