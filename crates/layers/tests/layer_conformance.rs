//! One conformance harness, in the spirit of Keras's `run_layer_test`, applied to every layer:
//!
//! 1. called on `Input`s of the given shapes, the symbolic output has the expected shape;
//! 2. the weights have Keras's names and shapes, in Keras's order;
//! 3. a forward pass on a batch has the symbolic shape with the batch axis in front, and matches an
//!    independent reference computation written here;
//! 4. finite differences confirm the gradients with respect to the inputs (where differentiable, through
//!    `rkeras_tensor::gradcheck::check_gradients`) and to every weight (perturbing the weight's value);
//! 5. `config()` → `layer_from_config` → the same config, and the rebuilt layer, given the same weights,
//!    computes the same output.

use ndarray::{Array2, ArrayD, Axis, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_layers::symbolic::apply;
use rkeras_layers::*;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::{Tensor, TensorError, no_grad};
use std::sync::Arc;

const BATCH: usize = 3;

type Reference = Box<dyn Fn(&[ArrayD<f32>], &[ArrayD<f32>]) -> ArrayD<f32>>;

/// One layer under test.
struct Case {
    layer: LayerRef,
    input_shapes: Vec<Vec<usize>>,
    output_shape: Vec<usize>,
    /// Keras's weight names and shapes, in order.
    weights: Vec<(&'static str, Vec<usize>)>,
    /// One batch per input.
    batch: Vec<ArrayD<f32>>,
    /// Whether the output is differentiable with respect to the inputs (not for ids).
    differentiable_inputs: bool,
    /// Whether to check gradients in training mode (dropout active, with a fixed mask).
    training: bool,
    /// `(inputs, weights) -> output`, computed independently of the layer.
    reference: Reference,
}

impl Case {
    fn new(
        layer: impl Layer,
        input_shapes: &[&[usize]],
        output_shape: &[usize],
        reference: Reference,
    ) -> Case {
        let input_shapes: Vec<Vec<usize>> = input_shapes.iter().map(|s| s.to_vec()).collect();
        let batch = input_shapes
            .iter()
            .enumerate()
            .map(|(i, s)| random_batch(s, 100 + i as u64))
            .collect();
        Case {
            layer: Arc::new(layer),
            input_shapes,
            output_shape: output_shape.to_vec(),
            weights: Vec::new(),
            batch,
            differentiable_inputs: true,
            training: false,
            reference,
        }
    }

    fn weights(mut self, weights: &[(&'static str, &[usize])]) -> Case {
        self.weights = weights.iter().map(|(n, s)| (*n, s.to_vec())).collect();
        self
    }

    fn batch(mut self, batch: Vec<ArrayD<f32>>) -> Case {
        self.batch = batch;
        self
    }

    fn ids(mut self) -> Case {
        self.differentiable_inputs = false;
        self
    }

    fn training(mut self) -> Case {
        self.training = true;
        self
    }
}

fn with_batch(shape: &[usize]) -> Vec<usize> {
    let mut full = vec![BATCH];
    full.extend_from_slice(shape);
    full
}

/// Values in ±[0.1, 1): away from 0, where relu and the like have a kink.
fn random_batch(shape: &[usize], seed: u64) -> ArrayD<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(&with_batch(shape)), || {
        let v: f32 = rng.random_range(0.1..1.0);
        if rng.random_bool(0.5) { v } else { -v }
    })
}

fn random_ids(shape: &[usize], vocabulary: usize, seed: u64) -> ArrayD<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(&with_batch(shape)), || {
        rng.random_range(0..vocabulary) as f32
    })
}

fn forward(layer: &dyn Layer, inputs: &[Tensor], training: bool) -> Result<Tensor> {
    let mut rng = StdRng::seed_from_u64(42);
    layer.forward(
        inputs,
        &mut CallContext {
            training,
            rng: &mut rng,
        },
    )
}

fn tensors(batch: &[ArrayD<f32>]) -> Vec<Tensor> {
    batch.iter().map(|a| Tensor::new(a.clone())).collect()
}

