//! Finite-difference gradient checks for every differentiable op, plus hand-derived values.
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::{Initializer, Result, Tensor, Variable};

/// Random values in ±`scale`, kept at least `gap` away from zero (away from the kinks of relu, abs, …).
fn input(shape: &[usize], seed: u64, scale: f32, gap: f32) -> ArrayD<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    Initializer::RandomUniform {
        min: -scale,
        max: scale,
    }
    .sample(shape, &mut rng)
    .unwrap()
    .mapv(|v| {
        if v.abs() < gap {
            v.signum() * gap + v
        } else {
            v
        }
    })
}

fn positive(shape: &[usize], seed: u64) -> ArrayD<f32> {
    input(shape, seed, 1.0, 0.0).mapv(|v| v.abs() + 0.5)
}

fn check(inputs: &[ArrayD<f32>], f: impl Fn(&[Tensor]) -> Result<Tensor>) {
    let report = check_gradients(inputs, f, GradCheck::default()).unwrap();
    assert!(report.passed(), "{report:?}");
    assert!(report.compared > 0);
}

#[test]
fn binary_ops_with_broadcasting() {
    let a = input(&[3, 4], 1, 1.0, 0.0);
    let b = input(&[4], 2, 1.0, 0.0);
    let c = input(&[3, 1], 3, 1.0, 0.0);
    check(&[a.clone(), b.clone()], |x| x[0].add(&x[1]));
    check(&[a.clone(), c.clone()], |x| x[0].sub(&x[1]));
    check(&[b.clone(), a.clone()], |x| x[0].mul(&x[1]));
    check(&[c.clone(), b.clone()], |x| x[0].mul(&x[1]));
    check(&[a.clone(), positive(&[3, 1], 4)], |x| x[0].div(&x[1]));
    check(&[positive(&[4], 5), input(&[3, 4], 8, 1.0, 0.5)], |x| {
        x[0].div(&x[1])
    });
    // The second operand differs from the first by at least 0.1 everywhere (no ties within eps).
    let apart = &a + &input(&[3, 4], 6, 1.0, 0.1);
    check(&[a.clone(), apart.clone()], |x| x[0].maximum(&x[1]));
    check(&[a, apart], |x| x[0].minimum(&x[1]));
}

#[test]
fn unary_ops() {
    let x = input(&[2, 5], 11, 2.0, 0.05);
    let p = positive(&[2, 5], 12);
    check(&[x.clone()], |x| x[0].neg());
    check(&[x.clone()], |x| x[0].exp());
    check(&[p.clone()], |x| x[0].log());
    check(&[p.clone()], |x| x[0].sqrt());
    check(&[x.clone()], |x| x[0].abs());
    check(&[p.clone()], |x| x[0].powf(2.5));
    check(&[x.clone()], |x| x[0].square());
    check(&[x.clone()], |x| x[0].clip(-0.7, 0.9));
    check(&[x.clone()], |x| x[0].add_scalar(3.0));
    check(&[x.clone()], |x| x[0].mul_scalar(-1.5));
    check(&[x], |x| x[0].rsub_scalar(1.0));
}

#[test]
fn activations() {
    let x = input(&[3, 4], 21, 3.0, 0.05);
    check(&[x.clone()], |x| x[0].relu());
    check(&[x.clone()], |x| x[0].sigmoid());
    check(
        &[x.mapv(|v| {
            if (v.abs() - 2.5).abs() < 0.05 {
                v + 0.1
            } else {
                v
            }
        })],
        |x| x[0].hard_sigmoid_keras2(),
    );
    // Keras 3's kinks are at ±3: inputs up to ±6, none within 0.05 of a kink.
    check(
        &[input(&[3, 4], 23, 6.0, 0.05).mapv(|v| {
            if (v.abs() - 3.0).abs() < 0.05 {
                v + 0.1
            } else {
                v
            }
        })],
        |x| x[0].hard_sigmoid(),
    );
    check(&[x.clone()], |x| x[0].tanh());
    check(&[x.clone()], |x| x[0].elu(1.0));
    check(&[x], |x| x[0].softplus());
}

#[test]
fn reductions() {
    let x = input(&[2, 3, 4], 31, 1.0, 0.0);
    check(&[x.clone()], |x| x[0].sum_all());
    check(&[x.clone()], |x| x[0].mean_all());
    check(&[x.clone()], |x| x[0].sum(&[1], false));
    check(&[x.clone()], |x| x[0].sum(&[0, 2], true));
    check(&[x.clone()], |x| x[0].mean(&[-1], false));
    check(&[x.clone()], |x| x[0].max(1, false));
    check(&[x], |x| x[0].max(-1, true));
}

