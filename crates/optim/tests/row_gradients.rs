//! Optimizers on row gradients ([`IndexedSlices`], an embedding table's): Keras/TensorFlow's arithmetic by
//! default (each lookup squared, every row following the dense update), the summed form as Keras/JAX's, the
//! row-only update where it is exact (plain SGD, Adagrad) or asked for (`lazy_rows`). Checked against values
//! computed by hand in f64 and against Keras 3.15 on both backends (`scripts/keras_indexed_slices.py`).

use ndarray::{ArrayD, IxDyn};
use rkeras_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, GradientRef, IndexedSlices, OptimError, Optimizer,
    RMSpropConfig, SGDConfig,
};
use serde_json::Value;

fn arr(shape: &[usize], v: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap()
}

/// A 3 × 1 table [1, −1, 0.75]; row 0 looked up twice (gradients 3 and −1: sum 2, per-lookup squares 10), row 1
/// once (0.5: square 0.25), row 2 never.
fn rows() -> IndexedSlices {
    IndexedSlices::from_lookups(3, 1, &[0, 1, 0], &[3.0, 0.5, -1.0]).unwrap()
}

fn one_step(optimizer: &mut dyn Optimizer) -> Vec<f64> {
    let mut w = arr(&[3, 1], &[1.0, -1.0, 0.75]);
    optimizer
        .apply(&mut [&mut w], &[GradientRef::Rows(&rows())])
        .unwrap();
    w.iter().map(|&v| f64::from(v)).collect()
}

fn close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < 1e-6, "{actual:?} vs {expected:?}");
    }
}

const G: [f64; 2] = [2.0, 0.5];
const SQ: [f64; 2] = [10.0, 0.25];
const W: [f64; 3] = [1.0, -1.0, 0.75];

#[test]
fn rmsprop_squares_each_lookup_or_the_sum() {
    let rms = |per_lookup| {
        RMSpropConfig::default()
            .with_learning_rate(0.01)
            .with_per_lookup_squares(per_lookup)
            .build()
            .unwrap()
    };
    let expected = |sq: [f64; 2]| {
        let mut w: Vec<f64> = (0..2)
            .map(|i| W[i] - 0.01 * G[i] / (0.1 * sq[i] + 1e-7).sqrt())
            .collect();
        w.push(W[2]);
        w
    };
    close(&one_step(&mut rms(true)), &expected(SQ));
    close(&one_step(&mut rms(false)), &expected([4.0, 0.25]));
}

#[test]
fn centered_momentum_rmsprop_uses_the_squares_for_velocity_only() {
    let mut centered = RMSpropConfig::default()
        .with_learning_rate(0.01)
        .with_centered(true)
        .with_momentum(0.5)
        .build()
        .unwrap();
    // v = 0.1·sq, a = 0.1·g, m = 0 · 0.5 + lr·g / sqrt(v − a² + ε).
    let mut expected: Vec<f64> = (0..2)
        .map(|i| {
            let (v, a) = (0.1 * SQ[i], 0.1 * G[i]);
            W[i] - 0.01 * G[i] / (v - a * a + 1e-7).sqrt()
        })
        .collect();
    expected.push(W[2]);
    close(&one_step(&mut centered), &expected);
}

#[test]
fn adam_and_adagrad_take_the_per_lookup_squares() {
    let mut adam = AdamConfig::default()
        .with_learning_rate(0.01)
        .build()
        .unwrap();
    // Step 1: m = 0.1·g, v = 0.001·sq, alpha = lr·sqrt(1 − 0.999) / (1 − 0.9).
    let alpha = 0.01 * (1.0f64 - 0.999).sqrt() / (1.0 - 0.9);
    let mut expected: Vec<f64> = (0..2)
        .map(|i| W[i] - 0.1 * G[i] * alpha / ((0.001 * SQ[i]).sqrt() + 1e-7))
        .collect();
    expected.push(W[2]);
    close(&one_step(&mut adam), &expected);

    let mut adagrad = AdagradConfig::default()
        .with_learning_rate(0.01)
        .build()
        .unwrap();
    // accumulator = 0.1 (Keras's initial value) + sq.
    let mut expected: Vec<f64> = (0..2)
        .map(|i| W[i] - 0.01 * G[i] / (0.1 + SQ[i] + 1e-7).sqrt())
        .collect();
    expected.push(W[2]);
    close(&one_step(&mut adagrad), &expected);
    let state = adagrad.state();
    let acc: Vec<f32> = state.slots[0].value.iter().copied().collect();
    assert_eq!(
        acc,
        [0.1 + 10.0, 0.1 + 0.25, 0.1],
        "row 2's accumulator untouched"
    );
}