fn assert_close(actual: &ArrayD<f32>, expected: &ArrayD<f32>, what: &str) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    for (i, (a, e)) in actual.iter().zip(expected.iter()).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5 + 1e-5 * e.abs(),
            "{what}: element {i}: {a} vs {e}"
        );
    }
}

/// At most this many elements of each weight are perturbed (evenly spread), to keep large layers fast.
const MAX_CHECKED_PER_WEIGHT: usize = 400;

/// Finite differences on each weight's value, with the tolerance of `check_gradients`: the loss is
/// `Σ out ⊙ R` for a fixed random `R`.
fn check_weight_gradients(layer: &dyn Layer, inputs: &[Tensor], training: bool, what: &str) {
    let settings = GradCheck::default();
    let out = forward(layer, inputs, training).unwrap();
    let projection = random_batch(&out.shape()[1..], 7);
    let loss_of = |out: &Tensor| -> f64 {
        out.data()
            .iter()
            .zip(projection.iter())
            .map(|(&o, &r)| f64::from(o) * f64::from(r))
            .sum()
    };
    let grads = out
        .mul(&Tensor::new(projection.clone()))
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    for weight in layer.weights() {
        let original = weight.value().as_ref().clone();
        // An Embedding's table receives a row gradient: compared in dense form.
        let analytic = grads
            .dense_var(&weight)
            .unwrap()
            .unwrap_or_else(|| ArrayD::zeros(original.raw_dim()));
        let stride = analytic.len().div_ceil(MAX_CHECKED_PER_WEIGHT).max(1);
        for (j, &a) in analytic.iter().enumerate().step_by(stride) {
            let eval = |delta: f32| {
                let mut perturbed = original.as_standard_layout().into_owned();
                perturbed.as_slice_mut().unwrap()[j] += delta;
                weight.set_value(perturbed).unwrap();
                loss_of(&no_grad(|| forward(layer, inputs, training)).unwrap())
            };
            let numeric =
                (eval(settings.eps) - eval(-settings.eps)) / (2.0 * f64::from(settings.eps));
            let analytic = f64::from(a);
            let tolerance = settings.atol + settings.rtol * analytic.abs().max(numeric.abs());
            assert!(
                (analytic - numeric).abs() <= tolerance,
                "{what}: d loss / d {}[{j}]: analytic {analytic}, numeric {numeric}",
                weight.name()
            );
        }
        weight.set_value(original).unwrap();
    }
}

fn run_layer_test(case: Case) {
    let layer = case.layer.clone();
    let what = format!("{} `{}`", layer.class_name(), layer.name());
    // 1. Symbolic call.
    let symbolic: Vec<SymbolicTensor> = case.input_shapes.iter().map(|s| Input::new(s)).collect();
    let out = apply(layer.clone(), &symbolic).unwrap();
    assert_eq!(
        out.shape(),
        case.output_shape.as_slice(),
        "{what}: symbolic output shape"
    );
    // 2. Weights.
    let weights: Vec<(String, Vec<usize>)> = layer
        .weights()
        .iter()
        .map(|w| (w.name().to_string(), w.shape()))
        .collect();
    let expected: Vec<(String, Vec<usize>)> = case
        .weights
        .iter()
        .map(|(n, s)| (n.to_string(), s.clone()))
        .collect();
    assert_eq!(weights, expected, "{what}: weights");
    // 3. Forward pass against the reference.
    let inputs = tensors(&case.batch);
    let y = forward(&*layer, &inputs, false).unwrap();
    assert_eq!(
        y.shape(),
        with_batch(&case.output_shape).as_slice(),
        "{what}: forward shape"
    );
    let weight_values: Vec<ArrayD<f32>> = layer
        .weights()
        .iter()
        .map(|w| w.value().as_ref().clone())
        .collect();
    assert_close(
        y.data(),
        &(case.reference)(&case.batch, &weight_values),
        &what,
    );
    // 4. Gradients.
    if case.differentiable_inputs {
        let f = |xs: &[Tensor]| {
            forward(&*layer, xs, case.training)
                .map_err(|e| TensorError::invalid_argument("layer", e.to_string()))
        };
        let report = check_gradients(&case.batch, f, GradCheck::default()).unwrap();
        assert!(report.passed(), "{what}: input gradients: {report:?}");
    }
    check_weight_gradients(&*layer, &inputs, case.training, &what);
    // 5. Config round trip.
    let config = layer.config();
    let rebuilt = layer_from_config(layer.class_name(), &config).unwrap();
    assert_eq!(rebuilt.config(), config, "{what}: config round trip");
    let symbolic: Vec<SymbolicTensor> = case.input_shapes.iter().map(|s| Input::new(s)).collect();
    assert_eq!(
        apply(rebuilt.clone(), &symbolic).unwrap().shape(),
        case.output_shape.as_slice()
    );
    for (copy, original) in rebuilt.weights().iter().zip(layer.weights()) {
        copy.set_value(original.value().as_ref().clone()).unwrap();
    }
    assert_eq!(
        forward(&*rebuilt, &inputs, false).unwrap().to_vec(),
        y.to_vec(),
        "{what}: rebuilt layer output"
    );
}