#[test]
fn shape_ops() {
    let x = input(&[2, 3, 4], 41, 1.0, 0.0);
    check(&[x.clone()], |x| x[0].reshape(&[6, 4]));
    check(&[x.clone()], |x| x[0].permute(&[2, 0, 1]));
    check(&[x.clone()], |x| x[0].transpose_last());
    check(&[x.clone()], |x| x[0].narrow(1, 1, 2));
    let y = input(&[2, 2, 4], 42, 1.0, 0.0);
    check(&[x.clone(), y], |x| {
        Tensor::concat(&[x[0].clone(), x[1].clone()], 1)
    });
    let z = input(&[2, 3, 4], 43, 1.0, 0.0);
    check(&[x, z], |x| Tensor::stack(&[x[0].clone(), x[1].clone()], 1));
}

#[test]
fn matrix_products() {
    let a = input(&[3, 5], 51, 1.0, 0.0);
    let b = input(&[5, 2], 52, 1.0, 0.0);
    check(&[a, b.clone()], |x| x[0].matmul(&x[1]));
    // A rank-3 input times a matrix, as Dense applies its kernel over the last axis.
    let a3 = input(&[2, 3, 5], 53, 1.0, 0.0);
    check(&[a3, b], |x| x[0].matmul(&x[1]));
    // A batch flattened to [batch, features] times a matrix, as Dense after Flatten.
    let batch = input(&[2, 3, 2, 2], 55, 1.0, 0.0);
    let kernel = input(&[12, 3], 56, 1.0, 0.0);
    check(&[batch, kernel], |x| x[0].flatten_matmul(&x[1]));
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let lhs = if ta {
            input(&[2, 4, 3], 54, 1.0, 0.0)
        } else {
            input(&[2, 3, 4], 54, 1.0, 0.0)
        };
        let rhs = if tb {
            input(&[2, 5, 4], 55, 1.0, 0.0)
        } else {
            input(&[2, 4, 5], 55, 1.0, 0.0)
        };
        check(&[lhs, rhs], |x| x[0].batch_matmul(&x[1], ta, tb));
    }
}

#[test]
fn gather_scatter_adds_repeated_rows() {
    let table = input(&[5, 3], 61, 1.0, 0.0);
    let ids = Tensor::from_vec(&[2, 3], vec![0.0, 4.0, 4.0, 2.0, 0.0, 4.0]).unwrap();
    check(&[table], |x| x[0].gather_rows(&ids));
}

#[test]
fn softmax_family() {
    let x = input(&[3, 5], 71, 2.0, 0.0);
    check(&[x.clone()], |x| x[0].softmax(-1));
    check(&[x.clone()], |x| x[0].softmax(0));
    check(&[x.clone()], |x| x[0].log_softmax(1));
    let targets = Tensor::new(positive(&[3, 5], 72));
    check(&[x.clone()], |x| x[0].softmax_cross_entropy(&targets));
    let labels = Tensor::from_vec(&[3], vec![4.0, 0.0, 2.0]).unwrap();
    check(&[x], |x| x[0].sparse_softmax_cross_entropy(&labels));
}

#[test]
fn dropout_with_a_fixed_mask() {
    let x = input(&[4, 4], 81, 1.0, 0.0);
    check(&[x], |x| x[0].dropout(0.3, &mut StdRng::seed_from_u64(5)));
}