#[test]
fn sgd_ignores_squares_and_clipping_squares_the_clipped_sum() {
    let mut sgd = SGDConfig::default()
        .with_learning_rate(0.1)
        .with_momentum(0.9)
        .build()
        .unwrap();
    close(&one_step(&mut sgd), &[1.0 - 0.2, -1.0 - 0.05, 0.75]);
    // With clipping, the row gradient is made dense and `g · g` of the clipped gradient is used: the same as
    // the dense gradient.
    let clipped = || {
        RMSpropConfig::default()
            .with_learning_rate(0.01)
            .with_clipvalue(1.0)
            .build()
            .unwrap()
    };
    let mut dense_w = arr(&[3, 1], &[1.0, -1.0, 0.75]);
    clipped()
        .apply_gradients(&mut [&mut dense_w], &[&rows().to_dense().unwrap()])
        .unwrap();
    let dense: Vec<f64> = dense_w.iter().map(|&v| f64::from(v)).collect();
    assert_eq!(one_step(&mut clipped()), dense);
}

/// A table and the optimizer that updated it.
type Updated = (ArrayD<f32>, Box<dyn Optimizer>);

/// Applies `steps` row gradients, each both as rows and (to a copy) densely; returns both tables and optimizers.
fn rows_and_dense(
    mut opt: impl FnMut() -> Box<dyn Optimizer>,
    steps: &[IndexedSlices],
) -> (Updated, Updated) {
    let (mut a, mut b) = (opt(), opt());
    let mut wa = arr(&[3, 1], &[1.0, -1.0, 0.75]);
    let mut wb = wa.clone();
    for rows in steps {
        a.apply(&mut [&mut wa], &[GradientRef::Rows(rows)]).unwrap();
        b.apply_gradients(&mut [&mut wb], &[&rows.to_dense().unwrap()])
            .unwrap();
    }
    ((wa, a), (wb, b))
}

#[test]
fn plain_sgd_and_adagrad_touch_only_the_rows_and_equal_the_dense_update_bit_for_bit() {
    let steps = [
        rows(),
        IndexedSlices::from_lookups(3, 1, &[2, 2], &[0.3, 0.7]).unwrap(),
    ];
    let ((w_rows, _), (w_dense, _)) =
        rows_and_dense(|| Box::new(SGDConfig::default().build().unwrap()), &steps);
    assert_eq!(w_rows, w_dense);
    // Adagrad with the summed squares is the dense update (per-lookup squares differ only where lookups repeat).
    let adagrad = || {
        Box::new(
            AdagradConfig::default()
                .with_learning_rate(0.1)
                .with_per_lookup_squares(false)
                .build()
                .unwrap(),
        ) as Box<dyn Optimizer>
    };
    let ((w_rows, a), (w_dense, b)) = rows_and_dense(adagrad, &steps);
    assert_eq!(w_rows, w_dense);
    assert_eq!(a.state(), b.state());
}

#[test]
fn lazy_rows_leave_rows_not_looked_up_and_their_moments_alone() {
    let step_1 = IndexedSlices::from_lookups(2, 1, &[0], &[2.0]).unwrap();
    let step_2 = IndexedSlices::from_lookups(2, 1, &[1], &[-1.0]).unwrap();
    let run = |lazy| {
        let mut adam = AdamConfig::default()
            .with_learning_rate(0.01)
            .with_lazy_rows(lazy)
            .build()
            .unwrap();
        let mut w = arr(&[2], &[1.0, 1.0])
            .into_shape_with_order(IxDyn(&[2, 1]))
            .unwrap();
        adam.apply(&mut [&mut w], &[GradientRef::Rows(&step_1)])
            .unwrap();
        let after_1 = w.clone();
        adam.apply(&mut [&mut w], &[GradientRef::Rows(&step_2)])
            .unwrap();
        (after_1, w, adam.state())
    };
    let (exact_1, exact_2, exact_state) = run(false);
    let (lazy_1, lazy_2, lazy_state) = run(true);
    assert_eq!(
        exact_1, lazy_1,
        "the first step only moves row 0 either way"
    );
    // Keras: row 0's momentum keeps moving it at step 2; lazily it stays put.
    assert_ne!(exact_2[[0, 0]], exact_1[[0, 0]]);
    assert_eq!(lazy_2[[0, 0]], lazy_1[[0, 0]]);
    // Row 1, first looked up at step 2 (g = −1), from zero moments: m = 0.1·g, v = 0.001·g², with step 2's bias
    // correction alpha = lr·sqrt(1 − 0.999²) / (1 − 0.9²); the same in both.
    let alpha = 0.01 * (1.0f64 - 0.999 * 0.999).sqrt() / (1.0 - 0.9 * 0.9);
    let expected = 1.0 + 0.1 * alpha / ((0.001f64).sqrt() + 1e-7);
    for w in [&exact_2, &lazy_2] {
        assert!((f64::from(w[[1, 0]]) - expected).abs() < 1e-6, "{w}");
    }
    // The exact form decays row 0's moments at step 2; the lazy one leaves them.
    let m = |state: &rkeras_optim::OptimizerState| state.slots[0].value[[0, 0]];
    assert!((m(&exact_state) - 0.9 * 0.2).abs() < 1e-6);
    assert!((m(&lazy_state) - 0.2).abs() < 1e-6);
}

