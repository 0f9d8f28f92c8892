//! MultiHeadAttention against Keras 3 (fixtures written by `scripts/keras_mha_golden.py`):
//! - the layer alone with Keras's weights gives Keras's outputs and attention scores within 1e-5: self-attention
//!   with a causal mask; cross-attention with different lengths, an explicit mask (one query masked entirely)
//!   and `output_shape`;
//! - a Transformer encoder block saved by Keras (`.h5`) loads into the same model built in rkeras and predicts
//!   Keras's outputs; the weights rkeras saves load back in Keras (`scripts/keras_mha_h5_check.py`);
//! - a seeded fit of the block gives the same bits with 1 and 2 threads.
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rkeras_engine::{FitConfig, Model};
use rkeras_layers::{
    CallContext, Dense, Dropout, GlobalPooling, GlobalPoolingKind, Input, Layer, LayerCall,
    LayerNormalization, MultiHeadAttention, add,
};
use rkeras_optim::SGD;
use rkeras_tensor::Tensor;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn golden() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("mha_golden.json")).unwrap()).unwrap()
}

fn array(v: &Value) -> ArrayD<f32> {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap() as usize)
        .collect();
    let values: Vec<f32> = v["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

fn assert_close(actual: &ArrayD<f32>, expected: &ArrayD<f32>, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    for (i, (a, e)) in actual.iter().zip(expected.iter()).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5,
            "{what}: element {i}: {a} vs Keras {e}"
        );
    }
}

fn run(layer: &MultiHeadAttention, inputs: Vec<ArrayD<f32>>) -> Vec<Tensor> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let inputs: Vec<Tensor> = inputs.into_iter().map(Tensor::new).collect();
    layer
        .forward_all(
            &inputs,
            &mut CallContext {
                training: false,
                rng: &mut rng,
            },
        )
        .unwrap()
}

fn set_weights(layer: &MultiHeadAttention, case: &Value) {
    let values = case["weights"].as_array().unwrap();
    assert_eq!(layer.weights().len(), values.len());
    for (w, v) in layer.weights().iter().zip(values) {
        w.set_value(array(v)).unwrap();
    }
}

/// The golden "causal" case's layer, built on `[6, 8]` queries and values, returning its scores.
fn causal_layer() -> MultiHeadAttention {
    let layer = MultiHeadAttention::new(2, 4)
        .with_value_dim(3)
        .with_causal_mask(true)
        .with_return_attention_scores(true);
    layer
        .call_outputs(&[Input::new(&[6, 8]), Input::new(&[6, 8])])
        .unwrap();
    layer
}

