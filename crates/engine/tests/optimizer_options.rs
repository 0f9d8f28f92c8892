//! Keras 3's base-optimizer options in a real `fit`: a learning-rate schedule evaluated on the step count (and
//! logged), a schedule with a callback that sets the rate (Keras's `TypeError`, here a typed error), and the
//! EMA weights that replace the model's at the end of `fit` (`finalize_variable_values`). Expected values are
//! hand-computed SGD trajectories.

use ndarray::{ArrayD, IxDyn};
use rkeras_callbacks::LearningRateScheduler;
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{Dense, Input, LayerCall};
use rkeras_optim::SGDConfig;
use rkeras_optim::schedules::PiecewiseConstantDecay;
use rkeras_tensor::Initializer;

fn column(values: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(&[values.len(), 1]), values.to_vec()).unwrap()
}

/// `y = w·x`, no bias, `w` starting at 0, compiled with `optimizer` and the mean squared error.
fn line_model(optimizer: rkeras_optim::SGD) -> Model {
    let x = Input::new(&[1]);
    let y = Dense::new(1)
        .with_bias(false)
        .with_kernel_initializer(Initializer::Constant(0.0))
        .call(&x)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model.compile(optimizer, "mse", &[]).unwrap();
    model
}

/// One SGD step on one sample of `y = 2x` at `x`: `w − lr·2(w·x − 2x)·x`.
fn sgd_step(w: f64, x: f64, lr: f64) -> f64 {
    w - lr * 2.0 * (w * x - 2.0 * x) * x
}

const XS: [f32; 3] = [1.0, -0.5, 0.75];

#[test]
fn a_schedule_sets_the_rate_of_every_step_and_is_logged() {
    // Rates 0.2 at steps 0 and 1 (step <= 1), then 0.05.
    let schedule = PiecewiseConstantDecay::new(vec![1.0], vec![0.2, 0.05]).unwrap();
    let opt = SGDConfig::default()
        .with_schedule(schedule)
        .build()
        .unwrap();
    let mut model = line_model(opt);
    let y: Vec<f32> = XS.iter().map(|x| 2.0 * x).collect();
    let config = FitConfig::new()
        .epochs(2)
        .batch_size(1)
        .verbose(0)
        .shuffle(false);
    let history = model.fit(&[column(&XS)], &column(&y), config).unwrap();
    let mut w = 0.0f64;
    for step in 0..6u64 {
        let lr = if step <= 1 {
            f64::from(0.2f32)
        } else {
            f64::from(0.05f32)
        };
        w = sgd_step(w, f64::from(XS[(step % 3) as usize]), lr);
    }
    let got = f64::from(model.get_weights()[0][[0, 0]]);
    assert!((got - w).abs() < 1e-6, "{got} vs {w}");
    // Keras logs the schedule's value at the optimizer's current step.
    assert_eq!(
        history.get("learning_rate").unwrap(),
        [0.05, 0.05].map(|r: f64| f64::from(r as f32))
    );
}

#[test]
fn a_callback_setting_the_rate_of_a_scheduled_optimizer_is_a_typed_error() {
    let schedule = PiecewiseConstantDecay::new(vec![1.0], vec![0.2, 0.05]).unwrap();
    let opt = SGDConfig::default()
        .with_schedule(schedule)
        .build()
        .unwrap();
    let mut model = line_model(opt);
    let mut scheduler = LearningRateScheduler::new(|_, lr| lr * 0.5);
    let config = FitConfig::new()
        .epochs(2)
        .batch_size(1)
        .verbose(0)
        .callback(&mut scheduler);
    let err = model
        .fit(&[column(&XS)], &column(&XS), config)
        .unwrap_err()
        .to_string();
    assert!(err.contains("learning rate is not settable"), "{err}");
    assert!(err.contains("PiecewiseConstantDecay"), "{err}");
}

