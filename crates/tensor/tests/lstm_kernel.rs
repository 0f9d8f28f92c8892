//! The fused LSTM kernel against an independent step-by-step reference in f64: forward values on awkward sizes,
//! and every gradient of `lstm_backward` against central finite differences of the reference.

use ndarray::{Array1, Array2, Array3, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_tensor::kernels::lstm::{
    GateActivation, LstmParams, lstm_backward, lstm_backward_weights, lstm_forward,
    lstm_forward_inference,
};

/// Weights and input in f32, as the kernel takes them.
struct Problem {
    x: Array3<f32>,
    kernel: Array2<f32>,
    recurrent_kernel: Array2<f32>,
    bias: Array1<f32>,
    activation: GateActivation,
}

impl Problem {
    /// Uniform values in `(-scale, scale)`; the input in `(-1, 1)`.
    fn random(
        dims: (usize, usize, usize, usize),
        activation: GateActivation,
        scale: f32,
        seed: u64,
    ) -> Self {
        let (batch, time, input_dim, units) = dims;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut uniform = |s: f32| rng.random_range(-s..s);
        Problem {
            x: Array3::from_shape_fn((batch, time, input_dim), |_| uniform(1.0)),
            kernel: Array2::from_shape_fn((input_dim, 4 * units), |_| uniform(scale)),
            recurrent_kernel: Array2::from_shape_fn((units, 4 * units), |_| uniform(scale)),
            bias: Array1::from_shape_fn(4 * units, |_| uniform(scale)),
            activation,
        }
    }

    fn params(&self) -> LstmParams<'_> {
        LstmParams {
            kernel: self.kernel.view(),
            recurrent_kernel: self.recurrent_kernel.view(),
            bias: self.bias.view(),
            recurrent_activation: self.activation,
        }
    }

    fn reference(&self) -> Reference {
        Reference {
            x: self.x.mapv(f64::from),
            kernel: self.kernel.mapv(f64::from),
            recurrent_kernel: self.recurrent_kernel.mapv(f64::from),
            bias: self.bias.mapv(f64::from),
            activation: self.activation,
        }
    }
}

/// The same problem in f64, evaluated one sample, step and unit at a time.
#[derive(Clone)]
struct Reference {
    x: Array3<f64>,
    kernel: Array2<f64>,
    recurrent_kernel: Array2<f64>,
    bias: Array1<f64>,
    activation: GateActivation,
}

impl Reference {
    fn gate(&self, z: f64) -> f64 {
        match self.activation {
            GateActivation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            GateActivation::HardSigmoid => (z + 3.0).clamp(0.0, 6.0) / 6.0,
            GateActivation::HardSigmoidKeras2 => (0.2 * z + 0.5).clamp(0.0, 1.0),
        }
    }

    /// The output, and the pre-activations of the i, f and o gates (to see where the hard sigmoid is evaluated).
    fn forward(&self, return_sequences: bool) -> (ArrayD<f64>, Vec<f64>) {
        let (batch, time, input_dim) = self.x.dim();
        let units = self.recurrent_kernel.nrows();
        let mut sequence = Array3::<f64>::zeros((batch, time, units));
        let mut last = Array2::<f64>::zeros((batch, units));
        let mut gate_inputs = Vec::new();
        for n in 0..batch {
            let mut h = vec![0.0; units];
            let mut c = vec![0.0; units];
            for t in 0..time {
                // z[g][j] for gate g in (i, f, c, o) and unit j.
                let mut z = [
                    vec![0.0; units],
                    vec![0.0; units],
                    vec![0.0; units],
                    vec![0.0; units],
                ];
                for (g, z_gate) in z.iter_mut().enumerate() {
                    for (j, z_gj) in z_gate.iter_mut().enumerate() {
                        let column = g * units + j;
                        let mut sum = self.bias[column];
                        for k in 0..input_dim {
                            sum += self.x[[n, t, k]] * self.kernel[[k, column]];
                        }
                        for (k, h_k) in h.iter().enumerate() {
                            sum += h_k * self.recurrent_kernel[[k, column]];
                        }
                        *z_gj = sum;
                    }
                }
                for j in 0..units {
                    gate_inputs.extend([z[0][j], z[1][j], z[3][j]]);
                    let i = self.gate(z[0][j]);
                    let f = self.gate(z[1][j]);
                    let o = self.gate(z[3][j]);
                    c[j] = f * c[j] + i * z[2][j].tanh();
                    h[j] = o * c[j].tanh();
                    sequence[[n, t, j]] = h[j];
                    last[[n, j]] = h[j];
                }
            }
        }
        let output = if return_sequences {
            sequence.into_dyn()
        } else {
            last.into_dyn()
        };
        (output, gate_inputs)
    }

