//! BatchNormalization with a mask, against Keras 3 (batch moments over the unmasked positions only):
//! - the layer called in training with a `[batch, steps]` mask gives Keras's output, moving statistics and
//!   gradients (input, gamma, beta) within 1e-5;
//! - `Embedding(mask_zero=True) → BatchNormalization → GlobalAveragePooling1D → Dense` trained two SGD steps
//!   moves every weight (moving statistics included) as Keras's `train_on_batch` does;
//! - the mask passes on through the layer, and inference ignores it.
//!
//! Fixture written by `scripts/keras_bn_mask_golden.py`.

use ndarray::ArrayD;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{
    BatchNormalization, CallContext, Dense, Embedding, GlobalPooling, GlobalPoolingKind, Input,
    Layer, LayerCall,
};
use rkeras_optim::SGD;
use rkeras_tensor::Tensor;
use serde_json::Value;

mod golden_json;

fn golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bn_mask_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A `{"values": [...], "shape": [...]}` entry of the fixture.
fn array(v: &Value) -> ArrayD<f32> {
    golden_json::array(&v["values"], &v["shape"])
}

fn assert_close(actual: &ArrayD<f32>, expected: &ArrayD<f32>, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    for (i, (a, e)) in actual.iter().zip(expected.iter()).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
            "{what}: element {i}: {a} vs Keras {e}"
        );
    }
}

#[test]
fn masked_training_call_matches_keras_with_its_gradients() {
    let golden = golden();
    let case = &golden["layer"];
    let layer = BatchNormalization::from_config(&case["config"]).unwrap();
    let x = array(&case["input"]);
    layer.call(&Input::new(&x.shape()[1..])).unwrap();
    assert!(layer.supports_masking());
    for (w, value) in layer
        .weights()
        .iter()
        .zip(case["weights"].as_array().unwrap())
    {
        assert_eq!(w.name(), value["name"].as_str().unwrap());
        w.set_value(array(value)).unwrap();
    }
    let mask = Tensor::new(array(&case["mask"]));
    let x = Tensor::leaf(x);
    let mut rng = StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: true,
        rng: &mut rng,
    };
    let out = layer
        .forward_masked(std::slice::from_ref(&x), &[Some(mask.clone())], &mut ctx)
        .unwrap()
        .unwrap()
        .remove(0);
    assert_close(out.data(), &array(&case["training_output"]), "output");
    for (w, value) in layer
        .weights()
        .iter()
        .zip(case["weights_after_training_call"].as_array().unwrap())
    {
        assert_close(&w.value(), &array(value), w.name());
    }
    let r = Tensor::new(array(&case["r"]));
    let grads = out.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
    let dx = grads.gradient(&x).unwrap().clone().into_dense().unwrap();
    assert_close(&dx, &array(&case["grad_input"]), "d input");
    let weights = layer.weights();
    for (w, key) in weights.iter().zip(["grad_gamma", "grad_beta"]) {
        assert_close(grads.get_var(w).unwrap(), &array(&case[key]), key);
    }
    // The mask's positions matter: without it the statistics (and so the output) differ.
    let unmasked = layer.forward(std::slice::from_ref(&x), &mut ctx).unwrap();
    let gap = (unmasked.data() - out.data()).mapv(f32::abs);
    assert!(gap.iter().any(|&d| d > 1e-2));
    // Inference ignores the mask (the moving statistics normalize every position).
    ctx.training = false;
    assert!(
        layer
            .forward_masked(std::slice::from_ref(&x), &[Some(mask)], &mut ctx)
            .unwrap()
            .is_none()
    );
}

/// Embedding(12, 4, mask_zero) → BatchNormalization(momentum 0.8) → GlobalAveragePooling1D → Dense(3, softmax).
fn masked_model() -> Model {
    let ids = Input::new(&[6]);
    let x = Embedding::new(12, 4)
        .with_mask_zero(true)
        .call(&ids)
        .unwrap();
    let x = BatchNormalization::new()
        .with_momentum(0.8)
        .call(&x)
        .unwrap();
    let x = GlobalPooling::new(GlobalPoolingKind::Average, 1)
        .call(&x)
        .unwrap();
    let y = Dense::new(3)
        .with_activation("softmax")
        .unwrap()
        .call(&x)
        .unwrap();
    let mut model = Model::new(&[ids], &y).unwrap();
    model
        .compile(
            SGD::new(0.1).unwrap(),
            "sparse_categorical_crossentropy",
            &[],
        )
        .unwrap();
    model
}

#[test]
fn two_sgd_steps_through_an_embedding_mask_match_keras() {
    let golden = golden();
    let fit = &golden["fit"];
    let weights =
        |v: &Value| -> Vec<ArrayD<f32>> { v.as_array().unwrap().iter().map(array).collect() };
    let mut model = masked_model();
    model.set_weights(&weights(&fit["initial"])).unwrap();
    let (x, y) = (array(&fit["x"]), array(&fit["y"]));
    let history = model
        .fit(
            std::slice::from_ref(&x),
            &y,
            FitConfig::new()
                .batch_size(4)
                .shuffle(false)
                .epochs(1)
                .verbose(0),
        )
        .unwrap();
    let names = fit["weight_names"].as_array().unwrap();
    let expected = weights(&fit["steps"][1]["weights"]);
    for ((actual, expected), name) in model.get_weights().iter().zip(&expected).zip(names) {
        assert_close(actual, expected, name.as_str().unwrap());
    }
    let losses: Vec<f64> = (0..2)
        .map(|s| fit["steps"][s]["loss"].as_f64().unwrap())
        .collect();
    let mean_loss = history.history["loss"][0];
    assert!(
        (mean_loss - (losses[0] + losses[1]) / 2.0).abs() < 1e-5,
        "{mean_loss} vs {losses:?}"
    );
}
