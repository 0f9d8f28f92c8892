//! What every recurrent layer shares: Keras's common config keys, the input/initial-state shape checks, the
//! `go_backwards` input order and the gate activations by name.

use crate::error::{LayersError, Result};
use crate::layer::{Layer, Shape, shape_error};
use crate::serialization::ConfigReader;
use rkeras_tensor::Tensor;
use rkeras_tensor::kernels::lstm::GateActivation;
use serde_json::{Value, json};

/// The gate activations by Keras name.
pub(crate) const RECURRENT_ACTIVATIONS: [(&str, GateActivation); 3] = [
    ("sigmoid", GateActivation::Sigmoid),
    ("hard_sigmoid", GateActivation::HardSigmoid),
    ("hard_sigmoid_keras2", GateActivation::HardSigmoidKeras2),
];

/// The gate activation named `name`, or an error of `kind` listing the valid names.
pub(crate) fn recurrent_activation(kind: &'static str, name: &str) -> Result<GateActivation> {
    RECURRENT_ACTIVATIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| *a)
        .ok_or_else(|| LayersError::UnknownName {
            kind,
            name: name.to_string(),
            valid: RECURRENT_ACTIVATIONS
                .iter()
                .map(|(n, _)| n.to_string())
                .collect(),
        })
}

/// Keras's name of a gate activation.
pub(crate) fn recurrent_activation_name(activation: GateActivation) -> &'static str {
    RECURRENT_ACTIVATIONS
        .iter()
        .find(|(_, a)| *a == activation)
        .map(|(n, _)| *n)
        .unwrap_or("sigmoid")
}

/// The options of Keras's `RNN` base class that rkeras implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SequenceOptions {
    /// Every step's output instead of the last.
    pub return_sequences: bool,
    /// Process the input from its last step to its first (the output sequence then comes in that order).
    pub go_backwards: bool,
}

impl SequenceOptions {
    /// Reads `return_sequences` and `go_backwards`; the options rkeras lacks (`return_state`, `stateful`,
    /// `time_major`, non-zero dropouts, regularizers, constraints) are errors naming the option.
    pub fn read(reader: &ConfigReader, class: &str) -> Result<Self> {
        for key in ["return_state", "stateful", "time_major"] {
            reader.require_bool(key, false)?;
        }
        for key in ["dropout", "recurrent_dropout"] {
            let rate = reader.f32_or(key, 0.0)?;
            if rate != 0.0 {
                return Err(LayersError::Config(format!(
                    "{class} config: `{key}={rate}` is not supported by rkeras (use a Dropout layer before the {class})"
                )));
            }
        }
        reader.reject_unsupported(&[
            "kernel_regularizer",
            "recurrent_regularizer",
            "bias_regularizer",
            "activity_regularizer",
            "kernel_constraint",
            "recurrent_constraint",
            "bias_constraint",
        ])?;
        Ok(SequenceOptions {
            return_sequences: reader.bool_or("return_sequences", false)?,
            go_backwards: reader.bool_or("go_backwards", false)?,
        })
    }

    /// Keras's `RNN` entries that open a recurrent layer's config.
    pub fn config_entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("return_sequences", json!(self.return_sequences)),
            ("return_state", json!(false)),
            ("go_backwards", json!(self.go_backwards)),
            ("stateful", json!(false)),
            ("unroll", json!(false)),
            ("zero_output_for_mask", json!(false)),
        ]
    }

    /// The input in processing order: reversed along time with `go_backwards`.
    pub fn ordered_input(&self, x: &Tensor) -> rkeras_tensor::Result<Tensor> {
        if self.go_backwards {
            x.reverse_axis(1)
        } else {
            Ok(x.clone())
        }
    }

    /// The output shape for a sequence input `[time, features]` (and an optional initial state `[units]`),
    /// after checking the kernel's rows (`kernel_rows`, once built) against the features.
    pub fn output_shape(
        &self,
        layer: &dyn Layer,
        input_shapes: &[Shape],
        units: usize,
        kernel_rows: Option<usize>,
    ) -> Result<Shape> {
        let (sequence, state) = match input_shapes {
            [sequence] => (sequence, None),
            [sequence, state] => (sequence, Some(state)),
            _ => {
                return Err(shape_error(
                    layer,
                    format!(
                        "expected the sequence and at most one initial state, received {} inputs",
                        input_shapes.len()
                    ),
                    input_shapes,
                ));
            }
        };
        let &[time, features] = sequence.as_slice() else {
            return Err(shape_error(
                layer,
                "expected an input of shape (None, time, features)",
                input_shapes,
            ));
        };
        if let Some(state) = state
            && state.as_slice() != [units]
        {
            return Err(shape_error(
                layer,
                format!("the initial state must have shape (None, {units})"),
                input_shapes,
            ));
        }
        if let Some(rows) = kernel_rows
            && rows != features
        {
            return Err(shape_error(
                layer,
                format!("the kernel expects {rows} features"),
                input_shapes,
            ));
        }
        Ok(if self.return_sequences {
            vec![time, units]
        } else {
            vec![units]
        })
    }
}

/// The sequence and the optional initial state of a recurrent layer's call.
pub(crate) fn sequence_and_state<'a>(
    layer: &dyn Layer,
    inputs: &'a [Tensor],
) -> Result<(&'a Tensor, Option<&'a Tensor>)> {
    match inputs {
        [x] => Ok((x, None)),
        [x, state] => Ok((x, Some(state))),
        _ => Err(LayersError::Graph(format!(
            "layer `{}` ({}) expects the sequence and at most one initial state, received {} inputs",
            layer.name(),
            layer.class_name(),
            inputs.len()
        ))),
    }
}

/// The features of the sequence input (the kernel's rows).
pub(crate) fn features(input_shapes: &[Shape]) -> usize {
    input_shapes
        .first()
        .and_then(|s| s.get(1))
        .copied()
        .unwrap_or(0)
}