fn matrix(a: &ArrayD<f32>) -> Array2<f32> {
    a.clone().into_dimensionality().unwrap()
}

fn elementwise(f: fn(f32) -> f32) -> Reference {
    Box::new(move |xs, _| xs[0].mapv(f))
}

#[test]
fn dense() {
    // y = x·W + b over the last axis.
    let reference: Reference = Box::new(|xs, ws| {
        let (w, b) = (matrix(&ws[0]), &ws[1]);
        let x = &xs[0];
        let rows = x.len() / w.nrows();
        let flat = x.view().into_shape_with_order((rows, w.nrows())).unwrap();
        let mut shape = x.shape().to_vec();
        *shape.last_mut().unwrap() = w.ncols();
        (flat.dot(&w) + b)
            .into_shape_with_order(IxDyn(&shape))
            .unwrap()
    });
    run_layer_test(
        Case::new(Dense::new(3), &[&[5]], &[3], reference)
            .weights(&[("kernel", &[5, 3]), ("bias", &[3])]),
    );
    let tanh_ref: Reference = Box::new(|xs, ws| {
        let (w, b) = (matrix(&ws[0]), &ws[1]);
        let flat = xs[0].view().into_shape_with_order((BATCH * 2, 4)).unwrap();
        (flat.dot(&w) + b)
            .mapv(f32::tanh)
            .into_shape_with_order(IxDyn(&[BATCH, 2, 6]))
            .unwrap()
    });
    let layer = Dense::new(6).with_activation("tanh").unwrap();
    run_layer_test(
        Case::new(layer, &[&[2, 4]], &[2, 6], tanh_ref)
            .weights(&[("kernel", &[4, 6]), ("bias", &[6])]),
    );
}

#[test]
fn embedding() {
    let lookup: Reference = Box::new(|xs, ws| {
        let (ids, table) = (&xs[0], &ws[0]);
        let dim = table.shape()[1];
        let mut shape = ids.shape().to_vec();
        shape.push(dim);
        let values: Vec<f32> = ids
            .iter()
            .flat_map(|&id| {
                table
                    .index_axis(Axis(0), id as usize)
                    .to_owned()
                    .into_iter()
            })
            .collect();
        ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
    });
    let case = Case::new(Embedding::new(22, 64), &[&[6]], &[6, 64], lookup)
        .weights(&[("embeddings", &[22, 64])])
        .batch(vec![random_ids(&[6], 22, 1)])
        .ids();
    run_layer_test(case);
    let lookup2: Reference = Box::new(|xs, ws| {
        let values: Vec<f32> = xs[0]
            .iter()
            .flat_map(|&id| {
                ws[0]
                    .index_axis(Axis(0), id as usize)
                    .to_owned()
                    .into_iter()
            })
            .collect();
        ArrayD::from_shape_vec(IxDyn(&[BATCH, 4, 4]), values).unwrap()
    });
    let case = Case::new(
        Embedding::new(9, 4).with_input_length(4),
        &[&[4]],
        &[4, 4],
        lookup2,
    )
    .weights(&[("embeddings", &[9, 4])])
    .batch(vec![random_ids(&[4], 9, 2)])
    .ids();
    run_layer_test(case);
}

