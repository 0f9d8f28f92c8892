//! The masked fused recurrent kernels (LSTM, GRU in both `reset_after` modes, SimpleRNN): a masked step carries
//! the states and output through, finite-difference gradients match, and a masked step equals the same sequence
//! with that step removed.

use ndarray::{Array2, ArrayD};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::kernels::lstm::GateActivation;
use rkeras_tensor::kernels::simple_rnn::RnnActivation;
use rkeras_tensor::ops::{GruConfig, LstmConfig};
use rkeras_tensor::{Initializer, Result, Tensor};

const BATCH: usize = 3;
const TIME: usize = 4;
const INPUT: usize = 2;
const UNITS: usize = 3;

fn input(shape: &[usize], seed: u64) -> ArrayD<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    Initializer::RandomUniform {
        min: -0.8,
        max: 0.8,
    }
    .sample(shape, &mut rng)
    .unwrap()
}

/// Sample 0 unmasked, sample 1 masked at its first two steps (pre-padding), sample 2 at its last and a middle
/// step.
fn mask() -> Tensor {
    Tensor::new(
        Array2::from_shape_vec(
            (BATCH, TIME),
            vec![1., 1., 1., 1., 0., 0., 1., 1., 1., 0., 1., 0.],
        )
        .unwrap()
        .into_dyn(),
    )
}

fn check(inputs: &[ArrayD<f32>], f: impl Fn(&[Tensor]) -> Result<Tensor>) {
    let report = check_gradients(inputs, f, GradCheck::default()).unwrap();
    assert!(report.passed(), "{report:?}");
    assert!(report.compared > 0);
}

/// The kept steps of one sample as a sequence of its own.
fn kept_steps(x: &ArrayD<f32>, sample: usize, keep: &[usize]) -> Tensor {
    let rows: Vec<f32> = keep
        .iter()
        .flat_map(|&t| (0..INPUT).map(move |k| x[[sample, t, k]]))
        .collect();
    Tensor::new(ArrayD::from_shape_vec(vec![1, keep.len(), INPUT], rows).unwrap())
}

fn assert_close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-6, "{a:?} vs {b:?}");
    }
}

/// Runs `rnn(x, mask, return_sequences)` and checks Keras's semantics against runs on the kept steps alone: the
/// last output equals the last output of the shortened sequence, and every masked step's output repeats the
/// previous one (zeros before the first kept step).
fn check_semantics(rnn: impl Fn(&Tensor, Option<&Tensor>, bool) -> Result<Tensor>) {
    let x = input(&[BATCH, TIME, INPUT], 1);
    let mask = mask();
    let xt = Tensor::new(x.clone());
    let last = rnn(&xt, Some(&mask), false).unwrap();
    let seq = rnn(&xt, Some(&mask), true).unwrap();
    let m = mask.data();
    for sample in 0..BATCH {
        let keep: Vec<usize> = (0..TIME).filter(|&t| m[[sample, t]] != 0.0).collect();
        let alone = rnn(&kept_steps(&x, sample, &keep), None, true).unwrap();
        let alone = alone.data();
        let last_row: Vec<f32> = (0..UNITS).map(|k| last.data()[[sample, k]]).collect();
        let expected: Vec<f32> = (0..UNITS).map(|k| alone[[0, keep.len() - 1, k]]).collect();
        assert_close(&last_row, &expected);
        let mut previous = vec![0.0; UNITS];
        let mut kept = 0;
        for t in 0..TIME {
            let row: Vec<f32> = (0..UNITS).map(|k| seq.data()[[sample, t, k]]).collect();
            if m[[sample, t]] != 0.0 {
                let expected: Vec<f32> = (0..UNITS).map(|k| alone[[0, kept, k]]).collect();
                assert_close(&row, &expected);
                kept += 1;
            } else {
                assert_close(&row, &previous);
            }
            previous = row;
        }
    }
}

#[test]
fn masked_lstm_carries_states_and_has_exact_gradients() {
    let (kernel, recurrent, bias) = (
        input(&[INPUT, 4 * UNITS], 2),
        input(&[UNITS, 4 * UNITS], 3),
        input(&[4 * UNITS], 4),
    );
    let (k, r, b) = (
        Tensor::new(kernel.clone()),
        Tensor::new(recurrent.clone()),
        Tensor::new(bias.clone()),
    );
    check_semantics(|x, mask, return_sequences| {
        let config = LstmConfig {
            return_sequences,
            recurrent_activation: GateActivation::Sigmoid,
        };
        x.lstm_masked(&k, &r, &b, mask, config)
    });
    let mask = mask();
    for return_sequences in [false, true] {
        let config = LstmConfig {
            return_sequences,
            recurrent_activation: GateActivation::Sigmoid,
        };
        check(
            &[
                input(&[BATCH, TIME, INPUT], 5),
                kernel.clone(),
                recurrent.clone(),
                bias.clone(),
            ],
            |t| t[0].lstm_masked(&t[1], &t[2], &t[3], Some(&mask), config),
        );
    }
}

