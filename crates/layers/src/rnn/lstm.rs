//! `LSTM`: a long short-term memory layer over a whole sequence, run by the tensor crate's fused op.

use super::carried_state::CarriedStates;
use super::dropout::{DropoutMasks, RecurrentDropout, recurrent_dropout_setters};
use super::dropout_steps::{DropoutSteps, StepCell};
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape};
use crate::serialization::{ConfigReader, base_config, initializer_to_config};
use rand::rngs::StdRng;
use rkeras_tensor::kernels::lstm::GateActivation;
use rkeras_tensor::ops::LstmConfig;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};

use super::common::{
    SequenceOptions, features, first_output, recurrent_activation, recurrent_activation_name,
    recurrent_weight_rule_builders, recurrent_weight_rules,
};
use super::lstm_steps::LstmSteps;
use crate::weight_rules::WeightRules;

/// Keras's default recurrent initializer, `Orthogonal(gain=1)`.
pub const DEFAULT_RECURRENT_INITIALIZER: Initializer = Initializer::Orthogonal { gain: 1.0 };

/// A long short-term memory layer (Keras's `LSTM`), gates in Keras's order (input, forget, cell, output).
///
/// Weights, in Keras's order and names: `lstm_cell/kernel` `[input_dim, 4·units]` (glorot_uniform),
/// `lstm_cell/recurrent_kernel` `[units, 4·units]` (orthogonal), `lstm_cell/bias` `[4·units]` (zeros, with the
/// forget gate's slice set to 1 when `unit_forget_bias` is on, as Keras does).
///
/// The cell activation is `tanh` (the only one supported). The gates use `sigmoid` (Keras 3's default),
/// `hard_sigmoid` (Keras 3's `relu6(x + 3) / 6`) or `hard_sigmoid_keras2` (Keras 1/2's `clip(0.2x + 0.5, 0, 1)`,
/// their default, which models saved by Keras 1/2 with `hard_sigmoid` get).
///
/// # Shapes
/// input `[time, features]`, output `[units]`, or `[time, units]` with `return_sequences`.
///
/// ```
/// use rkeras_layers::{Input, Layer, LayerCall, LSTM};
/// let y = LSTM::new(32).call(&Input::new(&[4, 132]))?;
/// assert_eq!(y.shape(), &[32]);
/// let shapes: Vec<Vec<usize>> = y.layer().weights().iter().map(|w| w.shape()).collect();
/// assert_eq!(shapes, vec![vec![132, 128], vec![32, 128], vec![128]]);
/// assert_eq!(shapes.iter().map(|s| s.iter().product::<usize>()).sum::<usize>(), 21_120);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone)]
pub struct LSTM {
    core: LayerCore,
    units: usize,
    options: SequenceOptions,
    dropout: RecurrentDropout,
    states: CarriedStates,
    recurrent_activation: GateActivation,
    use_bias: bool,
    unit_forget_bias: bool,
    kernel_initializer: Initializer,
    recurrent_initializer: Initializer,
    bias_initializer: Initializer,
    trainable: bool,
    rules: WeightRules,
}

impl LSTM {
    /// An LSTM of `units` cells returning the last step's output, with Keras 3's defaults.
    pub fn new(units: usize) -> Self {
        LSTM {
            core: LayerCore::new("lstm"),
            units,
            options: SequenceOptions::default(),
            dropout: RecurrentDropout::default(),
            states: CarriedStates::default(),
            recurrent_activation: GateActivation::Sigmoid,
            use_bias: true,
            unit_forget_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            recurrent_initializer: DEFAULT_RECURRENT_INITIALIZER,
            bias_initializer: Initializer::Zeros,
            trainable: true,
            rules: recurrent_weight_rules(),
        }
    }

    /// Whether to return every step's output (`[time, units]`) instead of the last (`[units]`).
    /// Defaults to false.
    pub fn with_return_sequences(mut self, return_sequences: bool) -> Self {
        self.options.return_sequences = return_sequences;
        self
    }

    /// Whether a call returns `[output, final_h, final_c]` (Keras's `return_state`; use
    /// [`crate::LayerCall::call_outputs`]). Defaults to false.
    pub fn with_return_state(mut self, return_state: bool) -> Self {
        self.options.return_state = return_state;
        self
    }

