//! `Tensor::batch_norm_training` / `batch_norm_inference`: values against a naive `f64` reference (feature axis
//! last and in the middle, with and without a mask), finite-difference gradients through the graph, the op
//! chain it replaces, bit-identical results on one and two threads, and typed shape errors.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::{Initializer, Tensor};

const EPS: f32 = 1e-3;

fn array(shape: &[usize], seed: u64, min: f32, max: f32) -> ArrayD<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    Initializer::RandomUniform { min, max }
        .sample(shape, &mut rng)
        .unwrap()
}

/// `y = (x − mean)/sqrt(var + eps)·gamma + beta` over `axis` in `f64`, the statistics over the positions
/// `kept` keeps (all without it), divided by `count + 1e-7` with a mask as Keras does.
fn reference(
    x: &ArrayD<f32>,
    axis: usize,
    gamma: &[f32],
    beta: &[f32],
    kept: Option<&[f32]>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let channels = x.shape()[axis];
    let inner: usize = x.shape()[axis + 1..].iter().product();
    let channel = |i: usize| (i / inner) % channels;
    let keep = |i: usize| kept.is_none_or(|k| k[i / channels] != 0.0);
    let mut sum = vec![0.0f64; channels];
    let mut count = vec![0.0f64; channels];
    for (i, &v) in x.iter().enumerate().filter(|&(i, _)| keep(i)) {
        sum[channel(i)] += f64::from(v);
        count[channel(i)] += 1.0;
    }
    let n: Vec<f64> = count
        .iter()
        .map(|c| if kept.is_some() { c + 1e-7 } else { *c })
        .collect();
    let mean: Vec<f64> = sum.iter().zip(&n).map(|(s, n)| s / n).collect();
    let mut var = vec![0.0f64; channels];
    for (i, &v) in x.iter().enumerate().filter(|&(i, _)| keep(i)) {
        var[channel(i)] += (f64::from(v) - mean[channel(i)]).powi(2);
    }
    var.iter_mut().zip(&n).for_each(|(v, n)| *v /= n);
    let y = x
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = channel(i);
            (f64::from(v) - mean[c]) / (var[c] + f64::from(EPS)).sqrt() * f64::from(gamma[c])
                + f64::from(beta[c])
        })
        .collect();
    (mean, var, y)
}

fn assert_close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(g) - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs {w}"
        );
    }
}

/// Every third row (of the input without its last axis) masked.
fn mask_for(shape: &[usize]) -> Tensor {
    let rows: usize = shape[..shape.len() - 1].iter().product();
    let values = (0..rows)
        .map(|r| if r % 3 == 1 { 0.0 } else { 1.0 })
        .collect();
    Tensor::from_vec(&shape[..shape.len() - 1], values).unwrap()
}

#[test]
fn training_and_inference_match_the_f64_reference() {
    for (shape, axis, masked) in [
        (vec![6, 4], 1, false),
        (vec![3, 5, 4], 2, true),
        (vec![2, 3, 4, 5], 3, false),
        (vec![2, 3, 4, 5], 1, false),
        (vec![4, 3, 5], 1, false),
    ] {
        let x = Tensor::new(array(&shape, 1, -2.0, 3.0));
        let c = shape[axis];
        let (gamma, beta) = (
            Tensor::new(array(&[c], 2, 0.5, 1.5)),
            Tensor::new(array(&[c], 3, -0.5, 0.5)),
        );
        let mask = masked.then(|| mask_for(&shape));
        let (y, moments) = x
            .batch_norm_training(Some(&gamma), Some(&beta), axis, EPS, mask.as_ref())
            .unwrap();
        let kept = mask.as_ref().map(Tensor::to_vec);
        let (mean, var, want) = reference(
            x.data(),
            axis,
            &gamma.to_vec(),
            &beta.to_vec(),
            kept.as_deref(),
        );
        assert_eq!(y.shape(), shape.as_slice());
        assert_close(&moments.mean, &mean, 1e-6, "mean");
        assert_close(&moments.variance, &var, 1e-6, "variance");
        assert_close(&y.to_vec(), &want, 1e-5, "training y");
        // Inference with the batch's statistics given reproduces the training output.
        let y = x
            .batch_norm_inference(
                &moments.mean,
                &moments.variance,
                Some(&gamma),
                Some(&beta),
                axis,
                EPS,
            )
            .unwrap();
        assert_close(&y.to_vec(), &want, 1e-5, "inference y");
    }
}

fn check(inputs: &[ArrayD<f32>], f: impl Fn(&[Tensor]) -> rkeras_tensor::Result<Tensor>) {
    let report = check_gradients(inputs, f, GradCheck::default()).unwrap();
    assert!(report.passed(), "{report:?}");
    assert!(report.compared > 0);
}

#[test]
fn gradients_match_finite_differences() {
    let x = array(&[4, 3, 5], 11, -2.0, 2.0);
    let gamma = array(&[5], 12, 0.5, 1.5);
    let beta = array(&[5], 13, -0.5, 0.5);
    let (mean, var) = (
        array(&[5], 14, -0.5, 0.5).into_raw_vec_and_offset().0,
        array(&[5], 15, 0.5, 2.0).into_raw_vec_and_offset().0,
    );
    let mask = mask_for(&[4, 3, 5]);
    let inputs = [x.clone(), gamma.clone(), beta.clone()];
    check(&inputs, |t| {
        Ok(t[0]
            .batch_norm_training(Some(&t[1]), Some(&t[2]), 2, EPS, None)?
            .0)
    });
    check(&inputs, |t| {
        Ok(t[0]
            .batch_norm_training(Some(&t[1]), Some(&t[2]), 2, EPS, Some(&mask))?
            .0)
    });
    check(&inputs, |t| {
        t[0].batch_norm_inference(&mean, &var, Some(&t[1]), Some(&t[2]), 2, EPS)
    });
    // Channels first (axis 1) without gamma and beta; used twice, so x's gradient accumulates.
    let x = array(&[3, 4, 5], 16, -2.0, 2.0);
    check(&[x], |t| {
        t[0].batch_norm_training(None, None, 1, EPS, None)?
            .0
            .mul(&t[0])
    });
}