#[test]
fn causal_self_attention_matches_keras() {
    let case = &golden()["causal"];
    let layer = causal_layer();
    let names: Vec<String> = layer
        .weights()
        .iter()
        .map(|w| format!("{}/{}", layer.name(), w.name()))
        .collect();
    let keras: Vec<&str> = case["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names, keras);
    set_weights(&layer, case);
    let x = array(&case["x"]);
    let out = run(&layer, vec![x.clone(), x]);
    assert_close(out[0].data(), &array(&case["output"]), "causal output");
    assert_close(out[1].data(), &array(&case["scores"]), "causal scores");
}

#[test]
fn masked_cross_attention_matches_keras() {
    let case = &golden()["cross"];
    let layer = MultiHeadAttention::new(3, 4)
        .with_output_dim(7)
        .with_attention_mask_input(true)
        .with_return_attention_scores(true);
    layer
        .call_outputs(&[
            Input::new(&[5, 8]),
            Input::new(&[3, 6]),
            Input::new(&[5, 3]),
        ])
        .unwrap();
    set_weights(&layer, case);
    let out = run(
        &layer,
        vec![array(&case["q"]), array(&case["v"]), array(&case["mask"])],
    );
    assert_close(out[0].data(), &array(&case["output"]), "cross output");
    assert_close(out[1].data(), &array(&case["scores"]), "cross scores");
}

/// The encoder block of the fixture: MultiHeadAttention(2, 8, dropout 0.1), Dropout, Add, LayerNormalization,
/// Dense(32, relu), Dense(16), Dropout, Add, LayerNormalization, GlobalAveragePooling1D, Dense(4, softmax).
fn block() -> Model {
    let x = Input::new(&[10, 16]);
    let att = MultiHeadAttention::new(2, 8)
        .with_dropout(0.1)
        .call_many(&[x.clone(), x.clone()])
        .unwrap();
    let att = Dropout::new(0.1).call(&att).unwrap();
    let h = LayerNormalization::new()
        .with_epsilon(1e-6)
        .call(&add(&[x.clone(), att]).unwrap())
        .unwrap();
    let ff = Dense::new(32)
        .with_activation("relu")
        .unwrap()
        .call(&h)
        .unwrap();
    let ff = Dropout::new(0.1)
        .call(&Dense::new(16).call(&ff).unwrap())
        .unwrap();
    let h = LayerNormalization::new()
        .with_epsilon(1e-6)
        .call(&add(&[h, ff]).unwrap())
        .unwrap();
    let h = GlobalPooling::new(GlobalPoolingKind::Average, 1)
        .call(&h)
        .unwrap();
    let y = Dense::new(4)
        .with_activation("softmax")
        .unwrap()
        .call(&h)
        .unwrap();
    Model::new(&[x], &y).unwrap()
}

#[test]
fn keras_transformer_block_loads_predicts_and_saves_back() {
    let case = &golden()["block"];
    let mut model = block();
    model.load_weights(fixture("mha_block.h5")).unwrap();
    let x = array(&case["x"]);
    let predicted = model.predict(&[x.clone()], 4).unwrap();
    assert_close(&predicted, &array(&case["predict"]), "block predict");
    let dir = std::env::temp_dir().join(format!("rkeras_mha_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("mha_block_weights.h5");
    model.save_weights(&saved).unwrap();
    let mut reloaded = block();
    reloaded.load_weights(&saved).unwrap();
    assert_eq!(reloaded.predict(&[x], 4).unwrap(), predicted);
    rkeras_testkit::run_keras_check(
        "MultiHeadAttention weights saved by rkeras load in Keras",
        rkeras_testkit::workspace_root().join("scripts/keras_mha_h5_check.py"),
        [saved.display().to_string()],
        "keras load ok",
    );
}

fn seeded_fit() -> Vec<ArrayD<f32>> {
    rkeras_layers::set_random_seed(5);
    let mut model = block();
    model
        .compile(
            SGD::new(0.05).unwrap(),
            "sparse_categorical_crossentropy",
            &[],
        )
        .unwrap();
    let x = ArrayD::from_shape_fn(IxDyn(&[32, 10, 16]), |i| {
        ((i[0] * 7 + i[1] * 3 + i[2]) % 11) as f32 * 0.2 - 1.0
    });
    let y = ArrayD::from_shape_fn(IxDyn(&[32, 1]), |i| (i[0] % 4) as f32);
    model
        .fit(
            &[x],
            &y,
            FitConfig::new().batch_size(8).epochs(2).seed(3).verbose(0),
        )
        .unwrap();
    model.get_weights()
}

#[test]
fn one_and_two_threads_give_the_same_bits() {
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(seeded_fit)
    };
    let (one, two) = (run(1), run(2));
    assert!(
        one.iter()
            .zip(&two)
            .all(|(a, b)| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()))
    );
    assert_ne!(one[0], {
        rkeras_layers::set_random_seed(5);
        block().get_weights()[0].clone()
    });
}

/// The returned attention scores are differentiable: with Σ output·R + Σ scores·R' as the loss, finite
/// differences confirm the gradients of the query and value inputs (cross-attention) and of every weight.
#[test]
fn returned_scores_carry_gradients() {
    use ndarray::Dimension;
    use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
    let case = &golden()["causal"];
    let layer = causal_layer();
    set_weights(&layer, case);
    let x = array(&case["x"]);
    let v = x.mapv(|a| (a * 3.1).sin());
    let loss = |inputs: &[Tensor]| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training: false,
            rng: &mut rng,
        };
        let outputs = layer
            .forward_all(inputs, ctx)
            .map_err(|e| rkeras_tensor::TensorError::invalid_argument("layer", e.to_string()))?;
        let weigh = |t: &Tensor, f: f32| {
            let r = ArrayD::from_shape_fn(IxDyn(t.shape()), |ix| {
                (ix.as_array_view().iter().sum::<usize>() as f32 * f).cos()
            });
            t.mul(&Tensor::new(r))?.sum_all()
        };
        weigh(&outputs[0], 0.7)?.add(&weigh(&outputs[1], 1.3)?.mul_scalar(5.0)?)
    };
    let report = check_gradients(&[x.clone(), v.clone()], loss, GradCheck::default()).unwrap();
    assert!(report.passed(), "inputs: {report:?}");
    // Weights: the scores alone, so that only the query and key projections get a gradient.
    let scores_loss = || {
        let (x, v) = (Tensor::new(x.clone()), Tensor::new(v.clone()));
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training: false,
            rng: &mut rng,
        };
        let scores = layer.forward_all(&[x, v], ctx).unwrap().swap_remove(1);
        let r = ArrayD::from_shape_fn(IxDyn(scores.shape()), |ix| {
            ((ix[1] + 2 * ix[2] + 3 * ix[3]) as f32 * 1.7).cos()
        });
        scores.mul(&Tensor::new(r)).unwrap().sum_all().unwrap()
    };
    let grads = scores_loss().backward().unwrap();
    let mut nonzero = 0;
    for w in layer.weights() {
        let original = w.value().as_ref().clone();
        let analytic = grads
            .get_var(&w)
            .cloned()
            .unwrap_or_else(|| ArrayD::zeros(original.raw_dim()));
        for j in 0..original.len() {
            let eval = |delta: f32| {
                let mut moved = original.clone();
                moved.as_slice_mut().unwrap()[j] += delta;
                w.set_value(moved).unwrap();
                f64::from(scores_loss().to_scalar().unwrap())
            };
            let numeric = (eval(5e-3) - eval(-5e-3)) / 1e-2;
            let a = f64::from(analytic.as_slice().unwrap()[j]);
            assert!(
                (a - numeric).abs() <= 2e-3 + 1e-2 * a.abs().max(numeric.abs()),
                "d/d {}[{j}]: {a} vs {numeric}",
                w.name()
            );
            nonzero += usize::from(a.abs() > 1e-4);
        }
        w.set_value(original).unwrap();
    }
    assert!(nonzero > 20, "only {nonzero} weight gradients are not zero");
}

