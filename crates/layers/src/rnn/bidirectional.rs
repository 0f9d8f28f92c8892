//! `Bidirectional`: a recurrent layer run forwards and a copy run backwards over the same sequence, merged.

use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, LayerRef, Shape, shape_error};
use crate::registry::layer_from_config;
use crate::serialization::{ConfigReader, base_config, saved_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// How the two directions' outputs are combined (Keras's `merge_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMode {
    /// Joined along the last axis (Keras's default).
    Concat,
    /// Added.
    Sum,
    /// Multiplied.
    Mul,
    /// Averaged.
    Ave,
}

impl MergeMode {
    const NAMES: [(&'static str, MergeMode); 4] = [
        ("concat", MergeMode::Concat),
        ("sum", MergeMode::Sum),
        ("mul", MergeMode::Mul),
        ("ave", MergeMode::Ave),
    ];

    /// The mode by Keras name, or an error listing the valid names.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
            .ok_or_else(|| LayersError::UnknownName {
                kind: "Bidirectional merge_mode",
                name: name.to_string(),
                valid: Self::NAMES.iter().map(|(n, _)| n.to_string()).collect(),
            })
    }

    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .unwrap_or("concat")
    }
}

/// A recurrent layer run in both directions (Keras's `Bidirectional`): a copy named `forward_<name>` reads the
/// sequence first step first, a copy named `backward_<name>` (or the given `backward_layer`) last step first; with
/// `return_sequences` the backward sequence is flipped back into input order before the merge.
///
/// The weights are the forward layer's then the backward layer's, named `forward_<name>/<cell>/kernel` … as in
/// Keras's `.h5` files. With `return_state` a call returns `[output, *forward states, *backward states]`
/// (`[forward output, backward output, *states]` without a merge); initial states come as `[x, *forward states,
/// *backward states]`.
///
/// # Shapes
/// input `[time, features]`, output `[units]` / `[time, units]` per direction, the last axis doubled by
/// `concat`.
///
/// ```
/// use rkeras_layers::{Bidirectional, Input, Layer, LayerCall, LSTM};
/// let y = Bidirectional::new(LSTM::new(4).with_return_sequences(true))?.call(&Input::new(&[5, 3]))?;
/// assert_eq!(y.shape(), &[5, 8]);
/// let names: Vec<String> = y.layer().weights().iter().map(|w| w.name().to_string()).collect();
/// assert_eq!(names[0], "forward_lstm/lstm_cell/kernel");
/// assert_eq!(names[3], "backward_lstm/lstm_cell/kernel");
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Clone)]
pub struct Bidirectional {
    core: LayerCore,
    forward: LayerRef,
    backward: LayerRef,
    merge_mode: Option<MergeMode>,
}

impl std::fmt::Debug for Bidirectional {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Bidirectional({}, {})",
            self.forward.name(),
            self.backward.name()
        )
    }
}

const RECURRENT: [&str; 3] = ["LSTM", "GRU", "SimpleRNN"];

/// A copy of `layer` (through its config) with another name and `go_backwards`, zeroing its output at masked
/// steps when it returns sequences (Keras's Bidirectional forces `zero_output_for_mask = return_sequences`).
fn copy_of(layer: &dyn Layer, name: String, go_backwards: Option<bool>) -> Result<LayerRef> {
    let mut config = layer.config();
    config["name"] = json!(name);
    if let Some(go_backwards) = go_backwards {
        config["go_backwards"] = json!(go_backwards);
    }
    config["zero_output_for_mask"] = json!(option(layer, "return_sequences"));
    layer_from_config(layer.class_name(), &config)
}

fn option(layer: &dyn Layer, key: &str) -> bool {
    layer.config()[key].as_bool().unwrap_or(false)
}

impl Bidirectional {
    /// Wraps a recurrent layer (LSTM, GRU, SimpleRNN), concatenating the directions.
    pub fn new(layer: impl Layer) -> Result<Self> {
        Self::with_backward_layer(&layer, None)
    }