    /// Whether to process the sequence from its last step to its first (the output sequence then comes in
    /// that order, as in Keras). Defaults to false.
    pub fn with_go_backwards(mut self, go_backwards: bool) -> Self {
        self.options.go_backwards = go_backwards;
        self
    }

    recurrent_dropout_setters!();

    /// Whether each call starts from the previous call's final states (Keras's `stateful`; every batch then
    /// has the same size, and [`Layer::reset_states`] starts over from zeros). Defaults to false.
    pub fn with_stateful(mut self, stateful: bool) -> Self {
        self.options.stateful = stateful;
        self
    }

    /// The cell activation by Keras name; only `"tanh"` (the default) is supported, anything else is an
    /// error.
    pub fn with_activation(self, name: &str) -> Result<Self> {
        if name != "tanh" {
            return Err(LayersError::UnknownName {
                kind: "LSTM activation",
                name: name.to_string(),
                valid: vec!["tanh".to_string()],
            });
        }
        Ok(self)
    }

    /// The gates' activation: `"sigmoid"` (Keras 3's default), `"hard_sigmoid"` (Keras 3's form) or
    /// `"hard_sigmoid_keras2"` (Keras 1/2's form).
    pub fn with_recurrent_activation(mut self, name: &str) -> Result<Self> {
        self.recurrent_activation = recurrent_activation("LSTM recurrent_activation", name)?;
        Ok(self)
    }

    /// Whether to add a bias. Defaults to true.
    pub fn with_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Whether the forget gate's bias starts at 1 (Keras's `unit_forget_bias`). Defaults to true.
    pub fn with_unit_forget_bias(mut self, unit_forget_bias: bool) -> Self {
        self.unit_forget_bias = unit_forget_bias;
        self
    }

    /// Sets the kernel initializer. Defaults to glorot_uniform.
    pub fn with_kernel_initializer(mut self, init: Initializer) -> Self {
        self.kernel_initializer = init;
        self
    }

    /// Sets the recurrent kernel initializer. Defaults to orthogonal.
    pub fn with_recurrent_initializer(mut self, init: Initializer) -> Self {
        self.recurrent_initializer = init;
        self
    }

    /// Sets the bias initializer. Defaults to zeros.
    pub fn with_bias_initializer(mut self, init: Initializer) -> Self {
        self.bias_initializer = init;
        self
    }

    /// Whether the optimizer updates the weights; set it before the first call. Defaults to true.
    pub fn with_trainable(mut self, trainable: bool) -> Self {
        self.trainable = trainable;
        self
    }

    recurrent_weight_rule_builders!();

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The number of cells.
    pub fn units(&self) -> usize {
        self.units
    }

    /// The gates' activation.
    pub fn recurrent_activation(&self) -> GateActivation {
        self.recurrent_activation
    }

    /// Rebuilds the layer from Keras's config (`units`, `return_sequences`, `activation`,
    /// `recurrent_activation`, `use_bias`, `unit_forget_bias`, the initializers, `name`). Options rkeras does
    /// not implement (`time_major`) are errors naming the option; `dropout`, `recurrent_dropout`, `seed`,
    /// `stateful`, the weights' regularizers and constraints and the activity regularizer are read.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("LSTM", config)?;
        let options = SequenceOptions::read(&reader)?;
        let mut layer = LSTM::new(reader.usize("units")?)
            .with_activation(reader.str_or("activation", "tanh")?)?
            .with_recurrent_activation(reader.str_or("recurrent_activation", "sigmoid")?)?
            .with_bias(reader.bool_or("use_bias", true)?)
            .with_unit_forget_bias(reader.bool_or("unit_forget_bias", true)?)
            .with_kernel_initializer(
                reader.initializer_or("kernel_initializer", Initializer::GlorotUniform)?,
            )
            .with_recurrent_initializer(
                reader.initializer_or("recurrent_initializer", DEFAULT_RECURRENT_INITIALIZER)?,
            )
            .with_bias_initializer(reader.initializer_or("bias_initializer", Initializer::Zeros)?)
            .with_trainable(reader.trainable()?);
        layer.options = options;
        layer.rules.read(&reader)?;
        layer.dropout = RecurrentDropout::read(&reader, "LSTM")?;
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        layer.validate()?;
        Ok(layer)
    }

    /// Checks the constructor arguments, echoing a bad value.
    pub(crate) fn validate(&self) -> Result<()> {
        self.dropout.validate("LSTM")?;
        if self.units == 0 {
            return Err(LayersError::InvalidArgument {
                class: "LSTM",
                argument: "units",
                reason: "expected a positive integer, received 0".into(),
            });
        }
        Ok(())
    }
}

