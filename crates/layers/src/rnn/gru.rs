//! `GRU`: a gated recurrent unit layer over a whole sequence, run by the tensor crate's fused op.

use super::carried_state::CarriedStates;
use super::common::{
    SequenceOptions, features, first_output, output_and_state, recurrent_activation,
    recurrent_activation_name, recurrent_weight_rule_builders, recurrent_weight_rules,
    sequence_and_state,
};
use super::dropout::{DropoutMasks, RecurrentDropout, recurrent_dropout_setters};
use super::dropout_steps::{DropoutSteps, StepCell};
use super::lstm::DEFAULT_RECURRENT_INITIALIZER;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape};
use crate::serialization::{ConfigReader, base_config, initializer_to_config};
use crate::weight_rules::WeightRules;
use rand::rngs::StdRng;
use rkeras_tensor::kernels::lstm::GateActivation;
use rkeras_tensor::ops::GruConfig;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Value, json};

/// A gated recurrent unit layer (Keras's `GRU`), gates in Keras's order (update z, reset r, candidate h).
///
/// Weights, in Keras's order and names: `gru_cell/kernel` `[input_dim, 3·units]` (glorot_uniform),
/// `gru_cell/recurrent_kernel` `[units, 3·units]` (orthogonal), `gru_cell/bias` (zeros) of shape
/// `[2, 3·units]` (input and recurrent biases) with `reset_after` (Keras 3's default), `[3·units]` without
/// (Keras 2's default).
///
/// The candidate's activation is `tanh` (the only one supported); the gates use `sigmoid`, `hard_sigmoid` (Keras 3's
/// `relu6(x + 3) / 6`) or `hard_sigmoid_keras2` (Keras 1/2's `clip(0.2x + 0.5, 0, 1)`).
/// Called on `[sequence, initial_state]`, the state `[units]` replaces the zero initial state.
///
/// # Shapes
/// input `[time, features]` (and optionally an initial state `[units]`), output `[units]`, or `[time, units]`
/// with `return_sequences` (in processing order: last input step first with `go_backwards`).
///
/// ```
/// use rkeras_layers::{GRU, Input, Layer, LayerCall};
/// let y = GRU::new(8).call(&Input::new(&[5, 3]))?;
/// assert_eq!(y.shape(), &[8]);
/// let shapes: Vec<Vec<usize>> = y.layer().weights().iter().map(|w| w.shape()).collect();
/// assert_eq!(shapes, vec![vec![3, 24], vec![8, 24], vec![2, 24]]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone)]
pub struct GRU {
    core: LayerCore,
    units: usize,
    options: SequenceOptions,
    dropout: RecurrentDropout,
    states: CarriedStates,
    recurrent_activation: GateActivation,
    use_bias: bool,
    reset_after: bool,
    kernel_initializer: Initializer,
    recurrent_initializer: Initializer,
    bias_initializer: Initializer,
    trainable: bool,
    rules: WeightRules,
}

