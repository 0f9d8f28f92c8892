//! `Dropout`: during training, zeroes a random fraction of the inputs and scales the rest up.

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config, f32_to_json};
use rand::rngs::StdRng;
use rkeras_tensor::ops::dropout_mask;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// Inverted dropout (Keras's `Dropout`): in training, each element is zeroed with probability `rate` and the
/// others are multiplied by `1 / (1 − rate)`; in inference the input passes through unchanged.
///
/// Masks are drawn from the run's seeded generator ([`CallContext::rng`]), so one seed reproduces a run.
/// Keras's `noise_shape` is supported (a mask shape including the batch axis, `None` taking the input's
/// size, `1` sharing the mask along that axis). Keras's per-layer `seed` is kept in the config but not used.
///
/// # Shapes
/// output shape = input shape.
///
/// ```
/// use rand::SeedableRng;
/// use rkeras_layers::{CallContext, Dropout, Input, Layer, LayerCall};
/// use rkeras_tensor::Tensor;
/// let dropout = Dropout::new(0.5);
/// dropout.call(&Input::new(&[1000]))?;
/// let x = Tensor::ones(&[1, 1000]);
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let y = dropout.forward(&[x.clone()], &mut CallContext { training: true, rng: &mut rng })?;
/// assert!(y.to_vec().iter().all(|&v| v == 0.0 || v == 2.0));
/// let y = dropout.forward(&[x.clone()], &mut CallContext { training: false, rng: &mut rng })?;
/// assert_eq!(y.to_vec(), x.to_vec());
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dropout {
    core: LayerCore,
    rate: f32,
    noise_shape: Option<Vec<Option<usize>>>,
    seed: Option<u64>,
}

impl Dropout {
    /// Drops each element with probability `rate`, which must lie in `[0, 1)` (checked when the layer is
    /// first called).
    pub fn new(rate: f32) -> Self {
        Dropout {
            core: LayerCore::new("dropout"),
            rate,
            noise_shape: None,
            seed: None,
        }
    }

    /// Keras's `noise_shape`: the mask's shape, batch axis first; `None` entries take the input's size.
    /// Defaults to the input's shape.
    pub fn with_noise_shape(mut self, noise_shape: Vec<Option<usize>>) -> Self {
        self.noise_shape = Some(noise_shape);
        self
    }

    /// Keras's `seed`, recorded in the config only: masks come from the run's generator.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// The drop probability.
    pub fn rate(&self) -> f32 {
        self.rate
    }

    /// Rebuilds the layer from Keras's config (`rate`, `noise_shape`, `seed`, `name`).
    pub fn from_config(config: &Value) -> Result<Self> {
        let reader = ConfigReader::new("Dropout", config)?;
        let rate = reader.get("rate").and_then(Value::as_f64).ok_or_else(|| {
            LayersError::Config(format!(
                "Dropout config: missing the number `rate` in {config}"
            ))
        })?;
        let mut layer = Dropout::new(rate as f32);
        if let Some(shape) = reader.get("noise_shape") {
            let bad = || {
                LayersError::Config(format!(
                    "Dropout config: `noise_shape` must be a list of integers or nulls, received {shape}"
                ))
            };
            let entries = shape.as_array().ok_or_else(bad)?;
            let parsed = entries
                .iter()
                .map(|v| match v {
                    Value::Null => Ok(None),
                    _ => v
                        .as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .map(Some)
                        .ok_or_else(bad),
                })
                .collect::<Result<Vec<_>>>()?;
            layer = layer.with_noise_shape(parsed);
        }
        if let Some(seed) = reader.get("seed") {
            let seed = seed.as_u64().ok_or_else(|| {
                LayersError::Config(format!(
                    "Dropout config: `seed` must be a non-negative integer, received {seed}"
                ))
            })?;
            layer = layer.with_seed(seed);
        }
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        layer.validate()?;
        Ok(layer)
    }

    /// Checks the rate, echoing a bad value.
    pub(crate) fn validate(&self) -> Result<()> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(LayersError::InvalidArgument {
                class: "Dropout",
                argument: "rate",
                reason: format!("expected a float in [0, 1), received {}", self.rate),
            });
        }
        Ok(())
    }

    /// The mask shape for a batch of `shape` (batch axis included).
    fn resolved_noise_shape(&self, shape: &[usize]) -> Result<Option<Vec<usize>>> {
        let Some(noise) = &self.noise_shape else {
            return Ok(None);
        };
        let fits = noise.len() == shape.len()
            && noise
                .iter()
                .zip(shape)
                .all(|(n, &s)| n.is_none_or(|n| n == 1 || n == s));
        if !fits {
            return Err(LayersError::InvalidArgument {
                class: "Dropout",
                argument: "noise_shape",
                reason: format!(
                    "layer `{}`: expected one entry per input axis, each null, 1 or the input's size; received {noise:?} for an input of shape {shape:?}",
                    self.name()
                ),
            });
        }
        Ok(Some(
            noise
                .iter()
                .zip(shape)
                .map(|(n, &s)| n.unwrap_or(s))
                .collect(),
        ))
    }
}

