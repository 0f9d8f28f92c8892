//! Saving and restoring optimizer state: a restored run continues exactly like an uninterrupted one, and a bad
//! state is refused without changing anything.

mod common;

use common::*;
use ndarray::{ArrayD, IxDyn};
use rkeras_optim::{
    AdagradConfig, AdamConfig, OptimError, Optimizer, OptimizerState, RMSpropConfig, SGDConfig,
    SlotArray, keras_variable_paths, optimizer_from_config,
};

/// One optimizer of every kind and variant, all with slots except plain SGD.
fn variants() -> Vec<Box<dyn Optimizer>> {
    vec![
        Box::new(SGDConfig::default().build().unwrap()),
        Box::new(
            SGDConfig::default()
                .with_momentum(0.9)
                .with_nesterov(true)
                .build()
                .unwrap(),
        ),
        Box::new(
            RMSpropConfig::default()
                .with_learning_rate(0.01)
                .build()
                .unwrap(),
        ),
        Box::new(
            RMSpropConfig::default()
                .with_momentum(0.5)
                .with_centered(true)
                .with_clipnorm(1.0)
                .build()
                .unwrap(),
        ),
        Box::new(
            AdamConfig::default()
                .with_learning_rate(0.01)
                .build()
                .unwrap(),
        ),
        Box::new(
            AdamConfig::default()
                .with_amsgrad(true)
                .with_global_clipnorm(1.0)
                .build()
                .unwrap(),
        ),
        Box::new(
            AdagradConfig::default()
                .with_learning_rate(0.1)
                .with_clipvalue(0.5)
                .build()
                .unwrap(),
        ),
    ]
}

/// Five steps of gradients for the parameters of [`two_params`].
fn five_steps() -> Vec<Vec<ArrayD<f32>>> {
    let mut steps = gradient_steps();
    steps.extend(gradient_steps().into_iter().rev().take(2));
    steps
        .iter()
        .map(|step| step.iter().zip(SHAPES).map(|(v, s)| array(s, v)).collect())
        .collect()
}

fn initial_params() -> Vec<ArrayD<f32>> {
    two_params()
        .iter()
        .zip(SHAPES)
        .map(|(v, s)| array(s, v))
        .collect()
}

fn step(opt: &mut dyn Optimizer, params: &mut [ArrayD<f32>], grads: &[ArrayD<f32>]) {
    let grad_refs: Vec<&ArrayD<f32>> = grads.iter().collect();
    let mut param_refs: Vec<&mut ArrayD<f32>> = params.iter_mut().collect();
    opt.apply_gradients(&mut param_refs, &grad_refs).unwrap();
}

#[test]
fn restored_run_continues_exactly_like_an_uninterrupted_one() {
    for template in variants() {
        let steps = five_steps();

        let mut uninterrupted = template.clone_box();
        let mut expected = initial_params();
        for grads in &steps {
            step(uninterrupted.as_mut(), &mut expected, grads);
        }

        let mut first = template.clone_box();
        let mut params = initial_params();
        for grads in &steps[..2] {
            step(first.as_mut(), &mut params, grads);
        }
        // Save through JSON, as a checkpoint would, and restore into a fresh optimizer made from the config.
        let saved = serde_json::to_string(&first.state()).unwrap();
        let mut resumed = optimizer_from_config(first.class_name(), &first.config()).unwrap();
        resumed
            .load_state(&serde_json::from_str::<OptimizerState>(&saved).unwrap())
            .unwrap();
        assert_eq!(resumed.iterations(), 2);
        for grads in &steps[2..] {
            step(resumed.as_mut(), &mut params, grads);
        }

        assert_eq!(params, expected, "{:?}", template.config());
        assert_eq!(resumed.state(), uninterrupted.state());
        assert_eq!(resumed.iterations(), 5);
    }
}

#[test]
fn state_lists_slots_in_keras_variable_order() {
    let mut opt = RMSpropConfig::default().with_momentum(0.5).build().unwrap();
    let mut params = initial_params();
    step(&mut opt, &mut params, &five_steps()[0]);
    let state = opt.state();
    let order: Vec<(usize, &str)> = state
        .slots
        .iter()
        .map(|s| (s.param_index, s.slot.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (0, "velocity"),
            (1, "velocity"),
            (0, "momentum"),
            (1, "momentum")
        ]
    );
    assert_eq!(state.learning_rate, Some(f64::from(0.001f32)));
    // The same order as Keras's optimizer.variables after `iteration` and `learning_rate`.
    let paths = keras_variable_paths(&opt, &["dense/kernel", "dense/bias"]);
    assert_eq!(
        paths,
        [
            "rm_sprop/iteration",
            "rm_sprop/learning_rate",
            "rm_sprop/dense_kernel_velocity",
            "rm_sprop/dense_bias_velocity",
            "rm_sprop/dense_kernel_momentum",
            "rm_sprop/dense_bias_momentum"
        ]
    );
    // Slot shapes are the parameters' shapes.
    assert_eq!(state.slots[1].value.shape(), &[2, 2]);
}

