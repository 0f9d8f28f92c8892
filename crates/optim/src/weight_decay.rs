//! Keras's `exclude_from_weight_decay(var_list=[...], var_names=[...])`: the parameters given by variable, and
//! those whose name matches one of the patterns, get no weight decay.
//!
//! As in Keras 3, the patterns are joined into one regular expression (`"|".join(var_names)`) searched anywhere
//! in each variable's name, so a plain word excludes every variable whose name contains it. The name matched is
//! the one given to [`DecayExclusions::name_variables`]: the engine gives `{layer}/{weight}` (`dense/bias`), the
//! name Keras's TensorFlow backend matches (its JAX backend matches only `bias`).

use crate::error::{OptimError, Result};
use rkeras_tensor::TensorId;

/// The exclusion patterns and, once the parameters are named, which of them are excluded.
#[derive(Debug, Clone, Default)]
pub(crate) struct DecayExclusions {
    /// The patterns as given.
    patterns: Vec<String>,
    /// The joined pattern; `None` when nothing is excluded by name.
    pattern: Option<regex::Regex>,
    /// The variables excluded by identity (Keras's `var_list`).
    variables: Vec<TensorId>,
    /// The ids last given to [`DecayExclusions::identify_variables`], by parameter position.
    ids: Vec<TensorId>,
    /// The names last given to [`DecayExclusions::name_variables`], by parameter position.
    names: Vec<String>,
    /// Whether each parameter (by position) is excluded.
    excluded: Vec<bool>,
}

impl DecayExclusions {
    /// Sets the patterns (an empty list excludes nothing). `built` makes it Keras's error.
    pub(crate) fn set(
        &mut self,
        optimizer: &'static str,
        var_names: &[&str],
        built: bool,
    ) -> Result<()> {
        if built {
            return Err(OptimError::WeightDecayExclusion {
                optimizer,
                reason: "`exclude_from_weight_decay()` can only be configured before the optimizer is built. \
                         Received: var_names=["
                    .to_string()
                    + &var_names.join(", ")
                    + "]",
            });
        }
        let pattern = if var_names.is_empty() {
            None
        } else {
            let joined = var_names.join("|");
            Some(
                regex::Regex::new(&joined).map_err(|err| OptimError::WeightDecayExclusion {
                    optimizer,
                    reason: format!(
                        "invalid name pattern. Received: var_names={var_names:?} ({err})"
                    ),
                })?,
            )
        };
        self.patterns = var_names.iter().map(|s| s.to_string()).collect();
        self.pattern = pattern;
        self.variables.clear();
        self.ids.clear();
        self.names.clear();
        self.excluded.clear();
        Ok(())
    }

    /// Sets both lists, as Keras's `exclude_from_weight_decay(var_list, var_names)` (each call replaces both).
    pub(crate) fn set_with(
        &mut self,
        optimizer: &'static str,
        var_list: &[TensorId],
        var_names: &[&str],
        built: bool,
    ) -> Result<()> {
        self.set(optimizer, var_names, built)?;
        self.variables = var_list.to_vec();
        Ok(())
    }

    /// Whether anything is excluded (by variable or by name).
    pub(crate) fn any(&self) -> bool {
        self.pattern.is_some() || !self.variables.is_empty()
    }

    /// Names and identifies the parameters by position: a parameter is excluded when its id is in the
    /// `var_list` or its name matches the pattern.
    pub(crate) fn identify_variables(&mut self, names: &[&str], ids: &[TensorId]) {
        if self.ids == ids
            && self.names.len() == names.len()
            && self.names.iter().zip(names).all(|(a, b)| a == b)
        {
            return;
        }
        self.ids = ids.to_vec();
        self.names = names.iter().map(|s| s.to_string()).collect();
        self.excluded = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                ids.get(i).is_some_and(|id| self.variables.contains(id))
                    || self.pattern.as_ref().is_some_and(|p| p.is_match(name))
            })
            .collect();
    }

    /// The patterns set, empty when nothing is excluded.
    pub(crate) fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Names the parameters by position (`dense/bias`, or a plain `bias`); the whole name is matched.
    pub(crate) fn name_variables(&mut self, names: &[&str]) {
        if self.names.len() == names.len() && self.names.iter().zip(names).all(|(a, b)| a == b) {
            return;
        }
        self.names = names.iter().map(|s| s.to_string()).collect();
        self.excluded = names
            .iter()
            .map(|name| self.pattern.as_ref().is_some_and(|p| p.is_match(name)))
            .collect();
    }

    /// Whether parameter `index` gets no weight decay.
    pub(crate) fn excludes(&self, index: usize) -> bool {
        self.excluded.get(index).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_anywhere_in_the_path() {
        let mut ex = DecayExclusions::default();
        ex.set("AdamW", &["bias", "norm"], false).unwrap();
        ex.name_variables(&[
            "dense/kernel",
            "dense/bias",
            "layer_norm/gamma",
            "conv/kernel",
        ]);
        assert_eq!(
            (0..4).map(|i| ex.excludes(i)).collect::<Vec<_>>(),
            [false, true, true, false]
        );
    }

    #[test]
    fn variables_are_excluded_by_identity_next_to_patterns() {
        let vars: Vec<rkeras_tensor::Variable> = ["kernel", "bias", "kernel", "bias"]
            .iter()
            .map(|n| rkeras_tensor::Variable::new(*n, ndarray::ArrayD::zeros(ndarray::IxDyn(&[1]))))
            .collect();
        let ids: Vec<TensorId> = vars.iter().map(|v| v.id()).collect();
        let names = ["kernel", "bias", "kernel", "bias"];
        let mut ex = DecayExclusions::default();
        ex.set_with("AdamW", &[ids[2]], &[], false).unwrap();
        assert!(ex.any());
        ex.identify_variables(&names, &ids);
        assert_eq!(
            (0..4).map(|i| ex.excludes(i)).collect::<Vec<_>>(),
            [false, false, true, false]
        );
        ex.set_with("AdamW", &[ids[0]], &["bias"], false).unwrap();
        ex.identify_variables(&names, &ids);
        assert_eq!(
            (0..4).map(|i| ex.excludes(i)).collect::<Vec<_>>(),
            [true, true, false, true]
        );
        // The names-only form forgets the variables, as Keras's call without `var_list`.
        ex.set("AdamW", &[], false).unwrap();
        assert!(!ex.any());
    }

    #[test]
    fn patterns_are_regular_expressions_and_errors_echo_them() {
        let mut ex = DecayExclusions::default();
        ex.set("AdamW", &["/ker"], false).unwrap();
        ex.name_variables(&["lstm/kernel", "lstm/recurrent_kernel"]);
        assert!(ex.excludes(0) && !ex.excludes(1));
        let err = ex.set("AdamW", &["("], false).unwrap_err();
        assert!(err.to_string().contains("var_names=[\"(\"]"), "{err}");
        let err = ex.set("AdamW", &["bias"], true).unwrap_err();
        assert!(
            err.to_string().contains("before the optimizer is built"),
            "{err}"
        );
    }
}