#[test]
fn masked_gru_carries_the_state_and_has_exact_gradients() {
    for reset_after in [true, false] {
        let bias_shape: &[usize] = if reset_after {
            &[2, 3 * UNITS]
        } else {
            &[3 * UNITS]
        };
        let (kernel, recurrent, bias) = (
            input(&[INPUT, 3 * UNITS], 6),
            input(&[UNITS, 3 * UNITS], 7),
            input(bias_shape, 8),
        );
        let (k, r, b) = (
            Tensor::new(kernel.clone()),
            Tensor::new(recurrent.clone()),
            Tensor::new(bias.clone()),
        );
        let config = |return_sequences| GruConfig {
            return_sequences,
            recurrent_activation: GateActivation::Sigmoid,
            reset_after,
        };
        check_semantics(|x, mask, rs| x.gru_masked(&k, &r, &b, None, mask, config(rs)));
        let mask = mask();
        let h0 = input(&[BATCH, UNITS], 9);
        for return_sequences in [false, true] {
            check(
                &[
                    input(&[BATCH, TIME, INPUT], 10),
                    kernel.clone(),
                    recurrent.clone(),
                    bias.clone(),
                ],
                |t| {
                    t[0].gru_masked(
                        &t[1],
                        &t[2],
                        &t[3],
                        None,
                        Some(&mask),
                        config(return_sequences),
                    )
                },
            );
            check(
                &[
                    input(&[BATCH, TIME, INPUT], 11),
                    kernel.clone(),
                    recurrent.clone(),
                    bias.clone(),
                    h0.clone(),
                ],
                |t| {
                    t[0].gru_masked(
                        &t[1],
                        &t[2],
                        &t[3],
                        Some(&t[4]),
                        Some(&mask),
                        config(return_sequences),
                    )
                },
            );
        }
    }
}

#[test]
fn masked_simple_rnn_carries_the_state_and_has_exact_gradients() {
    let (kernel, recurrent, bias) = (
        input(&[INPUT, UNITS], 12),
        input(&[UNITS, UNITS], 13),
        input(&[UNITS], 14),
    );
    let (k, r, b) = (
        Tensor::new(kernel.clone()),
        Tensor::new(recurrent.clone()),
        Tensor::new(bias.clone()),
    );
    check_semantics(|x, mask, rs| {
        x.simple_rnn_masked(&k, &r, &b, None, mask, RnnActivation::Tanh, rs)
    });
    let mask = mask();
    let h0 = input(&[BATCH, UNITS], 15);
    for return_sequences in [false, true] {
        check(
            &[
                input(&[BATCH, TIME, INPUT], 16),
                kernel.clone(),
                recurrent.clone(),
                bias.clone(),
                h0.clone(),
            ],
            |t| {
                t[0].simple_rnn_masked(
                    &t[1],
                    &t[2],
                    &t[3],
                    Some(&t[4]),
                    Some(&mask),
                    RnnActivation::Tanh,
                    return_sequences,
                )
            },
        );
    }
}

#[test]
fn a_mask_of_the_wrong_shape_is_an_error() {
    let x = Tensor::new(input(&[BATCH, TIME, INPUT], 17));
    let k = Tensor::new(input(&[INPUT, 4 * UNITS], 2));
    let r = Tensor::new(input(&[UNITS, 4 * UNITS], 3));
    let b = Tensor::new(input(&[4 * UNITS], 4));
    let bad = Tensor::new(ArrayD::ones(vec![BATCH, TIME + 1]));
    assert!(
        x.lstm_masked(&k, &r, &b, Some(&bad), LstmConfig::default())
            .is_err()
    );
}

fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn masked_kernels_are_bit_identical_with_one_and_two_threads() {
    // Large enough that the products split across threads.
    let (batch, time, input_dim, units) = (64, 7, 48, 40);
    let x = input(&[batch, time, input_dim], 20);
    let mask = Tensor::new(ArrayD::from_shape_fn(vec![batch, time], |i| {
        f32::from((i[0] + 2 * i[1]) % 3 != 0)
    }));
    let run = || {
        let xt = Tensor::leaf(x.clone());
        let k = Tensor::leaf(input(&[input_dim, 4 * units], 21));
        let r = Tensor::leaf(input(&[units, 4 * units], 22));
        let b = Tensor::leaf(input(&[4 * units], 23));
        let lstm = xt
            .lstm_masked(
                &k,
                &r,
                &b,
                Some(&mask),
                LstmConfig {
                    return_sequences: true,
                    ..LstmConfig::default()
                },
            )
            .unwrap();
        let kg = Tensor::leaf(input(&[input_dim, 3 * units], 24));
        let rg = Tensor::leaf(input(&[units, 3 * units], 25));
        let bg = Tensor::leaf(input(&[2, 3 * units], 26));
        let gru = xt
            .gru_masked(
                &kg,
                &rg,
                &bg,
                None,
                Some(&mask),
                GruConfig {
                    return_sequences: true,
                    ..GruConfig::default()
                },
            )
            .unwrap();
        let loss = lstm
            .sum_all()
            .unwrap()
            .add(&gru.sum_all().unwrap())
            .unwrap();
        let grads = loss.backward().unwrap();
        let mut values = lstm.to_vec();
        values.extend(gru.to_vec());
        for t in [&xt, &k, &r, &kg, &rg, &bg] {
            values.extend(grads.get(t).unwrap().iter().copied());
        }
        values.into_iter().map(f32::to_bits).collect::<Vec<u32>>()
    };
    assert_eq!(with_threads(1, run), with_threads(2, run));
}
