//! The fused and storage-free fast paths of the convnet against the ops they replace, bit for bit:
//! `conv2d_relu` against `conv2d` then `relu` (values and every gradient), and max pooling's backward pass that
//! selects the maxima again from the input against the one that records them, on one and two threads.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::kernels::{
    Conv2dGeometry, ConvPadding, Parallelism, max_pool2d_backward, max_pool2d_backward_replay,
    max_pool2d_forward, max_pool2d_values,
};
use rkeras_tensor::ops::Conv2dOptions;
use rkeras_tensor::{Initializer, Tensor};

mod support;
use support::two_threads;

fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    Initializer::RandomUniform {
        min: -1.0,
        max: 1.0,
    }
    .sample(&[len], &mut rng)
    .unwrap()
    .into_raw_vec_and_offset()
    .0
}

fn array(shape: &[usize], seed: u64) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), values(shape.iter().product(), seed)).unwrap()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// (input, kernel, strides, dilation, padding, groups)
type Case = (
    [usize; 4],
    [usize; 4],
    [usize; 2],
    [usize; 2],
    ConvPadding,
    usize,
);

fn cases() -> Vec<Case> {
    use ConvPadding::*;
    vec![
        ([2, 5, 5, 1], [3, 3, 1, 4], [1, 1], [1, 1], Valid, 1),
        ([3, 7, 6, 3], [3, 2, 3, 5], [2, 1], [1, 1], Same, 1),
        ([2, 8, 8, 4], [3, 3, 2, 6], [1, 1], [2, 2], Same, 2),
        ([1, 1, 9, 2], [1, 3, 2, 3], [1, 2], [1, 2], Causal, 1),
        // Implicit GEMM (stride 1, valid, ≥ 8 channels) with an unequal kernel, the mask applied as it is read.
        ([3, 7, 6, 9], [3, 2, 9, 5], [1, 1], [1, 1], Valid, 1),
        // The convnet's second layer on a few images: several shards.
        ([6, 26, 26, 32], [3, 3, 32, 64], [1, 1], [1, 1], Valid, 1),
    ]
}

fn options(case: &Case) -> Conv2dOptions {
    Conv2dOptions {
        strides: case.2,
        dilation: case.3,
        padding: case.4,
        groups: case.5,
    }
}

/// The output and the gradients of `sum(y · w)` for input, kernel and bias, as bit patterns.
fn run(case: &Case, seed: u64, fused: bool) -> Vec<Vec<u32>> {
    let x = Tensor::leaf(array(&case.0, seed));
    let k = Tensor::leaf(array(&case.1, seed + 1));
    let b = Tensor::leaf(array(&[case.1[3]], seed + 2));
    let y = if fused {
        x.conv2d_relu(&k, Some(&b), options(case)).unwrap()
    } else {
        x.conv2d(&k, Some(&b), options(case))
            .unwrap()
            .relu()
            .unwrap()
    };
    let w = Tensor::new(array(y.shape(), seed + 3));
    let grads = y.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
    let mut out = vec![bits(&y.to_vec())];
    for t in [&x, &k, &b] {
        out.push(bits(
            &grads.get(t).unwrap().iter().copied().collect::<Vec<_>>(),
        ));
    }
    out
}

#[test]
fn conv2d_relu_is_conv2d_then_relu_bit_for_bit_on_one_and_two_threads() {
    for (n, case) in cases().iter().enumerate() {
        let seed = 10 * n as u64;
        let separate = run(case, seed, false);
        let fused = run(case, seed, true);
        assert_eq!(fused, separate, "case {case:?}");
        assert!(
            fused[0].contains(&0) && fused[0].iter().any(|&v| v != 0),
            "case {case:?}: the ReLU must cut some outputs and pass others"
        );
        assert_eq!(
            two_threads(|| run(case, seed, true)),
            fused,
            "case {case:?}"
        );
    }
}

