//! `UpSampling1D` / `UpSampling2D`: each entry repeated along the spatial axes (nearest neighbour).

use super::spatial::{check_channels_last, class_name};
use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `UpSampling1D` (`[steps, channels]`) and `UpSampling2D` (`[rows, cols, channels]`,
/// `channels_last`, `interpolation="nearest"`; other values are config errors): entry `t` of spatial axis `i`
/// is repeated `size[i]` times.
///
/// # Shapes
/// input `[d1, (d2,) c]`, output `[d1·s1, (d2·s2,) c]`.
///
/// ```
/// use rkeras_layers::{Input, LayerCall, UpSampling};
/// assert_eq!(UpSampling::one_d(3).call(&Input::new(&[4, 2]))?.shape(), &[12, 2]);
/// assert_eq!(UpSampling::two_d(2, 3).call(&Input::new(&[3, 2, 2]))?.shape(), &[6, 6, 2]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct UpSampling {
    core: LayerCore,
    size: Vec<usize>,
}

impl UpSampling {
    fn with_size(size: Vec<usize>) -> Self {
        let prefix = class_name(size.len(), "up_sampling1d", "up_sampling2d");
        UpSampling {
            core: LayerCore::new(prefix),
            size,
        }
    }

    /// `UpSampling1D(size)`.
    pub fn one_d(size: usize) -> Self {
        Self::with_size(vec![size])
    }

    /// `UpSampling2D(size=(rows, cols))`.
    pub fn two_d(rows: usize, cols: usize) -> Self {
        Self::with_size(vec![rows, cols])
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds `UpSampling1D` (`dims = 1`) or `UpSampling2D` (`dims = 2`) from Keras's config.
    pub fn from_config(config: &Value, dims: usize) -> Result<Self> {
        let class = class_name(dims, "UpSampling1D", "UpSampling2D");
        let reader = ConfigReader::new(class, config)?;
        check_channels_last(&reader, class)?;
        let interpolation = reader.str_or("interpolation", "nearest")?;
        if interpolation != "nearest" {
            return Err(LayersError::Config(format!(
                "{class} config: `interpolation` \"{interpolation}\" is not supported by rkeras (only \"nearest\")"
            )));
        }
        let size = match reader.get("size") {
            None => vec![2; dims],
            Some(v) => match (v.as_u64(), v.as_array()) {
                (Some(n), _) => vec![n as usize; dims],
                (_, Some(items)) if items.len() == dims => items
                    .iter()
                    .map(|i| i.as_u64().map(|n| n as usize))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        LayersError::Config(format!(
                            "{class} config: `size` must hold integers, received {v}"
                        ))
                    })?,
                _ => {
                    return Err(LayersError::Config(format!(
                        "{class} config: `size` must be an integer or {dims} integers, received {v}"
                    )));
                }
            },
        };
        let mut layer = Self::with_size(size);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }
}

impl Layer for UpSampling {
    fn class_name(&self) -> &'static str {
        class_name(self.size.len(), "UpSampling1D", "UpSampling2D")
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        let dims = self.size.len();
        let mut shape = input_shapes[0].clone();
        if shape.len() != dims + 1 || self.size.contains(&0) {
            return Err(shape_error(
                self,
                format!(
                    "expected {} axes after the batch axis and positive sizes, size is {:?}",
                    dims + 1,
                    self.size
                ),
                input_shapes,
            ));
        }
        for (d, s) in shape.iter_mut().zip(&self.size) {
            *d *= s;
        }
        Ok(shape)
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let mut x = call_inputs::single(self, inputs)?.clone();
        for (i, &s) in self.size.iter().enumerate() {
            if s == 1 {
                continue;
            }
            let axis = i + 1;
            // [.., d, ..] → stack s copies after the axis → [.., d, s, ..] → [.., d·s, ..].
            let copies = vec![x.clone(); s];
            let mut shape = x.shape().to_vec();
            shape[axis] *= s;
            x = Tensor::stack(&copies, axis + 1)
                .and_then(|t| t.reshape(&shape))
                .in_layer(self.name())?;
        }
        Ok(x)
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        match self.size.as_slice() {
            [s] => {
                config.insert("size".into(), json!(s));
            }
            size => {
                config.insert("size".into(), json!(size));
                config.insert("data_format".into(), json!("channels_last"));
                config.insert("interpolation".into(), json!("nearest"));
            }
        }
        Value::Object(config)
    }
}
