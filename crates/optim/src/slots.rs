//! Per-parameter optimizer slots (Keras's optimizer variables), their creation at the first step, and their
//! conversion to and from [`SlotArray`]s.
//!
//! Slots are kept per parameter position, in Keras's slot order. They are created at the first step with the
//! parameters' shapes (zeros, or Adagrad's `initial_accumulator_value`), and from then on every step checks that
//! the parameters still have those shapes.

use crate::error::{OptimError, Result};
use crate::optimizer::SlotArray;
use ndarray::ArrayD;

/// The slots of all parameters of one optimizer.
#[derive(Debug, Clone)]
pub(crate) struct SlotStore {
    /// Keras's slot names, in creation order.
    names: Vec<&'static str>,
    /// Initial value of each slot.
    initial: Vec<f32>,
    /// Other names accepted when loading (Keras 2's), with the slot each one stands for.
    aliases: &'static [(&'static str, &'static str)],
    /// `per_param[i][k]` is slot `names[k]` of parameter `i`; `None` before the first step.
    per_param: Option<Vec<Vec<ArrayD<f32>>>>,
}

impl SlotStore {
    /// Slots `names` with initial values `initial` (same length), not yet created.
    pub(crate) fn new(
        names: Vec<&'static str>,
        initial: Vec<f32>,
        aliases: &'static [(&'static str, &'static str)],
    ) -> Self {
        SlotStore {
            names,
            initial,
            aliases,
            per_param: None,
        }
    }

    /// The slot names, in Keras's order.
    pub(crate) fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// Checks, when slots exist, that `params` has as many entries as there are slot lists and the same shapes.
    pub(crate) fn check_params(
        &self,
        optimizer: &'static str,
        params: &[&mut ArrayD<f32>],
    ) -> Result<()> {
        let Some(per_param) = &self.per_param else {
            return Ok(());
        };
        if per_param.len() != params.len() {
            return Err(OptimError::ParameterCountChanged {
                optimizer,
                expected: per_param.len(),
                received: params.len(),
            });
        }
        for (index, (param, slots)) in params.iter().zip(per_param).enumerate() {
            if let Some((k, slot)) = slots
                .iter()
                .enumerate()
                .find(|(_, slot)| slot.shape() != param.shape())
            {
                return Err(OptimError::SlotShapeMismatch {
                    optimizer,
                    index,
                    slot: self.names.get(k).copied().unwrap_or("?").to_string(),
                    slot_shape: slot.shape().to_vec(),
                    expected: param.shape().to_vec(),
                });
            }
        }
        Ok(())
    }

    /// Creates the slots from the parameters' shapes if they do not exist yet.
    pub(crate) fn ensure_built(&mut self, params: &[&mut ArrayD<f32>]) {
        if self.per_param.is_none() {
            let per_param = params
                .iter()
                .map(|param| {
                    self.initial
                        .iter()
                        .map(|&value| ArrayD::from_elem(param.raw_dim(), value))
                        .collect()
                })
                .collect();
            self.per_param = Some(per_param);
        }
    }

    /// The slot lists, one per parameter (after [`SlotStore::ensure_built`]).
    pub(crate) fn per_param_mut(
        &mut self,
        optimizer: &'static str,
    ) -> Result<&mut [Vec<ArrayD<f32>>]> {
        self.per_param.as_deref_mut().ok_or(OptimError::Internal {
            optimizer,
            reason: "slots used before they were created".into(),
        })
    }

    /// The slot lists, one per parameter, once created.
    pub(crate) fn built(&self) -> Option<&[Vec<ArrayD<f32>>]> {
        self.per_param.as_deref()
    }

    /// The same store with `names` (zero-initialised, no aliases of their own) in front of its slots.
    pub(crate) fn with_leading(mut self, names: Vec<&'static str>) -> Self {
        let mut initial = vec![0.0; names.len()];
        initial.extend(&self.initial);
        let mut all = names;
        all.extend(&self.names);
        self.names = all;
        self.initial = initial;
        self
    }

    /// A copy of every slot, slot by slot and within a slot parameter by parameter (Keras's variable order).
    pub(crate) fn to_state(&self) -> Vec<SlotArray> {
        let Some(per_param) = &self.per_param else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(self.names.len() * per_param.len());
        for (k, name) in self.names.iter().enumerate() {
            for (param_index, slots) in per_param.iter().enumerate() {
                if let Some(value) = slots.get(k) {
                    out.push(SlotArray {
                        param_index,
                        slot: (*name).to_string(),
                        value: value.clone(),
                    });
                }
            }
        }
        out
    }