    /// `sum(output · weights)`.
    fn loss(&self, return_sequences: bool, weights: &ArrayD<f64>) -> f64 {
        let (output, _) = self.forward(return_sequences);
        output.iter().zip(weights.iter()).map(|(o, w)| o * w).sum()
    }
}

fn max_abs_difference(actual: &ArrayD<f32>, expected: &ArrayD<f64>) -> f64 {
    assert_eq!(actual.shape(), expected.shape());
    actual
        .iter()
        .zip(expected.iter())
        .map(|(&a, &e)| (f64::from(a) - e).abs())
        .fold(0.0, f64::max)
}

const AWKWARD_SIZES: [(usize, usize, usize, usize); 6] = [
    (1, 1, 7, 3),
    (1, 5, 7, 3),
    (3, 1, 7, 32),
    (3, 5, 7, 3),
    (3, 5, 7, 32),
    (1, 5, 7, 32),
];

#[test]
fn forward_matches_the_step_by_step_reference() {
    for (seed, &dims) in AWKWARD_SIZES.iter().enumerate() {
        for (activation, scale) in [
            (GateActivation::Sigmoid, 0.5),
            (GateActivation::HardSigmoid, 1.2),
            (GateActivation::HardSigmoidKeras2, 1.0),
        ] {
            let problem = Problem::random(dims, activation, scale, seed as u64);
            for return_sequences in [false, true] {
                let (expected, _) = problem.reference().forward(return_sequences);
                let (output, cache) =
                    lstm_forward(problem.x.view(), &problem.params(), return_sequences).unwrap();
                let inference =
                    lstm_forward_inference(problem.x.view(), &problem.params(), return_sequences)
                        .unwrap();
                let error = max_abs_difference(&output, &expected);
                assert!(
                    error < 1e-5,
                    "{dims:?} {activation:?} sequences={return_sequences}: error {error}"
                );
                assert_eq!(inference, output);
                assert_eq!(cache.return_sequences(), return_sequences);
                let (full, _) = problem.reference().forward(true);
                assert!(
                    max_abs_difference(&cache.hidden_states().to_owned().into_dyn(), &full) < 1e-5
                );
            }
        }
    }
}

#[test]
fn forward_matches_the_reference_at_the_memory_network_size() {
    let problem = Problem::random((32, 4, 132, 32), GateActivation::Sigmoid, 0.1, 99);
    let (expected, _) = problem.reference().forward(false);
    let output = lstm_forward_inference(problem.x.view(), &problem.params(), false).unwrap();
    assert!(max_abs_difference(&output, &expected) < 1e-5);
}

