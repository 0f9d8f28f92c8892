//! Per-lookup squared gradients (Keras's TensorFlow backend's embedding updates): each optimizer that squares
//! a gradient uses the given squares instead; checked against formulas computed by hand in f64. On Keras 3.15 /
//! TensorFlow 2.21, one RMSprop step on an embedding looked up several times per batch moves each row by
//! `lr · Σₖgₖ / sqrt(0.1 · Σₖgₖ² + ε)` — the RMSprop case below.

use ndarray::{ArrayD, IxDyn};
use rkeras_optim::{AdagradConfig, AdamConfig, OptimError, Optimizer, RMSpropConfig, SGDConfig};

fn arr(v: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap()
}

/// One step from w = [1, −1] with gradient [2, 0.5] and squares [10, 0.25] (or none).
fn one_step(optimizer: &mut dyn Optimizer, squares: Option<&ArrayD<f32>>) -> Vec<f64> {
    let mut w = arr(&[1.0, -1.0]);
    let g = arr(&[2.0, 0.5]);
    optimizer
        .apply_gradients_with_squares(&mut [&mut w], &[&g], &[squares])
        .unwrap();
    w.iter().map(|&v| f64::from(v)).collect()
}

fn close(actual: &[f64], expected: &[f64]) {
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-6, "{actual:?} vs {expected:?}");
    }
}

const G: [f64; 2] = [2.0, 0.5];
const SQ: [f64; 2] = [10.0, 0.25];
const W: [f64; 2] = [1.0, -1.0];

#[test]
fn rmsprop_velocity_takes_the_squares() {
    let squares = arr(&[10.0, 0.25]);
    let mut rms = RMSpropConfig::default()
        .with_learning_rate(0.01)
        .build()
        .unwrap();
    let expected: Vec<f64> = (0..2)
        .map(|i| W[i] - 0.01 * G[i] / (0.1 * SQ[i] + 1e-7).sqrt())
        .collect();
    close(&one_step(&mut rms, Some(&squares)), &expected);
    // Without squares: g².
    let mut rms = RMSpropConfig::default()
        .with_learning_rate(0.01)
        .build()
        .unwrap();
    let dense: Vec<f64> = (0..2)
        .map(|i| W[i] - 0.01 * G[i] / (0.1 * G[i] * G[i] + 1e-7).sqrt())
        .collect();
    close(&one_step(&mut rms, None), &dense);
}

#[test]
fn centered_and_momentum_rmsprop_use_the_squares_for_velocity_only() {
    let squares = arr(&[10.0, 0.25]);
    let mut centered = RMSpropConfig::default()
        .with_learning_rate(0.01)
        .with_centered(true)
        .with_momentum(0.5)
        .build()
        .unwrap();
    // v = 0.1·sq, a = 0.1·g, m = 0 · 0.5 + lr·g / sqrt(v − a² + ε).
    let expected: Vec<f64> = (0..2)
        .map(|i| {
            let (v, a) = (0.1 * SQ[i], 0.1 * G[i]);
            W[i] - 0.01 * G[i] / (v - a * a + 1e-7).sqrt()
        })
        .collect();
    close(&one_step(&mut centered, Some(&squares)), &expected);
}

#[test]
fn adam_second_moment_and_adagrad_accumulator_take_the_squares() {
    let squares = arr(&[10.0, 0.25]);
    let mut adam = AdamConfig::default()
        .with_learning_rate(0.01)
        .build()
        .unwrap();
    // Step 1: m = 0.1·g, v = 0.001·sq, alpha = lr·sqrt(1 − 0.999) / (1 − 0.9).
    let alpha = 0.01 * (1.0f64 - 0.999).sqrt() / (1.0 - 0.9);
    let expected: Vec<f64> = (0..2)
        .map(|i| W[i] - 0.1 * G[i] * alpha / ((0.001 * SQ[i]).sqrt() + 1e-7))
        .collect();
    close(&one_step(&mut adam, Some(&squares)), &expected);

    let mut adagrad = AdagradConfig::default()
        .with_learning_rate(0.01)
        .build()
        .unwrap();
    // accumulator = 0.1 (Keras's initial value) + sq.
    let expected: Vec<f64> = (0..2)
        .map(|i| W[i] - 0.01 * G[i] / (0.1 + SQ[i] + 1e-7).sqrt())
        .collect();
    close(&one_step(&mut adagrad, Some(&squares)), &expected);
}

#[test]
fn sgd_and_clipping_ignore_the_squares() {
    let squares = arr(&[10.0, 0.25]);
    let mut sgd = SGDConfig::default()
        .with_learning_rate(0.1)
        .with_momentum(0.9)
        .build()
        .unwrap();
    close(
        &one_step(&mut sgd, Some(&squares)),
        &[1.0 - 0.2, -1.0 - 0.05],
    );
    // With clipping, g² of the clipped gradient is used: the same as giving no squares.
    let clipped = || {
        RMSpropConfig::default()
            .with_learning_rate(0.01)
            .with_clipvalue(1.0)
            .build()
            .unwrap()
    };
    assert_eq!(
        one_step(&mut clipped(), Some(&squares)),
        one_step(&mut clipped(), None)
    );
}

#[test]
fn squares_of_the_wrong_count_or_shape_are_errors_that_change_nothing() {
    let mut rms = RMSpropConfig::default().build().unwrap();
    let mut w = arr(&[1.0, -1.0]);
    let g = arr(&[2.0, 0.5]);
    let wrong_shape = arr(&[1.0, 2.0, 3.0]);
    let err = rms
        .apply_gradients_with_squares(&mut [&mut w], &[&g], &[Some(&wrong_shape)])
        .unwrap_err();
    assert!(
        matches!(err, OptimError::GradientShapeMismatch { index: 0, .. }),
        "{err}"
    );
    let err = rms
        .apply_gradients_with_squares(&mut [&mut w], &[&g], &[None, None])
        .unwrap_err();
    assert!(
        matches!(
            err,
            OptimError::SquaresCountMismatch {
                params: 1,
                squares: 2,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(w, arr(&[1.0, -1.0]));
    assert_eq!(rms.iterations(), 0);
}

#[test]
fn per_lookup_squares_is_on_by_default_and_can_be_turned_off() {
    assert!(
        RMSpropConfig::default()
            .build()
            .unwrap()
            .per_lookup_squares()
    );
    assert!(
        !AdamConfig::default()
            .with_per_lookup_squares(false)
            .build()
            .unwrap()
            .per_lookup_squares()
    );
}
