//! `SimpleRNN`: a fully-connected recurrent layer over a whole sequence, run by the tensor crate's fused op.

use super::carried_state::CarriedStates;
use super::common::{
    SequenceOptions, features, first_output, output_and_state, recurrent_weight_rule_builders,
    recurrent_weight_rules, sequence_and_state,
};
use super::dropout::{DropoutMasks, RecurrentDropout, recurrent_dropout_setters};
use super::dropout_steps::{DropoutSteps, StepCell};
use super::lstm::DEFAULT_RECURRENT_INITIALIZER;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape};
use crate::serialization::{ConfigReader, base_config, initializer_to_config};
use crate::weight_rules::WeightRules;
use rand::rngs::StdRng;
use rkeras_tensor::kernels::simple_rnn::RnnActivation;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};

/// A fully-connected recurrent layer (Keras's `SimpleRNN`): `h_t = activation(x_t·W + h_{t-1}·U + b)`.
///
/// Weights, in Keras's order and names: `simple_rnn_cell/kernel` `[input_dim, units]` (glorot_uniform),
/// `simple_rnn_cell/recurrent_kernel` `[units, units]` (orthogonal), `simple_rnn_cell/bias` `[units]` (zeros).
/// The activation is `tanh` (the default), `relu`, `sigmoid` or `linear`. Called on
/// `[sequence, initial_state]`, the state `[units]` replaces the zero initial state.
///
/// # Shapes
/// input `[time, features]` (and optionally an initial state `[units]`), output `[units]`, or `[time, units]`
/// with `return_sequences` (in processing order with `go_backwards`).
///
/// ```
/// use rkeras_layers::{Input, Layer, LayerCall, SimpleRNN};
/// let y = SimpleRNN::new(8).with_return_sequences(true).call(&Input::new(&[5, 3]))?;
/// assert_eq!(y.shape(), &[5, 8]);
/// assert_eq!(y.layer().weights().iter().map(|w| w.shape()).collect::<Vec<_>>(),
///            vec![vec![3, 8], vec![8, 8], vec![8]]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SimpleRNN {
    core: LayerCore,
    units: usize,
    options: SequenceOptions,
    dropout: RecurrentDropout,
    states: CarriedStates,
    activation: RnnActivation,
    use_bias: bool,
    kernel_initializer: Initializer,
    recurrent_initializer: Initializer,
    bias_initializer: Initializer,
    trainable: bool,
    rules: WeightRules,
}

impl SimpleRNN {
    /// A SimpleRNN of `units` cells returning the last step's output, with Keras 3's defaults.
    pub fn new(units: usize) -> Self {
        SimpleRNN {
            core: LayerCore::new("simple_rnn"),
            units,
            options: SequenceOptions::default(),
            dropout: RecurrentDropout::default(),
            states: CarriedStates::default(),
            activation: RnnActivation::Tanh,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            recurrent_initializer: DEFAULT_RECURRENT_INITIALIZER,
            bias_initializer: Initializer::Zeros,
            trainable: true,
            rules: recurrent_weight_rules(),
        }
    }

    /// Whether to return every step's output (`[time, units]`) instead of the last. Defaults to false.
    pub fn with_return_sequences(mut self, return_sequences: bool) -> Self {
        self.options.return_sequences = return_sequences;
        self
    }

    /// Whether a call returns `[output, final_state]` (Keras's `return_state`; use
    /// [`crate::LayerCall::call_outputs`]). Defaults to false.
    pub fn with_return_state(mut self, return_state: bool) -> Self {
        self.options.return_state = return_state;
        self
    }

    /// Whether to process the sequence from its last step to its first. Defaults to false.
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

    /// The state's activation by Keras name: `tanh` (the default), `relu`, `sigmoid` or `linear`.
    pub fn with_activation(mut self, name: &str) -> Result<Self> {
        self.activation = RnnActivation::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .ok_or_else(|| LayersError::UnknownName {
                kind: "SimpleRNN activation",
                name: name.to_string(),
                valid: RnnActivation::NAMES
                    .iter()
                    .map(|(n, _)| n.to_string())
                    .collect(),
            })?;
        Ok(self)
    }

    /// Whether to add a bias. Defaults to true.
    pub fn with_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
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