impl GRU {
    /// A GRU of `units` cells returning the last step's output, with Keras 3's defaults.
    pub fn new(units: usize) -> Self {
        GRU {
            core: LayerCore::new("gru"),
            units,
            options: SequenceOptions::default(),
            dropout: RecurrentDropout::default(),
            states: CarriedStates::default(),
            recurrent_activation: GateActivation::Sigmoid,
            use_bias: true,
            reset_after: true,
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

    /// Keras 3's `reset_after=True` (the default: reset gate after the recurrent product, bias
    /// `[2, 3·units]`) or Keras 2's `False` (bias `[3·units]`).
    pub fn with_reset_after(mut self, reset_after: bool) -> Self {
        self.reset_after = reset_after;
        self
    }

    /// The candidate's activation by Keras name; only `"tanh"` (the default) is supported.
    pub fn with_activation(self, name: &str) -> Result<Self> {
        if name != "tanh" {
            return Err(LayersError::UnknownName {
                kind: "GRU activation",
                name: name.to_string(),
                valid: vec!["tanh".to_string()],
            });
        }
        Ok(self)
    }

    /// The gates' activation: `"sigmoid"` (Keras 3's default), `"hard_sigmoid"` (Keras 3's form) or
    /// `"hard_sigmoid_keras2"` (Keras 1/2's, their default).
    pub fn with_recurrent_activation(mut self, name: &str) -> Result<Self> {
        self.recurrent_activation = recurrent_activation("GRU recurrent_activation", name)?;
        Ok(self)
    }

    /// Whether to add biases. Defaults to true.
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

    /// Whether the reset gate is applied after the recurrent product.
    pub fn reset_after(&self) -> bool {
        self.reset_after
    }

    fn bias_shape(&self) -> Vec<usize> {
        if self.reset_after {
            vec![2, 3 * self.units]
        } else {
            vec![3 * self.units]
        }
    }

    /// Rebuilds the layer from Keras's config (Keras 3's and Keras 2's). Options rkeras does not implement
    /// are errors naming them; the weights' regularizers and constraints and the activity regularizer are read.
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("GRU", config)?;
        let options = SequenceOptions::read(&reader)?;
        let mut layer = GRU::new(reader.usize("units")?)
            .with_activation(reader.str_or("activation", "tanh")?)?
            .with_recurrent_activation(reader.str_or("recurrent_activation", "sigmoid")?)?
            .with_bias(reader.bool_or("use_bias", true)?)
            .with_reset_after(reader.bool_or("reset_after", true)?)
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
        layer.dropout = RecurrentDropout::read(&reader, "GRU")?;
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        layer.validate()?;
        Ok(layer)
    }

    fn validate(&self) -> Result<()> {
        self.dropout.validate("GRU")?;
        if self.units == 0 {
            return Err(LayersError::InvalidArgument {
                class: "GRU",
                argument: "units",
                reason: "expected a positive integer, received 0".into(),
            });
        }
        Ok(())
    }
}

impl GRU {
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
            .masks(ctx.training, &mut *ctx.rng, shape, self.units, 3)
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
            Tensor::zeros(&self.bias_shape())
        };
        let config = GruConfig {
            return_sequences: self.options.return_sequences,
            recurrent_activation: self.recurrent_activation,
            reset_after: self.reset_after,
        };
        let x = self.options.ordered_input(x).in_layer(self.name())?;
        let mask = self.options.ordered_mask(mask).in_layer(self.name())?;
        if dropout.needs_steps() {
            let run = DropoutSteps {
                cell: StepCell::Gru {
                    recurrent_activation: self.recurrent_activation,
                    reset_after: self.reset_after,
                },
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
            .gru_masked(
                &self.core.weight(0)?,
                &self.core.weight(1)?,
                &bias,
                state,
                mask.as_ref(),
                config,
            )
            .in_layer(self.name())?;
        output_and_state(&self.options, output, state).in_layer(self.name())
    }
}

impl Layer for GRU {
    fn class_name(&self) -> &'static str {
        "GRU"
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
            .sample(&[features(input_shapes), 3 * units], rng)
            .in_layer(name)?;
        let recurrent = self
            .recurrent_initializer
            .sample(&[units, 3 * units], rng)
            .in_layer(name)?;
        let mut weights = vec![
            Variable::new("gru_cell/kernel", kernel),
            Variable::new("gru_cell/recurrent_kernel", recurrent),
        ];
        if self.use_bias {
            let bias = self
                .bias_initializer
                .sample(&self.bias_shape(), rng)
                .in_layer(name)?;
            weights.push(Variable::new("gru_cell/bias", bias));
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
            ("activity_regularizer", Value::Null),
            ("reset_after", json!(self.reset_after)),
        ]);
        entries.extend(self.dropout.config_entries());
        config.extend(entries.into_iter().map(|(k, v)| (k.to_string(), v)));
        self.rules.write(&mut config);
        Value::Object(config)
    }
}
