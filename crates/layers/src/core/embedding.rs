//! `Embedding`: turns integer ids into dense vectors by looking up rows of a trainable table.

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config, initializer_to_config};
use crate::weight_rules::{WeightRules, weight_rule_builders};
use rand::rngs::StdRng;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::json;

/// Keras's default embeddings initializer, `RandomUniform(-0.05, 0.05)`.
pub const DEFAULT_EMBEDDINGS_INITIALIZER: Initializer = Initializer::RandomUniform {
    min: -0.05,
    max: 0.05,
};

/// Maps non-negative integer ids to dense vectors of `output_dim` (Keras's `Embedding`). The table
/// `embeddings` is `[input_dim, output_dim]`, initialised uniformly on `[-0.05, 0.05)` as in Keras.
///
/// Ids arrive as f32 (fractions are truncated, as Keras casts them to integers); an id outside
/// `0..input_dim` is an error naming the layer. Keras 2's `input_length` is accepted: when given, the input's
/// first axis must have that length. With `mask_zero` the id 0 is padding: the layer produces Keras's mask
/// (`ids != 0`, `[batch, time]`) that recurrent, pooling and merge layers and the losses honour.
///
/// # Shapes
/// input `[...]` (ids), output `[..., output_dim]`.
///
/// ```
/// use rkeras_layers::{Embedding, Input, Layer, LayerCall};
/// let y = Embedding::new(22, 64).call(&Input::new(&[68]))?;
/// assert_eq!(y.shape(), &[68, 64]);
/// assert_eq!(y.layer().weights()[0].shape(), vec![22, 64]);
/// assert_eq!(y.layer().weights()[0].name(), "embeddings");
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Embedding {
    core: LayerCore,
    input_dim: usize,
    output_dim: usize,
    input_length: Option<usize>,
    embeddings_initializer: Initializer,
    trainable: bool,
    mask_zero: bool,
    rules: WeightRules,
}

impl Embedding {
    /// A table of `input_dim` ids (the vocabulary size, largest id + 1) by `output_dim` features.
    pub fn new(input_dim: usize, output_dim: usize) -> Self {
        Embedding {
            core: LayerCore::new("embedding"),
            input_dim,
            output_dim,
            input_length: None,
            embeddings_initializer: DEFAULT_EMBEDDINGS_INITIALIZER,
            trainable: true,
            mask_zero: false,
            rules: WeightRules::new(&[("embeddings", "embeddings")]),
        }
    }

    /// Keras's `mask_zero`: id 0 is padding, and the layer's output carries the mask `ids != 0`. Defaults to
    /// false.
    pub fn with_mask_zero(mut self, mask_zero: bool) -> Self {
        self.mask_zero = mask_zero;
        self
    }

    /// Whether id 0 is padding (Keras's `mask_zero`).
    pub fn mask_zero(&self) -> bool {
        self.mask_zero
    }

    /// Keras 2's `input_length`: the length of the input sequences, checked when the layer is called.
    /// Defaults to unchecked.
    pub fn with_input_length(mut self, input_length: usize) -> Self {
        self.input_length = Some(input_length);
        self
    }

    /// Sets the table's initializer. Defaults to `RandomUniform(-0.05, 0.05)`.
    pub fn with_embeddings_initializer(mut self, init: Initializer) -> Self {
        self.embeddings_initializer = init;
        self
    }

    /// Whether the optimizer updates the table; set it before the first call. Defaults to true.
    pub fn with_trainable(mut self, trainable: bool) -> Self {
        self.trainable = trainable;
        self
    }

    fn rules_mut(&mut self) -> &mut WeightRules {
        &mut self.rules
    }

    weight_rule_builders!(
        "embeddings" => with_embeddings_regularizer, with_embeddings_constraint;
    );

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The vocabulary size.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    /// The size of each vector.
    pub fn output_dim(&self) -> usize {
        self.output_dim
    }

