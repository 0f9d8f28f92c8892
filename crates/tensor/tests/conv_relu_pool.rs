//! `conv2d_relu_max_pool2d` against `conv2d_relu` then `max_pool2d`, bit for bit (values and the input, kernel
//! and bias gradients) on one and two threads, with ties and windows that leave rows out; finite differences;
//! overlapping windows falling back to the two ops; the kernels' argument checks.

use ndarray::ArrayD;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::kernels::{
    Conv2dGeometry, Conv2dGrads, ConvPadding, Parallelism, conv_relu_pool_applies,
    conv2d_relu_max_pool2d_backward, conv2d_relu_max_pool2d_forward,
};
use rkeras_tensor::ops::Conv2dOptions;
use rkeras_tensor::{Initializer, Tensor};

mod support;
use support::two_threads;

fn array(shape: &[usize], seed: u64, grid: bool) -> ArrayD<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let values = Initializer::RandomUniform {
        min: -1.0,
        max: 1.0,
    }
    .sample(shape, &mut rng)
    .unwrap();
    // On a grid of 0.5 many windows tie and many pre-activations are exactly 0.
    if grid {
        values.mapv(|v| (v * 2.0).round() / 2.0)
    } else {
        values
    }
}

fn bits(values: &ArrayD<f32>) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// (input, kernel, conv strides, conv padding, pool, pool strides)
type Case = (
    [usize; 4],
    [usize; 4],
    [usize; 2],
    ConvPadding,
    [usize; 2],
    [usize; 2],
);

fn cases() -> Vec<Case> {
    use ConvPadding::*;
    vec![
        // Direct kernel (one channel in), 2×2 windows over 3×3: the last row and column in no window.
        ([2, 5, 5, 1], [3, 3, 1, 4], [1, 1], Valid, [2, 2], [2, 2]),
        // im2col (strided, `same`), 2×3 windows tiling 4×6.
        ([3, 7, 6, 3], [3, 2, 3, 5], [2, 1], Same, [2, 3], [2, 3]),
        // Implicit GEMM (≥ 8 channels in), windows with gaps between them.
        ([3, 7, 6, 9], [3, 2, 9, 5], [1, 1], Valid, [2, 2], [3, 2]),
        // The convnet's second layer on 6 images: shards of 4 and 2.
        (
            [6, 26, 26, 32],
            [3, 3, 32, 64],
            [1, 1],
            Valid,
            [2, 2],
            [2, 2],
        ),
    ]
}

fn options(case: &Case) -> Conv2dOptions {
    Conv2dOptions {
        strides: case.2,
        padding: case.3,
        ..Conv2dOptions::default()
    }
}

/// The output and the gradients of `sum(y · w)` for input, kernel and bias, as bit patterns.
fn run(case: &Case, seed: u64, grid: bool, fused: bool) -> Vec<Vec<u32>> {
    let x = Tensor::leaf(array(&case.0, seed, grid));
    let k = Tensor::leaf(array(&case.1, seed + 1, grid));
    let b = Tensor::leaf(array(&[case.1[3]], seed + 2, grid));
    let (pool, strides) = (case.4, case.5);
    let y = if fused {
        x.conv2d_relu_max_pool2d(
            &k,
            Some(&b),
            options(case),
            pool,
            strides,
            ConvPadding::Valid,
        )
    } else {
        x.conv2d_relu(&k, Some(&b), options(case))
            .and_then(|y| y.max_pool2d(pool, strides, ConvPadding::Valid))
    }
    .unwrap();
    assert_eq!(
        y.op_name(),
        Some(if fused {
            "conv2d_relu_max_pool2d"
        } else {
            "max_pool2d"
        })
    );
    // Negative weights too, so that gradients stopped by the mask come out as −0 where the unfused ops give it.
    let w = Tensor::new(array(y.shape(), seed + 3, false));
    let grads = y.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
    let mut out = vec![bits(y.data())];
    for t in [&x, &k, &b] {
        out.push(bits(grads.get(t).unwrap()));
    }
    out
}

#[test]
fn the_fused_op_is_conv2d_relu_then_max_pool2d_bit_for_bit_on_one_and_two_threads() {
    for (n, case) in cases().iter().enumerate() {
        for grid in [false, true] {
            let seed = 10 * n as u64;
            let separate = run(case, seed, grid, false);
            let fused = run(case, seed, grid, true);
            assert_eq!(fused, separate, "case {case:?}, grid {grid}");
            assert!(
                fused[0].contains(&0) && fused[0].iter().any(|&v| v != 0),
                "case {case:?}: the ReLU must cut some outputs and pass others"
            );
            assert_eq!(
                two_threads(|| run(case, seed, grid, true)),
                fused,
                "case {case:?}"
            );
        }
    }
}

/// Input, kernel and bias gradients of `sum(dropout(y) · w)` for the fused op's `y` or the two ops', as bit
/// patterns, and whether `y`'s values were alive after dropout's forward pass (the caller's `y` dropped).
fn dropped_out(case: &Case, seed: u64, fused: bool) -> (Vec<Vec<u32>>, bool) {
    let x = Tensor::leaf(array(&case.0, seed, true));
    let k = Tensor::leaf(array(&case.1, seed + 1, true));
    let b = Tensor::leaf(array(&[case.1[3]], seed + 2, true));
    let (pool, strides, valid) = (case.4, case.5, ConvPadding::Valid);
    let y = if fused {
        x.conv2d_relu_max_pool2d(&k, Some(&b), options(case), pool, strides, valid)
    } else {
        x.conv2d_relu(&k, Some(&b), options(case))
            .and_then(|y| y.max_pool2d(pool, strides, valid))
    }
    .unwrap();
    let values = std::sync::Arc::downgrade(&y.data_arc());
    let d = y.dropout(0.4, &mut StdRng::seed_from_u64(seed)).unwrap();
    drop(y);
    let alive = values.upgrade().is_some();
    let w = Tensor::new(array(d.shape(), seed + 3, false));
    let grads = d.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
    let grads = [&x, &k, &b].map(|t| bits(grads.get(t).unwrap()));
    (grads.to_vec(), alive)
}