    /// Wraps `layer` with an explicit `backward_layer` (Keras's argument): it must be of a recurrent class, read
    /// the other way than `layer` and agree on `return_sequences`, `return_state` and `stateful`.
    pub fn with_backward_layer(layer: &dyn Layer, backward: Option<&dyn Layer>) -> Result<Self> {
        let invalid = |reason: String| LayersError::InvalidArgument {
            class: "Bidirectional",
            argument: "layer",
            reason,
        };
        for l in std::iter::once(layer).chain(backward) {
            if !RECURRENT.contains(&l.class_name()) {
                return Err(invalid(format!(
                    "`{}` is a {}; Bidirectional wraps {}",
                    l.name(),
                    l.class_name(),
                    RECURRENT.join(", ")
                )));
            }
        }
        let base = layer.name();
        let forward = copy_of(
            layer,
            format!("forward_{}", base.strip_prefix("forward_").unwrap_or(base)),
            None,
        )?;
        let backward = match backward {
            Some(b) => copy_of(b, b.name().to_string(), None)?,
            None => copy_of(
                layer,
                format!(
                    "backward_{}",
                    base.strip_prefix("backward_").unwrap_or(base)
                ),
                Some(!option(layer, "go_backwards")),
            )?,
        };
        if option(forward.as_ref(), "go_backwards") == option(backward.as_ref(), "go_backwards") {
            return Err(invalid(
                "the forward and backward layers must have different go_backwards".into(),
            ));
        }
        for key in ["return_sequences", "return_state", "stateful"] {
            if option(forward.as_ref(), key) != option(backward.as_ref(), key) {
                return Err(invalid(format!(
                    "the forward and backward layers must agree on `{key}`"
                )));
            }
        }
        Ok(Bidirectional {
            core: LayerCore::new("bidirectional"),
            forward,
            backward,
            merge_mode: Some(MergeMode::Concat),
        })
    }

    /// How the directions are combined; `None` returns both (Keras's `merge_mode=None`).
    pub fn with_merge_mode(mut self, merge_mode: Option<MergeMode>) -> Self {
        self.merge_mode = merge_mode;
        self
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The forward and backward layers.
    pub fn layers(&self) -> (&LayerRef, &LayerRef) {
        (&self.forward, &self.backward)
    }

    /// Rebuilds the wrapper from Keras's config (`layer`, `backward_layer`, `merge_mode`).
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("Bidirectional", config)?;
        let inner = |key: &str| -> Result<Option<LayerRef>> {
            let Some(entry) = config.get(key).filter(|v| !v.is_null()) else {
                return Ok(None);
            };
            let class = entry
                .get("class_name")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    LayersError::Config(format!("Bidirectional `{key}` without class_name"))
                })?;
            layer_from_config(class, entry.get("config").unwrap_or(&Value::Null)).map(Some)
        };
        let layer = inner("layer")?
            .ok_or_else(|| LayersError::Config("Bidirectional config without `layer`".into()))?;
        let backward = inner("backward_layer")?;
        let merge_mode = match config.get("merge_mode") {
            None => Some(MergeMode::Concat),
            Some(Value::Null) => None,
            Some(_) => Some(MergeMode::from_name(
                reader.str_or("merge_mode", "concat")?,
            )?),
        };
        let wrapper = Self::with_backward_layer(layer.as_ref(), backward.as_deref())?
            .with_merge_mode(merge_mode);
        Ok(match reader.name()? {
            Some(name) => wrapper.with_name(name),
            None => wrapper,
        })
    }

    fn state_count(&self) -> usize {
        if self.forward.class_name() == "LSTM" {
            2
        } else {
            1
        }
    }

    /// The forward layer's inputs and the backward layer's: the sequence, then half the initial states each.
    fn split<T: Clone>(&self, inputs: &[T]) -> Result<(Vec<T>, Vec<T>)> {
        let count = self.state_count();
        match inputs.split_first() {
            Some((x, [])) => Ok((vec![x.clone()], vec![x.clone()])),
            Some((x, states)) if states.len() == 2 * count => {
                let mut forward = vec![x.clone()];
                forward.extend_from_slice(&states[..count]);
                let mut backward = vec![x.clone()];
                backward.extend_from_slice(&states[count..]);
                Ok((forward, backward))
            }
            _ => Err(LayersError::Graph(format!(
                "layer `{}` (Bidirectional) expects the sequence and optionally {} initial states, received {} inputs",
                self.name(),
                2 * count,
                inputs.len()
            ))),
        }
    }

    /// Runs both directions with the sequence's timestep mask (each layer reads it in its own order), the
    /// backward sequence flipped back into input order, then merges them.
    fn run(
        &self,
        inputs: &[Tensor],
        mask: Option<&Tensor>,
        ctx: &mut CallContext<'_>,
    ) -> Result<Vec<Tensor>> {
        let (f, b) = self.split(inputs)?;
        let direction = |layer: &LayerRef, inputs: &[Tensor], ctx: &mut CallContext<'_>| {
            let Some(mask) = mask else {
                return layer.forward_all(inputs, ctx);
            };
            let mut masks = vec![None; inputs.len()];
            masks[0] = Some(mask.clone());
            match layer.forward_masked(inputs, &masks, ctx)? {
                Some(outputs) => Ok(outputs),
                None => layer.forward_all(inputs, ctx),
            }
        };
        let forward = direction(&self.forward, &f, ctx)?;
        let mut backward = direction(&self.backward, &b, ctx)?;
        let name = self.name();
        if option(self.forward.as_ref(), "return_sequences")
            && let Some(first) = backward.first_mut()
        {
            *first = first.reverse_axis(1).in_layer(name)?;
        }
        let mode = self.merge_mode;
        self.merge(forward, backward, |f, b| {
            match mode {
                Some(MergeMode::Sum) => f.add(&b),
                Some(MergeMode::Mul) => f.mul(&b),
                Some(MergeMode::Ave) => f.add(&b).and_then(|s| s.mul_scalar(0.5)),
                _ => Tensor::concat(&[f, b], -1),
            }
            .in_layer(name)
        })
    }

    /// `[merged, *states]`, or `[forward, backward, *states]` without a merge.
    fn merge<T>(
        &self,
        forward: Vec<T>,
        backward: Vec<T>,
        combine: impl FnOnce(T, T) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut forward = forward.into_iter();
        let mut backward = backward.into_iter();
        let (Some(f), Some(b)) = (forward.next(), backward.next()) else {
            return Err(LayersError::Graph(format!(
                "layer `{}`: a direction returned no output",
                self.name()
            )));
        };
        let mut out = match self.merge_mode {
            Some(_) => vec![combine(f, b)?],
            None => vec![f, b],
        };
        out.extend(forward);
        out.extend(backward);
        Ok(out)
    }
}

