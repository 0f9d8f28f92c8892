use super::*;
use crate::{Input, LayerCall};
use rand::SeedableRng;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};

fn ctx_run(layer: &MultiHeadAttention, inputs: &[Tensor], training: bool) -> Vec<Tensor> {
    let mut rng = StdRng::seed_from_u64(3);
    layer
        .forward_all(
            inputs,
            &mut CallContext {
                training,
                rng: &mut rng,
            },
        )
        .unwrap()
}

fn random(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    Tensor::new(
        Initializer::RandomUniform {
            min: -1.0,
            max: 1.0,
        }
        .sample(shape, &mut rng)
        .unwrap(),
    )
}

#[test]
fn weights_have_keras_names_and_shapes() {
    let mha = MultiHeadAttention::new(2, 4)
        .with_value_dim(3)
        .with_output_dim(5);
    mha.call_many(&[Input::new(&[6, 8]), Input::new(&[3, 7])])
        .unwrap();
    let got: Vec<(String, Vec<usize>)> = mha
        .weights()
        .iter()
        .map(|w| (w.name().to_string(), w.shape()))
        .collect();
    let expected = [
        ("query/kernel", vec![8, 2, 4]),
        ("query/bias", vec![2, 4]),
        ("key/kernel", vec![7, 2, 4]),
        ("key/bias", vec![2, 4]),
        ("value/kernel", vec![7, 2, 3]),
        ("value/bias", vec![2, 3]),
        ("attention_output/kernel", vec![2, 3, 5]),
        ("attention_output/bias", vec![5]),
    ];
    assert_eq!(got, expected.map(|(n, s)| (n.to_string(), s)));
    let no_bias = MultiHeadAttention::new(2, 4).with_bias(false);
    no_bias
        .call_many(&[Input::new(&[6, 8]), Input::new(&[6, 8])])
        .unwrap();
    assert_eq!(no_bias.weights().len(), 4);
}

/// With one head, identity-like projections and no bias, the layer is plain attention: checked by hand.
#[test]
fn one_head_equals_hand_computed_attention() {
    let mha = MultiHeadAttention::new(1, 1)
        .with_bias(false)
        .with_kernel_initializer(Initializer::Ones);
    mha.call_many(&[Input::new(&[1, 1]), Input::new(&[2, 1])])
        .unwrap();
    let q = Tensor::from_vec(&[1, 1, 1], vec![1.0]).unwrap();
    let v = Tensor::from_vec(&[1, 2, 1], vec![0.0, 3f32.ln()]).unwrap();
    // Scores 0 and ln 3 (key_dim 1: no scaling): probabilities 1/4, 3/4; output 3/4·ln 3.
    let y = ctx_run(&mha, &[q, v], false);
    assert!((y[0].to_vec()[0] - 0.75 * 3f32.ln()).abs() < 1e-6);
}