#[test]
fn conv2d_relu_gradients_match_finite_differences() {
    // Inputs and kernel on a grid of 0.5 and biases of ±0.125 keep every pre-activation at least 0.125 away
    // from ReLU's kink, far beyond what a finite-difference step moves it.
    let grid = |shape: &[usize], seed: u64| array(shape, seed).mapv(|v| (v * 2.0).round() / 2.0);
    for (n, case) in cases().iter().take(4).enumerate() {
        let (x, k) = (grid(&case.0, n as u64), grid(&case.1, 10 + n as u64));
        let b = ArrayD::from_shape_fn(IxDyn(&[case.1[3]]), |i| {
            if i[0] % 2 == 0 { 0.125 } else { -0.125 }
        });
        let report = check_gradients(
            &[x, k, b],
            |t| t[0].conv2d_relu(&t[1], Some(&t[2]), options(case)),
            GradCheck::default(),
        )
        .unwrap();
        assert!(
            report.passed() && report.compared > 0,
            "{case:?}: {report:?}"
        );
    }
}

/// Inputs with ties, a NaN and −∞ besides random values.
fn pool_input(len: usize, seed: u64) -> Vec<f32> {
    let mut x = values(len, seed);
    for (i, v) in x.iter_mut().enumerate() {
        match i % 11 {
            0 | 5 => *v = 0.25,
            7 if i % 3 == 0 => *v = f32::NAN,
            9 if i % 2 == 0 => *v = f32::NEG_INFINITY,
            _ => {}
        }
    }
    x
}

#[test]
fn max_pool_replayed_backward_is_the_recorded_one_bit_for_bit() {
    use ConvPadding::*;
    for (n, (input, pool, strides, padding)) in [
        ([2, 6, 6, 3], [2, 2], [2, 2], Valid),
        ([2, 7, 5, 2], [3, 2], [2, 2], Same),
        // Overlapping windows: one input receives several gradients, added in output order.
        ([3, 5, 5, 4], [3, 3], [1, 1], Same),
        ([3, 9, 4, 17], [2, 3], [3, 1], Valid),
        ([8, 24, 24, 64], [2, 2], [2, 2], Valid),
        // Windows inside the input that overlap, and ones that leave the last row and column out.
        ([2, 7, 7, 3], [3, 3], [2, 2], Valid),
        ([2, 7, 7, 5], [2, 2], [2, 2], Valid),
    ]
    .into_iter()
    .enumerate()
    {
        let g = Conv2dGeometry::pool(&input, pool, strides, padding).unwrap();
        let x = pool_input(input.iter().product(), 40 + n as u64);
        let len = g.output_shape().iter().product();
        // Some gradients −0: the sum starting from +0 must come out +0 there as well.
        let mut dy = values(len, 90 + n as u64);
        dy.iter_mut().step_by(13).for_each(|v| *v = -0.0);
        let (mut recorded, mut argmax) = (vec![0.0; len], vec![0; len]);
        max_pool2d_forward(&x, &mut recorded, &mut argmax, &g, Parallelism::None).unwrap();
        let mut expected = vec![f32::NAN; x.len()];
        max_pool2d_backward(&dy, &argmax, &mut expected, &g).unwrap();
        assert!(expected.iter().any(|&v| v != 0.0));
        for par in [Parallelism::None, Parallelism::Rayon(0)] {
            let run = || {
                let mut y = vec![f32::NAN; len];
                max_pool2d_values(&x, &mut y, &g, par).unwrap();
                let mut dx = vec![f32::NAN; x.len()];
                max_pool2d_backward_replay(&x, &dy, &mut dx, &g, par).unwrap();
                (bits(&y), bits(&dx))
            };
            let want = (bits(&recorded), bits(&expected));
            assert_eq!(run(), want, "{input:?} {pool:?} {padding:?} {par:?}");
            assert_eq!(two_threads(run), want, "{input:?} {pool:?} {padding:?}");
        }
    }
}

#[test]
fn max_pool_replay_rejects_mismatched_lengths() {
    let g = Conv2dGeometry::pool(&[1, 4, 4, 2], [2, 2], [2, 2], ConvPadding::Valid).unwrap();
    let (x, dy) = (vec![0.0; 32], vec![0.0; 8]);
    let mut dx = vec![0.0; 31];
    let err = max_pool2d_backward_replay(&x, &dy, &mut dx, &g, Parallelism::None).unwrap_err();
    assert!(err.to_string().contains("input gradient"), "{err}");
    let mut y = vec![0.0; 7];
    assert!(max_pool2d_values(&x, &mut y, &g, Parallelism::None).is_err());
}
