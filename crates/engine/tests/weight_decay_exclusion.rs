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
