//! `Flatten`: turns each sample into a vector.

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::json;

/// Flattens each sample into a vector, row-major (Keras's `Flatten` with the default
/// `data_format="channels_last"`; `channels_first` is not supported).
///
/// # Shapes
/// input `[d1, …, dn]`, output `[d1·…·dn]`.
///
/// ```
/// use rkeras_layers::{Flatten, Input, LayerCall};
/// assert_eq!(Flatten::new().call(&Input::new(&[4, 3, 2]))?.shape(), &[24]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Flatten {
    core: LayerCore,
}

impl Default for Flatten {
    fn default() -> Self {
        Self::new()
    }
}

impl Flatten {
    /// A new flatten layer.
    pub fn new() -> Self {
        Flatten {
            core: LayerCore::new("flatten"),
        }
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`name`; `data_format` must be `channels_last` or absent).
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let reader = ConfigReader::new("Flatten", config)?;
        let data_format = reader.str_or("data_format", "channels_last")?;
        if data_format != "channels_last" {
            return Err(LayersError::Config(format!(
                "Flatten config: `data_format` \"{data_format}\" is not supported by rkeras (only \"channels_last\")"
            )));
        }
        Ok(match reader.name()? {
            Some(name) => Flatten::new().with_name(name),
            None => Flatten::new(),
        })
    }
}

impl Layer for Flatten {
    fn class_name(&self) -> &'static str {
        "Flatten"
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        Ok(vec![input_shapes[0].iter().product()])
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        expect_inputs(self, input_shapes, 1)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        let batch = x.shape().first().copied().unwrap_or(1);
        let features: usize = x.shape().iter().skip(1).product();
        x.reshape(&[batch, features]).in_layer(self.name())
    }

    fn flattens(&self) -> bool {
        true
    }

    fn config(&self) -> serde_json::Value {
        let mut config = base_config(self.name(), true);
        config.insert("data_format".into(), json!("channels_last"));
        serde_json::Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, LayerCall};
    use rand::SeedableRng;

    #[test]
    fn flattens_each_sample_row_major() {
        let layer = Flatten::new();
        assert_eq!(layer.call(&Input::new(&[2, 3])).unwrap().shape(), &[6]);
        let values: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let mut rng = StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training: false,
            rng: &mut rng,
        };
        let y = layer
            .forward(
                &[Tensor::from_vec(&[2, 2, 3], values.clone()).unwrap()],
                ctx,
            )
            .unwrap();
        assert_eq!((y.shape().to_vec(), y.to_vec()), (vec![2, 6], values));
        assert_eq!(Flatten::new().call(&Input::new(&[])).unwrap().shape(), &[1]);
    }

    #[test]
    fn config_round_trips() {
        let layer = Flatten::new().with_name("flat");
        let config = layer.config();
        assert_eq!(Flatten::from_config(&config).unwrap().config(), config);
        assert!(Flatten::from_config(&json!({"data_format": "channels_first"})).is_err());
    }
}
