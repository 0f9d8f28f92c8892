//! The fused SimpleRNN kernel against a step-by-step f64 reference (`h_t = f(x_t·W + h_{t-1}·U + b)`) on awkward
//! sizes, every activation, with and without an initial state. Gradients are checked against finite
//! differences in `grad_tests.rs` (`simple_rnn_op_through_the_graph`).

use ndarray::{Array1, Array2, Array3, ArrayD, Axis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_tensor::kernels::simple_rnn::{
    RnnActivation, SimpleRnnParams, simple_rnn_backward, simple_rnn_forward,
};

fn reference(x: &Array3<f32>, params: &SimpleRnnParams, h0: Option<&Array2<f32>>) -> Array3<f64> {
    let (batch, time, input_dim) = x.dim();
    let units = params.bias.len();
    let f = |z: f64| match params.activation {
        RnnActivation::Tanh => z.tanh(),
        RnnActivation::Relu => z.max(0.0),
        RnnActivation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        RnnActivation::Linear => z,
    };
    let mut out = Array3::zeros((batch, time, units));
    for n in 0..batch {
        let mut h: Vec<f64> = (0..units)
            .map(|j| h0.map_or(0.0, |h0| f64::from(h0[[n, j]])))
            .collect();
        for t in 0..time {
            let next: Vec<f64> = (0..units)
                .map(|j| {
                    let mut z = f64::from(params.bias[j]);
                    for k in 0..input_dim {
                        z += f64::from(x[[n, t, k]]) * f64::from(params.kernel[[k, j]]);
                    }
                    for (k, h_k) in h.iter().enumerate() {
                        z += h_k * f64::from(params.recurrent_kernel[[k, j]]);
                    }
                    f(z)
                })
                .collect();
            for j in 0..units {
                out[[n, t, j]] = next[j];
            }
            h = next;
        }
    }
    out
}

#[test]
fn forward_matches_the_step_by_step_reference() {
    let sizes = [(1, 1, 7, 3), (3, 5, 7, 3), (3, 5, 7, 32), (2, 6, 1, 5)];
    for (seed, &(batch, time, input_dim, units)) in sizes.iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(seed as u64);
        let mut uniform = |s: f32| rng.random_range(-s..s);
        let x = Array3::from_shape_fn((batch, time, input_dim), |_| uniform(1.0));
        let kernel = Array2::from_shape_fn((input_dim, units), |_| uniform(0.6));
        let recurrent = Array2::from_shape_fn((units, units), |_| uniform(0.6));
        let bias = Array1::from_shape_fn(units, |_| uniform(0.6));
        let h0 = Array2::from_shape_fn((batch, units), |_| uniform(0.9));
        for (_, activation) in RnnActivation::NAMES {
            let params = SimpleRnnParams {
                kernel: kernel.view(),
                recurrent_kernel: recurrent.view(),
                bias: bias.view(),
                activation,
            };
            for state in [None, Some(&h0)] {
                let expected = reference(&x, &params, state);
                let (sequence, _) =
                    simple_rnn_forward(x.view(), &params, state.map(|h| h.view()), true).unwrap();
                let (last, _) =
                    simple_rnn_forward(x.view(), &params, state.map(|h| h.view()), false).unwrap();
                let error = |a: &ArrayD<f32>, e: ArrayD<f64>| {
                    assert_eq!(a.shape(), e.shape());
                    a.iter()
                        .zip(e.iter())
                        .map(|(&a, e)| (f64::from(a) - e).abs() / (1.0 + e.abs()))
                        .fold(0.0, f64::max)
                };
                let last_expected = expected.index_axis(Axis(1), time - 1).to_owned().into_dyn();
                assert!(
                    error(&sequence, expected.into_dyn()) < 1e-5,
                    "{activation:?}"
                );
                assert!(error(&last, last_expected) < 1e-5, "{activation:?}");
            }
        }
    }
}

#[test]
fn relu_passes_no_gradient_through_inactive_units() {
    // One unit, kernel −1, x = 1: the pre-activation is −1 at every step, so h = 0 and nothing flows back.
    let (kernel, recurrent, bias) = (
        Array2::from_elem((1, 1), -1.0f32),
        Array2::from_elem((1, 1), 0.5f32),
        Array1::zeros(1),
    );
    let params = SimpleRnnParams {
        kernel: kernel.view(),
        recurrent_kernel: recurrent.view(),
        bias: bias.view(),
        activation: RnnActivation::Relu,
    };
    let x = Array3::from_elem((1, 3, 1), 1.0f32);
    let (out, cache) = simple_rnn_forward(x.view(), &params, None, true).unwrap();
    assert!(out.iter().all(|&h| h == 0.0));
    let grads =
        simple_rnn_backward(x.view(), &params, None, &cache, out.mapv(|_| 1.0).view()).unwrap();
    assert!(grads.x.iter().chain(grads.kernel.iter()).all(|&g| g == 0.0));
}

#[test]
fn shapes_are_checked() {
    let kernel = Array2::<f32>::zeros((3, 2));
    let recurrent = Array2::<f32>::zeros((2, 3));
    let bias = Array1::<f32>::zeros(2);
    let params = SimpleRnnParams {
        kernel: kernel.view(),
        recurrent_kernel: recurrent.view(),
        bias: bias.view(),
        activation: RnnActivation::Tanh,
    };
    let x = Array3::<f32>::zeros((1, 2, 3));
    let error = simple_rnn_forward(x.view(), &params, None, true)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("simple_rnn") && error.contains("[2, 3]"),
        "{error}"
    );
}
