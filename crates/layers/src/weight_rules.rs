//! [`WeightRules`]: a layer's regularizer and constraint per weight (Keras's `kernel_regularizer`,
//! `recurrent_constraint`, `gamma_regularizer`, …), read from and written to Keras's config keys
//! `{prefix}_regularizer` / `{prefix}_constraint`, and matched to the layer's weights by name.
//!
//! A rule for weight `kernel` applies to every weight whose name ends in `kernel` after the last `/`
//! (`kernel`, `lstm_cell/kernel`, `query/kernel`, …), so that a layer made of dense parts (MultiHeadAttention)
//! passes its kernel regularizer to each of them, as Keras does.
//!
//! ```
//! use rkeras_layers::weight_rules::WeightRules;
//! use rkeras_layers::{Constraint, Regularizer};
//! use rkeras_tensor::Variable;
//! let mut rules = WeightRules::new(&[("kernel", "kernel"), ("recurrent", "recurrent_kernel"), ("bias", "bias")]);
//! rules.set_regularizer("recurrent", Regularizer::L2 { l2: 0.1 })?;
//! rules.set_constraint("bias", Constraint::NonNeg)?;
//! let z = || ndarray::ArrayD::zeros(ndarray::IxDyn(&[2]));
//! let weights = [Variable::new("cell/kernel", z()), Variable::new("cell/recurrent_kernel", z()),
//!                Variable::new("cell/bias", z())];
//! assert_eq!(rules.regularizers_for(&weights), vec![(1, Regularizer::L2 { l2: 0.1 })]);
//! assert_eq!(rules.constraints_for(&weights), vec![(2, Constraint::NonNeg)]);
//! assert!(rules.set_regularizer("gamma", Regularizer::L1 { l1: 0.1 }).is_err());
//! # Ok::<(), rkeras_layers::LayersError>(())
//! ```

use crate::constraints::Constraint;
use crate::error::{LayersError, Result};
use crate::regularizers::Regularizer;
use crate::serialization::ConfigReader;
use rkeras_tensor::Variable;
use serde_json::{Map, Value};

/// One weight's rule: Keras's argument prefix, the weight's name, and its regularizer and constraint.
#[derive(Debug, Clone, PartialEq)]
struct WeightRule {
    prefix: &'static str,
    weight: &'static str,
    regularizer: Option<Regularizer>,
    constraint: Option<Constraint>,
}

/// The regularizers and constraints of a layer's weights, keyed by Keras's argument prefix (`kernel`,
/// `recurrent`, `embeddings`, `depthwise`, `gamma`, …).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WeightRules {
    rules: Vec<WeightRule>,
    /// Keras's `activity_regularizer`: a penalty on the layer's outputs.
    activity: Option<Regularizer>,
}

impl WeightRules {
    /// Rules (none set) for `(prefix, weight name)` pairs: prefix `recurrent` for weight `recurrent_kernel`
    /// reads Keras's `recurrent_regularizer` and `recurrent_constraint`.
    pub fn new(weights: &[(&'static str, &'static str)]) -> Self {
        WeightRules {
            rules: weights
                .iter()
                .map(|&(prefix, weight)| WeightRule {
                    prefix,
                    weight,
                    regularizer: None,
                    constraint: None,
                })
                .collect(),
            activity: None,
        }
    }

    fn rule_mut(&mut self, prefix: &str) -> Result<&mut WeightRule> {
        let known: Vec<&str> = self.rules.iter().map(|r| r.prefix).collect();
        self.rules
            .iter_mut()
            .find(|r| r.prefix == prefix)
            .ok_or_else(|| {
                LayersError::Config(format!(
                    "this layer has no weight `{prefix}` to regularize or constrain (it has {known:?})"
                ))
            })
    }

    /// Sets the regularizer of the weight of `prefix` (an unknown prefix is an error naming the known ones).
    pub fn set_regularizer(&mut self, prefix: &str, regularizer: Regularizer) -> Result<()> {
        self.rule_mut(prefix)?.regularizer = Some(regularizer);
        Ok(())
    }

    /// Sets the constraint of the weight of `prefix` (an unknown prefix is an error naming the known ones).
    pub fn set_constraint(&mut self, prefix: &str, constraint: Constraint) -> Result<()> {
        self.rule_mut(prefix)?.constraint = Some(constraint);
        Ok(())
    }

    /// Sets the regularizer of the layer's outputs (Keras's `activity_regularizer`), or none.
    pub fn set_activity_regularizer(&mut self, regularizer: Option<Regularizer>) {
        self.activity = regularizer;
    }

    /// The regularizer of the layer's outputs (Keras's `activity_regularizer`), if any.
    pub fn activity_regularizer(&self) -> Option<Regularizer> {
        self.activity
    }

    /// The regularizer of the weight of `prefix`, if any.
    pub fn regularizer(&self, prefix: &str) -> Option<&Regularizer> {
        self.rules
            .iter()
            .find(|r| r.prefix == prefix)
            .and_then(|r| r.regularizer.as_ref())
    }

