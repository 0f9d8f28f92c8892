//! Transposed convolution: the kernel against the direct scatter reference over awkward geometries (padding,
//! strides, dilation, output padding), serial and parallel bit-identical, the backward pass as the adjoint of
//! the reference, and finite-difference gradient checks of the op (and of the depthwise form of `conv2d`).

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::kernels::{
    Conv2dGeometry, Conv2dGrads, ConvPadding, Parallelism, conv2d_transpose_backward,
    conv2d_transpose_forward, conv2d_transpose_reference,
};
use rkeras_tensor::ops::{Conv2dOptions, Conv2dTransposeOptions};
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

/// (input, kernel [kh, kw, filters, c], options)
fn cases() -> Vec<([usize; 4], [usize; 4], Conv2dTransposeOptions)> {
    use ConvPadding::*;
    let o = |strides, dilation, padding, output_padding| Conv2dTransposeOptions {
        strides,
        dilation,
        padding,
        output_padding,
    };
    vec![
        ([2, 3, 3, 2], [3, 3, 4, 2], o([1, 1], [1, 1], Valid, None)),
        ([2, 3, 4, 3], [3, 3, 2, 3], o([2, 2], [1, 1], Same, None)),
        (
            [1, 4, 3, 2],
            [2, 3, 3, 2],
            o([2, 3], [1, 1], Valid, Some([1, 2])),
        ),
        (
            [2, 3, 3, 1],
            [3, 3, 2, 1],
            o([2, 2], [1, 1], Same, Some([1, 0])),
        ),
        ([1, 4, 4, 2], [3, 2, 2, 2], o([1, 1], [2, 2], Same, None)),
        ([2, 2, 3, 2], [2, 2, 3, 2], o([3, 3], [1, 1], Valid, None)),
        (
            [2, 3, 3, 2],
            [4, 4, 1, 2],
            o([2, 2], [1, 1], Same, Some([1, 1])),
        ),
    ]
}

fn geometry(input: &[usize], kernel: &[usize], o: Conv2dTransposeOptions) -> Conv2dGeometry {
    Conv2dGeometry::conv_transpose(
        input,
        kernel,
        o.strides,
        o.dilation,
        o.padding,
        o.output_padding,
    )
    .unwrap()
}

