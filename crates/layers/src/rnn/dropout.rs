//! Keras's `dropout` and `recurrent_dropout` of the recurrent layers (its `DropoutRNNCell`): in training, masks
//! drawn once per call and applied at every step, to the step's input and to the previous output `h_{t-1}` where
//! it enters the recurrent product; nothing at inference.

use crate::error::{LayersError, Result};
use crate::serialization::{ConfigReader, f32_to_json};
use rand::rngs::StdRng;
use rkeras_tensor::Tensor;
use rkeras_tensor::ops::dropout_mask;
use serde_json::{Value, json};

/// A recurrent layer's dropout rates and seed, as Keras's config holds them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct RecurrentDropout {
    /// The fraction of the input's features dropped.
    pub dropout: f32,
    /// The fraction of `h_{t-1}`'s units dropped in the recurrent product.
    pub recurrent_dropout: f32,
    /// Keras's `seed`, kept for the config; masks come from the call's seeded RNG.
    pub seed: Option<u64>,
}

/// The masks of one call (each `[batch, features]` or `[batch, units]`, entries 0 or `1 / (1 − rate)`): none,
/// one shared by every gate, or — with `recurrent_dropout`, as Keras's implementation 1 — one per gate.
#[derive(Debug, Clone, Default)]
pub(crate) struct DropoutMasks {
    /// Masks of the step inputs.
    pub input: Vec<Tensor>,
    /// Masks of `h_{t-1}` in the recurrent product.
    pub recurrent: Vec<Tensor>,
}

impl RecurrentDropout {
    /// Reads `dropout`, `recurrent_dropout` and `seed` (absent: 0, 0, none).
    pub fn read(reader: &ConfigReader, class: &'static str) -> Result<Self> {
        let seed = match reader.get("seed") {
            None | Some(Value::Null) => None,
            Some(seed) => Some(seed.as_u64().ok_or_else(|| {
                LayersError::Config(format!(
                    "{class} config: `seed` must be a non-negative integer or null, received {seed}"
                ))
            })?),
        };
        let options = RecurrentDropout {
            dropout: reader.f32_or("dropout", 0.0)?,
            recurrent_dropout: reader.f32_or("recurrent_dropout", 0.0)?,
            seed,
        };
        options.validate(class)?;
        Ok(options)
    }

    /// Checks that both rates are in `[0, 1)`.
    pub fn validate(&self, class: &'static str) -> Result<()> {
        for (argument, rate) in [
            ("dropout", self.dropout),
            ("recurrent_dropout", self.recurrent_dropout),
        ] {
            if !(0.0..1.0).contains(&rate) {
                return Err(LayersError::InvalidArgument {
                    class,
                    argument,
                    reason: format!("expected a float in [0, 1), received {rate}"),
                });
            }
        }
        Ok(())
    }

    /// Keras's config entries.
    pub fn config_entries(&self) -> [(&'static str, Value); 3] {
        [
            ("dropout", f32_to_json(self.dropout)),
            ("recurrent_dropout", f32_to_json(self.recurrent_dropout)),
            ("seed", json!(self.seed)),
        ]
    }

    /// The masks of one call on a `[batch, time, features]` input of a layer of `units` and `gates` gates
    /// (1, 3 or 4): none at inference; in training, the input masks then the recurrent masks drawn from `rng`,
    /// one per gate when `recurrent_dropout` is on (Keras then runs implementation 1), else one input mask.
    pub fn masks(
        &self,
        training: bool,
        rng: &mut StdRng,
        input_shape: &[usize],
        units: usize,
        gates: usize,
    ) -> rkeras_tensor::Result<DropoutMasks> {
        if !training {
            return Ok(DropoutMasks::default());
        }
        let (batch, features) = match input_shape {
            &[batch, _, features] => (batch, features),
            other => {
                return Err(rkeras_tensor::TensorError::invalid_shape(
                    "recurrent dropout",
                    other,
                    "expected an input of rank 3 [batch, time, features]",
                ));
            }
        };
        let per_gate = if self.recurrent_dropout > 0.0 {
            gates
        } else {
            1
        };
        let mut draw = |rate: f32, width: usize| -> rkeras_tensor::Result<Vec<Tensor>> {
            if rate == 0.0 {
                return Ok(Vec::new());
            }
            (0..per_gate)
                .map(|_| dropout_mask(&[batch, width], rate, rng).map(Tensor::new))
                .collect()
        };
        let input = draw(self.dropout, features)?;
        let recurrent = draw(self.recurrent_dropout, units)?;
        Ok(DropoutMasks { input, recurrent })
    }
}

impl DropoutMasks {
    /// Whether the call needs the step-by-step path ([`super::dropout_steps`]): the fused kernels take a masked
    /// input but not a masked `h_{t-1}`.
    pub fn needs_steps(&self) -> bool {
        !self.recurrent.is_empty()
    }

    /// The input with its one shared mask applied at every step (the same input a fused kernel then reads); the
    /// input itself without masks.
    pub fn masked_input(&self, x: &Tensor) -> rkeras_tensor::Result<Tensor> {
        match (self.input.as_slice(), x.shape()) {
            ([mask], &[batch, _, features]) => x.mul(&mask.reshape(&[batch, 1, features])?),
            _ => Ok(x.clone()),
        }
    }
}

/// The `with_dropout`, `with_recurrent_dropout` and `with_seed` setters of a recurrent layer whose options live
/// in a field `dropout: RecurrentDropout`.
macro_rules! recurrent_dropout_setters {
    () => {
        /// The fraction of the input's features dropped in training, one mask per call shared by every step
        /// (Keras's `dropout`). Defaults to 0.
        pub fn with_dropout(mut self, rate: f32) -> Self {
            self.dropout.dropout = rate;
            self
        }

        /// The fraction of `h_{t-1}`'s units dropped in the recurrent product in training, one mask per call
        /// (Keras's `recurrent_dropout`; the call then runs step by step instead of in the fused kernel).
        /// Defaults to 0.
        pub fn with_recurrent_dropout(mut self, rate: f32) -> Self {
            self.dropout.recurrent_dropout = rate;
            self
        }

        /// Keras's `seed`, kept in the config; the masks come from the call's seeded RNG (the model's seed), so
        /// runs are reproducible either way.
        pub fn with_seed(mut self, seed: u64) -> Self {
            self.dropout.seed = Some(seed);
            self
        }
    };
}

pub(crate) use recurrent_dropout_setters;
