//! The optimizer state of all ten optimizers through every file format, slot by slot.
//!
//! A model trained a few steps is saved as a legacy `.h5`, a `.keras` archive and a `.weights.h5` store; each is
//! read back (`load_model`, or `load_weights` into a twin that has trained, as Keras 3 restores an optimizer only
//! once built) and every slot of every weight must hold the same bits, and the restored model must continue
//! training bit for bit as the original does. Two weights of each shape (the Dense biases, and kernels in
//! `[2, 2]`) catch a slot landing on the wrong weight. Keras 3.15 then loads the `.keras` and `.h5` files and
//! must hold the same values in each of its optimizer variables (scripts/keras_optimizer_state_golden.py, run
//! through `rkeras_testkit::keras_python`: a failure with CI=true when it is missing, a loud notice otherwise).

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model, Sequential, load_model};
use rkeras_layers::{Dense, set_random_seed};
use rkeras_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, AdamaxConfig, FtrlConfig, LionConfig,
    NadamConfig, Optimizer, OptimizerState, RMSpropConfig, SGDConfig, keras_u_product,
};
use serde_json::json;
use std::path::Path;

const OPTIMIZERS: [&str; 10] = [
    "sgd", "rmsprop", "adam", "adagrad", "adadelta", "adamw", "nadam", "adamax", "lion", "ftrl",
];

/// Each optimizer with the options that give it all its slots (SGD's momentum, RMSprop's momentum and
/// centring, Adam's AMSGrad) and a learning rate large enough for the state to matter.
fn optimizer(name: &str) -> Box<dyn Optimizer> {
    match name {
        "sgd" => Box::new(
            SGDConfig::default()
                .with_learning_rate(0.05)
                .with_momentum(0.9)
                .build()
                .unwrap(),
        ),
        "rmsprop" => Box::new(
            RMSpropConfig::default()
                .with_learning_rate(0.01)
                .with_momentum(0.5)
                .with_centered(true)
                .build()
                .unwrap(),
        ),
        "adam" => Box::new(
            AdamConfig::default()
                .with_learning_rate(0.01)
                .with_amsgrad(true)
                .build()
                .unwrap(),
        ),
        "adagrad" => Box::new(
            AdagradConfig::default()
                .with_learning_rate(0.05)
                .build()
                .unwrap(),
        ),
        "adadelta" => Box::new(
            AdadeltaConfig::default()
                .with_learning_rate(1.0)
                .build()
                .unwrap(),
        ),
        "adamw" => Box::new(
            AdamWConfig::default()
                .with_learning_rate(0.01)
                .build()
                .unwrap(),
        ),
        "nadam" => Box::new(
            NadamConfig::default()
                .with_learning_rate(0.01)
                .build()
                .unwrap(),
        ),
        "adamax" => Box::new(
            AdamaxConfig::default()
                .with_learning_rate(0.01)
                .build()
                .unwrap(),
        ),
        "lion" => Box::new(
            LionConfig::default()
                .with_learning_rate(0.003)
                .build()
                .unwrap(),
        ),
        "ftrl" => Box::new(
            FtrlConfig::default()
                .with_learning_rate(0.1)
                .build()
                .unwrap(),
        ),
        other => panic!("no optimizer {other}"),
    }
}

/// Dense 3→2 (tanh), Dense 2→2 (tanh), Dense 2→2: two `[2, 2]` kernels and three `[2]` biases.
fn model(name: &str) -> Model {
    set_random_seed(21);
    let mut model = Sequential::new(&[3])
        .add(Dense::new(2).with_activation("tanh").unwrap())
        .unwrap()
        .add(Dense::new(2).with_activation("tanh").unwrap())
        .unwrap()
        .add(Dense::new(2))
        .unwrap()
        .build()
        .unwrap();
    model.compile(optimizer(name), "mse", &[]).unwrap();
    model
}

fn data(shape: &[usize], salt: f32) -> ArrayD<f32> {
    let len = shape.iter().product();
    ArrayD::from_shape_vec(
        IxDyn(shape),
        (0..len)
            .map(|i| ((i as f32 + salt) * 0.917).sin())
            .collect(),
    )
    .unwrap()
}

fn train(model: &mut Model, salt: f32, epochs: usize) {
    let x = vec![data(&[12, 3], salt)];
    let y = data(&[12, 2], salt + 40.0);
    let config = FitConfig::new()
        .epochs(epochs)
        .batch_size(4)
        .shuffle(false)
        .verbose(0);
    model.fit(&x, &y, config).unwrap();
}