#[test]
fn activation() {
    type Function = fn(f32) -> f32;
    let cases: [(&str, Function); 8] = [
        ("linear", |x| x),
        ("relu", |x| x.max(0.0)),
        ("sigmoid", |x| 1.0 / (1.0 + (-x).exp())),
        ("hard_sigmoid", |x| (x + 3.0).clamp(0.0, 6.0) / 6.0),
        ("hard_sigmoid_keras2", |x| (0.2 * x + 0.5).clamp(0.0, 1.0)),
        ("tanh", f32::tanh),
        ("elu", |x| if x > 0.0 { x } else { x.exp() - 1.0 }),
        ("softplus", |x| x.exp().ln_1p()),
    ];
    for (name, f) in cases {
        run_layer_test(Case::new(
            Activation::new(name).unwrap(),
            &[&[3, 4]],
            &[3, 4],
            elementwise(f),
        ));
    }
    let softmax: Reference = Box::new(|xs, _| {
        let mut out = xs[0].clone();
        for mut row in out.lanes_mut(Axis(2)) {
            let total: f32 = row.iter().map(|v| v.exp()).sum();
            row.mapv_inplace(|v| v.exp() / total);
        }
        out
    });
    run_layer_test(Case::new(
        Activation::new("softmax").unwrap(),
        &[&[3, 4]],
        &[3, 4],
        softmax,
    ));
}

#[test]
fn dropout_conformance() {
    // Inference: the identity. Gradients are checked in training mode with a fixed mask.
    run_layer_test(
        Case::new(
            Dropout::new(0.3),
            &[&[4, 5]],
            &[4, 5],
            Box::new(|xs, _| xs[0].clone()),
        )
        .training(),
    );
    let shaped = Dropout::new(0.5).with_noise_shape(vec![None, Some(1), None]);
    run_layer_test(
        Case::new(shaped, &[&[4, 5]], &[4, 5], Box::new(|xs, _| xs[0].clone())).training(),
    );
}

#[test]
fn dropout_in_training_drops_about_rate_and_rescales() {
    let layer = Dropout::new(0.3);
    layer.call(&Input::new(&[20_000])).unwrap();
    let x = Tensor::new(random_batch(&[20_000], 5));
    assert_eq!(
        forward(&layer, std::slice::from_ref(&x), false)
            .unwrap()
            .to_vec(),
        x.to_vec()
    );
    let run = |seed: u64| {
        let mut rng = StdRng::seed_from_u64(seed);
        layer
            .forward(
                std::slice::from_ref(&x),
                &mut CallContext {
                    training: true,
                    rng: &mut rng,
                },
            )
            .unwrap()
            .to_vec()
    };
    let y = run(11);
    let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
    // 60 000 Bernoulli(0.3) draws: the fraction's standard deviation is 0.0019.
    assert!((dropped - 0.3).abs() < 0.01, "dropped {dropped}");
    for (&out, &input) in y.iter().zip(x.to_vec().iter()) {
        assert!(
            out == 0.0 || (out - input / 0.7).abs() < 1e-6,
            "{out} from {input}"
        );
    }
    assert_eq!(run(11), y, "same seed, same mask");
    assert_ne!(run(12), y, "another seed, another mask");
}

#[test]
fn elementwise_merges() {
    type Op = fn(f32, f32) -> f32;
    let cases: Vec<(LayerRef, Op)> = vec![
        (Arc::new(Add::new()), |a, b| a + b),
        (Arc::new(Multiply::new()), |a, b| a * b),
        (Arc::new(Subtract::new()), |a, b| a - b),
        (Arc::new(Average::new()), |a, b| (a + b) / 2.0),
        (Arc::new(Maximum::new()), f32::max),
        (Arc::new(Minimum::new()), f32::min),
    ];
    for (layer, op) in cases {
        let reference: Reference = Box::new(move |xs, _| {
            let mut out = xs[0].clone();
            out.zip_mut_with(&xs[1], |a, &b| *a = op(*a, b));
            out
        });
        let mut case = Case::new(Add::new(), &[&[3, 4], &[3, 4]], &[3, 4], reference);
        case.layer = layer;
        run_layer_test(case);
    }
    // Broadcasting a size-1 axis: [3, 4] + [1, 4].
    let reference: Reference = Box::new(|xs, _| &xs[0] + &xs[1]);
    run_layer_test(Case::new(
        Add::new(),
        &[&[3, 4], &[1, 4]],
        &[3, 4],
        reference,
    ));
}

