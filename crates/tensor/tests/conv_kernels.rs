//! Convolution and pooling: the GEMM kernels against direct references over awkward geometries (padding,
//! strides, dilation, groups, shards), serial and parallel bit-identical, and finite-difference gradient checks
//! of the ops.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::kernels::{
    Conv2dGeometry, Conv2dGrads, ConvPadding, Parallelism, avg_pool2d_forward, conv2d_backward,
    conv2d_forward, conv2d_reference, max_pool2d_forward, pool2d_reference,
};
use rkeras_tensor::ops::Conv2dOptions;
use rkeras_tensor::{Initializer, Tensor};

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
        ([2, 6, 7, 4], [2, 2, 1, 4], [2, 2], [1, 1], Valid, 4),
        ([2, 4, 4, 2], [4, 4, 2, 1], [1, 1], [1, 1], Same, 1),
        // Depthwise (one group per channel) with strides and dilation above 1 together, as DepthwiseConv2D and
        // SeparableConv2D accept them: 12×12, kernel 3, stride 2, dilation 2 → 4×4 (valid); unequal per axis (same).
        ([3, 12, 12, 3], [3, 3, 1, 6], [2, 2], [2, 2], Valid, 3),
        ([2, 12, 11, 2], [3, 2, 1, 2], [2, 3], [3, 2], Same, 2),
        // 128 images of 28×28 with 32 filters: several shards of several images each.
        ([40, 12, 12, 3], [3, 3, 3, 8], [1, 1], [1, 1], Valid, 1),
        // Stride 1, unpadded, 8 or more channels: the implicit-GEMM path (no im2col), two shards of images.
        ([3, 7, 6, 9], [3, 2, 9, 5], [1, 1], [1, 1], Valid, 1),
        ([40, 12, 12, 8], [3, 3, 8, 6], [1, 1], [1, 1], Valid, 1),
        // 3×3, stride 1, 8 or more channels and filters: Winograd F(2×2, 3×3) for the forward pass and the input
        // gradient, `valid` (odd and even sizes) and `same`, two shards of images each.
        ([9, 24, 23, 8], [3, 3, 8, 9], [1, 1], [1, 1], Valid, 1),
        ([7, 21, 22, 9], [3, 3, 9, 16], [1, 1], [1, 1], Same, 1),
        ([3, 15, 16, 33], [3, 3, 33, 8], [1, 1], [1, 1], Same, 1),
    ]
}

fn geometry(case: &Case) -> Conv2dGeometry {
    let (input, kernel, strides, dilation, padding, groups) = *case;
    Conv2dGeometry::conv(&input, &kernel, strides, dilation, padding, groups).unwrap()
}

fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
fn conv2d_forward_matches_the_direct_reference() {
    for (n, case) in cases().iter().enumerate() {
        let g = geometry(case);
        let x = values(case.0.iter().product(), n as u64);
        let k = values(case.1.iter().product(), 100 + n as u64);
        let b = values(g.out_c, 200 + n as u64);
        let len = g.output_shape().iter().product();
        let mut expected = vec![0.0; len];
        conv2d_reference(&x, &k, Some(&b), &mut expected, &g).unwrap();
        let mut serial = vec![f32::NAN; len];
        conv2d_forward(&x, &k, Some(&b), &mut serial, &g, Parallelism::None).unwrap();
        assert_close(&serial, &expected, 1e-5, &format!("{case:?}"));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut parallel = vec![f32::NAN; len];
        pool.install(|| conv2d_forward(&x, &k, Some(&b), &mut parallel, &g, Parallelism::Rayon(0)))
            .unwrap();
        assert_eq!(
            serial, parallel,
            "bit-identical with 1 and 2 threads: {case:?}"
        );
    }
}