#[test]
fn a_bad_state_changes_nothing() {
    let mut opt = AdamConfig::default().build().unwrap();
    let mut params = initial_params();
    step(&mut opt, &mut params, &five_steps()[0]);
    let before = opt.state();

    let mut wrong_shape = before.clone();
    wrong_shape.slots[3].value = ArrayD::zeros(IxDyn(&[4]));
    wrong_shape.iterations = 99;
    assert!(matches!(
        opt.load_state(&wrong_shape),
        Err(OptimError::SlotShapeMismatch { index: 1, .. })
    ));

    let mut missing = before.clone();
    missing.slots.pop();
    assert!(matches!(
        opt.load_state(&missing),
        Err(OptimError::InvalidState { .. })
    ));

    let mut unknown = before.clone();
    unknown.slots[0].slot = "accumulator".into();
    let err = opt.load_state(&unknown).unwrap_err();
    assert!(
        err.to_string().contains("unknown slot `accumulator`"),
        "{err}"
    );

    let mut bad_rate = before.clone();
    bad_rate.learning_rate = Some(-1.0);
    assert!(opt.load_state(&bad_rate).is_err());

    assert_eq!(opt.state(), before);
}

#[test]
fn a_state_loaded_before_the_first_step_is_checked_against_the_parameters() {
    let mut opt = AdagradConfig::default().build().unwrap();
    let state = OptimizerState {
        iterations: 7,
        learning_rate: None,
        slots: vec![SlotArray {
            param_index: 0,
            slot: "accumulator".into(),
            value: ArrayD::zeros(IxDyn(&[5])),
        }],
    };
    opt.load_state(&state).unwrap();
    assert_eq!(opt.learning_rate(), f64::from(0.001f32)); // None keeps the current rate
    let mut w = ArrayD::<f32>::ones(IxDyn(&[3]));
    let g = ArrayD::<f32>::ones(IxDyn(&[3]));
    let err = opt.apply_gradients(&mut [&mut w], &[&g]).unwrap_err();
    assert_eq!(
        err,
        OptimError::SlotShapeMismatch {
            optimizer: "Adagrad",
            index: 0,
            slot: "accumulator".into(),
            slot_shape: vec![5],
            expected: vec![3]
        }
    );
    assert_eq!(w, ArrayD::<f32>::ones(IxDyn(&[3])));
    assert_eq!(opt.iterations(), 7);
}

#[test]
fn keras_2_slot_names_are_accepted() {
    let mut opt = RMSpropConfig::default()
        .with_centered(true)
        .build()
        .unwrap();
    let value = ArrayD::from_elem(IxDyn(&[2]), 0.5f32);
    let state = OptimizerState {
        iterations: 3,
        learning_rate: Some(0.01),
        slots: vec![
            SlotArray {
                param_index: 0,
                slot: "rms".into(),
                value: value.clone(),
            },
            SlotArray {
                param_index: 0,
                slot: "mg".into(),
                value: value.clone(),
            },
        ],
    };
    opt.load_state(&state).unwrap();
    let names: Vec<String> = opt.state().slots.into_iter().map(|s| s.slot).collect();
    assert_eq!(names, ["velocity", "average_gradient"]);
    assert_eq!(opt.learning_rate(), f64::from(0.01f32));
}

#[test]
fn an_empty_state_resets_the_optimizer() {
    let mut opt = AdamConfig::default().build().unwrap();
    let mut params = initial_params();
    step(&mut opt, &mut params, &five_steps()[0]);
    opt.load_state(&OptimizerState {
        iterations: 0,
        learning_rate: None,
        slots: vec![],
    })
    .unwrap();
    assert_eq!(opt.iterations(), 0);
    assert!(opt.state().slots.is_empty());
    // Fresh slots are created for whatever parameters come next.
    let mut w = ArrayD::<f32>::ones(IxDyn(&[7]));
    opt.apply_gradients(&mut [&mut w], &[&ArrayD::<f32>::ones(IxDyn(&[7]))])
        .unwrap();
    assert_eq!(opt.state().slots[0].value.shape(), &[7]);
}