impl LSTM {
    /// Runs the layer over the sequence (and optional initial states) with an optional timestep mask.
    fn run(
        &self,
        inputs: &[Tensor],
        mask: Option<&Tensor>,
        ctx: &mut CallContext<'_>,
    ) -> Result<Vec<Tensor>> {
        let shape = inputs.first().map(Tensor::shape).unwrap_or_default();
        let dropout = self
            .dropout
            .masks(ctx.training, &mut *ctx.rng, shape, self.units, 4)
            .in_layer(self.name())?;
        if !self.options.stateful {
            return self.run_with_dropout(inputs, mask, &dropout);
        }
        let mut with_states = self.clone();
        with_states.options.return_state = true;
        self.states
            .run(self.name(), inputs, self.options.return_state, |inputs| {
                with_states.run_with_dropout(inputs, mask, &dropout)
            })
    }

    /// [`Self::run`] with the call's dropout masks given.
    pub(crate) fn run_with_dropout(
        &self,
        inputs: &[Tensor],
        mask: Option<&Tensor>,
        dropout: &DropoutMasks,
    ) -> Result<Vec<Tensor>> {
        let outputs = self.run_masked(inputs, mask, dropout)?;
        self.options
            .zero_masked_output(outputs, mask)
            .in_layer(self.name())
    }

    /// [`Self::run_with_dropout`] before `zero_output_for_mask`.
    fn run_masked(
        &self,
        inputs: &[Tensor],
        mask: Option<&Tensor>,
        dropout: &DropoutMasks,
    ) -> Result<Vec<Tensor>> {
        let (x, states) = match inputs {
            [x] => (x, None),
            [x, h0, c0] => (x, Some((h0, c0))),
            _ => {
                return Err(LayersError::Graph(format!(
                    "layer `{}` (LSTM) expects the sequence and optionally the initial states [h, c], received {} inputs",
                    self.name(),
                    inputs.len()
                )));
            }
        };
        let bias = if self.use_bias {
            self.core.weight(2)?
        } else {
            Tensor::zeros(&[4 * self.units])
        };
        let (kernel, recurrent_kernel) = (self.core.weight(0)?, self.core.weight(1)?);
        let x = self.options.ordered_input(x).in_layer(self.name())?;
        let mask = self.options.ordered_mask(mask).in_layer(self.name())?;
        // The fused kernel carries neither initial states nor the final cell state; with a timestep mask the
        // step-by-step path (which honours it) runs instead of the one below.
        let masked_states = mask.is_some() && (states.is_some() || self.options.return_state);
        if dropout.needs_steps() || masked_states {
            let initial: Vec<Tensor> = states
                .map(|(h, c)| vec![h.clone(), c.clone()])
                .unwrap_or_default();
            let run = DropoutSteps {
                cell: StepCell::Lstm(self.recurrent_activation),
                kernel: &kernel,
                recurrent_kernel: &recurrent_kernel,
                bias: &bias,
                masks: dropout,
                step_mask: mask.as_ref(),
                return_sequences: self.options.return_sequences,
            }
            .run(&x, &initial)
            .in_layer(self.name())?;
            return Ok(if self.options.return_state {
                std::iter::once(run.output).chain(run.states).collect()
            } else {
                vec![run.output]
            });
        }
        let x = dropout.masked_input(&x).in_layer(self.name())?;
        if states.is_none() && !self.options.return_state {
            let config = LstmConfig {
                return_sequences: self.options.return_sequences,
                recurrent_activation: self.recurrent_activation,
            };
            let output = x
                .lstm_masked(&kernel, &recurrent_kernel, &bias, mask.as_ref(), config)
                .in_layer(self.name())?;
            return Ok(vec![output]);
        }
        let run = LstmSteps {
            kernel: &kernel,
            recurrent_kernel: &recurrent_kernel,
            bias: &bias,
            recurrent_activation: self.recurrent_activation,
            return_sequences: self.options.return_sequences,
        }
        .run(&x, states.map(|s| s.0), states.map(|s| s.1))
        .in_layer(self.name())?;
        Ok(if self.options.return_state {
            vec![run.output, run.h, run.c]
        } else {
            vec![run.output]
        })
    }
}