    /// Keras 3's name for `slot` (itself, or what a Keras 2 alias stands for), if this optimizer keeps it.
    fn slot_position(&self, slot: &str) -> Option<usize> {
        let canonical = self
            .aliases
            .iter()
            .find(|(alias, _)| *alias == slot)
            .map_or(slot, |(_, name)| *name);
        self.names.iter().position(|name| *name == canonical)
    }

    /// Checks `slots` completely and turns them into per-parameter lists; `None` for an empty list (not built).
    ///
    /// When slots already exist, the loaded ones must have the same count and shapes.
    pub(crate) fn validated_from_state(
        &self,
        optimizer: &'static str,
        slots: &[SlotArray],
    ) -> Result<Option<Vec<Vec<ArrayD<f32>>>>> {
        if slots.is_empty() {
            return Ok(None);
        }
        let invalid = |reason: String| OptimError::InvalidState { optimizer, reason };
        if let Some(unknown) = slots.iter().find(|s| self.slot_position(&s.slot).is_none()) {
            return Err(invalid(format!(
                "unknown slot `{}` (parameter {}); this optimizer keeps {:?}",
                unknown.slot, unknown.param_index, self.names
            )));
        }
        let per_slot = self.names.len();
        if slots.len() % per_slot != 0 {
            return Err(invalid(format!(
                "{} slot arrays cannot hold the {:?} slots of a whole number of parameters",
                slots.len(),
                self.names
            )));
        }
        let count = slots.len() / per_slot;
        let mut table: Vec<Vec<Option<ArrayD<f32>>>> = vec![vec![None; per_slot]; count];
        for slot in slots {
            let k = self.slot_position(&slot.slot).unwrap_or(0);
            let entry = table.get_mut(slot.param_index).and_then(|row| row.get_mut(k)).ok_or_else(|| {
                invalid(format!(
                    "slot `{}` has parameter index {}, but {} slot arrays describe only {count} parameters",
                    slot.slot,
                    slot.param_index,
                    slots.len()
                ))
            })?;
            if entry.is_some() {
                return Err(invalid(format!(
                    "slot `{}` of parameter {} appears twice",
                    slot.slot, slot.param_index
                )));
            }
            *entry = Some(slot.value.clone());
        }
        let mut per_param = Vec::with_capacity(count);
        for (index, row) in table.into_iter().enumerate() {
            let mut values = Vec::with_capacity(per_slot);
            for (k, value) in row.into_iter().enumerate() {
                let value = value.ok_or_else(|| {
                    invalid(format!(
                        "slot `{}` of parameter {index} is missing",
                        self.names[k]
                    ))
                })?;
                let expected = values
                    .first()
                    .map(|first: &ArrayD<f32>| first.shape().to_vec());
                if let Some(expected) = expected.filter(|shape| shape.as_slice() != value.shape()) {
                    return Err(OptimError::SlotShapeMismatch {
                        optimizer,
                        index,
                        slot: self.names[k].to_string(),
                        slot_shape: value.shape().to_vec(),
                        expected,
                    });
                }
                values.push(value);
            }
            per_param.push(values);
        }
        if let Some(current) = &self.per_param {
            self.check_same_layout(optimizer, current, &per_param)?;
        }
        Ok(Some(per_param))
    }

