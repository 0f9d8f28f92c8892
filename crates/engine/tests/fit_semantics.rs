//! fit's Keras semantics, checked against hand-computed SGD trajectories.
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::arr2;
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{Dense, Input, LayerCall};
mod common;
use common::{column, kernel, linear_model};

/// One SGD step on one sample with mse: w ← w − lr·2(w·x − y)·x.
fn sgd_step(w: f64, x: f64, y: f64) -> f64 {
    w - 0.1 * 2.0 * (w * x - y) * x
}

#[test]
fn shuffle_false_trains_in_order() {
    let xs = [1.0f32, 2.0, -1.0];
    let ys = [2.0f32, 1.0, 0.5];
    let mut model = linear_model(0.5);
    model
        .fit(
            &[column(&xs)],
            &column(&ys),
            FitConfig::new().batch_size(1).shuffle(false).verbose(0),
        )
        .unwrap();
    let mut w = 0.5;
    for (&x, &y) in xs.iter().zip(&ys) {
        w = sgd_step(w, f64::from(x), f64::from(y));
    }
    assert!(
        (kernel(&model) - w).abs() < 1e-6,
        "{} vs {w}",
        kernel(&model)
    );
    // The reverse order gives a different result, so the test would notice a shuffle.
    let mut w_rev = 0.5;
    for (&x, &y) in xs.iter().zip(&ys).rev() {
        w_rev = sgd_step(w_rev, f64::from(x), f64::from(y));
    }
    assert!((w - w_rev).abs() > 1e-3);
}

#[test]
fn validation_split_takes_the_last_fraction_before_shuffling() {
    // 4 samples, split 0.25: the first 3 train, the LAST one validates.
    let xs = [1.0f32, 2.0, -1.0, 3.0];
    let ys = [2.0f32, 1.0, 0.5, -1.0];
    let mut model = linear_model(0.5);
    let history = model
        .fit(
            &[column(&xs)],
            &column(&ys),
            FitConfig::new()
                .batch_size(1)
                .shuffle(false)
                .validation_split(0.25)
                .verbose(0),
        )
        .unwrap();
    let mut w = 0.5;
    for i in 0..3 {
        w = sgd_step(w, f64::from(xs[i]), f64::from(ys[i]));
    }
    assert!((kernel(&model) - w).abs() < 1e-6);
    let val_loss = (w * 3.0 - (-1.0)).powi(2);
    let logged = history.get("val_loss").unwrap()[0];
    assert!(
        (logged - val_loss).abs() < 1e-4 * val_loss.max(1.0),
        "{logged} vs {val_loss}"
    );
    // The training loss is the mean of the three batch losses, each measured before its update.
    let mut w = 0.5;
    let mut total = 0.0;
    for i in 0..3 {
        total += (w * f64::from(xs[i]) - f64::from(ys[i])).powi(2);
        w = sgd_step(w, f64::from(xs[i]), f64::from(ys[i]));
    }
    assert!((history.get("loss").unwrap()[0] - total / 3.0).abs() < 1e-5);
}

#[test]
fn a_short_last_batch_counts_by_its_size() {
    // 3 samples, batch 2: epoch loss = (2·loss_batch1 + 1·loss_batch2) / 3.
    let xs = [1.0f32, 2.0, -1.0];
    let ys = [2.0f32, 1.0, 0.5];
    let mut model = linear_model(0.5);
    let history = model
        .fit(
            &[column(&xs)],
            &column(&ys),
            FitConfig::new().batch_size(2).shuffle(false).verbose(0),
        )
        .unwrap();
    let w0 = 0.5f64;
    let l1 = ((w0 * 1.0 - 2.0).powi(2) + (w0 * 2.0 - 1.0).powi(2)) / 2.0;
    let grad = (2.0 * (w0 * 1.0 - 2.0) * 1.0 + 2.0 * (w0 * 2.0 - 1.0) * 2.0) / 2.0;
    let w1 = w0 - 0.1 * grad;
    let l2 = (-w1 - 0.5).powi(2);
    let expected = (2.0 * l1 + l2) / 3.0;
    assert!((history.get("loss").unwrap()[0] - expected).abs() < 1e-5);
}

