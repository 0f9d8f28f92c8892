//! The masks inputs carry (`Embedding(mask_zero=True)`) flowing into attention as in Keras 3 (fixture written by
//! `scripts/keras_attention_mask_golden.py`):
//! - MultiHeadAttention self-attention, without and with the causal mask, and cross-attention with query,
//!   value and key masks merged with an explicit `attention_mask`: outputs and attention scores within 1e-5,
//!   and the output carries the query's mask;
//! - Attention and AdditiveAttention (causal) on a masked query and value: the value's mask hides scores, the
//!   query's zeroes output rows and is the output's mask;
//! - causal self-attention without the scores, Keras's `ops.dot_product_attention` path, where a query that may
//!   attend to nothing takes the mean of the values;
//! - a seeded SGD fit of Embedding(mask_zero) → MultiHeadAttention → GlobalAveragePooling1D (the masked mean)
//!   → Dense softmax, whose losses and final weights match Keras's; the same bits with 1 and 2 threads.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_engine::Model;
use rkeras_layers::{
    AdditiveAttention, Attention, CallContext, Dense, Embedding, GlobalPooling, GlobalPoolingKind,
    Input, Layer, LayerCall, MultiHeadAttention, Network, SymbolicTensor,
};
use rkeras_optim::SGD;
use rkeras_tensor::Tensor;
use serde_json::Value;

const VOCAB: usize = 12;

fn golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/attention_mask_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
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

fn set_weights(layers: &[&dyn Layer], weights: &Value) {
    for (layer, values) in layers.iter().zip(weights.as_array().unwrap()) {
        let values = values.as_array().unwrap();
        assert_eq!(layer.weights().len(), values.len(), "{}", layer.name());
        for (w, v) in layer.weights().iter().zip(values) {
            w.set_value(array(v)).unwrap();
        }
    }
}

fn embedding(dim: usize) -> Embedding {
    Embedding::new(VOCAB, dim).with_mask_zero(true)
}

/// Runs the network on the case's inputs and compares every output and the first output's mask with Keras's.
fn check(case: &Value, inputs: &[SymbolicTensor], outputs: &[SymbolicTensor], what: &str) {
    let network = Network::new(inputs, outputs).unwrap();
    let xs: Vec<Tensor> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| Tensor::new(array(x)))
        .collect();
    let mut rng = StdRng::seed_from_u64(0);
    let ctx = &mut CallContext {
        training: false,
        rng: &mut rng,
    };
    let got = network.forward_outputs(&xs, ctx, false).unwrap();
    for (i, (out, expected)) in got
        .iter()
        .zip(case["outputs"].as_array().unwrap())
        .enumerate()
    {
        assert_close(
            out.output.data(),
            &array(expected),
            &format!("{what} output {i}"),
        );
    }
    let mask = got[0].mask.as_ref().expect("the output carries a mask");
    assert_eq!(mask.data(), &array(&case["mask"]), "{what}: output mask");
}

fn self_attention(name: &str, causal: bool, scores: bool) {
    let case = &golden()[name];
    let ids = Input::new(&[6]);
    let emb = embedding(8);
    let mha = MultiHeadAttention::new(2, 4)
        .with_causal_mask(causal)
        .with_return_attention_scores(scores);
    let e = emb.call(&ids).unwrap();
    let outputs = mha.call_outputs(&[e.clone(), e]).unwrap();
    set_weights(&[&emb, &mha], &case["weights"]);
    check(case, &[ids], &outputs, name);
}

#[test]
fn masked_self_attention_matches_keras() {
    self_attention("mha_self", false, true);
}

#[test]
fn masked_causal_self_attention_matches_keras() {
    self_attention("mha_causal", true, true);
}

/// Without dropout and scores Keras takes `ops.dot_product_attention`: the padded query attends evenly to all.
#[test]
fn masked_causal_self_attention_without_scores_matches_keras() {
    self_attention("mha_causal_no_scores", true, false);
}

#[test]
fn masked_cross_attention_with_key_and_explicit_mask_matches_keras() {
    let case = &golden()["mha_cross"];
    let (iq, iv, ik, im) = (
        Input::new(&[5]),
        Input::new(&[4]),
        Input::new(&[4]),
        Input::new(&[5, 4]),
    );
    let (eq, ev, ek) = (embedding(6), embedding(6), embedding(6));
    let mha = MultiHeadAttention::new(2, 3)
        .with_value_dim(2)
        .with_output_dim(5)
        .with_key_input(true)
        .with_attention_mask_input(true)
        .with_return_attention_scores(true);
    let inputs = [
        eq.call(&iq).unwrap(),
        ev.call(&iv).unwrap(),
        ek.call(&ik).unwrap(),
        im.clone(),
    ];
    let outputs = mha.call_outputs(&inputs).unwrap();
    set_weights(&[&eq, &ev, &ek, &mha], &case["weights"]);
    check(case, &[iq, iv, ik, im], &outputs, "mha_cross");
}