#[test]
fn strided_inputs_and_weights_give_the_same_result() {
    let problem = Problem::random((3, 5, 7, 4), GateActivation::Sigmoid, 0.5, 7);
    let (expected, _) = problem.reference().forward(true);
    // The same values stored time-major and with transposed weight matrices, seen through permuted views.
    let x_time_major = problem
        .x
        .view()
        .permuted_axes([1, 0, 2])
        .as_standard_layout()
        .into_owned();
    let kernel_t = problem.kernel.t().as_standard_layout().into_owned();
    let recurrent_t = problem
        .recurrent_kernel
        .t()
        .as_standard_layout()
        .into_owned();
    let bias_strided = Array1::from_shape_fn(2 * problem.bias.len(), |k| problem.bias[k / 2]);
    let params = LstmParams {
        kernel: kernel_t.t(),
        recurrent_kernel: recurrent_t.t(),
        bias: bias_strided.slice(ndarray::s![..;2]),
        recurrent_activation: problem.activation,
    };
    let x = x_time_major.view().permuted_axes([1, 0, 2]);
    assert!(!x.is_standard_layout());
    let (output, cache) = lstm_forward(x, &params, true).unwrap();
    assert!(max_abs_difference(&output, &expected) < 1e-5);

    let grad_output = ArrayD::from_elem(IxDyn(&[3, 5, 4]), 1.0f32);
    let strided = lstm_backward(x, &params, &cache, grad_output.view()).unwrap();
    let (_, plain_cache) = lstm_forward(problem.x.view(), &problem.params(), true).unwrap();
    let plain = lstm_backward(
        problem.x.view(),
        &problem.params(),
        &plain_cache,
        grad_output.view(),
    )
    .unwrap();
    for (a, b) in strided
        .x
        .iter()
        .zip(plain.x.iter())
        .chain(strided.kernel.iter().zip(plain.kernel.iter()))
    {
        assert!((a - b).abs() < 1e-6);
    }
}

/// Checks one analytic gradient against central differences of the f64 reference loss.
///
/// The analytic gradient is computed in f32, the numerical one in f64 with a step of 1e-6, so the numerical
/// value is exact to about 1e-9; the tolerance `2e-5 + 1e-3·|numerical|` covers f32 rounding in the kernel.
fn check_entries(
    name: &str,
    analytic: &[f32],
    reference: &Reference,
    weights: &ArrayD<f64>,
    return_sequences: bool,
    perturb: impl Fn(&mut Reference, usize, f64),
) {
    const EPS: f64 = 1e-6;
    for (index, &analytic) in analytic.iter().enumerate() {
        let mut plus = reference.clone();
        perturb(&mut plus, index, EPS);
        let mut minus = reference.clone();
        perturb(&mut minus, index, -EPS);
        let numerical = (plus.loss(return_sequences, weights)
            - minus.loss(return_sequences, weights))
            / (2.0 * EPS);
        let error = (f64::from(analytic) - numerical).abs();
        assert!(
            error < 2e-5 + 1e-3 * numerical.abs(),
            "{name}[{index}]: analytic {analytic}, numerical {numerical}"
        );
    }
}

fn check_gradients(
    dims: (usize, usize, usize, usize),
    activation: GateActivation,
    return_sequences: bool,
    seed: u64,
) {
    let scale = match activation {
        GateActivation::Sigmoid => 0.6,
        GateActivation::HardSigmoid => 2.2,
        GateActivation::HardSigmoidKeras2 => 1.2,
    };
    let problem = Problem::random(dims, activation, scale, seed);
    let reference = problem.reference();

    let (_, gate_inputs) = reference.forward(return_sequences);
    let kink = match activation {
        GateActivation::HardSigmoid => 3.0,
        _ => 2.5,
    };
    if activation != GateActivation::Sigmoid {
        // Finite differences are only meaningful away from the kinks at ±3 (Keras 3) or ±2.5 (Keras 2); both
        // the clipped and the linear part must be exercised.
        let nearest_kink = gate_inputs
            .iter()
            .map(|z| (z.abs() - kink).abs())
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest_kink > 1e-3,
            "seed {seed}: a gate input lies {nearest_kink} from a kink"
        );
        assert!(
            gate_inputs.iter().any(|z| z.abs() > kink),
            "seed {seed}: no saturated gate"
        );
        assert!(
            gate_inputs.iter().any(|z| z.abs() < kink),
            "seed {seed}: no linear gate"
        );
    }

    let (output, cache) =
        lstm_forward(problem.x.view(), &problem.params(), return_sequences).unwrap();
    let mut rng = StdRng::seed_from_u64(seed + 1000);
    let weights_f32 = output.mapv(|_| rng.random_range(-1.0f32..1.0));
    let weights = weights_f32.mapv(f64::from);
    let grads = lstm_backward(
        problem.x.view(),
        &problem.params(),
        &cache,
        weights_f32.view(),
    )
    .unwrap();
    assert_eq!(grads.x.dim(), problem.x.dim());

    let (_, time, input_dim) = problem.x.dim();
    let gate_width = problem.bias.len();
    let units = gate_width / 4;
    let label = format!("{dims:?} {activation:?} sequences={return_sequences}");
    let flat = |a: &[f32]| a.to_vec();
    check_entries(
        &format!("{label} x"),
        &flat(grads.x.as_slice().unwrap()),
        &reference,
        &weights,
        return_sequences,
        |r, i, e| {
            r.x[[
                i / (time * input_dim),
                (i / input_dim) % time,
                i % input_dim,
            ]] += e
        },
    );
    check_entries(
        &format!("{label} kernel"),
        &flat(grads.kernel.as_slice().unwrap()),
        &reference,
        &weights,
        return_sequences,
        |r, i, e| r.kernel[[i / gate_width, i % gate_width]] += e,
    );
    check_entries(
        &format!("{label} recurrent_kernel"),
        &flat(grads.recurrent_kernel.as_slice().unwrap()),
        &reference,
        &weights,
        return_sequences,
        |r, i, e| r.recurrent_kernel[[i / gate_width, i % gate_width]] += e,
    );
    check_entries(
        &format!("{label} bias"),
        &flat(grads.bias.as_slice().unwrap()),
        &reference,
        &weights,
        return_sequences,
        |r, i, e| r.bias[i] += e,
    );
    assert_eq!(grads.recurrent_kernel.dim(), (units, gate_width));
}