impl Layer for Dropout {
    fn class_name(&self) -> &'static str {
        "Dropout"
    }

    fn supports_masking(&self) -> bool {
        true
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        if let Some(noise) = &self.noise_shape {
            let shape = &input_shapes[0];
            let fits = noise.len() == shape.len() + 1
                && noise
                    .iter()
                    .skip(1)
                    .zip(shape)
                    .all(|(n, &s)| n.is_none_or(|n| n == 1 || n == s));
            if !fits {
                return Err(shape_error(
                    self,
                    format!(
                        "`noise_shape` {noise:?} does not fit (each entry must be null, 1 or the input's size)"
                    ),
                    input_shapes,
                ));
            }
        }
        Ok(input_shapes[0].clone())
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.validate()?;
        expect_inputs(self, input_shapes, 1)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        if !ctx.training || self.rate == 0.0 {
            return Ok(x.clone());
        }
        self.validate()?;
        match self.resolved_noise_shape(x.shape())? {
            None => x.dropout(self.rate, &mut *ctx.rng).in_layer(self.name()),
            Some(shape) => {
                let mask = dropout_mask(&shape, self.rate, &mut *ctx.rng).in_layer(self.name())?;
                x.mul(&Tensor::new(mask)).in_layer(self.name())
            }
        }
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        config.insert("rate".into(), f32_to_json(self.rate));
        config.insert("seed".into(), json!(self.seed));
        config.insert("noise_shape".into(), json!(self.noise_shape));
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, LayerCall};
    use rand::SeedableRng;

    fn run(layer: &Dropout, x: &Tensor, training: bool, seed: u64) -> Result<Tensor> {
        let mut rng = StdRng::seed_from_u64(seed);
        layer.forward(
            std::slice::from_ref(x),
            &mut CallContext {
                training,
                rng: &mut rng,
            },
        )
    }

    #[test]
    fn inference_passes_through() {
        let layer = Dropout::new(0.3);
        layer.call(&Input::new(&[4])).unwrap();
        let x = Tensor::from_vec(&[2, 4], (0..8).map(|v| v as f32).collect()).unwrap();
        assert_eq!(run(&layer, &x, false, 1).unwrap().to_vec(), x.to_vec());
    }

    #[test]
    fn training_drops_about_rate_and_rescales() {
        let layer = Dropout::new(0.3);
        layer.call(&Input::new(&[10_000])).unwrap();
        let x = Tensor::ones(&[2, 10_000]);
        let y = run(&layer, &x, true, 3).unwrap().to_vec();
        let zeros = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
        // 20 000 Bernoulli(0.3) draws: the standard deviation of the fraction is 0.0032.
        assert!((zeros - 0.3).abs() < 0.02, "dropped fraction {zeros}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
        assert_eq!(
            run(&layer, &x, true, 3).unwrap().to_vec(),
            y,
            "same seed, same mask"
        );
        assert_ne!(run(&layer, &x, true, 4).unwrap().to_vec(), y);
    }

    #[test]
    fn noise_shape_shares_the_mask_along_unit_axes() {
        let layer = Dropout::new(0.5).with_noise_shape(vec![None, Some(1), None]);
        assert_eq!(layer.call(&Input::new(&[6, 50])).unwrap().shape(), &[6, 50]);
        let y = run(&layer, &Tensor::ones(&[3, 6, 50]), true, 9).unwrap();
        let y = y.data();
        for b in 0..3 {
            for t in 1..6 {
                for f in 0..50 {
                    assert_eq!(y[[b, t, f]], y[[b, 0, f]], "the mask is shared along time");
                }
            }
        }
        let bad = Dropout::new(0.5).with_noise_shape(vec![None, Some(2)]);
        assert!(
            bad.call(&Input::new(&[6]))
                .unwrap_err()
                .to_string()
                .contains("noise_shape")
        );
    }

    #[test]
    fn rate_outside_unit_interval_is_rejected() {
        for rate in [-0.1, 1.0, 1.5, f32::NAN] {
            let err = Dropout::new(rate)
                .call(&Input::new(&[3]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("rate") && err.contains(&rate.to_string()),
                "{err}"
            );
        }
        assert!(Dropout::from_config(&json!({"rate": 1.2})).is_err());
    }

    #[test]
    fn config_round_trips() {
        let layer = Dropout::new(0.3).with_name("drop");
        let config = layer.config();
        assert_eq!(config["rate"], json!(0.3));
        assert_eq!(config["noise_shape"], Value::Null);
        assert_eq!(Dropout::from_config(&config).unwrap().config(), config);
        let shaped = Dropout::new(0.1)
            .with_noise_shape(vec![None, Some(1), None])
            .with_seed(5);
        assert_eq!(
            Dropout::from_config(&shaped.config()).unwrap().config(),
            shaped.config()
        );
    }
}