impl Bidirectional {
    /// The wrapped layers' activity regularizers are supported when the directions share one that sums over
    /// its input (L1, L2, L1L2) and their outputs are concatenated or not merged.
    fn check_activity_regularizers(&self) -> Result<()> {
        let (forward, backward) = (
            self.forward.activity_regularizer(),
            self.backward.activity_regularizer(),
        );
        if forward.is_none() && backward.is_none() {
            return Ok(());
        }
        let summable = !matches!(forward, Some(crate::Regularizer::Orthogonal { .. }));
        let merged = matches!(self.merge_mode, None | Some(MergeMode::Concat));
        if forward == backward && summable && merged {
            return Ok(());
        }
        Err(LayersError::InvalidArgument {
            class: "Bidirectional",
            argument: "layer",
            reason: format!(
                "the wrapped layers' activity regularizers ({forward:?}, {backward:?}) are supported only when \
                 both directions share an L1, L2 or L1L2 one and merge_mode is concat or None (it is {:?})",
                self.merge_mode
            ),
        })
    }
}

impl Layer for Bidirectional {
    fn class_name(&self) -> &'static str {
        "Bidirectional"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    /// The wrapped layers' activity regularizer: Keras penalizes each direction's outputs, which the
    /// concatenated (or unmerged) outputs and states hold, so the penalty of these equals theirs for an
    /// L1/L2/L1L2 regularizer shared by both directions ([`Layer::build`] refuses any other case).
    fn activity_regularizer(&self) -> Option<crate::Regularizer> {
        self.forward.activity_regularizer()
    }

    /// The two directions' regularizers, the backward layer's indices after the forward layer's weights.
    fn weight_regularizers(&self) -> Vec<(usize, crate::Regularizer)> {
        let offset = self.forward.weights().len();
        let mut all = self.forward.weight_regularizers();
        all.extend(
            self.backward
                .weight_regularizers()
                .into_iter()
                .map(|(i, r)| (i + offset, r)),
        );
        all
    }