    /// The constraint of the weight of `prefix`, if any.
    pub fn constraint(&self, prefix: &str) -> Option<&Constraint> {
        self.rules
            .iter()
            .find(|r| r.prefix == prefix)
            .and_then(|r| r.constraint.as_ref())
    }

    /// Reads every `{prefix}_regularizer` and `{prefix}_constraint` of a Keras layer config, and its
    /// `activity_regularizer` (`null` or absent: none).
    pub fn read(&mut self, reader: &ConfigReader<'_>) -> Result<()> {
        self.activity = Regularizer::from_layer_config(reader, "activity_regularizer")?;
        for rule in &mut self.rules {
            rule.regularizer =
                Regularizer::from_layer_config(reader, &format!("{}_regularizer", rule.prefix))?;
            rule.constraint =
                Constraint::from_layer_config(reader, &format!("{}_constraint", rule.prefix))?;
        }
        Ok(())
    }

    /// Writes every `{prefix}_regularizer` and `{prefix}_constraint` in Keras's form (`null` when none), and
    /// `activity_regularizer` when there is one (Keras's base `Layer` writes it only then).
    pub fn write(&self, config: &mut Map<String, Value>) {
        if self.activity.is_some() {
            self.write_activity(config);
        }
        for rule in &self.rules {
            config.insert(
                format!("{}_regularizer", rule.prefix),
                Regularizer::option_to_config(rule.regularizer.as_ref()),
            );
            config.insert(
                format!("{}_constraint", rule.prefix),
                Constraint::option_to_config(rule.constraint.as_ref()),
            );
        }
    }

    /// Writes `activity_regularizer` in Keras's form, `null` when none (as the convolutions, Embedding, EinsumDense,
    /// MultiHeadAttention and the recurrent layers write it in Keras).
    pub fn write_activity(&self, config: &mut Map<String, Value>) {
        config.insert(
            "activity_regularizer".into(),
            Regularizer::option_to_config(self.activity.as_ref()),
        );
    }

    /// Whether `variable` is the weight of `rule` (its name after the last `/`).
    fn matches(rule: &WeightRule, variable: &Variable) -> bool {
        let name = variable.name();
        name.rsplit('/').next() == Some(rule.weight)
    }

    /// `(weight index, regularizer)` for each of `weights` that has one, in weight order
    /// ([`crate::Layer::weight_regularizers`]).
    pub fn regularizers_for(&self, weights: &[Variable]) -> Vec<(usize, Regularizer)> {
        let mut out = Vec::new();
        for (index, variable) in weights.iter().enumerate() {
            for rule in &self.rules {
                if let (true, Some(r)) = (Self::matches(rule, variable), rule.regularizer) {
                    out.push((index, r));
                }
            }
        }
        out
    }

    /// `(weight index, constraint)` for each of `weights` that has one, in weight order
    /// ([`crate::Layer::weight_constraints`]).
    pub fn constraints_for(&self, weights: &[Variable]) -> Vec<(usize, Constraint)> {
        let mut out = Vec::new();
        for (index, variable) in weights.iter().enumerate() {
            for rule in &self.rules {
                if let (true, Some(c)) = (Self::matches(rule, variable), &rule.constraint) {
                    out.push((index, c.clone()));
                }
            }
        }
        out
    }
}

/// Builders `with_{prefix}_regularizer` / `with_{prefix}_constraint` for the weights of a layer with a method
/// `rules_mut(&mut self) -> &mut WeightRules`, one pair per `"prefix" => regularizer_fn, constraint_fn;` line, and
/// `with_activity_regularizer` unless the lines follow `@without_activity` (for a layer whose builders come
/// from several invocations).
macro_rules! weight_rule_builders {
    (@without_activity $($prefix:literal => $reg:ident, $con:ident;)+) => {
        $(
            #[doc = concat!("Sets the regularizer of the `", $prefix, "` weight (Keras's `", $prefix,
                            "_regularizer`). Defaults to none.")]
            pub fn $reg(mut self, regularizer: crate::Regularizer) -> Self {
                // The prefix is one of the layer's own, so setting it cannot fail.
                let _ = self.rules_mut().set_regularizer($prefix, regularizer);
                self
            }

            #[doc = concat!("Sets the constraint of the `", $prefix, "` weight (Keras's `", $prefix,
                            "_constraint`), applied after each update. Defaults to none.")]
            pub fn $con(mut self, constraint: crate::Constraint) -> Self {
                let _ = self.rules_mut().set_constraint($prefix, constraint);
                self
            }
        )+
    };
    ($($prefix:literal => $reg:ident, $con:ident;)+) => {
        crate::weight_rules::weight_rule_builders!(@without_activity $($prefix => $reg, $con;)+);

        /// Sets the regularizer of the layer's outputs (Keras's `activity_regularizer`): its penalty on each
        /// output, divided by the batch size, is added to the loss. Defaults to none.
        pub fn with_activity_regularizer(mut self, regularizer: crate::Regularizer) -> Self {
            self.rules_mut().set_activity_regularizer(Some(regularizer));
            self
        }

    };
}

pub(crate) use weight_rule_builders;
