//! What the engine's tests share: the tiny models they train, Keras's layer-name lists, and the Keras fixture
//! (`../shared/fixtures/keras_memnn_qa1`). Each test crate uses part of it.
#![allow(dead_code)]

use ndarray::{ArrayD, IxDyn};
use rkeras_datasets::Vectorized;
use rkeras_engine::Model;
use rkeras_layers::{Dense, Input, LayerCall};
use rkeras_optim::SGD;
use rkeras_tensor::Initializer;
use std::path::PathBuf;

/// The fixture's directory when every `needed` entry exists in it; else `None` with a loud notice, or a failure
/// with CI=true (the shared material lives next to the repository and may be absent elsewhere).
pub fn fixture(needed: &[&str]) -> Option<PathBuf> {
    const CHECK: &str = "the checks against Keras's memory-network fixture";
    let dir = rkeras_testkit::shared_path("fixtures/keras_memnn_qa1", CHECK)?;
    for entry in needed {
        rkeras_testkit::shared_path(&format!("fixtures/keras_memnn_qa1/{entry}"), CHECK)?;
    }
    Some(dir)
}

/// The memory network's inputs `[stories, queries]` of a vectorised split.
pub fn inputs(split: &Vectorized) -> Vec<ArrayD<f32>> {
    vec![
        split.stories.clone().into_dyn(),
        split.queries.clone().into_dyn(),
    ]
}

/// A softmax classifier of 2 features into 3 classes (one Dense layer), compiled with `optimizer`, sparse
/// categorical crossentropy and accuracy.
pub fn softmax_classifier(optimizer: impl rkeras_engine::IntoOptimizer) -> Model {
    let x = Input::new(&[2]);
    let y = Dense::new(3)
        .with_activation("softmax")
        .unwrap()
        .call(&x)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model
        .compile(optimizer, "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
}

/// y = w·x (one weight, no bias), initialised to `w0`, compiled with SGD(0.1) and mse.
pub fn linear_model(w0: f32) -> Model {
    let x = Input::new(&[1]);
    let y = Dense::new(1)
        .with_bias(false)
        .with_kernel_initializer(Initializer::Constant(w0))
        .call(&x)
        .unwrap();
    let mut model = Model::new(&[x], &y).unwrap();
    model.compile(SGD::new(0.1).unwrap(), "mse", &[]).unwrap();
    model
}

/// A column `[n, 1]` of `values`.
pub fn column(values: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(&[values.len(), 1]), values.to_vec()).unwrap()
}

/// The single weight of a [`linear_model`].
pub fn kernel(model: &Model) -> f64 {
    f64::from(model.get_weights()[0].iter().next().copied().unwrap())
}

/// Every weight's bits, to compare runs exactly.
pub fn weight_bits(weights: &[ArrayD<f32>]) -> Vec<Vec<u32>> {
    weights
        .iter()
        .map(|w| w.iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// Every logged value's bits, key by key, to compare runs exactly.
pub fn history_bits(history: &rkeras_engine::History) -> Vec<(String, Vec<u64>)> {
    history
        .history
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

/// Runs `f` on a rayon pool of `threads` threads.
pub fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Keras's `[layer.name for layer in model.layers]`.
pub fn layer_names(model: &Model) -> Vec<String> {
    model
        .network()
        .layers()
        .iter()
        .map(|l| l.name().to_string())
        .collect()
}

/// The names of the layers that hold weights.
pub fn weighted_layer_names(model: &Model) -> Vec<String> {
    model
        .network()
        .layers()
        .iter()
        .filter(|l| !l.weights().is_empty())
        .map(|l| l.name().to_string())
        .collect()
}
