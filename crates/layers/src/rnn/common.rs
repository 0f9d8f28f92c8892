//! What every recurrent layer shares: Keras's common config keys, the input/initial-state shape checks, the
//! `go_backwards` input order and the gate activations by name.

use crate::error::{LayersError, Result};
use crate::layer::{Layer, Shape, shape_error};
use crate::serialization::ConfigReader;
use crate::weight_rules::WeightRules;
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

/// The weight rules of a recurrent layer: Keras's `kernel_*`, `recurrent_*` (the recurrent kernel) and
/// `bias_*` regularizers and constraints.
pub(crate) fn recurrent_weight_rules() -> WeightRules {
    WeightRules::new(&[
        ("kernel", "kernel"),
        ("recurrent", "recurrent_kernel"),
        ("bias", "bias"),
    ])
}

/// The builders of [`recurrent_weight_rules`]'s regularizers and constraints, and the `rules_mut` they use, for
/// a recurrent layer whose `WeightRules` is its field `rules`.
macro_rules! recurrent_weight_rule_builders {
    () => {
        fn rules_mut(&mut self) -> &mut WeightRules {
            &mut self.rules
        }

        crate::weight_rules::weight_rule_builders!(
            "kernel" => with_kernel_regularizer, with_kernel_constraint;
            "recurrent" => with_recurrent_regularizer, with_recurrent_constraint;
            "bias" => with_bias_regularizer, with_bias_constraint;
        );
    };
}

pub(crate) use recurrent_weight_rule_builders;

/// The options of Keras's `RNN` base class that rkeras implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct SequenceOptions {
    /// Every step's output instead of the last.
    pub return_sequences: bool,
    /// Process the input from its last step to its first (the output sequence then comes in that order).
    pub go_backwards: bool,
    /// Return `[output, *final states]` (Keras's list) instead of the output alone.
    pub return_state: bool,
    /// Start each call from the previous call's final states (Keras's `stateful`).
    pub stateful: bool,
    /// Zeros, rather than the carried output, at the masked steps of the output (Keras's
    /// `zero_output_for_mask`; `Bidirectional` sets it with `return_sequences`). The states are carried
    /// either way.
    pub zero_output_for_mask: bool,
}

impl SequenceOptions {
    /// Reads `return_sequences`, `go_backwards`, `return_state` and `stateful`; `time_major` must be
    /// false (an error naming it otherwise).
    pub fn read(reader: &ConfigReader) -> Result<Self> {
        reader.require_bool("time_major", false)?;
        Ok(SequenceOptions {
            return_sequences: reader.bool_or("return_sequences", false)?,
            go_backwards: reader.bool_or("go_backwards", false)?,
            return_state: reader.bool_or("return_state", false)?,
            stateful: reader.bool_or("stateful", false)?,
            zero_output_for_mask: reader.bool_or("zero_output_for_mask", false)?,
        })
    }

