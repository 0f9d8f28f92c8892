//! Bad input to compile / fit / evaluate / predict: a typed error naming the argument, never a panic.
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::{ArrayD, IxDyn, ShapeBuilder, arr2};
use rkeras_engine::{EngineError, FitConfig, Model};
use rkeras_layers::{Dense, Input, LayerCall};

mod common;

fn model() -> Model {
    let x = Input::new(&[2]);
    let y = Dense::new(3)
        .with_activation("softmax")
        .unwrap()
        .call(&x)
        .unwrap();
    Model::new(&[x], &y).unwrap()
}

fn compiled() -> Model {
    common::softmax_classifier("sgd")
}

fn xs(n: usize) -> ArrayD<f32> {
    ArrayD::zeros(IxDyn(&[n, 2]))
}

fn ys(n: usize) -> ArrayD<f32> {
    ArrayD::zeros(IxDyn(&[n]))
}

fn message(e: EngineError) -> String {
    e.to_string()
}

#[test]
fn fit_before_compile() {
    let err = message(
        model()
            .fit(&[xs(4)], &ys(4), FitConfig::new().verbose(0))
            .unwrap_err(),
    );
    assert!(err.contains("compile"), "{err}");
}

#[test]
fn sample_counts_differ() {
    let err = message(
        compiled()
            .fit(&[xs(4)], &ys(5), FitConfig::new().verbose(0))
            .unwrap_err(),
    );
    assert!(
        err.contains("`y`") && err.contains('5') && err.contains('4'),
        "{err}"
    );
}

#[test]
fn wrong_number_of_inputs() {
    let err = message(
        compiled()
            .fit(&[xs(4), xs(4)], &ys(4), FitConfig::new().verbose(0))
            .unwrap_err(),
    );
    assert!(err.contains("`x`") && err.contains("1 input"), "{err}");
}

#[test]
fn wrong_input_shape() {
    let err = message(
        compiled()
            .fit(
                &[ArrayD::zeros(IxDyn(&[4, 3]))],
                &ys(4),
                FitConfig::new().verbose(0),
            )
            .unwrap_err(),
    );
    assert!(err.contains("x[0]") && err.contains("[4, 3]"), "{err}");
}

#[test]
fn label_out_of_range() {
    let y = ndarray::arr1(&[0.0f32, 1.0, 7.0, 2.0]).into_dyn();
    // The sample is the index in `y` (not in a shuffled batch), whatever the batch size.
    for batch_size in [1, 3, 32] {
        let err = message(
            compiled()
                .fit(
                    &[xs(4)],
                    &y,
                    FitConfig::new().batch_size(batch_size).verbose(0),
                )
                .unwrap_err(),
        );
        assert!(
            err.contains("`y`")
                && err.contains("label 7 at sample 2")
                && err.contains("out of range")
                && err.contains("0..3"),
            "{err}"
        );
    }
    let err = message(compiled().evaluate(&[xs(4)], &y, 2).unwrap_err());
    assert!(err.contains("label 7 at sample 2"), "{err}");
}

/// A model `x (2) → Dense(units)` compiled with SGD and `loss`.
fn compiled_with(units: usize, loss: &str) -> Model {
    let x = Input::new(&[2]);
    let y = Dense::new(units).call(&x).unwrap();
    let mut m = Model::new(&[x], &y).unwrap();
    m.compile("sgd", loss, &[]).unwrap();
    m
}

#[test]
fn one_hot_targets_for_sparse_crossentropy_are_named_as_such() {
    let mut y = ArrayD::zeros(IxDyn(&[8, 3]));
    for i in 0..8 {
        y[[i, i % 3]] = 1.0;
    }
    let err = message(
        compiled()
            .fit(&[xs(8)], &y, FitConfig::new().verbose(0))
            .unwrap_err(),
    );
    assert!(
        err.contains("`y`")
            && err.contains("sparse_categorical_crossentropy")
            && err.contains("one-hot")
            && err.contains("(8,)")
            && err.contains("(8, 3)"),
        "{err}"
    );
    // The other way round: class ids given to categorical cross-entropy.
    let err = message(
        compiled_with(3, "categorical_crossentropy")
            .fit(&[xs(4)], &ys(4), FitConfig::new().verbose(0))
            .unwrap_err(),
    );
    assert!(
        err.contains("categorical_crossentropy") && err.contains("sparse_categorical_crossentropy"),
        "{err}"
    );
}