    /// The two directions' constraints, indexed as [`Layer::weight_regularizers`].
    fn weight_constraints(&self) -> Vec<(usize, crate::Constraint)> {
        let offset = self.forward.weights().len();
        let mut all = self.forward.weight_constraints();
        all.extend(
            self.backward
                .weight_constraints()
                .into_iter()
                .map(|(i, c)| (i + offset, c)),
        );
        all
    }

    fn reset_states(&self) {
        self.forward.reset_states();
        self.backward.reset_states();
    }

    fn is_stateful(&self) -> bool {
        self.forward.is_stateful()
    }

    fn uses_batch_statistics(&self) -> bool {
        self.forward.uses_batch_statistics()
    }

    fn wrapped_layers(&self) -> Vec<&dyn Layer> {
        vec![self.forward.as_ref(), self.backward.as_ref()]
    }

    fn keyword_inputs(&self) -> Option<(&'static str, usize)> {
        Some(("initial_state", 1))
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        super::common::first_output(self, self.output_shapes(input_shapes)?)
    }

    fn output_shapes(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        let (f, b) = self.split(input_shapes)?;
        let (f, b) = (
            self.forward.output_shapes(&f)?,
            self.backward.output_shapes(&b)?,
        );
        self.merge(f, b, |f, b| {
            if f != b && self.merge_mode != Some(MergeMode::Concat) {
                return Err(shape_error(
                    self,
                    "the two directions' outputs differ in shape",
                    input_shapes,
                ));
            }
            let mut shape = f.clone();
            if let (Some(MergeMode::Concat), Some(last), Some(other)) =
                (self.merge_mode, shape.last_mut(), b.last())
            {
                *last += other;
            }
            Ok(shape)
        })
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.check_activity_regularizers()?;
        let (f, b) = self.split(input_shapes)?;
        let mut weights = Vec::new();
        for (layer, shapes) in [(&self.forward, f), (&self.backward, b)] {
            // The layer's own weights, renamed `<layer>/<cell>/kernel` as in Keras's files.
            layer.core().build_with(|| {
                let built = layer.build(&shapes, rng)?;
                Ok(built
                    .iter()
                    .map(|w| {
                        let renamed = Variable::new(
                            format!("{}/{}", layer.name(), w.name()),
                            (*w.value()).clone(),
                        );
                        renamed.set_trainable(w.trainable());
                        renamed
                    })
                    .collect())
            })?;
            weights.extend(layer.weights());
        }
        Ok(weights)
    }

    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor> {
        super::common::first_output(self, self.forward_all(inputs, ctx)?)
    }

    fn forward_all(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Vec<Tensor>> {
        self.run(inputs, None, ctx)
    }

    /// Keras's `supports_masking`: both directions honour the sequence's mask.
    fn supports_masking(&self) -> bool {
        true
    }

    /// Keras's `Bidirectional.compute_mask`: the sequence's mask with `return_sequences`, none otherwise.
    fn compute_mask(&self, _inputs: &[Tensor], masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
        Ok(masks
            .first()
            .cloned()
            .flatten()
            .filter(|_| option(self.forward.as_ref(), "return_sequences")))
    }

    /// Keras's `Bidirectional.compute_mask` for every output: with `return_sequences` the sequence's mask on the
    /// merged output, or on both directions' outputs without a merge; none on the states.
    fn compute_masks(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        let mask = self.compute_mask(inputs, masks)?;
        Ok(match self.merge_mode {
            Some(_) => vec![mask],
            None => vec![mask.clone(), mask],
        })
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
        let mut config = base_config(self.name(), true);
        let entry = |layer: &LayerRef| {
            json!({
                "module": "keras.layers",
                "class_name": layer.class_name(),
                "config": saved_config(layer.as_ref()),
                "registered_name": null,
            })
        };
        config.insert(
            "merge_mode".into(),
            self.merge_mode.map_or(Value::Null, |m| json!(m.name())),
        );
        config.insert("layer".into(), entry(&self.forward));
        config.insert("backward_layer".into(), entry(&self.backward));
        Value::Object(config)
    }
}