    /// Keras 2's `input_length`, when given.
    pub fn input_length(&self) -> Option<usize> {
        self.input_length
    }

    /// Rebuilds the layer from Keras's config (`input_dim`, `output_dim`, `embeddings_initializer`, Keras 2's
    /// `input_length`, `mask_zero`, `embeddings_regularizer`, `embeddings_constraint`, `activity_regularizer`,
    /// `name`).
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let reader = ConfigReader::new("Embedding", config)?;
        reader.reject_unsupported(&["quantization_config", "lora_rank"])?;
        let mut layer = Embedding::new(reader.usize("input_dim")?, reader.usize("output_dim")?)
            .with_embeddings_initializer(
                reader.initializer_or("embeddings_initializer", DEFAULT_EMBEDDINGS_INITIALIZER)?,
            )
            .with_trainable(reader.trainable()?)
            .with_mask_zero(reader.bool_or("mask_zero", false)?);
        layer.rules.read(&reader)?;
        if let Some(length) = reader.opt_usize("input_length")? {
            layer = layer.with_input_length(length);
        }
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        layer.validate()?;
        Ok(layer)
    }

    /// Checks the constructor arguments, echoing a bad value.
    pub(crate) fn validate(&self) -> Result<()> {
        for (argument, value) in [
            ("input_dim", self.input_dim),
            ("output_dim", self.output_dim),
        ] {
            if value == 0 {
                return Err(LayersError::InvalidArgument {
                    class: "Embedding",
                    argument,
                    reason: "expected a positive integer, received 0".into(),
                });
            }
        }
        Ok(())
    }
}

