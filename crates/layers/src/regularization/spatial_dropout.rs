//! `SpatialDropout1D` / `SpatialDropout2D`: dropout of whole channels.

use super::Dropout;
use crate::error::{LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config, f32_to_json};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `SpatialDropout1D` (`[steps, channels]`) and `SpatialDropout2D` (`[rows, cols, channels]`,
/// `channels_last`; `channels_first` is a config error): in training, each sample's channel is zeroed with
/// probability `rate` at every position together, the others scaled by `1 / (1 − rate)`; in inference the
/// input passes through. It is [`Dropout`] with the noise shape `[batch, 1, (1,) channels]`.
///
/// # Shapes
/// output shape = input shape.
///
/// ```
/// use rand::SeedableRng;
/// use rkeras_layers::{CallContext, Input, Layer, LayerCall, SpatialDropout};
/// use rkeras_tensor::Tensor;
/// let drop = SpatialDropout::new(0.5, 1);
/// drop.call(&Input::new(&[4, 100]))?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let y = drop.forward(&[Tensor::ones(&[1, 4, 100])], &mut CallContext { training: true, rng: &mut rng })?;
/// let y = y.to_vec();
/// // Each channel is dropped at all four steps or at none.
/// assert!((0..100).all(|c| (1..4).all(|t| y[t * 100 + c] == y[c])));
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SpatialDropout {
    core: LayerCore,
    rate: f32,
    dims: usize,
    seed: Option<u64>,
}

impl SpatialDropout {
    /// Drops whole channels of `dims` (1 or 2) spatial axes with probability `rate` in `[0, 1)`.
    pub fn new(rate: f32, dims: usize) -> Self {
        let prefix = if dims == 1 {
            "spatial_dropout1d"
        } else {
            "spatial_dropout2d"
        };
        SpatialDropout {
            core: LayerCore::new(prefix),
            rate,
            dims,
            seed: None,
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`rate`, `seed` — kept, not used —, `data_format`, `name`).
    pub fn from_config(config: &Value, dims: usize) -> Result<Self> {
        let class = if dims == 1 {
            "SpatialDropout1D"
        } else {
            "SpatialDropout2D"
        };
        let reader = ConfigReader::new(class, config)?;
        crate::reshaping::check_channels_last(&reader, class)?;
        let rate = reader.get("rate").and_then(Value::as_f64).ok_or_else(|| {
            LayersError::Config(format!(
                "{class} config: missing the number `rate` in {config}"
            ))
        })?;
        let mut layer = SpatialDropout::new(rate as f32, dims);
        layer.seed = reader.opt_usize("seed")?.map(|s| s as u64);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }

    /// The equivalent [`Dropout`] (same name, noise shape `[batch, 1, (1,) channels]`).
    fn dropout(&self) -> Dropout {
        let mut noise = vec![None];
        noise.extend(std::iter::repeat_n(Some(1), self.dims));
        noise.push(None);
        Dropout::new(self.rate)
            .with_name(self.name())
            .with_noise_shape(noise)
    }
}

impl Layer for SpatialDropout {
    fn class_name(&self) -> &'static str {
        if self.dims == 1 {
            "SpatialDropout1D"
        } else {
            "SpatialDropout2D"
        }
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        if !(1..=2).contains(&self.dims) || input_shapes[0].len() != self.dims + 1 {
            return Err(shape_error(
                self,
                format!("expected {} axes after the batch axis", self.dims + 1),
                input_shapes,
            ));
        }
        self.dropout().output_shape(input_shapes)
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        self.dropout().validate()?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], ctx: &mut CallContext<'_>) -> Result<Tensor> {
        self.dropout().forward(inputs, ctx)
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        // Keras's SpatialDropout config has no `trainable` (its constructor rejects one).
        config.remove("trainable");
        config.insert("rate".into(), f32_to_json(self.rate));
        config.insert("seed".into(), json!(self.seed));
        if self.dims == 2 {
            config.insert("data_format".into(), json!("channels_last"));
        }
        Value::Object(config)
    }
}