    /// Rebuilds the layer from Keras's config. Options rkeras does not implement are errors naming
    /// them; the weights' regularizers and constraints and the activity regularizer are read.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("SimpleRNN", config)?;
        let options = SequenceOptions::read(&reader)?;
        let mut layer = SimpleRNN::new(reader.usize("units")?)
            .with_activation(reader.str_or("activation", "tanh")?)?
            .with_bias(reader.bool_or("use_bias", true)?)
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
        layer.dropout = RecurrentDropout::read(&reader, "SimpleRNN")?;
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        layer.validate()?;
        Ok(layer)
    }

    fn validate(&self) -> Result<()> {
        self.dropout.validate("SimpleRNN")?;
        if self.units == 0 {
            return Err(LayersError::InvalidArgument {
                class: "SimpleRNN",
                argument: "units",
                reason: "expected a positive integer, received 0".into(),
            });
        }
        Ok(())
    }

    fn activation_name(&self) -> &'static str {
        RnnActivation::NAMES
            .iter()
            .find(|(_, a)| *a == self.activation)
            .map(|(n, _)| *n)
            .unwrap_or("tanh")
    }
}

impl SimpleRNN {
    /// Runs the layer over the sequence (and optional initial state) with an optional timestep mask.
    fn run(
        &self,
        inputs: &[Tensor],
        mask: Option<&Tensor>,
        ctx: &mut CallContext<'_>,
    ) -> Result<Vec<Tensor>> {
        let shape = inputs.first().map(Tensor::shape).unwrap_or_default();
        let dropout = self
            .dropout
            .masks(ctx.training, &mut *ctx.rng, shape, self.units, 1)
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
        let (x, state) = sequence_and_state(self, inputs)?;
        let bias = if self.use_bias {
            self.core.weight(2)?
        } else {
            Tensor::zeros(&[self.units])
        };
        let x = self.options.ordered_input(x).in_layer(self.name())?;
        let mask = self.options.ordered_mask(mask).in_layer(self.name())?;
        if dropout.needs_steps() {
            let run = DropoutSteps {
                cell: StepCell::Simple(self.activation),
                kernel: &self.core.weight(0)?,
                recurrent_kernel: &self.core.weight(1)?,
                bias: &bias,
                masks: dropout,
                step_mask: mask.as_ref(),
                return_sequences: self.options.return_sequences,
            }
            .run(&x, state.cloned().as_slice())
            .in_layer(self.name())?;
            return output_and_state(&self.options, run.output, state).in_layer(self.name());
        }
        let x = dropout.masked_input(&x).in_layer(self.name())?;
        let output = x
            .simple_rnn_masked(
                &self.core.weight(0)?,
                &self.core.weight(1)?,
                &bias,
                state,
                mask.as_ref(),
                self.activation,
                self.options.return_sequences,
            )
            .in_layer(self.name())?;
        output_and_state(&self.options, output, state).in_layer(self.name())
    }
}

impl Layer for SimpleRNN {
    fn class_name(&self) -> &'static str {
        "SimpleRNN"
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
            .output_shapes(self, input_shapes, self.units, rows, 1)
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.validate()?;
        self.output_shape(input_shapes)?;
        let (units, name) = (self.units, self.name());
        let kernel = self
            .kernel_initializer
            .sample(&[features(input_shapes), units], rng)
            .in_layer(name)?;
        let recurrent = self
            .recurrent_initializer
            .sample(&[units, units], rng)
            .in_layer(name)?;
        let mut weights = vec![
            Variable::new("simple_rnn_cell/kernel", kernel),
            Variable::new("simple_rnn_cell/recurrent_kernel", recurrent),
        ];
        if self.use_bias {
            let bias = self.bias_initializer.sample(&[units], rng).in_layer(name)?;
            weights.push(Variable::new("simple_rnn_cell/bias", bias));
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
            ("activation", json!(self.activation_name())),
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
            ("activity_regularizer", Value::Null),
        ]);
        entries.extend(self.dropout.config_entries());
        config.extend(entries.into_iter().map(|(k, v)| (k.to_string(), v)));
        self.rules.write(&mut config);
        Value::Object(config)
    }
}
