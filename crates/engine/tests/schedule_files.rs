//! Nadam with a learning-rate schedule (ExponentialDecay, CosineDecay with warmup, PiecewiseConstantDecay)
//! crosses to Keras in a `.keras` file: after two rkeras steps the file Keras loads is compiled with the
//! optimizer and schedule Keras builds from the same arguments and rkeras's step count, and one further
//! `train_on_batch` in Keras gives the weights rkeras gets from its own further step within 1e-5
//! (scripts/keras_schedule_files_golden.py, through the Python of `rkeras_testkit::keras_python`: a failure
//! with CI=true when it is missing, a loud notice otherwise).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{Dense, Input, LayerCall};
use rkeras_optim::NadamConfig;
use rkeras_optim::schedules::{
    CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay,
};
use rkeras_tensor::Initializer;
use std::path::Path;

fn model(schedule: LearningRateSchedule) -> Model {
    let x = Input::new(&[2]);
    let h = Dense::new(3)
        .with_activation("tanh")
        .unwrap()
        .with_kernel_initializer(Initializer::Constant(0.3))
        .call(&x)
        .unwrap();
    let y = Dense::new(1)
        .with_kernel_initializer(Initializer::Constant(-0.2))
        .call(&h)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    let nadam = NadamConfig::default()
        .with_schedule(schedule)
        .build()
        .unwrap();
    model.compile(nadam, "mse", &[]).unwrap();
    model
}

fn check(case: &str, schedule: LearningRateSchedule) {
    let xs = ArrayD::from_shape_vec(
        IxDyn(&[4, 2]),
        vec![1.0, 0.5, -0.5, 2.0, 0.25, -1.0, 1.5, 0.0],
    )
    .unwrap();
    let ys = ArrayD::from_shape_vec(IxDyn(&[4, 1]), vec![1.0, -1.0, 0.5, 2.0]).unwrap();
    let mut model = model(schedule);
    let config = FitConfig::new()
        .epochs(1)
        .batch_size(2)
        .verbose(0)
        .shuffle(false);
    model.fit(std::slice::from_ref(&xs), &ys, config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{case}.keras"));
    model.save(&path).unwrap();
    let before = model.get_weights();
    model
        .train_on_batch(std::slice::from_ref(&xs), &ys, None)
        .unwrap();
    let after = model.get_weights();
    assert!(
        before
            .iter()
            .zip(&after)
            .any(|(a, b)| a.iter().zip(b.iter()).any(|(p, q)| (p - q).abs() > 1e-4)),
        "{case}: the further step must move the weights"
    );
    // rkeras reads its own file back with the same optimizer and the same next step.
    let mut back = rkeras_engine::load_model(&path).unwrap();
    assert_eq!(
        back.optimizer().unwrap().config(),
        model.optimizer().unwrap().config(),
        "{case}"
    );
    back.train_on_batch(std::slice::from_ref(&xs), &ys, None)
        .unwrap();
    assert_eq!(back.get_weights(), after, "{case}");
    let data = serde_json::json!({
        "x": xs.iter().collect::<Vec<_>>(),
        "y": ys.iter().collect::<Vec<_>>(),
        "weights": after.iter().map(|w| w.iter().copied().collect::<Vec<f32>>()).collect::<Vec<_>>(),
    });
    let data_path = dir.path().join(format!("{case}.json"));
    std::fs::write(&data_path, data.to_string()).unwrap();
    rkeras_testkit::run_keras_check(
        &format!("Keras's load and next step of the rkeras-saved Nadam with {case}"),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras_schedule_files_golden.py"
        ),
        [Path::new("check"), Path::new(case), &path, &data_path],
        "keras schedule file ok",
    );
}

#[test]
fn nadam_with_exponential_decay_continues_in_keras() {
    let schedule = ExponentialDecay::new(0.01, 2.0, 0.5)
        .unwrap()
        .with_staircase(true);
    check("exponential_decay", schedule.into());
}

#[test]
fn nadam_with_cosine_decay_and_warmup_continues_in_keras() {
    let schedule = CosineDecay::new(0.01, 10.0)
        .unwrap()
        .with_alpha(0.1)
        .with_warmup(0.02, 2.0);
    check("cosine_decay", schedule.into());
}

#[test]
fn nadam_with_piecewise_constant_decay_continues_in_keras() {
    let schedule = PiecewiseConstantDecay::new(vec![1.0], vec![0.02, 0.005]).unwrap();
    check("piecewise_constant_decay", schedule.into());
}