    /// Loaded slots must match the slots the optimizer already holds (count and shapes).
    fn check_same_layout(
        &self,
        optimizer: &'static str,
        current: &[Vec<ArrayD<f32>>],
        loaded: &[Vec<ArrayD<f32>>],
    ) -> Result<()> {
        if current.len() != loaded.len() {
            return Err(OptimError::InvalidState {
                optimizer,
                reason: format!(
                    "the state holds slots for {} parameters but the optimizer was built for {}",
                    loaded.len(),
                    current.len()
                ),
            });
        }
        for (index, (now, new)) in current.iter().zip(loaded).enumerate() {
            for (k, (a, b)) in now.iter().zip(new).enumerate() {
                if a.shape() != b.shape() {
                    return Err(OptimError::SlotShapeMismatch {
                        optimizer,
                        index,
                        slot: self.names.get(k).copied().unwrap_or("?").to_string(),
                        slot_shape: b.shape().to_vec(),
                        expected: a.shape().to_vec(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Replaces the slots with validated ones (`None`: not built, recreated at the next step).
    pub(crate) fn replace(&mut self, per_param: Option<Vec<Vec<ArrayD<f32>>>>) {
        self.per_param = per_param;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    const ALIASES: &[(&str, &str)] = &[("rms", "velocity")];

    fn store() -> SlotStore {
        SlotStore::new(vec!["velocity", "momentum"], vec![0.0, 0.0], ALIASES)
    }

    fn slot(param_index: usize, slot: &str, shape: &[usize]) -> SlotArray {
        SlotArray {
            param_index,
            slot: slot.into(),
            value: ArrayD::zeros(IxDyn(shape)),
        }
    }

    #[test]
    fn slots_are_built_with_parameter_shapes_and_initial_values() {
        let mut s = SlotStore::new(vec!["accumulator"], vec![0.1], &[]);
        let mut a = ArrayD::<f32>::zeros(IxDyn(&[2, 3]));
        s.ensure_built(&[&mut a]);
        let state = s.to_state();
        assert_eq!(state.len(), 1);
        assert_eq!(state[0].value, ArrayD::from_elem(IxDyn(&[2, 3]), 0.1f32));
    }

    #[test]
    fn state_order_is_slot_major() {
        let mut s = store();
        let mut a = ArrayD::<f32>::zeros(IxDyn(&[1]));
        let mut b = ArrayD::<f32>::zeros(IxDyn(&[2]));
        s.ensure_built(&[&mut a, &mut b]);
        let order: Vec<(usize, String)> = s
            .to_state()
            .into_iter()
            .map(|x| (x.param_index, x.slot))
            .collect();
        assert_eq!(
            order,
            [
                (0, "velocity".into()),
                (1, "velocity".into()),
                (0, "momentum".into()),
                (1, "momentum".into())
            ]
        );
    }

    #[test]
    fn loading_accepts_aliases_and_any_order() {
        let loaded = store()
            .validated_from_state(
                "RMSprop",
                &[slot(0, "momentum", &[2]), slot(0, "rms", &[2])],
            )
            .unwrap()
            .unwrap();
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].len(), 2);
    }

    #[test]
    fn loading_rejects_bad_states() {
        let s = store();
        let unknown = s.validated_from_state(
            "RMSprop",
            &[slot(0, "velocity", &[2]), slot(0, "bogus", &[2])],
        );
        assert!(matches!(unknown, Err(OptimError::InvalidState { .. })));
        let duplicate = s.validated_from_state(
            "RMSprop",
            &[slot(0, "velocity", &[2]), slot(0, "velocity", &[2])],
        );
        assert!(matches!(duplicate, Err(OptimError::InvalidState { .. })));
        let odd = s.validated_from_state("RMSprop", &[slot(0, "velocity", &[2])]);
        assert!(matches!(odd, Err(OptimError::InvalidState { .. })));
        let far_index = s.validated_from_state(
            "RMSprop",
            &[slot(0, "velocity", &[2]), slot(7, "momentum", &[2])],
        );
        assert!(matches!(far_index, Err(OptimError::InvalidState { .. })));
        let shapes = s.validated_from_state(
            "RMSprop",
            &[slot(0, "velocity", &[2]), slot(0, "momentum", &[3])],
        );
        assert!(matches!(
            shapes,
            Err(OptimError::SlotShapeMismatch { index: 0, .. })
        ));
    }

    #[test]
    fn loading_into_built_slots_requires_the_same_layout() {
        let mut s = store();
        let mut a = ArrayD::<f32>::zeros(IxDyn(&[2]));
        s.ensure_built(&[&mut a]);
        let wrong = s.validated_from_state(
            "RMSprop",
            &[slot(0, "velocity", &[3]), slot(0, "momentum", &[3])],
        );
        assert!(matches!(wrong, Err(OptimError::SlotShapeMismatch { .. })));
        let right = s.validated_from_state(
            "RMSprop",
            &[slot(0, "velocity", &[2]), slot(0, "momentum", &[2])],
        );
        assert!(right.is_ok());
    }

    #[test]
    fn check_params_reports_changed_count_and_shape() {
        let mut s = store();
        let mut a = ArrayD::<f32>::zeros(IxDyn(&[2]));
        s.ensure_built(&[&mut a]);
        let mut b = ArrayD::<f32>::zeros(IxDyn(&[3]));
        assert!(matches!(
            s.check_params("RMSprop", &[&mut b]),
            Err(OptimError::SlotShapeMismatch { .. })
        ));
        let mut c = ArrayD::<f32>::zeros(IxDyn(&[2]));
        assert!(matches!(
            s.check_params("RMSprop", &[&mut a, &mut c]),
            Err(OptimError::ParameterCountChanged {
                expected: 1,
                received: 2,
                ..
            })
        ));
    }
}
