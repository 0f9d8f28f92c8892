//! The fused GRU kernel against an independent step-by-step reference in f64 (Keras's `GRUCell` equations):
//! forward values on awkward sizes for both `reset_after` forms and both gate activations, with and without an
//! initial state, and every gradient of `gru_backward` against central finite differences of the reference.

use ndarray::{Array1, Array2, Array3, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_tensor::kernels::gru::{
    GruParams, gru_backward, gru_backward_weights, gru_forward, gru_forward_inference,
    gru_forward_masked,
};
use rkeras_tensor::kernels::lstm::GateActivation;

/// One problem in f64; the kernel sees it rounded to f32.
#[derive(Clone)]
struct Problem {
    x: Array3<f64>,
    kernel: Array2<f64>,
    recurrent_kernel: Array2<f64>,
    input_bias: Array1<f64>,
    recurrent_bias: Option<Array1<f64>>,
    initial_state: Option<Array2<f64>>,
    activation: GateActivation,
    /// Keras's timestep mask `[batch, time]` (1 keeps a step), when there is one.
    mask: Option<Array2<f32>>,
}

/// The problem in f32, owning what [`GruParams`] borrows.
struct Single {
    x: Array3<f32>,
    kernel: Array2<f32>,
    recurrent_kernel: Array2<f32>,
    input_bias: Array1<f32>,
    recurrent_bias: Option<Array1<f32>>,
    initial_state: Option<Array2<f32>>,
    activation: GateActivation,
}

impl Single {
    fn params(&self) -> GruParams<'_> {
        GruParams {
            kernel: self.kernel.view(),
            recurrent_kernel: self.recurrent_kernel.view(),
            input_bias: self.input_bias.view(),
            recurrent_bias: self.recurrent_bias.as_ref().map(|b| b.view()),
            recurrent_activation: self.activation,
        }
    }
}

/// Rounds to f32 and back, so that the reference sees exactly the kernel's values.
fn round(a: &ArrayD<f64>) -> ArrayD<f64> {
    a.mapv(|v| f64::from(v as f32))
}

impl Problem {
    fn random(
        dims: (usize, usize, usize, usize),
        reset_after: bool,
        with_state: bool,
        activation: GateActivation,
        seed: u64,
    ) -> Self {
        let (batch, time, input_dim, units) = dims;
        let scale = match activation {
            GateActivation::Sigmoid => 0.6,
            GateActivation::HardSigmoid | GateActivation::HardSigmoidKeras2 => 1.2,
        };
        let mut rng = StdRng::seed_from_u64(seed);
        let mut uniform = |s: f64| f64::from(rng.random_range(-s as f32..s as f32));
        Problem {
            x: Array3::from_shape_fn((batch, time, input_dim), |_| uniform(1.0)),
            kernel: Array2::from_shape_fn((input_dim, 3 * units), |_| uniform(scale)),
            recurrent_kernel: Array2::from_shape_fn((units, 3 * units), |_| uniform(scale)),
            input_bias: Array1::from_shape_fn(3 * units, |_| uniform(scale)),
            recurrent_bias: reset_after
                .then(|| Array1::from_shape_fn(3 * units, |_| uniform(scale))),
            initial_state: with_state
                .then(|| Array2::from_shape_fn((batch, units), |_| uniform(0.9))),
            activation,
            mask: None,
        }
    }

    fn single(&self) -> Single {
        let f = |v: &f64| *v as f32;
        Single {
            x: self.x.map(f),
            kernel: self.kernel.map(f),
            recurrent_kernel: self.recurrent_kernel.map(f),
            input_bias: self.input_bias.map(f),
            recurrent_bias: self.recurrent_bias.as_ref().map(|b| b.map(f)),
            initial_state: self.initial_state.as_ref().map(|h| h.map(f)),
            activation: self.activation,
        }
    }

    fn gate(&self, z: f64) -> f64 {
        match self.activation {
            GateActivation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            GateActivation::HardSigmoid => (z + 3.0).clamp(0.0, 6.0) / 6.0,
            GateActivation::HardSigmoidKeras2 => (0.2 * z + 0.5).clamp(0.0, 1.0),
        }
    }