#[test]
fn concatenate() {
    let last: Reference =
        Box::new(|xs, _| ndarray::concatenate(Axis(2), &[xs[0].view(), xs[1].view()]).unwrap());
    run_layer_test(Case::new(
        Concatenate::new(),
        &[&[4, 3], &[4, 5]],
        &[4, 8],
        last,
    ));
    let first: Reference =
        Box::new(|xs, _| ndarray::concatenate(Axis(1), &[xs[0].view(), xs[1].view()]).unwrap());
    run_layer_test(Case::new(
        Concatenate::new().with_axis(1),
        &[&[2, 3], &[4, 3]],
        &[6, 3],
        first,
    ));
}

/// out[b, i, j] = Σ_k x[b, .., k, ..] · y[b, .., k, ..] for rank-3 inputs and 1-based axes `a`, `c`.
fn dot_reference(a: usize, c: usize) -> Reference {
    Box::new(move |xs, _| {
        let (x, y) = (&xs[0], &xs[1]);
        let (m, k, n) = (x.shape()[3 - a], x.shape()[a], y.shape()[3 - c]);
        ArrayD::from_shape_fn(IxDyn(&[BATCH, m, n]), |idx| {
            let (b, i, j) = (idx[0], idx[1], idx[2]);
            (0..k)
                .map(|t| {
                    let xv = if a == 2 { x[[b, i, t]] } else { x[[b, t, i]] };
                    let yv = if c == 2 { y[[b, j, t]] } else { y[[b, t, j]] };
                    xv * yv
                })
                .sum()
        })
    })
}

#[test]
fn dot() {
    // The memory network's match: [68, 64]·[4, 64] on axes (2, 2), here at a smaller size.
    run_layer_test(Case::new(
        Dot::new((2, 2)),
        &[&[6, 5], &[4, 5]],
        &[6, 4],
        dot_reference(2, 2),
    ));
    run_layer_test(Case::new(
        Dot::new((1, 1)),
        &[&[5, 6], &[5, 4]],
        &[6, 4],
        dot_reference(1, 1),
    ));
    run_layer_test(Case::new(
        Dot::new((2, 1)),
        &[&[6, 5], &[5, 4]],
        &[6, 4],
        dot_reference(2, 1),
    ));
    run_layer_test(Case::new(
        Dot::new((1, 2)),
        &[&[5, 6], &[4, 5]],
        &[6, 4],
        dot_reference(1, 2),
    ));
    let rows: Reference = Box::new(|xs, _| {
        let sums: Vec<f32> = (0..BATCH)
            .map(|b| (0..5).map(|k| xs[0][[b, k]] * xs[1][[b, k]]).sum())
            .collect();
        ArrayD::from_shape_vec(IxDyn(&[BATCH, 1]), sums).unwrap()
    });
    run_layer_test(Case::new(Dot::new(1), &[&[5], &[5]], &[1], rows));
    let cosine: Reference = Box::new(|xs, _| {
        let norm =
            |x: &ArrayD<f32>, b: usize| (0..5).map(|k| x[[b, k]] * x[[b, k]]).sum::<f32>().sqrt();
        let values: Vec<f32> = (0..BATCH)
            .map(|b| {
                (0..5).map(|k| xs[0][[b, k]] * xs[1][[b, k]]).sum::<f32>()
                    / (norm(&xs[0], b) * norm(&xs[1], b))
            })
            .collect();
        ArrayD::from_shape_vec(IxDyn(&[BATCH, 1]), values).unwrap()
    });
    run_layer_test(Case::new(
        Dot::new(-1).with_normalize(true),
        &[&[5], &[5]],
        &[1],
        cosine,
    ));
}

