//! `exclude_from_weight_decay` through `fit`: the training step names each trainable weight `{layer}/{weight}`
//! (Keras's TensorFlow variable paths), so a pattern keeps the weights it matches from decay.
//!
//! The data make every gradient exactly zero (inputs 0, targets equal to the bias 1), so Adam's part of AdamW's
//! update is exactly 0 and only the decay moves a weight: `w -= w · weight_decay · learning_rate` per step.

use ndarray::{ArrayD, IxDyn};
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{Dense, Input, LayerCall};
use rkeras_optim::{AdamW, Optimizer};
use rkeras_tensor::Initializer;

const LEARNING_RATE: f64 = 0.1;
/// AdamW's default `weight_decay` (Keras 3's).
const WEIGHT_DECAY: f64 = 0.004;

/// Trains Dense(1) (kernel and bias all ones) for one step with AdamW excluding `patterns`; returns the final
/// kernel and bias.
fn one_step(patterns: &[&str]) -> (Vec<f32>, f32) {
    let input = Input::new(&[3]);
    let dense = Dense::new(1)
        .with_name("dense")
        .with_kernel_initializer(Initializer::Ones)
        .with_bias_initializer(Initializer::Ones)
        .call(&input)
        .unwrap();
    let mut model = Model::new(&[input], &dense).unwrap();
    let mut optimizer = AdamW::new(LEARNING_RATE).unwrap();
    if !patterns.is_empty() {
        optimizer.exclude_from_weight_decay(patterns).unwrap();
    }
    model.compile(optimizer, "mse", &[]).unwrap();
    let x = ArrayD::<f32>::zeros(IxDyn(&[4, 3]));
    let y = ArrayD::<f32>::ones(IxDyn(&[4, 1]));
    model
        .fit(
            &[x],
            &y,
            FitConfig::new()
                .batch_size(4)
                .epochs(1)
                .shuffle(false)
                .verbose(0),
        )
        .unwrap();
    let weights = model.get_weights();
    (weights[0].iter().copied().collect(), weights[1][[0]])
}

#[test]
fn an_excluded_bias_keeps_its_value_while_the_kernel_decays() {
    let decayed = (1.0 - WEIGHT_DECAY * LEARNING_RATE) as f32;
    let (kernel, bias) = one_step(&["bias"]);
    for k in &kernel {
        assert!((k - decayed).abs() < 1e-6, "kernel {k}, expected {decayed}");
    }
    assert_eq!(bias, 1.0, "the excluded bias must not decay");

    // Without the exclusion the bias decays like the kernel: the test above can fail.
    let (_, bias) = one_step(&[]);
    assert!(
        (bias - decayed).abs() < 1e-6,
        "bias {bias}, expected {decayed}"
    );
}

#[test]
fn a_layer_name_pattern_excludes_every_weight_of_the_layer() {
    let (kernel, bias) = one_step(&["dense/"]);
    assert!(kernel.iter().all(|&k| k == 1.0), "kernel {kernel:?}");
    assert_eq!(bias, 1.0);
}

/// Keras's `exclude_from_weight_decay(var_list=[...], var_names=[...])` against Keras
/// (scripts/keras_weight_decay_var_list_golden.py): Dense(2, tanh) → Dense(1), AdamW(0.1, weight_decay=0.1), one
/// epoch of two batches; the trained weights match Keras's within 1e-5 for no exclusion, a kernel excluded by
/// variable, and a kernel by variable with every bias by name.
#[test]
fn var_list_excludes_variables_as_keras() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/keras_weight_decay_var_list.json"
    );
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    let x = ArrayD::from_shape_vec(IxDyn(&[8, 3]), floats(&golden["x"])).unwrap();
    let y = ArrayD::from_shape_vec(IxDyn(&[8, 1]), floats(&golden["y"])).unwrap();
    let shapes: [&[usize]; 4] = [&[3, 2], &[2], &[2, 1], &[1]];
    let initial: Vec<ArrayD<f32>> = golden["initial"]
        .as_array()
        .unwrap()
        .iter()
        .zip(shapes)
        .map(|(w, s)| ArrayD::from_shape_vec(IxDyn(s), floats(w)).unwrap())
        .collect();
    let mut moved = Vec::new();
    for (case, want) in golden["cases"].as_object().unwrap() {
        let input = Input::new(&[3]);
        let h = Dense::new(2)
            .with_name("d1")
            .with_activation("tanh")
            .unwrap()
            .call(&input)
            .unwrap();
        let out = Dense::new(1).with_name("d2").call(&h).unwrap();
        let mut model = Model::new(&[input], &out).unwrap();
        model.set_weights(&initial).unwrap();
        let vars = model.weights(); // d1 kernel, d1 bias, d2 kernel, d2 bias
        let mut optimizer = rkeras_optim::AdamWConfig::default()
            .with_learning_rate(0.1)
            .with_weight_decay(0.1)
            .build()
            .unwrap();
        match case.as_str() {
            "var_list" => optimizer
                .exclude_from_weight_decay_with(&vars[..1], &[])
                .unwrap(),
            "var_list_and_names" => optimizer
                .exclude_from_weight_decay_with(&vars[2..3], &["bias"])
                .unwrap(),
            _ => {}
        }
        model.compile(optimizer, "mse", &[]).unwrap();
        let config = FitConfig::new()
            .batch_size(4)
            .epochs(1)
            .shuffle(false)
            .verbose(0);
        model.fit(std::slice::from_ref(&x), &y, config).unwrap();
        let got = model.get_weights();
        for (i, (g, w)) in got.iter().zip(want.as_array().unwrap()).enumerate() {
            for (a, b) in g.iter().zip(floats(w)) {
                assert!(
                    (a - b).abs() <= 1e-5,
                    "{case} weight {i}: rkeras {a}, Keras {b}"
                );
            }
        }
        moved.push(got);
    }
    // Each exclusion changes the result (the cases can tell them apart).
    assert_ne!(moved[0][0], moved[1][0]);
    assert_ne!(moved[0][1], moved[2][1]);
}