#[test]
fn a_row_gradient_of_the_wrong_shape_is_an_error_that_changes_nothing() {
    let mut rms = RMSpropConfig::default().build().unwrap();
    let mut w = arr(&[2, 1], &[1.0, -1.0]);
    let err = rms
        .apply(&mut [&mut w], &[GradientRef::Rows(&rows())])
        .unwrap_err();
    assert!(
        matches!(err, OptimError::GradientShapeMismatch { index: 0, ref grad, .. } if grad == &[3, 1]),
        "{err}"
    );
    assert_eq!(w, arr(&[2, 1], &[1.0, -1.0]));
    assert_eq!(rms.iterations(), 0);
}

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_indexed_slices.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        other => vec![other.as_f64().unwrap() as f32],
    }
}

fn optimizer(case: &Value, per_lookup: bool) -> Box<dyn Optimizer> {
    let config = &case["config"];
    let lr = config["learning_rate"].as_f64().unwrap();
    let flag = |key: &str| config[key].as_bool().unwrap_or(false);
    let number = |key: &str| config[key].as_f64().unwrap_or(0.0);
    match case["class"].as_str().unwrap() {
        "SGD" => Box::new(
            SGDConfig::default()
                .with_learning_rate(lr)
                .with_momentum(number("momentum"))
                .build()
                .unwrap(),
        ),
        "RMSprop" => Box::new(
            RMSpropConfig::default()
                .with_learning_rate(lr)
                .with_centered(flag("centered"))
                .with_momentum(number("momentum"))
                .with_per_lookup_squares(per_lookup)
                .build()
                .unwrap(),
        ),
        "Adam" => Box::new(
            AdamConfig::default()
                .with_learning_rate(lr)
                .with_amsgrad(flag("amsgrad"))
                .with_per_lookup_squares(per_lookup)
                .build()
                .unwrap(),
        ),
        "Adagrad" => Box::new(
            AdagradConfig::default()
                .with_learning_rate(lr)
                .with_per_lookup_squares(per_lookup)
                .build()
                .unwrap(),
        ),
        "Adadelta" => Box::new(
            AdadeltaConfig::default()
                .with_learning_rate(lr)
                .with_per_lookup_squares(per_lookup)
                .build()
                .unwrap(),
        ),
        other => panic!("no optimizer {other}"),
    }
}

#[test]
fn optimizers_follow_keras_on_tensorflow_and_jax_with_repeated_ids() {
    let fixture = fixture();
    let table = floats(&fixture["table"]);
    let ids: Vec<usize> = fixture["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert!(ids.iter().filter(|&&i| i == 2).count() > 1, "a repeated id");
    let steps: Vec<IndexedSlices> = fixture["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| IndexedSlices::from_lookups(5, 2, &ids, &floats(s)).unwrap())
        .collect();
    for (backend, per_lookup) in [("tensorflow", true), ("jax", false)] {
        let cases = fixture[backend].as_object().unwrap();
        assert_eq!(cases.len(), 8);
        for (name, case) in cases {
            let mut opt = optimizer(case, per_lookup);
            let mut w = arr(&[5, 2], &table);
            for (k, rows) in steps.iter().enumerate() {
                opt.apply(&mut [&mut w], &[GradientRef::Rows(rows)])
                    .unwrap();
                let expected = floats(&case["weights"][k]);
                for (a, e) in w.iter().zip(&expected) {
                    assert!(
                        (a - e).abs() <= 1e-6 + 1e-6 * e.abs(),
                        "{backend} {name} step {k}: {w} vs {expected:?}"
                    );
                }
            }
            let state = opt.state();
            for slot in &state.slots {
                let expected = floats(&case["slots"][slot.slot.as_str()]);
                for (a, e) in slot.value.iter().zip(&expected) {
                    assert!(
                        (a - e).abs() <= 1e-6 + 1e-6 * e.abs(),
                        "{backend} {name} slot {}: {} vs {expected:?}",
                        slot.slot,
                        slot.value
                    );
                }
            }
        }
    }
}