/// Builds an attention layer on the query and value: its outputs and weights.
type BuildAttention =
    dyn Fn(&[SymbolicTensor]) -> (Vec<SymbolicTensor>, Vec<rkeras_tensor::Variable>);

fn dot_attention(name: &str, layer: &BuildAttention) {
    let case = &golden()[name];
    let (iq, iv) = (Input::new(&[4]), Input::new(&[5]));
    let (eq, ev) = (embedding(6), embedding(6));
    let (outputs, weights) = layer(&[eq.call(&iq).unwrap(), ev.call(&iv).unwrap()]);
    set_weights(&[&eq, &ev], &case["weights"]);
    let keras_weights = case["weights"][2].as_array().unwrap();
    assert_eq!(weights.len(), keras_weights.len());
    for (w, v) in weights.iter().zip(keras_weights) {
        w.set_value(array(v)).unwrap();
    }
    check(case, &[iq, iv], &outputs, name);
}

#[test]
fn attention_with_masked_query_and_value_matches_keras() {
    dot_attention("attention", &|inputs| {
        let layer = Attention::new()
            .with_scale(true)
            .with_return_attention_scores(true);
        (layer.call_outputs(inputs).unwrap(), layer.weights())
    });
}

#[test]
fn causal_additive_attention_with_masked_query_and_value_matches_keras() {
    dot_attention("additive", &|inputs| {
        let layer = AdditiveAttention::new()
            .with_causal_mask(true)
            .with_return_attention_scores(true);
        (layer.call_outputs(inputs).unwrap(), layer.weights())
    });
}

/// Keras's fit case: the model with Keras's initial weights, trained by `train_on_batch` on batches of 4.
fn seeded_fit(case: &Value) -> (Vec<f32>, Vec<ArrayD<f32>>) {
    let ids = Input::new(&[6]);
    let (emb, mha) = (embedding(8), MultiHeadAttention::new(2, 4));
    let dense = Dense::new(4).with_activation("softmax").unwrap();
    let e = emb.call(&ids).unwrap();
    let attended = mha.call_many(&[e.clone(), e]).unwrap();
    let pooled = GlobalPooling::new(GlobalPoolingKind::Average, 1)
        .call(&attended)
        .unwrap();
    let y = dense.call(&pooled).unwrap();
    let mut model = Model::new(&[ids], &y).unwrap();
    model
        .compile(
            SGD::new(0.5).unwrap(),
            "sparse_categorical_crossentropy",
            &[],
        )
        .unwrap();
    set_weights(&[&emb, &mha, &dense], &case["weights"]);
    let (x, y) = (array(&case["x"]), array(&case["y"]));
    let mut losses = Vec::new();
    for _ in 0..2 {
        for start in [0, 4] {
            let rows = ndarray::s![start..start + 4, ..];
            let (xb, yb) = (x.slice(rows).to_owned(), y.slice(rows).to_owned());
            let logs = model
                .train_on_batch(&[xb.into_dyn()], &yb.into_dyn(), None)
                .unwrap();
            losses.push(logs["loss"] as f32);
        }
    }
    (losses, model.get_weights())
}

#[test]
fn masked_transformer_fit_matches_keras_losses() {
    let case = &golden()["fit"];
    let (losses, weights) = seeded_fit(case);
    let expected: Vec<f32> = case["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    for (i, (a, e)) in losses.iter().zip(&expected).enumerate() {
        assert!((a - e).abs() <= 1e-5, "loss {i}: {a} vs Keras {e}");
    }
    for (i, (w, e)) in weights
        .iter()
        .zip(case["final_weights"].as_array().unwrap())
        .enumerate()
    {
        assert_close(w, &array(e), &format!("final weight {i}"));
    }
}

#[test]
fn masked_fit_gives_the_same_bits_with_one_and_two_threads() {
    let case = &golden()["fit"];
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| seeded_fit(case))
    };
    let ((l1, w1), (l2, w2)) = (run(1), run(2));
    assert_eq!(
        l1.iter().map(|l| l.to_bits()).collect::<Vec<_>>(),
        l2.iter().map(|l| l.to_bits()).collect::<Vec<_>>()
    );
    assert!(
        w1.iter()
            .zip(&w2)
            .all(|(a, b)| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()))
    );
}