#[test]
fn fused_losses_match_their_compositions() {
    // softmax cross-entropy == -Σ t · log_softmax(x)
    let x = Tensor::new(input(&[4, 6], 91, 3.0, 0.0));
    let t = Tensor::new(positive(&[4, 6], 92));
    let fused = x.softmax_cross_entropy(&t).unwrap().to_vec();
    let composed = x
        .log_softmax(-1)
        .unwrap()
        .mul(&t)
        .unwrap()
        .sum(&[-1], false)
        .unwrap()
        .neg()
        .unwrap()
        .to_vec();
    for (a, b) in fused.iter().zip(&composed) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn hand_derived_values() {
    // f = sum(w ⊙ x + w²) ; df/dw = x + 2w = [1 + 2, 2 + 4] = [3, 6]
    let w = Variable::new("w", ndarray::arr1(&[1.0f32, 2.0]).into_dyn());
    let x = Tensor::from_vec(&[2], vec![1.0, 2.0]).unwrap();
    let wt = w.tensor();
    let f = wt
        .mul(&x)
        .unwrap()
        .add(&wt.square().unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    assert_eq!(f.to_scalar().unwrap(), 1.0 + 4.0 + 1.0 + 4.0);
    let g = f.backward().unwrap();
    assert_eq!(g.get_var(&w).unwrap().as_slice().unwrap(), &[3.0, 6.0]);

    // softmax([0, ln 3]) = [1/4, 3/4]; sparse CE with label 1 = -ln(3/4); d/dlogits = [1/4, -1/4]
    let logits = Tensor::leaf(ndarray::arr2(&[[0.0f32, 3f32.ln()]]).into_dyn());
    let ce = logits
        .sparse_softmax_cross_entropy(&Tensor::from_vec(&[1], vec![1.0]).unwrap())
        .unwrap();
    assert!((ce.to_scalar().unwrap() - -(0.75f32.ln())).abs() < 1e-6);
    let g = ce.sum_all().unwrap().backward().unwrap();
    let d = g.get(&logits).unwrap();
    assert!((d[[0, 0]] - 0.25).abs() < 1e-6 && (d[[0, 1]] + 0.25).abs() < 1e-6);

    // [1 2] · [[1 2] [3 4]] = [7 10]; d sum / d lhs = row sums of rhs = [3, 7]
    let a = Tensor::leaf(ndarray::arr2(&[[1.0f32, 2.0]]).into_dyn());
    let b = Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let y = a.matmul(&b).unwrap();
    assert_eq!(y.to_vec(), vec![7.0, 10.0]);
    let g = y.sum_all().unwrap().backward().unwrap();
    assert_eq!(
        g.get(&a).unwrap().iter().copied().collect::<Vec<_>>(),
        vec![3.0, 7.0]
    );
}

#[test]
fn a_tensor_used_twice_gets_both_contributions() {
    // y = x·x + 3x (x used three times) ; dy/dx = 2x + 3 = 7 at x = 2
    let x = Tensor::leaf(ndarray::arr0(2.0f32).into_dyn());
    let y = x.mul(&x).unwrap().add(&x.mul_scalar(3.0).unwrap()).unwrap();
    let g = y.backward().unwrap();
    assert_eq!(g.get(&x).unwrap().sum(), 7.0);
    // A variable read twice through two leaves (a shared layer) gets the sum under one id.
    let w = Variable::new("w", ndarray::arr0(5.0f32).into_dyn());
    let y = w
        .tensor()
        .mul_scalar(2.0)
        .unwrap()
        .add(&w.tensor().mul_scalar(4.0).unwrap())
        .unwrap();
    assert_eq!(y.backward().unwrap().get_var(&w).unwrap().sum(), 6.0);
    // And through a diamond: z = (x + 1) * (x + 1)
    let x = Tensor::leaf(ndarray::arr0(3.0f32).into_dyn());
    let h = x.add_scalar(1.0).unwrap();
    let z = h.mul(&h).unwrap();
    assert_eq!(z.backward().unwrap().get(&x).unwrap().sum(), 8.0);
}

#[test]
fn broadcast_gradients_sum_back_to_the_input_shape() {
    // bias [3] added to [4, 3]: d sum / d bias = 4 for each entry
    let x = Tensor::new(ArrayD::zeros(IxDyn(&[4, 3])));
    let bias = Tensor::leaf(ArrayD::zeros(IxDyn(&[3])));
    let g = x.add(&bias).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(
        g.get(&bias).unwrap().iter().copied().collect::<Vec<_>>(),
        vec![4.0; 3]
    );
}

#[test]
fn no_grad_builds_no_graph_and_frozen_variables_get_no_gradient() {
    let w = Variable::new("w", ndarray::arr1(&[1.0f32]).into_dyn());
    let y = rkeras_tensor::no_grad(|| w.tensor().exp().unwrap());
    assert!(!y.requires_grad() && y.op_name().is_none());
    w.set_trainable(false);
    let y = w.tensor().exp().unwrap().sum_all().unwrap();
    assert!(y.backward().unwrap().get_var(&w).is_none());
}

#[test]
fn shape_errors_name_the_op_and_shapes() {
    let a = Tensor::zeros(&[2, 3]);
    let b = Tensor::zeros(&[4, 5]);
    let err = a.add(&b).unwrap_err().to_string();
    assert!(
        err.contains("add") && err.contains("[2, 3]") && err.contains("[4, 5]"),
        "{err}"
    );
    let err = a.matmul(&b).unwrap_err().to_string();
    assert!(
        err.contains("matmul") && err.contains("[2, 3]") && err.contains("[4, 5]"),
        "{err}"
    );
    assert!(a.reshape(&[7]).is_err());
    assert!(a.permute(&[0, 0]).is_err());
    assert!(a.narrow(1, 2, 2).is_err());
    assert!(a.sum(&[2], false).is_err());
    assert!(a.backward().is_err());
    let table = Tensor::zeros(&[3, 2]);
    let err = table
        .gather_rows(&Tensor::from_vec(&[1], vec![3.0]).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
    let logits = Tensor::zeros(&[1, 3]);
    assert!(
        logits
            .sparse_softmax_cross_entropy(&Tensor::from_vec(&[1], vec![-1.0]).unwrap())
            .is_err()
    );
    assert!(
        logits
            .sparse_softmax_cross_entropy(&Tensor::from_vec(&[1], vec![f32::NAN]).unwrap())
            .is_err()
    );
    assert!(a.dropout(1.0, &mut StdRng::seed_from_u64(0)).is_err());
}

#[test]
fn lstm_op_through_the_graph() {
    use rkeras_tensor::kernels::lstm::GateActivation;
    use rkeras_tensor::ops::LstmConfig;
    let (batch, time, input_dim, units) = (2, 3, 4, 3);
    let x = input(&[batch, time, input_dim], 101, 1.0, 0.0);
    let kernel = input(&[input_dim, 4 * units], 102, 0.5, 0.0);
    let recurrent = input(&[units, 4 * units], 103, 0.5, 0.0);
    let bias = input(&[4 * units], 104, 0.5, 0.0);
    for return_sequences in [false, true] {
        let config = LstmConfig {
            return_sequences,
            recurrent_activation: GateActivation::Sigmoid,
        };
        check(
            &[x.clone(), kernel.clone(), recurrent.clone(), bias.clone()],
            |t| t[0].lstm(&t[1], &t[2], &t[3], config),
        );
    }
    // Inference (no graph) gives the same values as training mode.
    let config = LstmConfig::default();
    let (xt, kt, rt, bt) = (
        Tensor::new(x.clone()),
        Tensor::leaf(kernel),
        Tensor::new(recurrent),
        Tensor::new(bias),
    );
    let train = xt.lstm(&kt, &rt, &bt, config).unwrap();
    let infer = rkeras_tensor::no_grad(|| xt.lstm(&kt, &rt, &bt, config).unwrap());
    assert_eq!(train.to_vec(), infer.to_vec());
    assert_eq!(train.shape(), &[batch, units]);
}

#[test]
fn concat_along_a_late_axis_feeds_a_matrix_product() {
    // [5, 3] ++ [5, 5] along axis 1, then · [8, 2]: concat must hand on row-major data.
    let a = Tensor::new(input(&[5, 3], 111, 1.0, 0.0));
    let b = Tensor::new(input(&[5, 5], 112, 1.0, 0.0));
    let w = Tensor::new(input(&[8, 2], 113, 1.0, 0.0));
    let joined = Tensor::concat(&[a.clone(), b.clone()], -1).unwrap();
    let product = joined.matmul(&w).unwrap();
    // Reference: a·w[..3] + b·w[3..]
    let expected = a
        .matmul(&w.narrow(0, 0, 3).unwrap())
        .unwrap()
        .add(&b.matmul(&w.narrow(0, 3, 5).unwrap()).unwrap())
        .unwrap();
    for (x, y) in product.to_vec().iter().zip(expected.to_vec()) {
        assert!((x - y).abs() < 1e-5);
    }
}

#[test]
fn layer_norm_over_the_last_axis() {
    // x spread over ±2 so each row has a clear variance; eps 1e-3 as Keras's default.
    let x = input(&[3, 2, 5], 40, 2.0, 0.0);
    let gamma = input(&[5], 41, 1.0, 0.2);
    let beta = input(&[5], 42, 1.0, 0.0);
    check(&[x.clone(), gamma, beta], |t| {
        t[0].layer_norm(Some(&t[1]), Some(&t[2]), 1e-3)
    });
    check(&[x.clone()], |t| t[0].layer_norm(None, None, 1e-3));
    // Used twice: the gradient of x accumulates over both uses.
    check(&[x], |t| t[0].layer_norm(None, None, 1e-3)?.mul(&t[0]));
}

#[test]
fn gru_op_through_the_graph() {
    use rkeras_tensor::kernels::lstm::GateActivation;
    use rkeras_tensor::ops::GruConfig;
    let (batch, time, input_dim, units) = (2, 3, 4, 3);
    let x = input(&[batch, time, input_dim], 121, 1.0, 0.0);
    let kernel = input(&[input_dim, 3 * units], 122, 0.5, 0.0);
    let recurrent = input(&[units, 3 * units], 123, 0.5, 0.0);
    let h0 = input(&[batch, units], 126, 0.5, 0.0);
    for reset_after in [true, false] {
        let bias_shape: &[usize] = if reset_after {
            &[2, 3 * units]
        } else {
            &[3 * units]
        };
        let bias = input(bias_shape, 124, 0.5, 0.0);
        for return_sequences in [false, true] {
            let config = GruConfig {
                return_sequences,
                recurrent_activation: GateActivation::Sigmoid,
                reset_after,
            };
            check(
                &[x.clone(), kernel.clone(), recurrent.clone(), bias.clone()],
                |t| t[0].gru(&t[1], &t[2], &t[3], None, config),
            );
            // With an initial state, through a reversed input (go_backwards).
            check(
                &[
                    x.clone(),
                    kernel.clone(),
                    recurrent.clone(),
                    bias.clone(),
                    h0.clone(),
                ],
                |t| {
                    t[0].reverse_axis(1)?
                        .gru(&t[1], &t[2], &t[3], Some(&t[4]), config)
                },
            );
        }
    }
}

#[test]
fn reverse_axis_reverses_values_and_gradients() {
    check(&[input(&[2, 3, 2], 131, 1.0, 0.0)], |t| {
        t[0].reverse_axis(1)
    });
    let t = Tensor::new(input(&[3, 2], 132, 1.0, 0.0));
    let r = t.reverse_axis(0).unwrap();
    assert_eq!(r.to_vec()[..2], t.to_vec()[4..]);
    assert!(t.reverse_axis(2).is_err());
}

#[test]
fn simple_rnn_op_through_the_graph() {
    use rkeras_tensor::kernels::simple_rnn::RnnActivation;
    let (batch, time, input_dim, units) = (2, 4, 3, 3);
    let x = input(&[batch, time, input_dim], 141, 1.0, 0.0);
    let kernel = input(&[input_dim, units], 142, 0.6, 0.0);
    let recurrent = input(&[units, units], 143, 0.6, 0.0);
    let bias = input(&[units], 144, 0.6, 0.0);
    let h0 = input(&[batch, units], 145, 0.6, 0.0);
    for activation in [
        RnnActivation::Tanh,
        RnnActivation::Sigmoid,
        RnnActivation::Linear,
    ] {
        for return_sequences in [false, true] {
            check(
                &[x.clone(), kernel.clone(), recurrent.clone(), bias.clone()],
                |t| t[0].simple_rnn(&t[1], &t[2], &t[3], None, activation, return_sequences),
            );
            check(
                &[
                    x.clone(),
                    kernel.clone(),
                    recurrent.clone(),
                    bias.clone(),
                    h0.clone(),
                ],
                |t| {
                    t[0].reverse_axis(1)?.simple_rnn(
                        &t[1],
                        &t[2],
                        &t[3],
                        Some(&t[4]),
                        activation,
                        return_sequences,
                    )
                },
            );
        }
    }
}

#[test]
fn keras3_activations() {
    use rkeras_tensor::ops::ReluOptions;
    // Kinks at 0, ±3 (hard_silu), 6 (relu6), 1 and 2.5 (the relu options below): none within 0.05.
    let away = |v: f32| {
        let kinks = [0.0f32, 3.0, -3.0, 6.0, 1.0, 2.5];
        if kinks.iter().any(|k| (v - k).abs() < 0.05) {
            v + 0.11
        } else {
            v
        }
    };
    let x = input(&[3, 5], 41, 7.0, 0.05).mapv(away);
    check(&[x.clone()], |x| x[0].gelu(false));
    check(&[x.clone()], |x| x[0].gelu(true));
    check(&[x.clone()], |x| x[0].silu());
    check(&[x.clone()], |x| x[0].mish());
    check(&[x.clone()], |x| x[0].selu());
    check(&[x.clone()], |x| x[0].softsign());
    check(&[x.clone()], |x| x[0].relu6());
    check(&[x.clone()], |x| x[0].leaky_relu(0.2));
    check(&[x.clone()], |x| x[0].hard_silu());
    check(&[input(&[3, 5], 42, 2.0, 0.0)], |x| x[0].exponential());
    for options in [
        ReluOptions {
            negative_slope: 0.3,
            max_value: Some(2.5),
            threshold: 1.0,
        },
        ReluOptions {
            negative_slope: 0.1,
            max_value: None,
            threshold: 0.0,
        },
        ReluOptions {
            negative_slope: 0.0,
            max_value: Some(6.0),
            threshold: 0.0,
        },
    ] {
        check(&[x.clone()], |x| x[0].relu_with(options));
    }
    check(&[x.clone()], |x| x[0].log_softmax(0));
    check(&[x], |x| x[0].softmax(0));
}

#[test]
fn fused_attention_gradients_for_queries_keys_and_values() {
    use rkeras_tensor::ops::{AttentionOptions, dropout_mask};
    // Cross-attention: 3 queries over 4 keys, 2 heads, key_dim 2, value_dim 3.
    let (q, k, v) = (
        input(&[2, 3, 2, 2], 71, 1.0, 0.0),
        input(&[2, 4, 2, 2], 72, 1.0, 0.0),
        input(&[2, 4, 2, 3], 73, 1.0, 0.0),
    );
    let weights = input(&[2, 3, 2, 3], 74, 1.0, 0.0);
    let mask = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |i| {
        ((i[0] + i[1] * 3 + i[2]) % 4 != 1) as u8 as f32
    });
    let dropout = dropout_mask(&[2, 2, 3, 4], 0.3, &mut StdRng::seed_from_u64(9)).unwrap();
    let variants = [
        AttentionOptions::default(),
        AttentionOptions {
            causal: true,
            ..Default::default()
        },
        AttentionOptions {
            mask: Some(mask),
            scale: Some(0.9),
            ..Default::default()
        },
        AttentionOptions {
            dropout: Some(dropout),
            ..Default::default()
        },
    ];
    let score_weights = input(&[2, 2, 3, 4], 75, 1.0, 0.0);
    for options in variants {
        check(&[q.clone(), k.clone(), v.clone()], |t| {
            let (out, _) = t[0].attention(&t[1], &t[2], &options)?;
            out.mul(&Tensor::new(weights.clone()))?.sum_all()
        });
        // The returned probabilities (Keras's attention scores) used alone, and beside the output.
        check(&[q.clone(), k.clone(), v.clone()], |t| {
            let (_, probs) = t[0].attention(&t[1], &t[2], &options)?;
            probs.mul(&Tensor::new(score_weights.clone()))?.sum_all()
        });
        check(&[q.clone(), k.clone(), v.clone()], |t| {
            let (out, probs) = t[0].attention(&t[1], &t[2], &options)?;
            let from_out = out.mul(&Tensor::new(weights.clone()))?.sum_all()?;
            let from_probs = probs
                .square()?
                .mul(&Tensor::new(score_weights.clone()))?
                .sum_all()?;
            from_out.add(&from_probs)
        });
    }
}

#[test]
fn matmul_bias_gradients_for_input_kernel_and_bias() {
    let x = input(&[2, 3, 4], 91, 1.0, 0.0);
    let w = input(&[4, 5], 92, 1.0, 0.0);
    let b = input(&[5], 93, 1.0, 0.0);
    let weights = input(&[2, 3, 5], 94, 1.0, 0.0);
    check(&[x, w, b], |t| {
        t[0].matmul_bias(&t[1], &t[2])?
            .mul(&Tensor::new(weights.clone()))?
            .sum_all()
    });
}

#[test]
fn attention_on_heads_side_by_side_matches_the_rank_4_layout() {
    use rkeras_tensor::ops::AttentionOptions;
    // [batch, length, heads · features] is the memory of [batch, length, heads, features]: the same bits, and
    // finite-difference gradients through the rank-3 form.
    let (q, k, v) = (
        input(&[2, 3, 2, 2], 81, 1.0, 0.0),
        input(&[2, 4, 2, 2], 82, 1.0, 0.0),
        input(&[2, 4, 2, 3], 83, 1.0, 0.0),
    );
    let flat = |a: &ArrayD<f32>| {
        let s = a.shape();
        a.clone()
            .into_shape_with_order(IxDyn(&[s[0], s[1], s[2] * s[3]]))
            .unwrap()
    };
    let (q3, k3, v3) = (flat(&q), flat(&k), flat(&v));
    let weights = input(&[2, 3, 6], 84, 1.0, 0.0);
    for causal in [false, true] {
        let four = AttentionOptions {
            causal,
            ..Default::default()
        };
        let three = AttentionOptions {
            causal,
            heads: Some(2),
            ..Default::default()
        };
        let (out4, probs4) = Tensor::new(q.clone())
            .attention(&Tensor::new(k.clone()), &Tensor::new(v.clone()), &four)
            .unwrap();
        let (out3, probs3) = Tensor::new(q3.clone())
            .attention(&Tensor::new(k3.clone()), &Tensor::new(v3.clone()), &three)
            .unwrap();
        assert_eq!(out3.shape(), &[2, 3, 6]);
        let bits = |t: &Tensor| t.to_vec().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out3), bits(&out4));
        assert_eq!(bits(&probs3), bits(&probs4));
        check(&[q3.clone(), k3.clone(), v3.clone()], |t| {
            let (out, _) = t[0].attention(&t[1], &t[2], &three)?;
            out.mul(&Tensor::new(weights.clone()))?.sum_all()
        });
    }
    // Features that do not split over the heads, and rank-4 inputs with `heads`, are shape errors.
    let odd = AttentionOptions {
        heads: Some(4),
        ..Default::default()
    };
    let t3 = Tensor::new(v3.clone());
    assert!(t3.attention(&t3, &t3, &odd).is_err());
    let four_with_heads = AttentionOptions {
        heads: Some(2),
        ..Default::default()
    };
    let t4 = Tensor::new(q.clone());
    assert!(t4.attention(&t4, &t4, &four_with_heads).is_err());
}

