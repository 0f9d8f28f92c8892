//! The learning rate can be read and changed between steps (as callbacks do); the change applies from the next
//! step, and an invalid rate is refused.

mod common;

use common::*;
use ndarray::{ArrayD, IxDyn};
use rkeras_optim::{Adam, OptimError, Optimizer, SGD, optimizer_from_name};

#[test]
fn sgd_uses_the_new_rate_from_the_next_step() {
    // w0 = 1, g = 1: step 1 at lr 0.1 → 0.9; lr set to 0.5; step 2 → 0.4; step 3 → −0.1
    let mut opt = SGD::new(0.1).unwrap();
    let mut w = ArrayD::from_elem(IxDyn(&[1]), 1.0f32);
    let g = ArrayD::from_elem(IxDyn(&[1]), 1.0f32);
    opt.apply_gradients(&mut [&mut w], &[&g]).unwrap();
    assert_close(w[[0]], 0.9, "step 1");
    opt.set_learning_rate(0.5).unwrap();
    assert_eq!(opt.learning_rate(), 0.5);
    opt.apply_gradients(&mut [&mut w], &[&g]).unwrap();
    assert_close(w[[0]], 0.4, "step 2 at the new rate");
    opt.apply_gradients(&mut [&mut w], &[&g]).unwrap();
    assert_close(w[[0]], -0.1, "step 3");
}

#[test]
fn adam_scales_its_step_by_the_new_rate() {
    // Adam's bias-corrected step is alpha_t·m/(sqrt(v)+eps) with alpha_t = lr·sqrt(1 − 0.999^t)/(1 − 0.9^t).
    // With a constant gradient g = 1: m_t = 1 − 0.9^t, v_t = 1 − 0.999^t, so each step moves w by
    // lr·sqrt(1 − 0.999^t)·1/(sqrt(1 − 0.999^t) + 1e-7) ≈ lr. Step 1 at 0.01, steps 2 and 3 at 0.001.
    let mut opt = Adam::new(0.01).unwrap();
    let step_size = |lr: f64, t: i32| {
        let b2 = 1.0 - 0.999f64.powi(t);
        lr * b2.sqrt() / (b2.sqrt() + 1e-7)
    };
    let w = run_scalar(&mut opt, 0.0, &[1.0]);
    assert_close(w[0], -step_size(0.01, 1), "step 1");
    opt.set_learning_rate(0.001).unwrap();
    let mut param = ArrayD::from_elem(IxDyn(&[1]), w[0]);
    let g = ArrayD::from_elem(IxDyn(&[1]), 1.0f32);
    opt.apply_gradients(&mut [&mut param], &[&g]).unwrap();
    assert_close(
        param[[0]],
        -step_size(0.01, 1) - step_size(0.001, 2),
        "step 2 at the new rate",
    );
    // Keras's learning rate is a float32 variable: the rate set is held rounded to float32.
    assert_eq!(opt.config()["learning_rate"], f64::from(0.001f32));
    assert_eq!(opt.state().learning_rate, Some(f64::from(0.001f32)));
}

#[test]
fn invalid_rates_are_refused_and_the_old_rate_kept() {
    for name in ["sgd", "rmsprop", "adam", "adagrad"] {
        let mut opt = optimizer_from_name(name).unwrap();
        let before = opt.learning_rate();
        // 1e39 and 1e308 are finite in f64 but infinite in float32, the precision of every update.
        for bad in [-0.1, f64::NAN, f64::INFINITY, 1e39, 1e308] {
            let err = opt.set_learning_rate(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    OptimError::InvalidArgument {
                        argument: "learning_rate",
                        ..
                    }
                ),
                "{err}"
            );
            assert_eq!(opt.learning_rate(), before);
        }
        opt.set_learning_rate(0.0).unwrap();
        assert_eq!(opt.learning_rate(), 0.0);
    }
}

#[test]
fn rates_beyond_float32_are_refused_at_construction() {
    let err = SGD::new(1e39).unwrap_err();
    assert!(
        matches!(
            err,
            OptimError::InvalidArgument {
                optimizer: "SGD",
                argument: "learning_rate",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("1e39"), "{err}");
    // float32's largest value is accepted.
    assert!(SGD::new(f64::from(f32::MAX)).is_ok());
    assert!(Adam::new(1e300).is_err());
    let config = serde_json::json!({"learning_rate": 1e39});
    assert!(rkeras_optim::optimizer_from_config("SGD", &config).is_err());
}