    /// Keras's `RNN` entries that open a recurrent layer's config.
    pub fn config_entries(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("return_sequences", json!(self.return_sequences)),
            ("return_state", json!(self.return_state)),
            ("go_backwards", json!(self.go_backwards)),
            ("stateful", json!(self.stateful)),
            ("unroll", json!(false)),
            ("zero_output_for_mask", json!(self.zero_output_for_mask)),
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

    /// A timestep mask in processing order: reversed along time with `go_backwards` (as the input is).
    pub fn ordered_mask(&self, mask: Option<&Tensor>) -> rkeras_tensor::Result<Option<Tensor>> {
        mask.map(|m| self.ordered_mask_of(m)).transpose()
    }

    fn ordered_mask_of(&self, mask: &Tensor) -> rkeras_tensor::Result<Tensor> {
        if self.go_backwards {
            mask.reverse_axis(1)
        } else {
            Ok(mask.clone())
        }
    }

    /// With `zero_output_for_mask` and a timestep mask (`[batch, time]`, in input order), the call's outputs
    /// `[output, *states]` with the output zeroed at its masked steps (the last processed step's for an output
    /// without `return_sequences`, as Keras's `last_output` is); the outputs unchanged otherwise.
    pub fn zero_masked_output(
        &self,
        mut outputs: Vec<Tensor>,
        mask: Option<&Tensor>,
    ) -> rkeras_tensor::Result<Vec<Tensor>> {
        let (true, Some(mask), Some(output)) =
            (self.zero_output_for_mask, mask, outputs.first_mut())
        else {
            return Ok(outputs);
        };
        let &[batch, time] = mask.shape() else {
            return Err(rkeras_tensor::TensorError::invalid_shape(
                "recurrent mask",
                mask.shape(),
                "expected a timestep mask [batch, time]",
            ));
        };
        if time == 0 {
            return Ok(outputs);
        }
        let ordered = self.ordered_mask_of(mask)?;
        let keep = if self.return_sequences {
            ordered.reshape(&[batch, time, 1])?
        } else {
            ordered.narrow(1, time - 1, 1)?
        };
        *output = output.mul(&keep)?;
        Ok(outputs)
    }

    /// Keras's `RNN.compute_mask`: the input mask for the sequence output with `return_sequences`, none
    /// otherwise (nor for the states).
    pub fn output_mask(&self, masks: &[Option<Tensor>]) -> Option<Tensor> {
        if self.return_sequences {
            masks.first().cloned().flatten()
        } else {
            None
        }
    }

    /// Every output shape ([`SequenceOptions::output_shape`]'s, then with `return_state` the `state_count`
    /// final states `[units]`).
    pub fn output_shapes(
        &self,
        layer: &dyn Layer,
        input_shapes: &[Shape],
        units: usize,
        kernel_rows: Option<usize>,
        state_count: usize,
    ) -> Result<Vec<Shape>> {
        let output = self.output_shape(layer, input_shapes, units, kernel_rows, state_count)?;
        let states = if self.return_state { state_count } else { 0 };
        Ok(std::iter::once(output)
            .chain(std::iter::repeat_n(vec![units], states))
            .collect())
    }

    /// The output shape for a sequence input `[time, features]` (and optionally its `state_count` initial
    /// states `[units]`: 1 for GRU and SimpleRNN, 2 for LSTM), after checking the kernel's rows
    /// (`kernel_rows`, once built) against the features.
    pub fn output_shape(
        &self,
        layer: &dyn Layer,
        input_shapes: &[Shape],
        units: usize,
        kernel_rows: Option<usize>,
        state_count: usize,
    ) -> Result<Shape> {
        let Some((sequence, states)) = input_shapes
            .split_first()
            .filter(|(_, states)| states.is_empty() || states.len() == state_count)
        else {
            return Err(shape_error(
                layer,
                format!(
                    "expected the sequence and optionally {state_count} initial state(s), received {} inputs",
                    input_shapes.len()
                ),
                input_shapes,
            ));
        };
        let &[time, features] = sequence.as_slice() else {
            return Err(shape_error(
                layer,
                "expected an input of shape (None, time, features)",
                input_shapes,
            ));
        };
        if states.iter().any(|state| state.as_slice() != [units]) {
            return Err(shape_error(
                layer,
                format!("every initial state must have shape (None, {units})"),
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

/// The first of a call's outputs (its shape or its value): what `output_shape` and `forward` return.
pub(crate) fn first_output<T>(layer: &dyn Layer, outputs: Vec<T>) -> Result<T> {
    outputs
        .into_iter()
        .next()
        .ok_or_else(|| LayersError::Graph(format!("layer `{}` returned no output", layer.name())))
}

/// The last step of a `[batch, time, units]` sequence as `[batch, units]`; for zero steps, `initial` (or
/// zeros), as Keras's final state of an empty sequence is the initial state.
pub(crate) fn last_step(
    sequence: &Tensor,
    initial: Option<&Tensor>,
) -> rkeras_tensor::Result<Tensor> {
    match sequence.shape() {
        &[batch, 0, units] => Ok(initial
            .cloned()
            .unwrap_or_else(|| Tensor::zeros(&[batch, units]))),
        &[batch, time, units] => sequence.narrow(1, time - 1, 1)?.reshape(&[batch, units]),
        other => Err(rkeras_tensor::TensorError::invalid_shape(
            "recurrent output",
            other,
            "expected a sequence [batch, time, units]",
        )),
    }
}

/// The outputs of a layer whose one state is its output (GRU, SimpleRNN): the output, then with
/// `return_state` the final state (the last step of a returned sequence).
pub(crate) fn output_and_state(
    options: &SequenceOptions,
    output: Tensor,
    initial: Option<&Tensor>,
) -> rkeras_tensor::Result<Vec<Tensor>> {
    if !options.return_state {
        return Ok(vec![output]);
    }
    let state = if options.return_sequences {
        last_step(&output, initial)?
    } else {
        output.clone()
    };
    Ok(vec![output, state])
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

/// The timestep mask a recurrent call honours, as Keras's `Layer.__call__` fills its `mask` argument: the
/// sequence's mask when the sequence is the call's only tensor, none when initial states come with it (Keras
/// then runs the layer unmasked, though the output still carries the sequence's mask).
pub(crate) fn call_mask<'a>(inputs: &[Tensor], masks: &'a [Option<Tensor>]) -> Option<&'a Tensor> {
    if inputs.len() == 1 {
        masks.first().and_then(Option::as_ref)
    } else {
        None
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