/// `⟨conv(x), dy⟩` is linear in `x` and in `k`: its gradients are the backward kernel's outputs, and each
/// output must agree with the directional derivative computed from the reference.
#[test]
fn conv2d_backward_is_the_adjoint_of_the_reference() {
    for (n, case) in cases().iter().enumerate() {
        let g = geometry(case);
        let (xl, kl) = (
            case.0.iter().product::<usize>(),
            case.1.iter().product::<usize>(),
        );
        let len: usize = g.output_shape().iter().product();
        let (x, k, dy) = (
            values(xl, n as u64),
            values(kl, 50 + n as u64),
            values(len, 70 + n as u64),
        );
        let (dx_dir, dk_dir) = (values(xl, 90 + n as u64), values(kl, 95 + n as u64));
        let (mut dx, mut dk, mut db) = (
            vec![f32::NAN; xl],
            vec![f32::NAN; kl],
            vec![f32::NAN; g.out_c],
        );
        conv2d_backward(
            &x,
            &k,
            &dy,
            Conv2dGrads {
                input: Some(&mut dx),
                kernel: Some(&mut dk),
                bias: Some(&mut db),
            },
            &g,
            Parallelism::None,
        )
        .unwrap();
        let inner = |x: &[f32], k: &[f32]| {
            let mut y = vec![0.0; len];
            conv2d_reference(x, k, None, &mut y, &g).unwrap();
            y.iter()
                .zip(&dy)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum::<f64>()
        };
        let dot = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum::<f64>()
        };
        // Linear in x: ⟨conv(v, k), dy⟩ = ⟨v, dx⟩; linear in k: ⟨conv(x, u), dy⟩ = ⟨u, dk⟩.
        let (lhs, rhs) = (inner(&dx_dir, &k), dot(&dx_dir, &dx));
        assert!(
            (lhs - rhs).abs() < 1e-4 * (1.0 + lhs.abs()),
            "dx {case:?}: {lhs} vs {rhs}"
        );
        let (lhs, rhs) = (inner(&x, &dk_dir), dot(&dk_dir, &dk));
        assert!(
            (lhs - rhs).abs() < 1e-4 * (1.0 + lhs.abs()),
            "dk {case:?}: {lhs} vs {rhs}"
        );
        for (f, &d) in db.iter().enumerate() {
            let expected: f64 = dy
                .iter()
                .skip(f)
                .step_by(g.out_c)
                .map(|&v| f64::from(v))
                .sum();
            assert!((f64::from(d) - expected).abs() < 1e-4, "db {case:?}");
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (mut px, mut pk, mut pb) = (vec![0.0; xl], vec![0.0; kl], vec![0.0; g.out_c]);
        pool.install(|| {
            conv2d_backward(
                &x,
                &k,
                &dy,
                Conv2dGrads {
                    input: Some(&mut px),
                    kernel: Some(&mut pk),
                    bias: Some(&mut pb),
                },
                &g,
                Parallelism::Rayon(0),
            )
        })
        .unwrap();
        assert_eq!(
            (px, pk, pb),
            (dx, dk, db),
            "bit-identical with 1 and 2 threads: {case:?}"
        );
    }
}

#[test]
fn pooling_matches_the_direct_reference() {
    use ConvPadding::*;
    for (n, (input, pool, strides, padding)) in [
        ([2, 6, 6, 3], [2, 2], [2, 2], Valid),
        ([2, 7, 5, 2], [3, 2], [2, 2], Same),
        ([1, 5, 5, 1], [3, 3], [1, 1], Same),
        ([3, 9, 4, 4], [2, 3], [3, 1], Valid),
    ]
    .into_iter()
    .enumerate()
    {
        let g = Conv2dGeometry::pool(&input, pool, strides, padding).unwrap();
        let x = values(input.iter().product(), 300 + n as u64);
        let len = g.output_shape().iter().product();
        for max in [true, false] {
            let mut expected = vec![0.0; len];
            pool2d_reference(&x, &mut expected, &g, max).unwrap();
            let mut got = vec![f32::NAN; len];
            if max {
                let mut argmax = vec![0; len];
                max_pool2d_forward(&x, &mut got, &mut argmax, &g, Parallelism::Rayon(0)).unwrap();
                assert!(argmax.iter().zip(&got).all(|(&i, &v)| x[i] == v));
            } else {
                avg_pool2d_forward(&x, &mut got, &g, Parallelism::Rayon(0)).unwrap();
            }
            assert_close(
                &got,
                &expected,
                1e-6,
                &format!("{input:?} {pool:?} {padding:?} max={max}"),
            );
        }
    }
}