#[test]
fn targets_of_another_shape_are_refused_whatever_the_batch_size() {
    // y of shape (9,) against a 3-unit output: Keras's broadcasting would accept it at batch size 3 only.
    for batch_size in [1, 3, 4, 9] {
        let mut model = compiled_with(3, "mse");
        let before = model.get_weights();
        let err = message(
            model
                .fit(
                    &[xs(9)],
                    &ys(9),
                    FitConfig::new().batch_size(batch_size).verbose(0),
                )
                .unwrap_err(),
        );
        assert!(
            err.contains("`y`")
                && err.contains("mean_squared_error")
                && err.contains("(9, 3)")
                && err.contains("(9,)"),
            "batch size {batch_size}: {err}"
        );
        assert_eq!(model.get_weights(), before, "nothing trained");
    }
    // A y of the wrong width names y, the loss and the expected shape.
    let y = ArrayD::zeros(IxDyn(&[6, 7]));
    let err = message(
        compiled_with(5, "mse")
            .fit(&[xs(6)], &y, FitConfig::new().verbose(0))
            .unwrap_err(),
    );
    assert!(
        err.contains("`y`")
            && err.contains("mean_squared_error")
            && err.contains("(6, 5)")
            && err.contains("(6, 7)"),
        "{err}"
    );
    let err = message(
        compiled_with(5, "mae")
            .evaluate(&[xs(6)], &y, 4)
            .unwrap_err(),
    );
    assert!(
        err.contains("mean_absolute_error") && err.contains("(6, 5)"),
        "{err}"
    );
    let err = message(
        compiled_with(5, "mse")
            .fit(
                &[xs(6)],
                &ArrayD::zeros(IxDyn(&[6, 5])),
                FitConfig::new()
                    .validation_data(vec![xs(2)], ArrayD::zeros(IxDyn(&[2, 4])))
                    .verbose(0),
            )
            .unwrap_err(),
    );
    assert!(
        err.contains("validation_data.y") && err.contains("(2, 5)"),
        "{err}"
    );
}