#[test]
fn reshaping() {
    let swap: Reference = Box::new(|xs, _| {
        xs[0]
            .clone()
            .permuted_axes(IxDyn(&[0, 2, 1]))
            .as_standard_layout()
            .into_owned()
    });
    run_layer_test(Case::new(Permute::new(&[2, 1]), &[&[3, 4]], &[4, 3], swap));
    let rotate: Reference = Box::new(|xs, _| {
        xs[0]
            .clone()
            .permuted_axes(IxDyn(&[0, 3, 1, 2]))
            .as_standard_layout()
            .into_owned()
    });
    run_layer_test(Case::new(
        Permute::new(&[3, 1, 2]),
        &[&[2, 3, 4]],
        &[4, 2, 3],
        rotate,
    ));
    let to_pairs: Reference = Box::new(|xs, _| {
        xs[0]
            .clone()
            .into_shape_with_order(IxDyn(&[BATCH, 6, 2]))
            .unwrap()
    });
    run_layer_test(Case::new(
        Reshape::new(&[-1, 2]),
        &[&[3, 4]],
        &[6, 2],
        to_pairs,
    ));
    let flat: Reference = Box::new(|xs, _| {
        xs[0]
            .clone()
            .into_shape_with_order(IxDyn(&[BATCH, 12]))
            .unwrap()
    });
    run_layer_test(Case::new(Flatten::new(), &[&[2, 3, 2]], &[12], flat));
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Keras's LSTM written out step by step: z = x·W + h·U + b (gates i, f, c, o); i, f, o = gate(z);
/// c = f·c + i·tanh(z_c); h = o·tanh(c). Returns the last h, or every h with `sequences`.
fn lstm_reference(gate: fn(f32) -> f32, sequences: bool) -> Reference {
    Box::new(move |xs, ws| {
        let (x, w, u, b) = (&xs[0], matrix(&ws[0]), matrix(&ws[1]), &ws[2]);
        let (time, units) = (x.shape()[1], u.nrows());
        let mut out = ArrayD::zeros(IxDyn(&[BATCH, time, units]));
        for s in 0..BATCH {
            let (mut h, mut c) = (vec![0.0f32; units], vec![0.0f32; units]);
            for t in 0..time {
                let z: Vec<f32> = (0..4 * units)
                    .map(|g| {
                        let input: f32 = (0..w.nrows()).map(|k| x[[s, t, k]] * w[[k, g]]).sum();
                        let recurrent: f32 = (0..units).map(|k| h[k] * u[[k, g]]).sum();
                        input + recurrent + b[[g]]
                    })
                    .collect();
                for j in 0..units {
                    let (i, f, g, o) = (
                        gate(z[j]),
                        gate(z[units + j]),
                        z[2 * units + j].tanh(),
                        gate(z[3 * units + j]),
                    );
                    c[j] = f * c[j] + i * g;
                    h[j] = o * c[j].tanh();
                    out[[s, t, j]] = h[j];
                }
            }
        }
        if sequences {
            out
        } else {
            out.index_axis(Axis(1), time - 1).to_owned()
        }
    })
}

#[test]
fn lstm() {
    // The memory network's LSTM(32) on [4, 132]: Keras's weights and 21 120 parameters.
    let layer = LSTM::new(32);
    let case = Case::new(
        layer.clone(),
        &[&[4, 132]],
        &[32],
        lstm_reference(sigmoid, false),
    )
    .weights(&[
        ("lstm_cell/kernel", &[132, 128]),
        ("lstm_cell/recurrent_kernel", &[32, 128]),
        ("lstm_cell/bias", &[128]),
    ]);
    run_layer_test(case);
    assert_eq!(
        layer
            .weights()
            .iter()
            .map(|w| w.value().len())
            .sum::<usize>(),
        21_120
    );
    // Keras 2's hard sigmoid gates, every step returned.
    let small = LSTM::new(3)
        .with_return_sequences(true)
        .with_recurrent_activation("hard_sigmoid_keras2")
        .unwrap();
    let gate: fn(f32) -> f32 = |z| (0.2 * z + 0.5).clamp(0.0, 1.0);
    let case = Case::new(small, &[&[5, 4]], &[5, 3], lstm_reference(gate, true)).weights(&[
        ("lstm_cell/kernel", &[4, 12]),
        ("lstm_cell/recurrent_kernel", &[3, 12]),
        ("lstm_cell/bias", &[12]),
    ]);
    run_layer_test(case);
}
