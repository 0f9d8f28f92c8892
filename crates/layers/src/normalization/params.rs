//! What `BatchNormalization` and `LayerNormalization` share: the normalized axis, `epsilon`, `center`/`scale`
//! and the `beta`/`gamma` weights, with their Keras config keys.

use crate::error::{InLayer, LayersError, Result};
use crate::layer::{Layer, Shape, shape_error};
use crate::serialization::{ConfigReader, f32_to_json, initializer_to_config};
use crate::weight_rules::WeightRules;
use rand::rngs::StdRng;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::{Map, Value, json};

/// The options common to the normalization layers.
#[derive(Debug, Clone)]
pub(crate) struct NormParams {
    /// The feature axis (negative counts from the end, the batch axis included as in Keras).
    pub(crate) axis: isize,
    pub(crate) epsilon: f32,
    pub(crate) center: bool,
    pub(crate) scale: bool,
    pub(crate) beta_initializer: Initializer,
    pub(crate) gamma_initializer: Initializer,
    /// `gamma_regularizer`, `beta_constraint`, ….
    pub(crate) rules: WeightRules,
}

/// The normalization layers' weight rules: Keras's `gamma_*` and `beta_*` regularizers and constraints.
fn norm_weight_rules() -> WeightRules {
    WeightRules::new(&[("gamma", "gamma"), ("beta", "beta")])
}

/// The builders of the `gamma`/`beta` regularizers and constraints, and the `rules_mut` they use, for a
/// normalization layer whose [`NormParams`] is its field `params`.
macro_rules! norm_weight_rule_builders {
    () => {
        fn rules_mut(&mut self) -> &mut crate::weight_rules::WeightRules {
            &mut self.params.rules
        }

        crate::weight_rules::weight_rule_builders!(
            "gamma" => with_gamma_regularizer, with_gamma_constraint;
            "beta" => with_beta_regularizer, with_beta_constraint;
        );
    };
}

pub(crate) use norm_weight_rule_builders;

impl NormParams {
    pub(crate) fn new(epsilon: f32) -> Self {
        NormParams {
            axis: -1,
            epsilon,
            center: true,
            scale: true,
            beta_initializer: Initializer::Zeros,
            gamma_initializer: Initializer::Ones,
            rules: norm_weight_rules(),
        }
    }

    /// Reads `axis` (an integer or a one-element list), `epsilon`, `center`, `scale`, the initializers and the
    /// `gamma`/`beta` regularizers and constraints.
    pub(crate) fn from_reader(
        reader: &ConfigReader<'_>,
        class: &str,
        epsilon: f32,
    ) -> Result<Self> {
        let axis = match reader.get("axis") {
            None => Some(-1),
            Some(Value::Array(items)) if items.len() == 1 => items[0].as_i64(),
            Some(v) => v.as_i64(),
        }
        .map(|a| a as isize)
        .ok_or_else(|| {
            LayersError::Config(format!(
                "{class} config: `axis` must be one integer (rkeras normalizes over a single axis), received {:?}",
                reader.get("axis")
            ))
        })?;
        let mut rules = norm_weight_rules();
        rules.read(reader)?;
        Ok(NormParams {
            rules,
            axis,
            epsilon: reader.f32_or("epsilon", epsilon)?,
            center: reader.bool_or("center", true)?,
            scale: reader.bool_or("scale", true)?,
            beta_initializer: reader.initializer_or("beta_initializer", Initializer::Zeros)?,
            gamma_initializer: reader.initializer_or("gamma_initializer", Initializer::Ones)?,
        })
    }

    /// Writes the shared keys into a config.
    pub(crate) fn write(&self, config: &mut Map<String, Value>) {
        config.insert("axis".into(), json!(self.axis));
        config.insert("epsilon".into(), f32_to_json(self.epsilon));
        config.insert("center".into(), json!(self.center));
        config.insert("scale".into(), json!(self.scale));
        config.insert(
            "beta_initializer".into(),
            initializer_to_config(&self.beta_initializer),
        );
        config.insert(
            "gamma_initializer".into(),
            initializer_to_config(&self.gamma_initializer),
        );
        self.rules.write(config);
    }

    /// The normalized axis of an input of `shape` (no batch axis), counted without the batch axis.
    pub(crate) fn feature_axis(&self, layer: &dyn Layer, input_shapes: &[Shape]) -> Result<usize> {
        let rank = input_shapes[0].len() as isize + 1;
        let axis = if self.axis < 0 {
            self.axis + rank
        } else {
            self.axis
        };
        if axis < 1 || axis >= rank {
            return Err(shape_error(
                layer,
                format!(
                    "`axis={}` must name a non-batch axis of the input (rank {rank} with the batch axis)",
                    self.axis
                ),
                input_shapes,
            ));
        }
        Ok(axis as usize - 1)
    }

    /// `gamma` (when `scale`) then `beta` (when `center`), Keras's order, each of `size` values.
    pub(crate) fn build_affine(
        &self,
        layer: &dyn Layer,
        size: usize,
        rng: &mut StdRng,
    ) -> Result<Vec<Variable>> {
        let mut weights = Vec::new();
        if self.scale {
            let gamma = self
                .gamma_initializer
                .sample(&[size], rng)
                .in_layer(layer.name())?;
            weights.push(Variable::new("gamma", gamma));
        }
        if self.center {
            let beta = self
                .beta_initializer
                .sample(&[size], rng)
                .in_layer(layer.name())?;
            weights.push(Variable::new("beta", beta));
        }
        Ok(weights)
    }

    /// The graph leaves of `gamma` and `beta` (`None` for the ones switched off), from a layer's weights in
    /// Keras's order.
    pub(crate) fn affine(&self, weights: &[Variable]) -> (Option<Tensor>, Option<Tensor>) {
        let mut iter = weights.iter();
        let gamma = if self.scale {
            iter.next().map(Variable::tensor)
        } else {
            None
        };
        let beta = if self.center {
            iter.next().map(Variable::tensor)
        } else {
            None
        };
        (gamma, beta)
    }

    /// Checks `epsilon`, echoing a bad value.
    pub(crate) fn validate(&self, class: &'static str) -> Result<()> {
        if !(self.epsilon > 0.0 && self.epsilon.is_finite()) {
            return Err(LayersError::InvalidArgument {
                class,
                argument: "epsilon",
                reason: format!("expected a positive number, received {}", self.epsilon),
            });
        }
        Ok(())
    }
}