#[test]
fn sample_and_class_weights_scale_the_loss() {
    let xs = [1.0f32, 2.0];
    let ys = [2.0f32, 1.0];
    let mut model = linear_model(0.5);
    let weights = ndarray::arr1(&[3.0f32, 0.0]);
    model
        .fit(
            &[column(&xs)],
            &column(&ys),
            FitConfig::new()
                .batch_size(2)
                .shuffle(false)
                .verbose(0)
                .sample_weight(weights),
        )
        .unwrap();
    // loss = (3·(w·1 − 2)² + 0) / 2 ; dloss/dw = 3·(w − 2)
    let expected = 0.5 - 0.1 * 3.0 * (0.5 - 2.0);
    assert!((kernel(&model) - expected).abs() < 1e-6);
}

#[test]
fn initial_epoch_and_epochs_count_like_keras() {
    let mut model = linear_model(0.5);
    let history = model
        .fit(
            &[column(&[1.0])],
            &column(&[1.0]),
            FitConfig::new().epochs(5).initial_epoch(3).verbose(0),
        )
        .unwrap();
    assert_eq!(history.get("loss").unwrap().len(), 2);
    assert_eq!(history.epoch, vec![3, 4]);
}

#[test]
fn validation_freq_validates_every_nth_epoch() {
    let mut model = linear_model(0.5);
    let x = column(&[1.0, 2.0, 3.0, 4.0]);
    let history = model
        .fit(
            &[x.clone()],
            &x,
            FitConfig::new()
                .epochs(4)
                .validation_split(0.25)
                .validation_freq(2)
                .verbose(0),
        )
        .unwrap();
    assert_eq!(history.get("loss").unwrap().len(), 4);
    assert_eq!(history.get("val_loss").unwrap().len(), 2);
}

#[test]
fn evaluate_after_fit_equals_the_last_epochs_validation_metrics() {
    let mut model = common::softmax_classifier("adam");
    let xs = arr2(&[
        [0.0f32, 1.0],
        [1.0, 0.0],
        [1.0, 1.0],
        [0.5, 0.2],
        [0.1, 0.9],
        [0.3, 0.3],
    ])
    .into_dyn();
    let ys = ndarray::arr1(&[0.0f32, 1.0, 2.0, 1.0, 0.0, 2.0]).into_dyn();
    let (vx, vy) = (xs.clone(), ys.clone());
    let history = model
        .fit(
            &[xs],
            &ys,
            FitConfig::new()
                .epochs(3)
                .batch_size(4)
                .validation_data(vec![vx.clone()], vy.clone())
                .verbose(0),
        )
        .unwrap();
    let logs = model.evaluate(&[vx], &vy, 4).unwrap();
    assert_eq!(
        logs["loss"],
        *history.get("val_loss").unwrap().last().unwrap()
    );
    assert_eq!(
        logs["accuracy"],
        *history.get("val_accuracy").unwrap().last().unwrap()
    );
    assert!(
        history
            .get("learning_rate")
            .unwrap()
            .iter()
            .all(|&lr| (lr - 0.001).abs() < 1e-9)
    );
}

#[test]
fn acc_is_logged_under_the_name_given() {
    let x = Input::new(&[2]);
    let y = Dense::new(2)
        .with_activation("softmax")
        .unwrap()
        .call(&x)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model
        .compile("rmsprop", "categorical_crossentropy", &["acc"])
        .unwrap();
    let xs = arr2(&[[0.0f32, 1.0], [1.0, 0.0]]).into_dyn();
    let ys = arr2(&[[1.0f32, 0.0], [0.0, 1.0]]).into_dyn();
    let history = model
        .fit(
            &[xs],
            &ys,
            FitConfig::new().validation_split(0.5).verbose(0),
        )
        .unwrap();
    assert!(history.get("acc").is_some() && history.get("val_acc").is_some());
}