fn input(shape: &[usize], seed: u64) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(shape), values(shape.iter().product(), seed)).unwrap()
}

fn check(inputs: &[ArrayD<f32>], f: impl Fn(&[Tensor]) -> rkeras_tensor::Result<Tensor>) {
    let report = check_gradients(inputs, f, GradCheck::default()).unwrap();
    assert!(report.passed() && report.compared > 0, "{report:?}");
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    for (n, case) in cases().iter().take(6).enumerate() {
        let (x, k) = (input(&case.0, n as u64), input(&case.1, 10 + n as u64));
        let b = input(&[case.1[3]], 20 + n as u64);
        let options = Conv2dOptions {
            strides: case.2,
            dilation: case.3,
            padding: case.4,
            groups: case.5,
        };
        check(&[x, k, b], |t| t[0].conv2d(&t[1], Some(&t[2]), options));
    }
}

/// Through the op on Winograd's path (3×3, stride 1, 8 channels and filters), `valid` and `same`.
#[test]
fn winograd_conv2d_gradients_match_finite_differences() {
    for (n, (shape, padding)) in [
        ([2, 5, 6, 8], ConvPadding::Valid),
        ([1, 4, 5, 8], ConvPadding::Same),
    ]
    .into_iter()
    .enumerate()
    {
        let (x, k) = (
            input(&shape, 30 + n as u64),
            input(&[3, 3, 8, 8], 40 + n as u64),
        );
        let b = input(&[8], 50 + n as u64);
        let options = Conv2dOptions {
            padding,
            ..Conv2dOptions::default()
        };
        check(&[x, k, b], |t| t[0].conv2d(&t[1], Some(&t[2]), options));
    }
}

#[test]
fn pooling_gradients_match_finite_differences() {
    // Values spaced apart so that no window has a near-tie within eps.
    let mut x = input(&[2, 5, 5, 2], 7);
    x.iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v += (i % 17) as f32 * 0.3);
    for padding in [ConvPadding::Valid, ConvPadding::Same] {
        check(&[x.clone()], |t| t[0].max_pool2d([2, 2], [2, 2], padding));
        check(&[x.clone()], |t| t[0].avg_pool2d([3, 2], [2, 1], padding));
    }
    // Hand-derived: the maximum of each window receives the whole gradient, the others nothing.
    let x = Tensor::leaf(
        ndarray::arr1(&[1.0f32, 4.0, 3.0, 2.0])
            .into_shape_with_order(IxDyn(&[1, 2, 2, 1]))
            .unwrap(),
    );
    let grads = x
        .max_pool2d([2, 2], [1, 1], ConvPadding::Valid)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(
        grads.get(&x).unwrap().iter().copied().collect::<Vec<_>>(),
        vec![0.0, 1.0, 0.0, 0.0]
    );
}

#[test]
fn bad_shapes_are_typed_errors() {
    let x = Tensor::zeros(&[1, 4, 4, 3]);
    let err = x
        .conv2d(
            &Tensor::zeros(&[3, 3, 2, 4]),
            None,
            Conv2dOptions::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("groups=1"), "{err}");
    let err = x
        .conv2d(
            &Tensor::zeros(&[5, 5, 3, 4]),
            None,
            Conv2dOptions::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("does not fit"), "{err}");
    assert!(
        x.conv2d(
            &Tensor::zeros(&[3, 3, 3, 4]),
            Some(&Tensor::zeros(&[3])),
            Conv2dOptions::default()
        )
        .is_err()
    );
    assert!(
        Tensor::zeros(&[4, 4, 3])
            .max_pool2d([2, 2], [2, 2], ConvPadding::Valid)
            .is_err()
    );
}