impl Layer for LSTM {
    fn class_name(&self) -> &'static str {
        "LSTM"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn weight_rules(&self) -> Option<&WeightRules> {
        Some(&self.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        first_output(self, self.output_shapes(input_shapes)?)
    }

    fn keyword_inputs(&self) -> Option<(&'static str, usize)> {
        Some(("initial_state", 1))
    }

    fn output_shapes(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        let rows = self.core.weights().first().map(|k| k.shape()[0]);
        self.options
            .output_shapes(self, input_shapes, self.units, rows, 2)
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.validate()?;
        self.output_shape(input_shapes)?;
        let features = features(input_shapes);
        let (units, name) = (self.units, self.name());
        let gates = crate::size::scaled(self, "units", units, 4)?;
        crate::size::check_weight(self, "units", "lstm_cell/kernel", &[features, gates])?;
        crate::size::check_weight(self, "units", "lstm_cell/recurrent_kernel", &[units, gates])?;
        let kernel = self
            .kernel_initializer
            .sample(&[features, gates], rng)
            .in_layer(name)?;
        let recurrent = self
            .recurrent_initializer
            .sample(&[units, gates], rng)
            .in_layer(name)?;
        let mut weights = vec![
            Variable::new("lstm_cell/kernel", kernel),
            Variable::new("lstm_cell/recurrent_kernel", recurrent),
        ];
        if self.use_bias {
            let mut bias = self.bias_initializer.sample(&[gates], rng).in_layer(name)?;
            if self.unit_forget_bias {
                bias.slice_mut(ndarray::s![units..2 * units]).fill(1.0);
            }
            weights.push(Variable::new("lstm_cell/bias", bias));
        }
        weights.iter().for_each(|w| w.set_trainable(self.trainable));
        Ok(weights)
    }

    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor> {
        first_output(self, self.forward_all(inputs, ctx)?)
    }

    fn forward_all(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Vec<Tensor>> {
        self.run(inputs, None, ctx)
    }

    fn supports_masking(&self) -> bool {
        true
    }

    fn reset_states(&self) {
        self.states.reset();
    }

    fn is_stateful(&self) -> bool {
        self.options.stateful
    }

    /// A stateful layer carries states across whole batches, so the engine must not split a batch into
    /// parallel shards.
    fn uses_batch_statistics(&self) -> bool {
        self.options.stateful
    }

    fn compute_mask(&self, _inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
        Ok(self.options.output_mask(masks))
    }

    /// Runs with the sequence's mask when the sequence is the call's only tensor, unmasked with initial states
    /// (Keras's rule, see `common::call_mask`).
    fn forward_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        ctx: &mut CallContext<'_>,
    ) -> Result<Option<Vec<Tensor>>> {
        self.run(inputs, super::common::call_mask(inputs, masks), ctx)
            .map(Some)
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), self.trainable);
        let mut entries = self.options.config_entries();
        entries.extend([
            ("units", json!(self.units)),
            ("activation", json!("tanh")),
            (
                "recurrent_activation",
                json!(recurrent_activation_name(self.recurrent_activation)),
            ),
            ("use_bias", json!(self.use_bias)),
            (
                "kernel_initializer",
                initializer_to_config(&self.kernel_initializer),
            ),
            (
                "recurrent_initializer",
                initializer_to_config(&self.recurrent_initializer),
            ),
            (
                "bias_initializer",
                initializer_to_config(&self.bias_initializer),
            ),
            ("unit_forget_bias", json!(self.unit_forget_bias)),
            ("activity_regularizer", Value::Null),
        ]);
        entries.extend(self.dropout.config_entries());
        config.extend(entries.into_iter().map(|(k, v)| (k.to_string(), v)));
        self.rules.write(&mut config);
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, LayerCall};
    use ndarray::{Array1, Array2, ArrayD, Axis, IxDyn};
    use rand::SeedableRng;

    fn sigmoid(z: f32) -> f32 {
        1.0 / (1.0 + (-z).exp())
    }

    /// Keras's LSTM step by step: z = x·W + h·U + b; i, f, o = σ(z_i, z_f, z_o); c = f·c + i·tanh(z_c);
    /// h = o·tanh(c). Returns every step's h as [batch, time, units].
    fn reference(
        x: &ArrayD<f32>,
        w: &Array2<f32>,
        u: &Array2<f32>,
        b: &Array1<f32>,
        gate: fn(f32) -> f32,
    ) -> ArrayD<f32> {
        let (batch, time) = (x.shape()[0], x.shape()[1]);
        let units = u.nrows();
        let mut out = ArrayD::zeros(IxDyn(&[batch, time, units]));
        for s in 0..batch {
            let (mut h, mut c) = (Array1::<f32>::zeros(units), Array1::<f32>::zeros(units));
            for t in 0..time {
                let xt: Array1<f32> = x
                    .index_axis(Axis(0), s)
                    .index_axis(Axis(0), t)
                    .to_owned()
                    .into_dimensionality()
                    .unwrap();
                let z: Array1<f32> = xt.dot(w) + h.dot(u) + b;
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
        out
    }

    fn weights_of(layer: &LSTM) -> (Array2<f32>, Array2<f32>, Array1<f32>) {
        let w = layer.weights();
        let as2 = |v: &Variable| v.value().as_ref().clone().into_dimensionality().unwrap();
        (
            as2(&w[0]),
            as2(&w[1]),
            w[2].value().as_ref().clone().into_dimensionality().unwrap(),
        )
    }

    fn run(layer: &LSTM, x: &ArrayD<f32>) -> ArrayD<f32> {
        let mut rng = StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training: false,
            rng: &mut rng,
        };
        layer
            .forward(&[Tensor::new(x.clone())], ctx)
            .unwrap()
            .data()
            .clone()
    }

    fn sample_input() -> ArrayD<f32> {
        ArrayD::from_shape_fn(IxDyn(&[2, 5, 3]), |i| {
            ((i[0] * 15 + i[1] * 3 + i[2]) as f32 * 0.37).sin()
        })
    }

    #[test]
    fn matches_a_step_by_step_reference() {
        for return_sequences in [false, true] {
            let layer = LSTM::new(4).with_return_sequences(return_sequences);
            let y = layer.call(&Input::new(&[5, 3])).unwrap();
            assert_eq!(
                y.shape(),
                if return_sequences {
                    &[5, 4][..]
                } else {
                    &[4][..]
                }
            );
            let (w, u, b) = weights_of(&layer);
            let x = sample_input();
            let expected = reference(&x, &w, &u, &b, sigmoid);
            let out = run(&layer, &x);
            let expected = if return_sequences {
                expected
            } else {
                expected.index_axis(Axis(1), 4).to_owned()
            };
            assert_eq!(out.shape(), expected.shape());
            for (a, e) in out.iter().zip(expected.iter()) {
                assert!((a - e).abs() < 1e-5, "{a} vs {e}");
            }
        }
    }

    #[test]
    fn hard_sigmoid_gates_for_keras_2_models() {
        let layer = LSTM::new(3)
            .with_recurrent_activation("hard_sigmoid_keras2")
            .unwrap();
        layer.call(&Input::new(&[5, 3])).unwrap();
        let (w, u, b) = weights_of(&layer);
        let x = sample_input();
        let expected = reference(&x, &w, &u, &b, |z| (0.2 * z + 0.5).clamp(0.0, 1.0))
            .index_axis(Axis(1), 4)
            .to_owned();
        for (a, e) in run(&layer, &x).iter().zip(expected.iter()) {
            assert!((a - e).abs() < 1e-5, "{a} vs {e}");
        }
    }

    #[test]
    fn forget_gate_bias_starts_at_one() {
        let layer = LSTM::new(3);
        layer.call(&Input::new(&[2, 4])).unwrap();
        let bias = layer.weights()[2]
            .value()
            .iter()
            .copied()
            .collect::<Vec<f32>>();
        assert_eq!(
            bias,
            vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
        let plain = LSTM::new(3).with_unit_forget_bias(false);
        plain.call(&Input::new(&[2, 4])).unwrap();
        assert!(plain.weights()[2].value().iter().all(|&v| v == 0.0));
        let names: Vec<String> = layer
            .weights()
            .iter()
            .map(|w| w.name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "lstm_cell/kernel",
                "lstm_cell/recurrent_kernel",
                "lstm_cell/bias"
            ]
        );
    }

    #[test]
    fn without_bias_the_gates_see_no_offset() {
        let layer = LSTM::new(2).with_bias(false);
        layer.call(&Input::new(&[5, 3])).unwrap();
        let names: Vec<String> = layer
            .weights()
            .iter()
            .map(|w| w.name().to_string())
            .collect();
        assert_eq!(names, ["lstm_cell/kernel", "lstm_cell/recurrent_kernel"]);
        let w = layer.weights();
        let as2 = |v: &Variable| -> Array2<f32> {
            v.value().as_ref().clone().into_dimensionality().unwrap()
        };
        let x = sample_input();
        let expected = reference(&x, &as2(&w[0]), &as2(&w[1]), &Array1::zeros(8), sigmoid);
        for (a, e) in run(&layer, &x)
            .iter()
            .zip(expected.index_axis(Axis(1), 4).iter())
        {
            assert!((a - e).abs() < 1e-5, "{a} vs {e}");
        }
        assert_eq!(
            LSTM::from_config(&layer.config()).unwrap().config(),
            layer.config()
        );
    }

    #[test]
    fn bad_arguments_and_shapes_are_reported() {
        let err = LSTM::new(4)
            .with_activation("relu")
            .unwrap_err()
            .to_string();
        assert!(err.contains("relu") && err.contains("tanh"), "{err}");
        let err = LSTM::new(4)
            .with_recurrent_activation("tanh")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sigmoid") && err.contains("hard_sigmoid"),
            "{err}"
        );
        assert!(
            LSTM::new(0)
                .call(&Input::new(&[4, 3]))
                .unwrap_err()
                .to_string()
                .contains("units")
        );
        let layer = LSTM::new(4).with_name("reader");
        let err = layer.call(&Input::new(&[12])).unwrap_err().to_string();
        assert!(
            err.contains("`reader`")
                && err.contains("(None, 12)")
                && err.contains("time, features"),
            "{err}"
        );
        layer.call(&Input::new(&[4, 3])).unwrap();
        assert!(
            layer
                .call(&Input::new(&[4, 5]))
                .unwrap_err()
                .to_string()
                .contains("3 features")
        );
    }

    #[test]
    fn config_round_trips_and_reads_keras_2() {
        let layer = LSTM::new(32)
            .with_return_sequences(true)
            .with_recurrent_activation("hard_sigmoid")
            .unwrap();
        let config = layer.config();
        assert_eq!(config["recurrent_activation"], json!("hard_sigmoid"));
        assert_eq!(
            config["recurrent_initializer"]["class_name"],
            json!("Orthogonal")
        );
        assert_eq!(LSTM::from_config(&config).unwrap().config(), config);
        let keras2 = json!({"name": "lstm_1", "units": 32, "return_sequences": false, "activation": "tanh",
            "recurrent_activation": "hard_sigmoid", "use_bias": true, "unit_forget_bias": true,
            "kernel_initializer": {"class_name": "VarianceScaling",
                "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}},
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}},
            "bias_initializer": {"class_name": "Zeros", "config": {}}, "dropout": 0.0, "recurrent_dropout": 0.0,
            "implementation": 1, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false});
        let rebuilt = LSTM::from_config(&keras2).unwrap();
        assert_eq!((rebuilt.name(), rebuilt.units()), ("lstm_1", 32));
        // A layer config alone is read as Keras 3 reads it; a Keras 2 file's version selects Keras 2's form
        // (`Network::from_config_written_by`).
        assert_eq!(rebuilt.recurrent_activation(), GateActivation::HardSigmoid);
        for (key, value) in [
            ("time_major", json!(true)),
            ("dropout", json!(1.5)),
            ("activation", json!("relu")),
        ] {
            let mut bad = keras2.clone();
            bad[key] = value;
            assert!(
                LSTM::from_config(&bad)
                    .unwrap_err()
                    .to_string()
                    .contains(key),
                "{key}"
            );
        }
    }
}
