//! Tests of `dropout` / `recurrent_dropout`: the step path's gradients with fixed masks, the step path without
//! masks against the fused kernels, rate 0 and inference bit for bit the plain layer, a hand-computed step, the
//! masks' statistics and reproducibility, and Keras 3's outputs (inference, and training with Keras's masks
//! injected; fixture from `scripts/keras_rnn_dropout_golden.py`).

use super::dropout::{DropoutMasks, RecurrentDropout};
use super::dropout_steps::{DropoutSteps, StepCell};
use super::{GRU, LSTM, SimpleRNN};
use crate::layer::{CallContext, Layer, LayerRef};
use crate::symbolic::apply;
use crate::{Input, LayerCall};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_tensor::gradcheck::{GradCheck, check_gradients};
use rkeras_tensor::kernels::lstm::GateActivation;
use rkeras_tensor::kernels::simple_rnn::RnnActivation;
use rkeras_tensor::ops::{GruConfig, LstmConfig};
use rkeras_tensor::{Result, Tensor};
use serde_json::Value;
use std::sync::Arc;

fn array(shape: &[usize], seed: u32) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    let values = (0..n)
        .map(|k| ((k as u32 * 2_654_435_761u32).wrapping_add(seed) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    ArrayD::from_shape_vec(shape.to_vec(), values).unwrap()
}

/// A fixed dropout mask: entries 0 or `1 / (1 − 0.3)`.
fn fixed_mask(shape: &[usize], seed: u32) -> Tensor {
    Tensor::new(array(shape, seed).mapv(|v| if v < -0.2 { 0.0 } else { 1.0 / 0.7 }))
}

const CELLS: [StepCell; 5] = [
    StepCell::Simple(RnnActivation::Tanh),
    StepCell::Simple(RnnActivation::Relu),
    StepCell::Lstm(GateActivation::Sigmoid),
    StepCell::Gru {
        recurrent_activation: GateActivation::Sigmoid,
        reset_after: true,
    },
    StepCell::Gru {
        recurrent_activation: GateActivation::Sigmoid,
        reset_after: false,
    },
];

/// `(gates, states, bias shape)` of a cell with `units` units.
fn layout(cell: StepCell, units: usize) -> (usize, usize, Vec<usize>) {
    match cell {
        StepCell::Simple(_) => (1, 1, vec![units]),
        StepCell::Lstm(_) => (4, 2, vec![4 * units]),
        StepCell::Gru {
            reset_after: true, ..
        } => (3, 1, vec![2, 3 * units]),
        StepCell::Gru { .. } => (3, 1, vec![3 * units]),
    }
}

fn per_gate_masks(gates: usize, batch: usize, features: usize, units: usize) -> DropoutMasks {
    DropoutMasks {
        input: (0..gates)
            .map(|g| fixed_mask(&[batch, features], 31 + g as u32))
            .collect(),
        recurrent: (0..gates)
            .map(|g| fixed_mask(&[batch, units], 47 + g as u32))
            .collect(),
    }
}

#[test]
fn gradients_match_finite_differences_with_fixed_masks() {
    let (batch, time, features, units) = (2, 3, 3, 2);
    let step_mask = Tensor::from_vec(&[2, 3], vec![1.0, 0.0, 1.0, 1.0, 1.0, 0.0]).unwrap();
    for cell in CELLS {
        let (gates, state_count, bias_shape) = layout(cell, units);
        let masks = per_gate_masks(gates, batch, features, units);
        let mut inputs = vec![
            array(&[batch, time, features], 3),
            array(&[features, gates * units], 5),
            array(&[units, gates * units], 9),
            array(&bias_shape, 21),
        ];
        inputs.extend((0..state_count).map(|k| array(&[batch, units], 23 + k as u32)));
        for step_mask in [None, Some(&step_mask)] {
            for output in 0..=state_count {
                let report = check_gradients(
                    &inputs,
                    |t| {
                        let run = DropoutSteps {
                            cell,
                            kernel: &t[1],
                            recurrent_kernel: &t[2],
                            bias: &t[3],
                            masks: &masks,
                            step_mask,
                            return_sequences: true,
                        }
                        .run(&t[0], &t[4..])?;
                        Ok(std::iter::once(run.output)
                            .chain(run.states)
                            .nth(output)
                            .unwrap())
                    },
                    GradCheck::default(),
                )
                .unwrap();
                assert!(report.passed(), "{cell:?} output {output}: {report:?}");
            }
        }
    }
}

/// The fused kernel's output for `cell` (sequences, zero initial states).
fn fused(
    cell: StepCell,
    x: &Tensor,
    w: &Tensor,
    u: &Tensor,
    b: &Tensor,
    mask: &Tensor,
) -> Result<Tensor> {
    match cell {
        StepCell::Simple(activation) => {
            x.simple_rnn_masked(w, u, b, None, Some(mask), activation, true)
        }
        StepCell::Lstm(recurrent_activation) => x.lstm_masked(
            w,
            u,
            b,
            Some(mask),
            LstmConfig {
                return_sequences: true,
                recurrent_activation,
            },
        ),
        StepCell::Gru {
            recurrent_activation,
            reset_after,
        } => x.gru_masked(
            w,
            u,
            b,
            None,
            Some(mask),
            GruConfig {
                return_sequences: true,
                recurrent_activation,
                reset_after,
            },
        ),
    }
}

#[test]
fn without_masks_the_steps_compute_the_fused_kernels() {
    let (batch, time, features, units) = (3, 4, 3, 5);
    let step_mask = Tensor::from_vec(
        &[3, 4],
        vec![1., 1., 0., 1., 0., 1., 1., 1., 1., 1., 1., 1.],
    )
    .unwrap();
    for cell in CELLS {
        let (gates, _, bias_shape) = layout(cell, units);
        let x = Tensor::new(array(&[batch, time, features], 1));
        let w = Tensor::new(array(&[features, gates * units], 2));
        let u = Tensor::new(array(&[units, gates * units], 4));
        let b = Tensor::new(array(&bias_shape, 8));
        let run = DropoutSteps {
            cell,
            kernel: &w,
            recurrent_kernel: &u,
            bias: &b,
            masks: &DropoutMasks::default(),
            step_mask: Some(&step_mask),
            return_sequences: true,
        }
        .run(&x, &[])
        .unwrap();
        let expected = fused(cell, &x, &w, &u, &b, &step_mask).unwrap();
        assert_eq!(run.output.shape(), expected.shape());
        for (a, e) in run.output.to_vec().iter().zip(expected.to_vec()) {
            assert!((a - e).abs() < 1e-6, "{cell:?}: {a} vs {e}");
        }
    }
}

fn forward(layer: &dyn Layer, x: &Tensor, training: bool, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ctx = CallContext {
        training,
        rng: &mut rng,
    };
    layer
        .forward(std::slice::from_ref(x), &mut ctx)
        .unwrap()
        .to_vec()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// Builds each layer on `[5, 3]` and gives every one the first one's weights.
fn built_alike(layers: &[LayerRef]) {
    let input = Input::new(&[5, 3]);
    for layer in layers {
        apply(layer.clone(), std::slice::from_ref(&input)).unwrap();
    }
    for layer in &layers[1..] {
        for (w, p) in layer.weights().iter().zip(layers[0].weights()) {
            w.set_value(p.value().as_ref().clone()).unwrap();
        }
    }
}

#[test]
fn rate_zero_and_inference_are_the_plain_layer_bit_for_bit() {
    let x = Tensor::new(array(&[4, 5, 3], 77));
    let families: [[LayerRef; 3]; 3] = [
        [
            Arc::new(LSTM::new(4).with_return_sequences(true)),
            Arc::new(LSTM::new(4).with_return_sequences(true).with_dropout(0.0)),
            Arc::new(
                LSTM::new(4)
                    .with_return_sequences(true)
                    .with_dropout(0.4)
                    .with_recurrent_dropout(0.3),
            ),
        ],
        [
            Arc::new(GRU::new(4)),
            Arc::new(GRU::new(4).with_recurrent_dropout(0.0)),
            Arc::new(GRU::new(4).with_dropout(0.4).with_recurrent_dropout(0.3)),
        ],
        [
            Arc::new(SimpleRNN::new(4)),
            Arc::new(
                SimpleRNN::new(4)
                    .with_dropout(0.0)
                    .with_recurrent_dropout(0.0),
            ),
            Arc::new(
                SimpleRNN::new(4)
                    .with_dropout(0.4)
                    .with_recurrent_dropout(0.3),
            ),
        ],
    ];
    for layers in &families {
        built_alike(layers);
        let plain = bits(&forward(layers[0].as_ref(), &x, false, 1));
        assert_eq!(bits(&forward(layers[0].as_ref(), &x, true, 1)), plain);
        assert_eq!(bits(&forward(layers[1].as_ref(), &x, true, 1)), plain);
        assert_eq!(bits(&forward(layers[2].as_ref(), &x, false, 1)), plain);
        let training = forward(layers[2].as_ref(), &x, true, 1);
        assert_ne!(bits(&training), plain, "{}", layers[2].name());
        // One seeded RNG state, one set of masks.
        assert_eq!(
            bits(&forward(layers[2].as_ref(), &x, true, 1)),
            bits(&training)
        );
        assert_ne!(
            bits(&forward(layers[2].as_ref(), &x, true, 2)),
            bits(&training)
        );
    }
}

#[test]
fn a_hand_computed_simple_rnn_with_both_masks() {
    // One feature, one unit, linear: h1 = x1·mx·w + b; h2 = x2·mx·w + h1·mh·u + b.
    let layer = SimpleRNN::new(1)
        .with_activation("linear")
        .unwrap()
        .with_return_sequences(true)
        .with_dropout(0.5)
        .with_recurrent_dropout(0.5);
    layer.call(&Input::new(&[2, 1])).unwrap();
    let (w, u, b) = (0.7f32, -0.4f32, 0.1f32);
    for (variable, value) in layer.weights().iter().zip([w, u, b]) {
        let shape = variable.shape();
        variable
            .set_value(ArrayD::from_elem(IxDyn(&shape), value))
            .unwrap();
    }
    let x = Tensor::from_vec(&[2, 2, 1], vec![1.5, -2.0, 0.5, 3.0]).unwrap();
    let masks = DropoutMasks {
        input: vec![Tensor::from_vec(&[2, 1], vec![2.0, 0.0]).unwrap()],
        recurrent: vec![Tensor::from_vec(&[2, 1], vec![2.0, 2.0]).unwrap()],
    };
    let out = layer.run_with_dropout(&[x], None, &masks).unwrap()[0].to_vec();
    let h1 = [1.5 * 2.0 * w + b, 0.5 * 0.0 * w + b];
    let h2 = [
        -2.0 * 2.0 * w + h1[0] * 2.0 * u + b,
        3.0 * 0.0 * w + h1[1] * 2.0 * u + b,
    ];
    let expected = [h1[0], h2[0], h1[1], h2[1]];
    for (a, e) in out.iter().zip(expected) {
        assert!((a - e).abs() < 1e-6, "{out:?} vs {expected:?}");
    }
}

#[test]
fn masks_are_drawn_per_call_scaled_and_per_gate_with_recurrent_dropout() {
    let mut rng = StdRng::seed_from_u64(3);
    let options = RecurrentDropout {
        dropout: 0.3,
        recurrent_dropout: 0.0,
        seed: None,
    };
    let shared = options.masks(true, &mut rng, &[500, 7, 40], 8, 4).unwrap();
    assert_eq!((shared.input.len(), shared.recurrent.len()), (1, 0));
    assert!(!shared.needs_steps());
    let values = shared.input[0].to_vec();
    assert_eq!(shared.input[0].shape(), &[500, 40]);
    let dropped = values.iter().filter(|&&v| v == 0.0).count() as f64 / values.len() as f64;
    // 20 000 Bernoulli(0.3) draws: the standard deviation of the fraction is 0.0032.
    assert!((dropped - 0.3).abs() < 0.015, "{dropped}");
    assert!(values.iter().all(|&v| v == 0.0 || v == 1.0 / 0.7));
    let per_gate = RecurrentDropout {
        recurrent_dropout: 0.5,
        ..options
    }
    .masks(true, &mut rng, &[6, 7, 5], 8, 3)
    .unwrap();
    assert_eq!((per_gate.input.len(), per_gate.recurrent.len()), (3, 3));
    assert_eq!(per_gate.recurrent[2].shape(), &[6, 8]);
    assert_ne!(
        per_gate.recurrent[0].to_vec(),
        per_gate.recurrent[1].to_vec()
    );
    assert!(per_gate.needs_steps());
    let inference = options.masks(false, &mut rng, &[6, 7, 5], 8, 3).unwrap();
    assert!(inference.input.is_empty() && inference.recurrent.is_empty());
}

#[test]
fn config_round_trips_and_bad_rates_are_errors() {
    let layer = GRU::new(3)
        .with_dropout(0.25)
        .with_recurrent_dropout(0.1)
        .with_seed(7);
    let config = layer.config();
    assert_eq!(config["dropout"], serde_json::json!(0.25));
    assert_eq!(config["recurrent_dropout"], serde_json::json!(0.1));
    assert_eq!(config["seed"], serde_json::json!(7));
    assert_eq!(GRU::from_config(&config).unwrap().config(), config);
    for (key, value) in [("dropout", 1.0), ("recurrent_dropout", -0.1)] {
        let mut bad = config.clone();
        bad[key] = serde_json::json!(value);
        let error = GRU::from_config(&bad).unwrap_err().to_string();
        assert!(error.contains(key) && error.contains("[0, 1)"), "{error}");
    }
    let error = SimpleRNN::new(2)
        .with_recurrent_dropout(1.5)
        .call(&Input::new(&[3, 2]))
        .unwrap_err()
        .to_string();
    assert!(error.contains("recurrent_dropout"), "{error}");
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_rnn_dropout_golden.json"
);

fn fixture_array(value: &Value) -> ArrayD<f32> {
    let shape: Vec<usize> = value["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let values = value["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap()
}

fn fixture_tensors(value: &Value) -> Vec<Tensor> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Tensor::new(fixture_array(v)))
        .collect()
}

fn assert_close(name: &str, what: &str, actual: &Tensor, expected: &ArrayD<f32>) {
    assert_eq!(actual.shape(), expected.shape(), "{name} {what}");
    for (a, e) in actual.to_vec().iter().zip(expected.iter()) {
        assert!((a - e).abs() < 1e-5, "{name} {what}: {a} vs {e}");
    }
}

/// Rebuilds a case's layer from Keras's config with Keras's weights; checks the inference output and the
/// training output with Keras's masks.
fn check_case<L: Layer + Clone + 'static>(
    case: &Value,
    layer: L,
    run: impl Fn(&L, &[Tensor], Option<&Tensor>, &DropoutMasks) -> crate::Result<Vec<Tensor>>,
) {
    let name = case["name"].as_str().unwrap();
    let x = fixture_array(&case["x"]);
    layer.call(&Input::new(&x.shape()[1..])).unwrap();
    let weights = fixture_tensors(&case["weights"]);
    assert_eq!(layer.weights().len(), weights.len(), "{name}");
    for (variable, value) in layer.weights().iter().zip(weights) {
        variable.set_value(value.data().clone()).unwrap();
    }
    let x = Tensor::new(x);
    let step_mask =
        (!case["step_mask"].is_null()).then(|| Tensor::new(fixture_array(&case["step_mask"])));
    let mut rng = StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: false,
        rng: &mut rng,
    };
    let inference = layer
        .forward_masked(
            std::slice::from_ref(&x),
            std::slice::from_ref(&step_mask),
            &mut ctx,
        )
        .unwrap()
        .unwrap();
    assert_close(
        name,
        "inference",
        &inference[0],
        &fixture_array(&case["inference"]),
    );
    let masks = DropoutMasks {
        input: fixture_tensors(&case["input_masks"]),
        recurrent: fixture_tensors(&case["recurrent_masks"]),
    };
    let training = run(&layer, std::slice::from_ref(&x), step_mask.as_ref(), &masks).unwrap();
    assert_close(
        name,
        "training",
        &training[0],
        &fixture_array(&case["training"]),
    );
}

#[test]
fn keras_outputs_in_inference_and_in_training_with_its_masks() {
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 11);
    for case in cases {
        let config = &case["config"];
        match case["class_name"].as_str().unwrap() {
            "LSTM" => check_case(
                case,
                LSTM::from_config(config).unwrap(),
                LSTM::run_with_dropout,
            ),
            "GRU" => check_case(
                case,
                GRU::from_config(config).unwrap(),
                GRU::run_with_dropout,
            ),
            "SimpleRNN" => check_case(
                case,
                SimpleRNN::from_config(config).unwrap(),
                SimpleRNN::run_with_dropout,
            ),
            other => panic!("unexpected class {other}"),
        }
    }
}