    /// Every step's hidden state `[batch, time, units]`, one sample, step and unit at a time, and every gate
    /// pre-activation (to keep finite differences away from the hard sigmoid's kinks).
    fn forward(&self) -> (Array3<f64>, Vec<f64>) {
        let (batch, time, input_dim) = self.x.dim();
        let units = self.recurrent_kernel.nrows();
        let mut out = Array3::zeros((batch, time, units));
        let mut gate_inputs = Vec::new();
        for n in 0..batch {
            let mut h: Vec<f64> = match &self.initial_state {
                Some(h0) => h0.row(n).to_vec(),
                None => vec![0.0; units],
            };
            for t in 0..time {
                if self.mask.as_ref().is_some_and(|m| m[[n, t]] == 0.0) {
                    // A masked step carries the state (and so the output) through.
                    for j in 0..units {
                        out[[n, t, j]] = h[j];
                    }
                    continue;
                }
                let project_x = |column: usize| {
                    (0..input_dim)
                        .map(|k| self.x[[n, t, k]] * self.kernel[[k, column]])
                        .sum::<f64>()
                        + self.input_bias[column]
                };
                let project_h = |state: &[f64], column: usize| {
                    (0..units)
                        .map(|k| state[k] * self.recurrent_kernel[[k, column]])
                        .sum::<f64>()
                };
                let mut next = vec![0.0; units];
                let rb = |c: usize| self.recurrent_bias.as_ref().map_or(0.0, |b| b[c]);
                let mut r = vec![0.0; units];
                let mut z = vec![0.0; units];
                for j in 0..units {
                    let zz = project_x(j) + project_h(&h, j) + rb(j);
                    let zr = project_x(units + j) + project_h(&h, units + j) + rb(units + j);
                    gate_inputs.extend([zz, zr]);
                    z[j] = self.gate(zz);
                    r[j] = self.gate(zr);
                }
                let reset_state: Vec<f64> = (0..units).map(|k| r[k] * h[k]).collect();
                for j in 0..units {
                    let column = 2 * units + j;
                    let recurrent = if self.recurrent_bias.is_some() {
                        r[j] * (project_h(&h, column) + rb(column))
                    } else {
                        project_h(&reset_state, column)
                    };
                    let candidate = (project_x(column) + recurrent).tanh();
                    next[j] = z[j] * h[j] + (1.0 - z[j]) * candidate;
                    out[[n, t, j]] = next[j];
                }
                h = next;
            }
        }
        (out, gate_inputs)
    }

    fn output(&self, return_sequences: bool) -> ArrayD<f64> {
        let (sequence, _) = self.forward();
        let (batch, time, units) = sequence.dim();
        if return_sequences {
            sequence.into_dyn()
        } else if time == 0 {
            self.initial_state
                .clone()
                .unwrap_or_else(|| Array2::zeros((batch, units)))
                .into_dyn()
        } else {
            sequence
                .index_axis(ndarray::Axis(1), time - 1)
                .to_owned()
                .into_dyn()
        }
    }