#[test]
fn shape_errors_come_before_any_callback() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    let mut callback = rkeras_callbacks::LambdaCallback::new().on_train_begin(move |_| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let err = compiled_with(3, "mse")
        .fit(
            &[xs(9)],
            &ys(9),
            FitConfig::new().callback(&mut callback).verbose(0),
        )
        .unwrap_err();
    assert!(message(err).contains("`y`"));
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn a_one_dimensional_y_for_a_one_unit_output_is_one_target_per_sample() {
    // y (n,) against an output (n, 1): each sample's loss is its own (y − p)², not a mean over a broadcast
    // (n, n) table.
    let x = arr2(&[[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]]).into_dyn();
    let y_flat = ndarray::arr1(&[1.0f32, 2.0, 4.0]).into_dyn();
    let y_column = arr2(&[[1.0f32], [2.0], [4.0]]).into_dyn();
    let model = compiled_with(1, "mse");
    model
        .set_weights(&[
            arr2(&[[1.0f32], [1.0]]).into_dyn(),
            ndarray::arr1(&[0.0f32]).into_dyn(),
        ])
        .unwrap();
    // Predictions 1, 1, 2: squared errors 0, 1, 4, mean 5/3.
    let flat = model.evaluate(&[x.clone()], &y_flat, 2).unwrap()["loss"];
    let column = model.evaluate(&[x], &y_column, 2).unwrap()["loss"];
    assert!((flat - 5.0 / 3.0).abs() < 1e-6, "{flat}");
    assert_eq!(flat, column);
}

#[test]
fn class_weights_must_be_finite_and_non_negative() {
    for bad in [f32::NAN, -1.0, f32::INFINITY] {
        let mut model = compiled();
        let weights = std::collections::HashMap::from([(0, 1.0), (1, bad)]);
        let err = message(
            model
                .fit(
                    &[xs(4)],
                    &ys(4),
                    FitConfig::new().class_weight(weights).verbose(0),
                )
                .unwrap_err(),
        );
        assert!(
            err.contains("class_weight") && err.contains("class 1"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn a_rate_infinite_in_float32_never_reaches_the_weights() {
    let mut model = compiled();
    let err = message(model.set_learning_rate(1e39).unwrap_err());
    assert!(
        err.contains("learning_rate") && err.contains("1e39"),
        "{err}"
    );
    assert_eq!(model.learning_rate(), Some(f64::from(0.01f32)));
    let before = model.get_weights();
    let mut scheduler = rkeras_callbacks::LearningRateScheduler::new(|_, _| 1e308);
    let y = ndarray::arr1(&[0.0f32, 1.0, 2.0, 1.0]).into_dyn();
    let err = message(
        model
            .fit(
                &[xs(4)],
                &y,
                FitConfig::new().callback(&mut scheduler).verbose(0),
            )
            .unwrap_err(),
    );
    assert!(err.contains("1e+308") && err.contains("epoch 0"), "{err}");
    assert_eq!(model.get_weights(), before);
    assert!(model.get_weights().iter().flatten().all(|w| w.is_finite()));
}

/// The same values as `a`, stored column by column (what `x.t().to_owned()` of a row-major array gives).
fn column_major(a: &ArrayD<f32>) -> ArrayD<f32> {
    let mut out = ArrayD::zeros(IxDyn(a.shape()).f());
    out.assign(a);
    out
}

#[test]
fn column_major_arrays_work_everywhere() {
    // The same values in row-major and in column-major (transposed) storage give the same results.
    let rows = arr2(&[
        [0.1f32, 0.9],
        [0.4, -0.2],
        [1.0, 0.3],
        [-0.7, 0.5],
        [0.2, 0.2],
        [0.6, -0.9],
    ]);
    let (x_rows, x_cols) = (rows.clone().into_dyn(), column_major(&rows.into_dyn()));
    assert!(!x_cols.is_standard_layout());
    let one_hot = arr2(&[
        [1.0f32, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
    ]);
    let y_rows = one_hot.into_dyn();
    let y_cols = column_major(&y_rows);
    let mut a = compiled_with(3, "categorical_crossentropy");
    let mut b = compiled_with(3, "categorical_crossentropy");
    b.set_weights(&a.get_weights()).unwrap();
    // Batches of 4 are copies of a slice; a batch of 8 is the whole (column-major) array.
    for batch_size in [4, 8] {
        assert_eq!(
            a.predict(&[x_rows.clone()], batch_size).unwrap(),
            b.predict(&[x_cols.clone()], batch_size).unwrap()
        );
        assert_eq!(
            a.evaluate(&[x_rows.clone()], &y_rows, batch_size).unwrap(),
            b.evaluate(&[x_cols.clone()], &y_cols, batch_size).unwrap()
        );
    }
    let config = || FitConfig::new().epochs(2).batch_size(4).verbose(0);
    let ha = a.fit(&[x_rows], &y_rows, config()).unwrap();
    let hb = b.fit(&[x_cols], &y_cols, config()).unwrap();
    assert_eq!(ha.get("loss"), hb.get("loss"));
    assert_eq!(a.get_weights(), b.get_weights());
    // Weights set from column-major arrays too.
    b.set_weights(&[
        column_major(&a.get_weights()[0]),
        a.get_weights()[1].clone(),
    ])
    .unwrap();
    let x = ArrayD::from_elem(IxDyn(&[2, 2]), 0.5f32);
    assert_eq!(
        a.predict(&[x.clone()], 2).unwrap(),
        b.predict(&[x], 2).unwrap()
    );
}

#[test]
fn nan_and_infinite_inputs() {
    let mut x = xs(4);
    x[[2, 1]] = f32::NAN;
    let err = message(
        compiled()
            .fit(&[x], &ys(4), FitConfig::new().verbose(0))
            .unwrap_err(),
    );
    assert!(err.contains("x[0]") && err.contains("sample 2"), "{err}");
    let mut y = ys(4);
    y[[1]] = f32::INFINITY;
    let err = message(
        compiled()
            .fit(&[xs(4)], &y, FitConfig::new().verbose(0))
            .unwrap_err(),
    );
    assert!(err.contains("`y`") && err.contains("sample 1"), "{err}");
}

#[test]
fn empty_dataset() {
    let err = message(
        compiled()
            .fit(&[xs(0)], &ys(0), FitConfig::new().verbose(0))
            .unwrap_err(),
    );
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn batch_size_zero() {
    let err = message(
        compiled()
            .fit(&[xs(4)], &ys(4), FitConfig::new().batch_size(0).verbose(0))
            .unwrap_err(),
    );
    assert!(err.contains("batch_size"), "{err}");
    assert!(compiled().predict(&[xs(4)], 0).is_err());
    assert!(compiled().evaluate(&[xs(4)], &ys(4), 0).is_err());
}

#[test]
fn validation_split_outside_range() {
    for v in [-0.1, 1.0, 1.5, f64::NAN] {
        let err = message(
            compiled()
                .fit(
                    &[xs(4)],
                    &ys(4),
                    FitConfig::new().validation_split(v).verbose(0),
                )
                .unwrap_err(),
        );
        assert!(err.contains("validation_split"), "{v}: {err}");
    }
    // A split leaving no training sample.
    let err = message(
        compiled()
            .fit(
                &[xs(2)],
                &ys(2),
                FitConfig::new().validation_split(0.9).verbose(0),
            )
            .unwrap_err(),
    );
    assert!(err.contains("validation_split"), "{err}");
}

#[test]
fn unknown_names_list_the_valid_ones() {
    let err = message(model().compile("rmsprp", "mse", &[]).unwrap_err());
    assert!(err.contains("rmsprop"), "{err}");
    let err = message(model().compile("sgd", "crossentropy", &[]).unwrap_err());
    assert!(err.contains("sparse_categorical_crossentropy"), "{err}");
    let err = message(model().compile("sgd", "mse", &["acuracy"]).unwrap_err());
    assert!(err.contains("accuracy"), "{err}");
}

#[test]
fn set_weights_checks_shapes_before_changing_anything() {
    let m = model();
    let before = m.get_weights();
    let bad = vec![arr2(&[[1.0f32]]).into_dyn(), ArrayD::zeros(IxDyn(&[3]))];
    assert!(m.set_weights(&bad).is_err());
    assert_eq!(m.get_weights(), before);
}