#[test]
fn causal_mask_and_scores_output() {
    let mha = MultiHeadAttention::new(2, 3)
        .with_causal_mask(true)
        .with_return_attention_scores(true);
    let outs = mha
        .call_outputs(&[Input::new(&[4, 6]), Input::new(&[4, 6])])
        .unwrap();
    assert_eq!(
        (outs[0].shape(), outs[1].shape()),
        (&[4, 6][..], &[2, 4, 4][..])
    );
    let x = random(&[2, 4, 6], 1);
    let y = ctx_run(&mha, &[x.clone(), x], false);
    let scores = y[1].to_vec();
    for (i, row) in scores.chunks(4).enumerate() {
        let query = i % 4;
        assert!(row[query + 1..].iter().all(|&p| p == 0.0));
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn explicit_mask_input_blocks_positions() {
    let mha = MultiHeadAttention::new(1, 2)
        .with_attention_mask_input(true)
        .with_return_attention_scores(true);
    mha.call_outputs(&[
        Input::new(&[2, 3]),
        Input::new(&[3, 3]),
        Input::new(&[2, 3]),
    ])
    .unwrap();
    let mask = Tensor::from_vec(&[1, 2, 3], vec![1.0, 0.0, 1.0, 0.0, 0.0, 1.0]).unwrap();
    let y = ctx_run(
        &mha,
        &[random(&[1, 2, 3], 1), random(&[1, 3, 3], 2), mask],
        false,
    );
    let p = y[1].to_vec();
    assert_eq!((p[1], p[3], p[4], p[5]), (0.0, 0.0, 0.0, 1.0));
}

#[test]
fn dropout_only_in_training_and_seeded() {
    let mha = MultiHeadAttention::new(2, 2).with_dropout(0.5);
    mha.call_many(&[Input::new(&[5, 4]), Input::new(&[5, 4])])
        .unwrap();
    let x = random(&[2, 5, 4], 1);
    let inputs = [x.clone(), x];
    let (a, b) = (ctx_run(&mha, &inputs, true), ctx_run(&mha, &inputs, true));
    let inference = ctx_run(&mha, &inputs, false);
    assert_eq!(a[0].to_vec(), b[0].to_vec());
    assert_ne!(a[0].to_vec(), inference[0].to_vec());
}

/// The gradients of `Σ target ⊙ mha(q, v)` with respect to `q` and `v` match finite differences.
fn assert_input_gradients(mha: &MultiHeadAttention, q: &Tensor, v: &Tensor) {
    let report = check_gradients(
        &[q.data().clone(), v.data().clone()],
        |t| {
            let mut rng = StdRng::seed_from_u64(0);
            let y = mha
                .forward(
                    t,
                    &mut CallContext {
                        training: false,
                        rng: &mut rng,
                    },
                )
                .unwrap();
            let target = random(y.shape(), 9);
            y.mul(&target)?.sum_all()
        },
        GradCheck::default(),
    )
    .unwrap();
    assert!(report.compared > 0);
    assert!(report.passed(), "{report:?}");
}

#[test]
fn gradients_match_finite_differences() {
    let mha = MultiHeadAttention::new(2, 2)
        .with_value_dim(3)
        .with_causal_mask(true);
    mha.call_many(&[Input::new(&[3, 4]), Input::new(&[5, 4])])
        .unwrap();
    let (q, v) = (random(&[2, 3, 4], 1), random(&[2, 5, 4], 2));
    assert_input_gradients(&mha, &q, &v);
}

#[test]
fn gradients_over_other_attention_axes_match_finite_differences() {
    // attention_axes=(2,) on [batch, 3, 4, 4] query and [batch, 3, 2, 4] value: the fold into the batch and back.
    let mha = MultiHeadAttention::new(2, 2).with_attention_axes(&[2]);
    mha.call_many(&[Input::new(&[3, 4, 4]), Input::new(&[3, 2, 4])])
        .unwrap();
    let (q, v) = (random(&[2, 3, 4, 4], 3), random(&[2, 3, 2, 4], 4));
    assert_input_gradients(&mha, &q, &v);
}

#[test]
fn config_round_trips_and_unsupported_options_are_errors() {
    let mha = MultiHeadAttention::new(4, 8)
        .with_value_dim(6)
        .with_dropout(0.1)
        .with_output_dim(10)
        .with_name("att");
    let config = mha.config();
    assert_eq!(
        MultiHeadAttention::from_config(&config).unwrap().config(),
        config
    );
    // A built Keras layer saves its resolved axes, `[1]` for `[batch, length, features]` inputs.
    assert!(
        MultiHeadAttention::from_config(
            &json!({"num_heads": 2, "key_dim": 2, "attention_axes": [1]})
        )
        .is_ok()
    );
    for axes in [json!([2]), json!([1, 2])] {
        let layer = MultiHeadAttention::from_config(
            &json!({"name": "mha_axes", "num_heads": 2, "key_dim": 2, "attention_axes": axes}),
        )
        .unwrap();
        assert_eq!(layer.config()["attention_axes"], axes);
    }
    let Err(err) = MultiHeadAttention::from_config(
        &json!({"name": "mha_axes", "num_heads": 2, "key_dim": 2, "attention_axes": [-1]}),
    ) else {
        panic!("a negative axis accepted");
    };
    assert!(err.to_string().contains("`mha_axes`"), "{err}");
    assert!(
        MultiHeadAttention::from_config(&json!({"num_heads": 2, "key_dim": 2, "use_gate": true}))
            .is_err()
    );
    // Keras's default on [batch, 3, 4, 4] inputs attends over axes 1 and 2 jointly; a causal mask needs the one
    // sequence axis.
    let output = MultiHeadAttention::new(2, 2)
        .call_many(&[Input::new(&[3, 4, 4]), Input::new(&[3, 4, 4])])
        .unwrap();
    assert_eq!(output.shape(), [3, 4, 4]);
    let err = MultiHeadAttention::new(2, 2)
        .with_name("mha_4d")
        .with_causal_mask(true)
        .call_many(&[Input::new(&[3, 4, 4]), Input::new(&[3, 4, 4])]);
    let message = err.unwrap_err().to_string();
    assert!(message.contains("mha_4d"), "{message}");
    assert!(message.contains("attention_axes [1, 2]"), "{message}");
}

/// Through the masks the inputs carry, with a query that may attend to nothing (the mean-of-values path).
#[test]
fn gradients_with_input_masks_match_finite_differences() {
    let mha = MultiHeadAttention::new(2, 2).with_causal_mask(true);
    mha.call_many(&[Input::new(&[3, 4]), Input::new(&[3, 4])])
        .unwrap();
    let mask = Tensor::from_vec(&[2, 3], vec![0.0, 1.0, 1.0, 1.0, 0.0, 1.0]).unwrap();
    let x = random(&[2, 3, 4], 1);
    let report = check_gradients(
        &[x.data().clone()],
        |t| {
            let mut rng = StdRng::seed_from_u64(0);
            let masks = [Some(mask.clone()), Some(mask.clone())];
            let y = mha
                .forward_masked(
                    &[t[0].clone(), t[0].clone()],
                    &masks,
                    &mut CallContext {
                        training: false,
                        rng: &mut rng,
                    },
                )
                .unwrap()
                .unwrap();
            let target = random(y[0].shape(), 9);
            y[0].mul(&target)?.sum_all()
        },
        GradCheck::default(),
    )
    .unwrap();
    assert!(report.compared > 0);
    assert!(report.passed(), "{report:?}");
    assert_eq!(
        mha.compute_mask(&[x.clone(), x], &[Some(mask.clone()), None])
            .unwrap()
            .unwrap()
            .to_vec(),
        mask.to_vec()
    );
}

/// A saved call's `kwargs` become the layer's settings, and the layer writes them back in Keras's form.
#[test]
fn saved_call_arguments_cross_both_ways() {
    let tensor =
        json!({"class_name": "__keras_tensor__", "config": {"keras_history": ["m", 0, 0]}});
    let kwargs = json!({"key": tensor, "attention_mask": tensor, "use_causal_mask": true,
        "return_attention_scores": false});
    let layer = MultiHeadAttention::new(2, 2)
        .with_call_kwargs(kwargs.as_object().unwrap())
        .unwrap()
        .unwrap();
    let call = layer.keras_call().unwrap();
    assert_eq!(call.positional, 2);
    assert_eq!(call.keywords, ["key", "attention_mask"]);
    assert_eq!(
        Value::Object(call.arguments),
        json!({"use_causal_mask": true})
    );
    let shapes = layer
        .output_shapes(&[vec![3, 4], vec![5, 4], vec![5, 6], vec![3, 5]])
        .unwrap();
    assert_eq!(shapes, [vec![3, 4]]);

    let plain = MultiHeadAttention::new(2, 2)
        .with_call_kwargs(&serde_json::Map::new())
        .unwrap()
        .unwrap();
    assert_eq!(plain.keras_call().unwrap().keywords, Vec::<&str>::new());
    for bad in [json!({"query_mask": tensor}), json!({"use_causal_mask": 1})] {
        assert!(
            MultiHeadAttention::new(2, 2)
                .with_call_kwargs(bad.as_object().unwrap())
                .is_err()
        );
    }
}