    fn loss(&self, return_sequences: bool, weights: &ArrayD<f64>) -> f64 {
        self.output(return_sequences)
            .iter()
            .zip(weights.iter())
            .map(|(o, w)| o * w)
            .sum()
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

const SIZES: [(usize, usize, usize, usize); 6] = [
    (1, 1, 7, 3),
    (1, 5, 7, 3),
    (3, 1, 7, 32),
    (3, 5, 7, 3),
    (3, 5, 7, 32),
    (2, 0, 3, 4),
];

#[test]
fn forward_matches_the_step_by_step_reference() {
    for (seed, &dims) in SIZES.iter().enumerate() {
        for activation in [
            GateActivation::Sigmoid,
            GateActivation::HardSigmoid,
            GateActivation::HardSigmoidKeras2,
        ] {
            for reset_after in [true, false] {
                for with_state in [false, true] {
                    let problem =
                        Problem::random(dims, reset_after, with_state, activation, seed as u64);
                    let single = problem.single();
                    for return_sequences in [false, true] {
                        let expected = round(&problem.output(return_sequences));
                        let h0 = single.initial_state.as_ref().map(|h| h.view());
                        let (output, _) =
                            gru_forward(single.x.view(), &single.params(), h0, return_sequences)
                                .unwrap();
                        let inference = gru_forward_inference(
                            single.x.view(),
                            &single.params(),
                            h0,
                            return_sequences,
                        )
                        .unwrap();
                        let error = max_abs_difference(&output, &expected);
                        assert!(
                            error < 1e-5,
                            "{dims:?} {activation:?} reset_after={reset_after} \
                             state={with_state} sequences={return_sequences}: error {error}"
                        );
                        assert_eq!(inference, output);
                    }
                }
            }
        }
    }
}

/// Central differences of the f64 reference loss against the f32 analytic gradient of one array.
fn check_entries(
    name: &str,
    analytic: &[f32],
    problem: &Problem,
    weights: &ArrayD<f64>,
    return_sequences: bool,
    perturb: impl Fn(&mut Problem) -> &mut [f64],
) {
    const EPS: f64 = 1e-6;
    for (index, &analytic) in analytic.iter().enumerate() {
        let mut plus = problem.clone();
        perturb(&mut plus)[index] += EPS;
        let mut minus = problem.clone();
        perturb(&mut minus)[index] -= EPS;
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
    reset_after: bool,
    activation: GateActivation,
    return_sequences: bool,
    seed: u64,
) {
    let problem = Problem::random(dims, reset_after, true, activation, seed);
    check_problem_gradients(&problem, dims, reset_after, return_sequences, seed);
}

/// [`check_gradients`] of a given problem (which may carry a mask).
fn check_problem_gradients(
    problem: &Problem,
    dims: (usize, usize, usize, usize),
    reset_after: bool,
    return_sequences: bool,
    seed: u64,
) {
    let activation = problem.activation;
    let kink = match activation {
        GateActivation::Sigmoid => None,
        GateActivation::HardSigmoid => Some(3.0),
        GateActivation::HardSigmoidKeras2 => Some(2.5),
    };
    if let Some(kink) = kink {
        let (_, gate_inputs) = problem.forward();
        let nearest_kink = gate_inputs
            .iter()
            .map(|z| (z.abs() - kink).abs())
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest_kink > 1e-3,
            "seed {seed}: a gate input lies near a kink"
        );
        assert!(
            gate_inputs.iter().any(|z| z.abs() > 2.5),
            "seed {seed}: no saturated gate"
        );
    }
    let single = problem.single();
    let h0 = single.initial_state.as_ref().map(|h| h.view());
    let mask = problem.mask.as_ref().map(|m| m.view());
    let (output, cache) = gru_forward_masked(
        single.x.view(),
        &single.params(),
        h0,
        mask,
        return_sequences,
    )
    .unwrap();
    let expected = round(&problem.output(return_sequences));
    assert!(max_abs_difference(&output, &expected) < 1e-5);
    let mut rng = StdRng::seed_from_u64(seed + 1000);
    let weights_f32 = output.mapv(|_| rng.random_range(-1.0f32..1.0));
    let weights = weights_f32.mapv(f64::from);
    let grads = gru_backward(
        single.x.view(),
        &single.params(),
        h0,
        &cache,
        weights_f32.view(),
    )
    .unwrap();
    let label = format!("{dims:?} reset_after={reset_after} {activation:?} seq={return_sequences}");
    let check = |name: &str, analytic: &[f32], perturb: &dyn Fn(&mut Problem) -> &mut [f64]| {
        check_entries(
            &format!("{label} {name}"),
            analytic,
            problem,
            &weights,
            return_sequences,
            perturb,
        )
    };
    check("x", grads.x.as_slice().unwrap(), &|p| {
        p.x.as_slice_mut().unwrap()
    });
    check("kernel", grads.kernel.as_slice().unwrap(), &|p| {
        p.kernel.as_slice_mut().unwrap()
    });
    check(
        "recurrent_kernel",
        grads.recurrent_kernel.as_slice().unwrap(),
        &|p| p.recurrent_kernel.as_slice_mut().unwrap(),
    );
    check("input_bias", grads.input_bias.as_slice().unwrap(), &|p| {
        p.input_bias.as_slice_mut().unwrap()
    });
    assert_eq!(grads.recurrent_bias.is_some(), reset_after);
    if let Some(d) = &grads.recurrent_bias {
        check("recurrent_bias", d.as_slice().unwrap(), &|p| {
            p.recurrent_bias.as_mut().unwrap().as_slice_mut().unwrap()
        });
    }
    check(
        "initial_state",
        grads.initial_state.as_ref().unwrap().as_slice().unwrap(),
        &|p| p.initial_state.as_mut().unwrap().as_slice_mut().unwrap(),
    );
}

#[test]
fn reset_after_gradients_match_finite_differences() {
    for return_sequences in [false, true] {
        check_gradients(
            (3, 4, 5, 3),
            true,
            GateActivation::Sigmoid,
            return_sequences,
            11,
        );
        check_gradients(
            (1, 6, 2, 5),
            true,
            GateActivation::Sigmoid,
            return_sequences,
            12,
        );
    }
}

#[test]
fn reset_before_gradients_match_finite_differences() {
    for return_sequences in [false, true] {
        check_gradients(
            (3, 4, 5, 3),
            false,
            GateActivation::Sigmoid,
            return_sequences,
            13,
        );
        check_gradients(
            (2, 5, 3, 4),
            false,
            GateActivation::Sigmoid,
            return_sequences,
            14,
        );
    }
}

/// Keras's 'pre' padding of random lengths (1 to `time − 1`), and one sample masked at every step.
fn pre_padding(batch: usize, time: usize, seed: u64) -> Array2<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let lengths: Vec<usize> = (0..batch)
        .map(|b| if b == 1 { 0 } else { rng.random_range(1..time) })
        .collect();
    Array2::from_shape_fn((batch, time), |(b, t)| f32::from(t >= time - lengths[b]))
}

#[test]
fn masked_gradients_match_finite_differences_with_many_kept_rows() {
    // The masked kernels' paths: steps with no kept sample and with some, products over the kept rows only; both `reset_after` forms, the last output and every step's.
    let dims = (6, 9, 7, 32);
    for reset_after in [true, false] {
        for return_sequences in [false, true] {
            let seed = 31 + u64::from(reset_after);
            let mut problem =
                Problem::random(dims, reset_after, true, GateActivation::Sigmoid, seed);
            let mask = pre_padding(dims.0, dims.1, seed);
            assert!(mask.column(0).iter().all(|&m| m == 0.0));
            assert!(mask.column(dims.1 - 1).iter().any(|&m| m == 0.0));
            problem.mask = Some(mask);
            check_problem_gradients(&problem, dims, reset_after, return_sequences, seed);
        }
    }
}

#[test]
fn hard_sigmoid_gradients_match_finite_differences() {
    for activation in [
        GateActivation::HardSigmoid,
        GateActivation::HardSigmoidKeras2,
    ] {
        for reset_after in [true, false] {
            check_gradients((3, 4, 5, 3), reset_after, activation, true, 21);
        }
    }
}

#[test]
fn without_an_initial_state_no_state_gradient_is_returned() {
    let problem = Problem::random((2, 3, 4, 2), true, false, GateActivation::Sigmoid, 5);
    let single = problem.single();
    let (output, cache) = gru_forward(single.x.view(), &single.params(), None, true).unwrap();
    let grads = gru_backward(
        single.x.view(),
        &single.params(),
        None,
        &cache,
        output.view(),
    )
    .unwrap();
    assert!(grads.initial_state.is_none());
    assert_eq!(grads.x.dim(), (2, 3, 4));
}

/// Without the input's gradient, the weights', biases' and initial state's are the bits of the full backward
/// pass, masked or not, with either `reset_after`.
#[test]
fn the_weight_gradients_alone_are_the_full_passs_bits() {
    let dims = (4, 5, 3, 6);
    for (reset_after, masked) in [(true, false), (true, true), (false, true)] {
        let mut problem = Problem::random(dims, reset_after, true, GateActivation::Sigmoid, 9);
        if masked {
            problem.mask = Some(pre_padding(dims.0, dims.1, 9));
        }
        let single = problem.single();
        let (p, h0) = (
            single.params(),
            single.initial_state.as_ref().map(|h| h.view()),
        );
        let mask = problem.mask.as_ref().map(|m| m.view());
        let (output, cache) = gru_forward_masked(single.x.view(), &p, h0, mask, true).unwrap();
        let full = gru_backward(single.x.view(), &p, h0, &cache, output.view()).unwrap();
        let weights = gru_backward_weights(single.x.view(), &p, h0, &cache, output.view()).unwrap();
        let bits = |a: &ArrayD<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let pairs = [
            (full.kernel.into_dyn(), weights.kernel.into_dyn()),
            (
                full.recurrent_kernel.into_dyn(),
                weights.recurrent_kernel.into_dyn(),
            ),
            (full.input_bias.into_dyn(), weights.input_bias.into_dyn()),
            (
                full.recurrent_bias.unwrap_or_default().into_dyn(),
                weights.recurrent_bias.unwrap_or_default().into_dyn(),
            ),
            (
                full.initial_state.unwrap().into_dyn(),
                weights.initial_state.unwrap().into_dyn(),
            ),
        ];
        for (i, (a, b)) in pairs.iter().enumerate() {
            assert_eq!(
                bits(a),
                bits(b),
                "gradient {i}, reset_after {reset_after}, masked {masked}"
            );
        }
    }
}

#[test]
fn mismatched_shapes_are_errors_naming_the_op() {
    let problem = Problem::random((2, 3, 4, 2), true, true, GateActivation::Sigmoid, 5);
    let single = problem.single();
    let wrong_state = Array2::<f32>::zeros((3, 2));
    let error = gru_forward(
        single.x.view(),
        &single.params(),
        Some(wrong_state.view()),
        true,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("gru") && error.contains("[3, 2]"),
        "{error}"
    );
    let bad_bias = Array1::<f32>::zeros(5);
    let mut params = single.params();
    params.input_bias = bad_bias.view();
    let error = gru_forward(single.x.view(), &params, None, true)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("[5]") && error.contains("3·units"),
        "{error}"
    );
    let x = Array3::<f32>::zeros((2, 3, 5));
    let error = gru_forward(x.view(), &single.params(), None, true)
        .unwrap_err()
        .to_string();
    assert!(error.contains("[2, 3, 5]"), "{error}");
    let (_, cache) = gru_forward(single.x.view(), &single.params(), None, false).unwrap();
    let wrong = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 2]));
    let error = gru_backward(
        single.x.view(),
        &single.params(),
        None,
        &cache,
        wrong.view(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("gru backward"), "{error}");
}