fn bits(values: &ArrayD<f32>) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// Every slot of `want` is in `got` for the same weight with the same bits; same counts, iterations and
/// (float32) learning rate.
fn assert_same_state(got: &OptimizerState, want: &OptimizerState, what: &str) {
    assert_eq!(got.iterations, want.iterations, "{what}: iterations");
    assert_eq!(
        got.learning_rate.map(|r| r as f32),
        want.learning_rate.map(|r| r as f32),
        "{what}: learning rate"
    );
    assert_eq!(got.slots.len(), want.slots.len(), "{what}: slot count");
    for slot in &want.slots {
        let found = got
            .slots
            .iter()
            .find(|s| s.param_index == slot.param_index && s.slot == slot.slot)
            .unwrap_or_else(|| panic!("{what}: no {} of weight {}", slot.slot, slot.param_index));
        assert_eq!(
            bits(&found.value),
            bits(&slot.value),
            "{what}: {} of weight {}",
            slot.slot,
            slot.param_index
        );
    }
}

fn weight_bits(model: &Model) -> Vec<Vec<u32>> {
    model.get_weights().iter().map(bits).collect()
}

/// The restored model continues as the original: same weights after three more epochs, and the same state.
fn assert_continues(original: &Model, mut restored: Model, what: &str) {
    let mut original_copy = original_twin(original);
    assert_same_state(
        &restored.optimizer().unwrap().state(),
        &original_copy.optimizer().unwrap().state(),
        what,
    );
    assert_eq!(
        weight_bits(&restored),
        weight_bits(&original_copy),
        "{what}"
    );
    train(&mut original_copy, 1.0, 3);
    train(&mut restored, 1.0, 3);
    assert_eq!(
        weight_bits(&restored),
        weight_bits(&original_copy),
        "{what}: training after the restore"
    );
    assert_same_state(
        &restored.optimizer().unwrap().state(),
        &original_copy.optimizer().unwrap().state(),
        &format!("{what}, three epochs later"),
    );
}

/// A second copy of `original` (the same construction and training), so that both can train on.
fn original_twin(original: &Model) -> Model {
    let name = original.optimizer().unwrap().class_name().to_lowercase();
    let mut twin = model(&name);
    train(&mut twin, 0.0, 2);
    assert_eq!(weight_bits(&twin), weight_bits(original));
    twin
}

/// rkeras's state as scripts/keras_optimizer_state_golden.py reads it.
fn state_json(opt: &dyn Optimizer) -> serde_json::Value {
    let state = opt.state();
    let slots: Vec<_> = state
        .slots
        .iter()
        .map(|s| json!({"param": s.param_index, "slot": s.slot, "values": s.value.iter().collect::<Vec<_>>()}))
        .collect();
    json!({
        "iterations": state.iterations,
        "learning_rate": state.learning_rate.unwrap_or(opt.learning_rate()) as f32,
        "slots": slots,
        "u_product": keras_u_product(opt),
    })
}

#[test]
fn every_optimizer_state_crosses_every_format_slot_by_slot() {
    let dir = tempfile::tempdir().unwrap();
    for name in OPTIMIZERS {
        let mut trained = model(name);
        train(&mut trained, 0.0, 2);
        let state = trained.optimizer().unwrap().state();
        assert_eq!(state.iterations, 6, "{name}");
        let slots = trained.optimizer().unwrap().slot_names().len();
        assert!(slots >= 1, "{name} keeps state");
        assert_eq!(state.slots.len(), slots * 6, "{name}: every weight's slots");

        let h5 = dir.path().join(format!("{name}.h5"));
        let keras = dir.path().join(format!("{name}.keras"));
        let weights = dir.path().join(format!("{name}.weights.h5"));
        trained.save(&h5).unwrap();
        trained.save(&keras).unwrap();
        trained.save_weights(&weights).unwrap();
        std::fs::write(
            dir.path().join(format!("{name}.json")),
            state_json(trained.optimizer().unwrap()).to_string(),
        )
        .unwrap();

        assert_continues(&trained, load_model(&h5).unwrap(), &format!("{name}.h5"));
        assert_continues(
            &trained,
            load_model(&keras).unwrap(),
            &format!("{name}.keras"),
        );
        // `load_weights` restores the optimizer of a model that has trained (Keras's built optimizer).
        let mut twin = model(name);
        train(&mut twin, 7.0, 1);
        twin.load_weights(&weights).unwrap();
        assert_continues(&trained, twin, &format!("{name}.weights.h5"));
    }
    let mut args = vec![Path::new("check").to_path_buf(), dir.path().to_path_buf()];
    args.extend(OPTIMIZERS.iter().map(|n| Path::new(n).to_path_buf()));
    rkeras_testkit::run_keras_check(
        "Keras's load of the optimizer state of rkeras-written .keras and .h5 files",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/keras_optimizer_state_golden.py"
        ),
        args,
        "optimizer state ok",
    );
}