/// The generic op chain the layer used before: `(x − mean) / sqrt(var + eps) · gamma + beta`.
fn op_chain(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> Tensor {
    let mean = x.mean(&[0, 1], true).unwrap();
    let var = x
        .sub(&mean)
        .unwrap()
        .square()
        .unwrap()
        .mean(&[0, 1], true)
        .unwrap();
    let y = x
        .sub(&mean)
        .unwrap()
        .div(&var.add_scalar(EPS).unwrap().sqrt().unwrap())
        .unwrap();
    y.mul(gamma).unwrap().add(beta).unwrap()
}

#[test]
fn values_and_gradients_agree_with_the_op_chain() {
    let x = Tensor::leaf(array(&[16, 9, 6], 21, -1.0, 3.0));
    let gamma = Tensor::leaf(array(&[6], 22, 0.5, 1.5));
    let beta = Tensor::leaf(array(&[6], 23, -0.5, 0.5));
    let weights = Tensor::new(array(&[16, 9, 6], 24, -1.0, 1.0));
    let run = |y: Tensor| {
        let grads = y
            .mul(&weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let mut out = vec![y.to_vec()];
        for t in [&x, &gamma, &beta] {
            out.push(
                grads
                    .gradient(t)
                    .unwrap()
                    .clone()
                    .into_dense()
                    .unwrap()
                    .iter()
                    .copied()
                    .collect(),
            );
        }
        out
    };
    let fused = run(x
        .batch_norm_training(Some(&gamma), Some(&beta), 2, EPS, None)
        .unwrap()
        .0);
    let chain = run(op_chain(&x, &gamma, &beta));
    for (what, (f, c)) in ["y", "dx", "dgamma", "dbeta"]
        .iter()
        .zip(fused.iter().zip(&chain))
    {
        let c: Vec<f64> = c.iter().map(|&v| f64::from(v)).collect();
        assert_close(f, &c, 1e-4, what);
    }
}

#[test]
fn one_and_two_threads_are_bit_identical() {
    // Large enough for the kernels to run in parallel: 128 × 14 × 14 × 8.
    let shape = [128, 14, 14, 8];
    let x = Tensor::leaf(array(&shape, 31, -1.0, 2.0));
    let gamma = Tensor::leaf(array(&[8], 32, 0.5, 1.5));
    let beta = Tensor::leaf(array(&[8], 33, -0.5, 0.5));
    let mask = mask_for(&shape);
    let weights = Tensor::new(array(&shape, 34, -1.0, 1.0));
    let run = || {
        let mut bits = vec![];
        for (axis, mask) in [(3, None), (3, Some(&mask)), (1, None)] {
            let g = (axis == 3).then_some(&gamma);
            let b = (axis == 3).then_some(&beta);
            let (y, m) = x.batch_norm_training(g, b, axis, EPS, mask).unwrap();
            let z = x
                .batch_norm_inference(&m.mean, &m.variance, g, b, axis, EPS)
                .unwrap();
            let loss = y.add(&z).unwrap().mul(&weights).unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            let mut values = [m.mean, m.variance, y.to_vec()].concat();
            for t in [&x, &gamma, &beta] {
                if let Some(g) = grads.gradient(t) {
                    values.extend(g.clone().into_dense().unwrap().iter().copied());
                }
            }
            bits.push(values.iter().map(|v| v.to_bits()).collect::<Vec<u32>>());
        }
        bits
    };
    let pool = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    };
    assert_eq!(pool(2).install(run), pool(1).install(run));
}

#[test]
fn bad_shapes_are_typed_errors() {
    let x = Tensor::new(ArrayD::zeros(IxDyn(&[2, 3, 4])));
    let four = Tensor::new(ArrayD::zeros(IxDyn(&[4])));
    let three = Tensor::new(ArrayD::zeros(IxDyn(&[3])));
    let err = x
        .batch_norm_training(Some(&three), None, 2, EPS, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("gamma") && err.contains("[4]"), "{err}");
    assert!(x.batch_norm_training(None, None, 3, EPS, None).is_err());
    assert!(
        x.batch_norm_inference(&[0.0; 4], &[1.0; 4], None, Some(&three), 2, EPS)
            .is_err()
    );
    assert!(
        x.batch_norm_inference(&[0.0; 3], &[1.0; 4], Some(&four), None, 2, EPS)
            .is_err()
    );
    // A mask must be the input's shape without the last axis, and the feature axis must be last.
    let mask = Tensor::new(ArrayD::ones(IxDyn(&[2, 3])));
    assert!(
        x.batch_norm_training(None, None, 2, EPS, Some(&mask))
            .is_ok()
    );
    let err = x
        .batch_norm_training(None, None, 1, EPS, Some(&mask))
        .unwrap_err()
        .to_string();
    assert!(err.contains("mask"), "{err}");
    let wrong = Tensor::new(ArrayD::ones(IxDyn(&[3, 2])));
    assert!(
        x.batch_norm_training(None, None, 2, EPS, Some(&wrong))
            .is_err()
    );
}