#[test]
fn dropout_after_the_fused_op_frees_its_output_and_keeps_the_gradients() {
    for case in [&cases()[0], &cases()[3]] {
        let (separate, held) = dropped_out(case, 7, false);
        let (fused, fused_held) = dropped_out(case, 7, true);
        // The fused op's backward pass reads its winners, not its output: dropout holds its place only.
        assert!(held && !fused_held, "{case:?}");
        assert_eq!(fused, separate, "{case:?}");
        assert_eq!(two_threads(|| dropped_out(case, 7, true)).0, fused);
    }
}

#[test]
fn the_fused_op_matches_finite_differences() {
    // Continuous values and a small step: no ties within a window and no pre-activation within a step of
    // ReLU's kink.
    for (n, case) in cases().iter().take(3).enumerate() {
        let (x, k) = (
            array(&case.0, n as u64, false),
            array(&case.1, 10 + n as u64, false),
        );
        let b = array(&[case.1[3]], 20 + n as u64, false);
        let report = check_gradients(
            &[x, k, b],
            |t| {
                t[0].conv2d_relu_max_pool2d(
                    &t[1],
                    Some(&t[2]),
                    options(case),
                    case.4,
                    case.5,
                    ConvPadding::Valid,
                )
            },
            GradCheck {
                eps: 1e-3,
                atol: 2e-3,
                ..GradCheck::default()
            },
        )
        .unwrap();
        assert!(
            report.passed() && report.compared > 0,
            "{case:?}: {report:?}"
        );
    }
}

#[test]
fn overlapping_or_padded_windows_run_as_the_two_ops() {
    let x = Tensor::leaf(array(&[2, 6, 6, 3], 1, false));
    let k = Tensor::leaf(array(&[3, 3, 3, 4], 2, false));
    for (strides, padding) in [([1, 1], ConvPadding::Valid), ([3, 3], ConvPadding::Same)] {
        let fused = x
            .conv2d_relu_max_pool2d(&k, None, Conv2dOptions::default(), [2, 2], strides, padding)
            .unwrap();
        let separate = x
            .conv2d_relu(&k, None, Conv2dOptions::default())
            .and_then(|y| y.max_pool2d([2, 2], strides, padding))
            .unwrap();
        assert_eq!(fused.op_name(), Some("max_pool2d"));
        assert_eq!(bits(fused.data()), bits(separate.data()));
    }
}

#[test]
fn the_kernels_check_their_geometries_and_lengths() {
    let conv = Conv2dGeometry::conv(
        &[1, 4, 4, 1],
        &[3, 3, 1, 2],
        [1, 1],
        [1, 1],
        ConvPadding::Valid,
        1,
    )
    .unwrap();
    let pool = Conv2dGeometry::pool(&[1, 2, 2, 2], [2, 2], [2, 2], ConvPadding::Valid).unwrap();
    let overlapping =
        Conv2dGeometry::pool(&[1, 2, 2, 2], [2, 2], [1, 1], ConvPadding::Valid).unwrap();
    let other = Conv2dGeometry::pool(&[1, 4, 4, 2], [2, 2], [2, 2], ConvPadding::Valid).unwrap();
    assert!(conv_relu_pool_applies(&conv, &pool));
    assert!(!conv_relu_pool_applies(&conv, &other));
    let (x, k) = (vec![1.0; 16], vec![0.5; 18]);
    let (mut out, mut winners) = (vec![0.0; 2], vec![0u8; 2]);
    let forward = |pool: &Conv2dGeometry, x: &[f32], out: &mut [f32], winners: &mut [u8]| {
        conv2d_relu_max_pool2d_forward(x, &k, None, out, winners, &conv, pool, Parallelism::None)
    };
    assert!(forward(&overlapping, &x, &mut out, &mut winners).is_err());
    assert!(forward(&pool, &x[1..], &mut out, &mut winners).is_err());
    assert!(forward(&pool, &x, &mut out, &mut winners[1..]).is_err());
    forward(&pool, &x, &mut out, &mut winners).unwrap();
    // Tap 0 wins both windows, and both maxima are positive (the winner byte's high bit).
    assert_eq!((out, winners.clone()), (vec![4.5, 4.5], vec![0x80, 0x80]));
    let mut dk = vec![0.0; 18];
    let grads = Conv2dGrads {
        kernel: Some(&mut dk),
        ..Conv2dGrads::default()
    };
    let saved = winners.as_slice();
    conv2d_relu_max_pool2d_backward(
        &x,
        &k,
        &[1.0, 2.0],
        saved,
        grads,
        &conv,
        &pool,
        Parallelism::None,
    )
    .unwrap();
    // Only output (0, 0) of each filter passes its gradient: the kernel gradient is the first patch (ones).
    assert_eq!(dk, [1.0, 2.0].repeat(9));
    let grads = Conv2dGrads::default();
    assert!(
        conv2d_relu_max_pool2d_backward(
            &x,
            &k,
            &[1.0],
            saved,
            grads,
            &conv,
            &pool,
            Parallelism::None
        )
        .is_err()
    );
}