#[test]
fn fit_ends_with_the_moving_average_of_the_weights() {
    let opt = SGDConfig::default()
        .with_learning_rate(0.1)
        .with_ema(0.5)
        .build()
        .unwrap();
    let mut model = line_model(opt);
    let y: Vec<f32> = XS.iter().map(|x| 2.0 * x).collect();
    let config = FitConfig::new()
        .epochs(1)
        .batch_size(1)
        .verbose(0)
        .shuffle(false);
    model.fit(&[column(&XS)], &column(&y), config).unwrap();
    let (mut w, mut average) = (0.0f64, 0.0f64);
    for (step, x) in XS.iter().enumerate() {
        w = sgd_step(w, f64::from(*x), f64::from(0.1f32));
        // Keras: momentum 0 at the first step, so the average starts at the weights.
        let m = if step == 0 { 0.0 } else { 0.5 };
        average = m * average + (1.0 - m) * w;
    }
    let got = f64::from(model.get_weights()[0][[0, 0]]);
    assert!(
        (got - average).abs() < 1e-6,
        "{got} vs EMA {average} (raw weight {w})"
    );
    assert!(
        (average - w).abs() > 1e-3,
        "the test tells the average from the weight"
    );
}

/// After one epoch with `opt`, the model saved as `.h5` and as `.keras` loads back with the same optimizer config
/// and state, and a further epoch from the loaded model gives the same weights, bit for bit, as from the original.
fn round_trips(opt: Box<dyn rkeras_optim::Optimizer>, what: &str) {
    let x = Input::new(&[2]);
    let h = Dense::new(3)
        .with_kernel_initializer(Initializer::Constant(0.3))
        .call(&x)
        .unwrap();
    let y = Dense::new(1)
        .with_kernel_initializer(Initializer::Constant(-0.2))
        .call(&h)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model.compile(opt, "mse", &[]).unwrap();
    let xs = ArrayD::from_shape_vec(
        IxDyn(&[4, 2]),
        vec![1.0, 0.5, -0.5, 2.0, 0.25, -1.0, 1.5, 0.0],
    )
    .unwrap();
    let ys = column(&[1.0, -1.0, 0.5, 2.0]);
    let config = || {
        FitConfig::new()
            .epochs(1)
            .batch_size(2)
            .verbose(0)
            .shuffle(false)
    };
    model.fit(std::slice::from_ref(&xs), &ys, config()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut loaded = Vec::new();
    for file in ["model.h5", "model.keras"] {
        let path = dir.path().join(file);
        model.save(&path).unwrap();
        let back =
            rkeras_engine::load_model(&path).unwrap_or_else(|e| panic!("{what} {file}: {e}"));
        let (a, b) = (model.optimizer().unwrap(), back.optimizer().unwrap());
        assert_eq!(a.config(), b.config(), "{what} {file}");
        assert_eq!(a.state(), b.state(), "{what} {file}");
        loaded.push((file, back));
    }
    model.fit(std::slice::from_ref(&xs), &ys, config()).unwrap();
    for (file, mut back) in loaded {
        back.fit(std::slice::from_ref(&xs), &ys, config()).unwrap();
        assert_eq!(model.get_weights(), back.get_weights(), "{what} {file}");
    }
}

#[test]
fn new_optimizers_and_base_options_cross_h5_and_keras_files() {
    use rkeras_optim::schedules::CosineDecay;
    use rkeras_optim::{AdamWConfig, AdamaxConfig, FtrlConfig, LionConfig, NadamConfig};
    let cases: Vec<(Box<dyn rkeras_optim::Optimizer>, &str)> = vec![
        (
            Box::new(
                AdamWConfig::default()
                    .with_learning_rate(0.01)
                    .build()
                    .unwrap(),
            ),
            "AdamW",
        ),
        (
            Box::new(
                NadamConfig::default()
                    .with_learning_rate(0.01)
                    .build()
                    .unwrap(),
            ),
            "Nadam",
        ),
        (
            Box::new(
                AdamaxConfig::default()
                    .with_learning_rate(0.01)
                    .build()
                    .unwrap(),
            ),
            "Adamax",
        ),
        (
            Box::new(
                LionConfig::default()
                    .with_learning_rate(0.01)
                    .build()
                    .unwrap(),
            ),
            "Lion",
        ),
        (
            Box::new(
                FtrlConfig::default()
                    .with_learning_rate(0.1)
                    .with_beta(0.1)
                    .build()
                    .unwrap(),
            ),
            "Ftrl",
        ),
        (
            Box::new(
                NadamConfig::default()
                    .with_schedule(CosineDecay::new(0.01, 10.0).unwrap().with_warmup(0.02, 2.0))
                    .with_ema(0.9)
                    .with_gradient_accumulation_steps(2)
                    .with_weight_decay(0.01)
                    .build()
                    .unwrap(),
            ),
            "Nadam with schedule, EMA, accumulation and weight decay",
        ),
    ];
    for (opt, what) in cases {
        round_trips(opt, what);
    }
}