/// A batch of one query row (every projection then a one-row product) gives, bit for bit, the output that row
/// gets as the first item of a larger batch, with nonzero biases in all four projections.
#[test]
fn a_one_row_batch_matches_its_row_in_a_larger_batch() {
    let layer = MultiHeadAttention::new(2, 8);
    layer
        .call_outputs(&[Input::new(&[1, 6]), Input::new(&[4, 6])])
        .unwrap();
    for (i, w) in layer.weights().iter().enumerate() {
        let shape = w.shape();
        let len: usize = shape.iter().product();
        let values = (0..len)
            .map(|j| ((j * 7919 + i * 104_729) % 2003) as f32 / 1001.5 - 1.0)
            .collect();
        w.set_value(ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap())
            .unwrap();
    }
    let scramble = |n: usize, seed: usize| -> Vec<f32> {
        (0..n)
            .map(|j| ((j * 331 + seed * 7) % 97) as f32 / 48.5 - 1.0)
            .collect()
    };
    let (q, v) = (scramble(3 * 6, 1), scramble(3 * 4 * 6, 2));
    let batch = |items: usize| {
        let q = ArrayD::from_shape_vec(IxDyn(&[items, 1, 6]), q[..items * 6].to_vec()).unwrap();
        let v = ArrayD::from_shape_vec(IxDyn(&[items, 4, 6]), v[..items * 24].to_vec()).unwrap();
        run(&layer, vec![q, v])[0]
            .data()
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<u32>>()
    };
    let (one, three) = (batch(1), batch(3));
    assert_eq!(three.len(), 3 * one.len());
    assert_eq!(one, three[..one.len()]);
}