#[test]
fn sigmoid_gradients_match_finite_differences() {
    for return_sequences in [false, true] {
        check_gradients((3, 4, 5, 3), GateActivation::Sigmoid, return_sequences, 11);
        check_gradients((1, 6, 2, 5), GateActivation::Sigmoid, return_sequences, 12);
    }
}

#[test]
fn hard_sigmoid_gradients_match_finite_differences() {
    for return_sequences in [false, true] {
        check_gradients(
            (3, 4, 5, 3),
            GateActivation::HardSigmoidKeras2,
            return_sequences,
            21,
        );
        check_gradients(
            (2, 5, 3, 4),
            GateActivation::HardSigmoidKeras2,
            return_sequences,
            22,
        );
    }
}

#[test]
fn keras3_hard_sigmoid_gradients_match_finite_differences() {
    for return_sequences in [false, true] {
        check_gradients(
            (3, 4, 5, 3),
            GateActivation::HardSigmoid,
            return_sequences,
            31,
        );
    }
}

#[test]
fn gradients_match_finite_differences_with_many_units() {
    check_gradients((2, 3, 7, 32), GateActivation::Sigmoid, false, 31);
}

/// Without the input's gradient, the weights' gradients are the bits of the full backward pass.
#[test]
fn the_weight_gradients_alone_are_the_full_passs_bits() {
    for return_sequences in [false, true] {
        let problem = Problem::random((4, 5, 3, 6), GateActivation::Sigmoid, 0.6, 9);
        let (x, p) = (problem.x.view(), problem.params());
        let (output, cache) = lstm_forward(x, &p, return_sequences).unwrap();
        let full = lstm_backward(x, &p, &cache, output.view()).unwrap();
        let weights = lstm_backward_weights(x, &p, &cache, output.view()).unwrap();
        let bits = |a: &[f32]| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let slice = |a: &ArrayD<f32>| a.as_slice().unwrap().to_vec();
        let pairs = [
            (full.kernel.into_dyn(), weights.kernel.into_dyn()),
            (
                full.recurrent_kernel.into_dyn(),
                weights.recurrent_kernel.into_dyn(),
            ),
            (full.bias.into_dyn(), weights.bias.into_dyn()),
        ];
        for (i, (a, b)) in pairs.iter().enumerate() {
            assert_eq!(bits(&slice(a)), bits(&slice(b)), "gradient {i}");
        }
    }
}