#[test]
fn forward_matches_the_direct_reference_on_one_and_two_threads() {
    for (n, (input, kernel, o)) in cases().into_iter().enumerate() {
        let g = geometry(&input, &kernel, o);
        let x = values(input.iter().product(), n as u64);
        let k = values(kernel.iter().product(), 100 + n as u64);
        let b = values(kernel[2], 200 + n as u64);
        let len: usize = g.transpose_output_shape().iter().product();
        let mut expected = vec![0.0; len];
        conv2d_transpose_reference(&x, &k, Some(&b), &mut expected, &g).unwrap();
        let mut serial = vec![f32::NAN; len];
        conv2d_transpose_forward(&x, &k, Some(&b), &mut serial, &g, Parallelism::None).unwrap();
        for (i, (a, e)) in serial.iter().zip(&expected).enumerate() {
            assert!(
                (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
                "{o:?}[{i}]: {a} vs {e}"
            );
        }
        let mut parallel = vec![f32::NAN; len];
        two_threads(|| {
            conv2d_transpose_forward(&x, &k, Some(&b), &mut parallel, &g, Parallelism::Rayon(0))
        })
        .unwrap();
        assert_eq!(
            serial, parallel,
            "bit-identical with 1 and 2 threads: {o:?}"
        );
    }
}

#[test]
fn keras_output_shapes() {
    let shape = |input: [usize; 4], kernel: [usize; 4], o| {
        geometry(&input, &kernel, o).transpose_output_shape()
    };
    let [a, b, c, d, e, f, g] = cases().try_into().unwrap();
    // (3−1)·1 + 3 = 5; 3·2 = 6 and 4·2 = 8; (4−1)·2 + 2 + 1 = 9 and (3−1)·3 + 3 + 2 = 11; …
    assert_eq!(shape(a.0, a.1, a.2), [2, 5, 5, 4]);
    assert_eq!(shape(b.0, b.1, b.2), [2, 6, 8, 2]);
    assert_eq!(shape(c.0, c.1, c.2), [1, 9, 11, 3]);
    assert_eq!(shape(d.0, d.1, d.2), [2, 6, 5, 2]);
    assert_eq!(shape(e.0, e.1, e.2), [1, 4, 4, 2]);
    assert_eq!(shape(f.0, f.1, f.2), [2, 6, 9, 3]);
    assert_eq!(shape(g.0, g.1, g.2), [2, 5, 5, 1]);
}

/// `⟨conv_transpose(x, k), dy⟩` is linear in `x` and in `k`: each backward output must agree with the
/// directional derivative computed from the reference.
#[test]
fn backward_is_the_adjoint_of_the_reference() {
    for (n, (input, kernel, o)) in cases().into_iter().enumerate() {
        let g = geometry(&input, &kernel, o);
        let (xl, kl) = (input.iter().product(), kernel.iter().product());
        let len: usize = g.transpose_output_shape().iter().product();
        let (x, k, dy) = (
            values(xl, n as u64),
            values(kl, 50 + n as u64),
            values(len, 70 + n as u64),
        );
        let (dx_dir, dk_dir) = (values(xl, 90 + n as u64), values(kl, 95 + n as u64));
        let run = |par| {
            let (mut dx, mut dk, mut db) = (
                vec![f32::NAN; xl],
                vec![f32::NAN; kl],
                vec![f32::NAN; kernel[2]],
            );
            let grads = Conv2dGrads {
                input: Some(&mut dx),
                kernel: Some(&mut dk),
                bias: Some(&mut db),
            };
            conv2d_transpose_backward(&x, &k, &dy, grads, &g, par).unwrap();
            (dx, dk, db)
        };
        let (dx, dk, db) = run(Parallelism::None);
        let inner = |x: &[f32], k: &[f32]| {
            let mut y = vec![0.0; len];
            conv2d_transpose_reference(x, k, None, &mut y, &g).unwrap();
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
        let (lhs, rhs) = (inner(&dx_dir, &k), dot(&dx_dir, &dx));
        assert!(
            (lhs - rhs).abs() < 1e-4 * (1.0 + lhs.abs()),
            "dx {o:?}: {lhs} vs {rhs}"
        );
        let (lhs, rhs) = (inner(&x, &dk_dir), dot(&dk_dir, &dk));
        assert!(
            (lhs - rhs).abs() < 1e-4 * (1.0 + lhs.abs()),
            "dk {o:?}: {lhs} vs {rhs}"
        );
        for (f, &d) in db.iter().enumerate() {
            let expected: f64 = dy
                .iter()
                .skip(f)
                .step_by(kernel[2])
                .map(|&v| f64::from(v))
                .sum();
            assert!((f64::from(d) - expected).abs() < 1e-4, "db {o:?}");
        }
        assert_eq!(
            two_threads(|| run(Parallelism::Rayon(0))),
            (dx, dk, db),
            "bit-identical with 1 and 2 threads: {o:?}"
        );
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
fn conv2d_transpose_gradients_match_finite_differences() {
    for (n, (shape, kernel, o)) in cases().into_iter().enumerate() {
        let (x, k, b) = (
            input(&shape, n as u64),
            input(&kernel, 10 + n as u64),
            input(&[kernel[2]], 20 + n as u64),
        );
        check(&[x, k, b], |t| t[0].conv2d_transpose(&t[1], Some(&t[2]), o));
    }
}

/// DepthwiseConv2D runs as `conv2d` with one group per input channel and the kernel `[kh, kw, c, m]` read as
/// `[kh, kw, 1, c·m]`; its gradients, strided and dilated, checked the same way.
#[test]
fn depthwise_conv2d_gradients_match_finite_differences() {
    for (n, (strides, dilation, padding)) in [
        ([1, 1], [1, 1], ConvPadding::Same),
        ([2, 1], [1, 1], ConvPadding::Valid),
        ([2, 2], [2, 1], ConvPadding::Valid),
        ([1, 1], [1, 2], ConvPadding::Same),
        ([2, 2], [2, 2], ConvPadding::Same),
        ([2, 1], [2, 2], ConvPadding::Valid),
    ]
    .into_iter()
    .enumerate()
    {
        let (x, k) = (
            input(&[2, 6, 5, 3], n as u64),
            input(&[3, 2, 3, 2], 30 + n as u64),
        );
        let options = Conv2dOptions {
            strides,
            dilation,
            padding,
            groups: 3,
        };
        check(&[x, k], |t| {
            t[0].conv2d(&t[1].reshape(&[3, 2, 1, 6])?, None, options)
        });
    }
}

#[test]
fn bad_shapes_are_typed_errors() {
    let x = Tensor::zeros(&[1, 4, 4, 3]);
    let o = Conv2dTransposeOptions::default();
    let err = x
        .conv2d_transpose(&Tensor::zeros(&[3, 3, 2, 4]), None, o)
        .unwrap_err();
    assert!(err.to_string().contains("[kh, kw, filters, 3]"), "{err}");
    let err = x
        .conv2d_transpose(
            &Tensor::zeros(&[3, 3, 2, 3]),
            None,
            Conv2dTransposeOptions {
                strides: [2, 2],
                output_padding: Some([2, 1]),
                ..o
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("output_padding"), "{err}");
    assert!(
        x.conv2d_transpose(&Tensor::zeros(&[3, 3, 2, 3]), Some(&Tensor::zeros(&[3])), o)
            .is_err()
    );
    assert!(
        x.conv2d_transpose(
            &Tensor::zeros(&[3, 3, 2, 3]),
            None,
            Conv2dTransposeOptions {
                padding: ConvPadding::Causal,
                ..o
            }
        )
        .is_err()
    );
}

/// Keras's output size for `same` padding with output padding can be one that no `same` convolution maps back
/// to the input; TensorFlow refuses it, and so does rkeras, with a typed error.
#[test]
fn sizes_tensorflow_refuses_are_typed_errors() {
    let err = Conv2dGeometry::conv_transpose(
        &[1, 4, 4, 1],
        &[2, 2, 2, 1],
        [1, 1],
        [1, 1],
        ConvPadding::Same,
        Some([0, 0]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not convolve back"), "{err}");
}