#[test]
fn keras3_piecewise_and_lane_activations() {
    // Kinks at 0, ±0.5 (the shrinks), ±1 (hard_tanh, sparse_plus, sparse_sigmoid) and 0.3 (threshold): none
    // within 0.05.
    let away = |v: f32| {
        let kinks = [0.0f32, 0.5, -0.5, 1.0, -1.0, 0.3];
        if kinks.iter().any(|k| (v - k).abs() < 0.05) {
            v + 0.13
        } else {
            v
        }
    };
    let x = input(&[4, 6], 43, 3.0, 0.05).mapv(away);
    check(&[x.clone()], |x| x[0].celu(1.0));
    check(&[x.clone()], |x| x[0].celu(0.7));
    check(&[x.clone()], |x| x[0].hard_shrink(0.5));
    check(&[x.clone()], |x| x[0].hard_tanh());
    check(&[x.clone()], |x| x[0].log_sigmoid());
    check(&[x.clone()], |x| x[0].soft_shrink(0.5));
    check(&[x.clone()], |x| x[0].sparse_plus());
    check(&[x.clone()], |x| x[0].sparse_sigmoid());
    check(&[x.clone()], |x| x[0].squareplus(4.0));
    check(&[x.clone()], |x| x[0].squareplus(0.5));
    check(&[x.clone()], |x| x[0].tanh_shrink());
    check(&[x.clone()], |x| x[0].threshold(0.3, -2.0));
    check(&[x.clone()], |x| x[0].glu(-1));
    check(&[x.clone()], |x| x[0].glu(0).and_then(|y| y.square()));
    check(&[x.clone()], |x| x[0].sparsemax(-1)?.square());
    check(&[x], |x| x[0].sparsemax(0)?.square());
}

#[test]
fn bias_relu_gradients_for_input_and_bias() {
    // |z| ≥ 0.2 and |b| ≤ 0.1 keep every sum at least 0.1 away from ReLU's kink.
    let z = input(&[2, 3, 5], 95, 1.0, 0.2);
    let b = input(&[5], 96, 0.1, 0.0);
    let weights = input(&[2, 3, 5], 97, 1.0, 0.0);
    check(&[z, b], |t| {
        t[0].bias_relu(&t[1])?
            .mul(&Tensor::new(weights.clone()))?
            .sum_all()
    });
}