impl Layer for Embedding {
    fn class_name(&self) -> &'static str {
        "Embedding"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn weight_rules(&self) -> Option<&WeightRules> {
        Some(&self.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        let shape = &input_shapes[0];
        if let Some(length) = self.input_length {
            if shape.first() != Some(&length) {
                return Err(shape_error(
                    self,
                    format!(
                        "`input_length` is {length}, so the input's first axis must have {length} ids"
                    ),
                    input_shapes,
                ));
            }
        }
        let mut out = shape.clone();
        out.push(self.output_dim);
        Ok(out)
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.validate()?;
        expect_inputs(self, input_shapes, 1)?;
        let shape = [self.input_dim, self.output_dim];
        crate::size::check_weight(self, "input_dim, output_dim", "embeddings", &shape)?;
        let table = self
            .embeddings_initializer
            .sample(&[self.input_dim, self.output_dim], rng)
            .in_layer(self.name())?;
        let embeddings = Variable::new("embeddings", table);
        embeddings.set_trainable(self.trainable);
        Ok(vec![embeddings])
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let ids = call_inputs::single(self, inputs)?;
        self.core.weight(0)?.gather_rows(ids).in_layer(self.name())
    }

    fn supports_masking(&self) -> bool {
        self.mask_zero
    }

    fn mask_reads_values(&self) -> bool {
        self.mask_zero
    }

    fn compute_mask(&self, inputs: &[Tensor], _masks: &[Option<Tensor>]) -> Result<Option<Tensor>> {
        if !self.mask_zero {
            return Ok(None);
        }
        let ids = call_inputs::single(self, inputs)?;
        Ok(Some(Tensor::new(
            ids.data().mapv(|id| f32::from(id != 0.0)),
        )))
    }

    fn config(&self) -> serde_json::Value {
        let mut config = base_config(self.name(), self.trainable);
        config.insert("input_dim".into(), json!(self.input_dim));
        config.insert("output_dim".into(), json!(self.output_dim));
        config.insert(
            "embeddings_initializer".into(),
            initializer_to_config(&self.embeddings_initializer),
        );
        self.rules.write(&mut config);
        self.rules.write_activity(&mut config);
        config.insert("mask_zero".into(), json!(self.mask_zero));
        if let Some(length) = self.input_length {
            config.insert("input_length".into(), json!(length));
        }
        serde_json::Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, LayerCall};
    use rand::SeedableRng;

    fn run(layer: &Embedding, ids: Tensor) -> Result<Tensor> {
        let mut rng = StdRng::seed_from_u64(0);
        layer.forward(
            &[ids],
            &mut CallContext {
                training: false,
                rng: &mut rng,
            },
        )
    }

    #[test]
    fn looks_up_rows() {
        let layer = Embedding::new(3, 2);
        layer.call(&Input::new(&[2])).unwrap();
        layer.weights()[0]
            .set_value(ndarray::arr2(&[[0.0f32, 1.0], [10.0, 11.0], [20.0, 21.0]]).into_dyn())
            .unwrap();
        let ids = Tensor::from_vec(&[2, 2], vec![2.0, 0.0, 1.0, 1.0]).unwrap();
        let out = run(&layer, ids).unwrap();
        assert_eq!(out.shape(), &[2, 2, 2]);
        assert_eq!(
            out.to_vec(),
            vec![20.0, 21.0, 0.0, 1.0, 10.0, 11.0, 10.0, 11.0]
        );
    }

    #[test]
    fn default_table_is_uniform_within_five_hundredths() {
        let layer = Embedding::new(50, 40);
        layer.call(&Input::new(&[3])).unwrap();
        let table = layer.weights()[0].value();
        assert!(table.iter().all(|v| (-0.05..0.05).contains(v)));
        assert!(table.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn out_of_range_id_names_the_layer() {
        let layer = Embedding::new(3, 2).with_name("words");
        layer.call(&Input::new(&[1])).unwrap();
        let err = run(&layer, Tensor::from_vec(&[1, 1], vec![3.0]).unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`words`") && err.contains('3') && err.contains("0..3"),
            "{err}"
        );
        assert!(run(&layer, Tensor::from_vec(&[1, 1], vec![-1.0]).unwrap()).is_err());
    }

    #[test]
    fn input_length_is_checked() {
        let layer = Embedding::new(10, 4).with_input_length(5);
        assert_eq!(layer.call(&Input::new(&[5])).unwrap().shape(), &[5, 4]);
        let err = Embedding::new(10, 4)
            .with_input_length(5)
            .call(&Input::new(&[6]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("input_length") && err.contains("(None, 6)"),
            "{err}"
        );
    }

    #[test]
    fn zero_sizes_are_rejected() {
        let err = Embedding::new(0, 4)
            .call(&Input::new(&[2]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("input_dim") && err.contains("received 0"),
            "{err}"
        );
        assert!(Embedding::new(3, 0).call(&Input::new(&[2])).is_err());
    }

    #[test]
    fn config_round_trips_and_reads_keras_2() {
        let layer = Embedding::new(22, 64)
            .with_input_length(68)
            .with_name("story_embedding");
        let config = layer.config();
        assert_eq!(
            config["embeddings_initializer"]["config"]["maxval"],
            json!(0.05)
        );
        assert_eq!(Embedding::from_config(&config).unwrap().config(), config);
        let keras2 = json!({"name": "embedding_1", "input_dim": 22, "output_dim": 64, "input_length": null,
            "embeddings_initializer": {"class_name": "RandomUniform",
                "config": {"minval": -0.05, "maxval": 0.05, "seed": null}}, "mask_zero": false});
        let rebuilt = Embedding::from_config(&keras2).unwrap();
        assert_eq!(
            (
                rebuilt.input_dim(),
                rebuilt.output_dim(),
                rebuilt.input_length()
            ),
            (22, 64, None)
        );
        let masked = json!({"input_dim": 22, "output_dim": 64, "mask_zero": true});
        let masked = Embedding::from_config(&masked).unwrap();
        assert!(masked.mask_zero());
        assert_eq!(masked.config()["mask_zero"], true);
    }
}
