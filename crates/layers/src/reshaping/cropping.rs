//! `Cropping1D` / `Cropping2D`: entries removed before and after each spatial axis.

use super::spatial::{check_channels_last, class_name, pairs_to_json, read_pairs};
use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `Cropping1D` (`[steps, channels]`) and `Cropping2D` (`[rows, cols, channels]`, `channels_last`;
/// `channels_first` is a config error): `cropping[i] = (before, after)` entries removed on spatial axis `i`.
///
/// # Shapes
/// input `[d1, (d2,) c]`, output `[d1 − b1 − a1, (d2 − b2 − a2,) c]`; cropping a whole axis away is an error.
///
/// ```
/// use rkeras_layers::{Cropping, Input, LayerCall};
/// assert_eq!(Cropping::one_d(1, 2).call(&Input::new(&[6, 3]))?.shape(), &[3, 3]);
/// assert!(Cropping::two_d((2, 2), (0, 0)).call(&Input::new(&[4, 5, 2])).is_err());
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cropping {
    core: LayerCore,
    cropping: Vec<(usize, usize)>,
}

impl Cropping {
    fn with_pairs(cropping: Vec<(usize, usize)>) -> Self {
        let prefix = class_name(cropping.len(), "cropping1d", "cropping2d");
        Cropping {
            core: LayerCore::new(prefix),
            cropping,
        }
    }

    /// `Cropping1D(cropping=(before, after))`.
    pub fn one_d(before: usize, after: usize) -> Self {
        Self::with_pairs(vec![(before, after)])
    }

    /// `Cropping2D(cropping=((top, bottom), (left, right)))`.
    pub fn two_d(rows: (usize, usize), cols: (usize, usize)) -> Self {
        Self::with_pairs(vec![rows, cols])
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds `Cropping1D` (`dims = 1`) or `Cropping2D` (`dims = 2`) from Keras's config.
    pub fn from_config(config: &Value, dims: usize) -> Result<Self> {
        let class = class_name(dims, "Cropping1D", "Cropping2D");
        let reader = ConfigReader::new(class, config)?;
        check_channels_last(&reader, class)?;
        let mut layer = Self::with_pairs(read_pairs(&reader, class, "cropping", dims)?);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }
}

impl Layer for Cropping {
    fn class_name(&self) -> &'static str {
        class_name(self.cropping.len(), "Cropping1D", "Cropping2D")
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        let dims = self.cropping.len();
        let mut shape = input_shapes[0].clone();
        if shape.len() != dims + 1 {
            return Err(shape_error(
                self,
                format!("expected {} axes after the batch axis", dims + 1),
                input_shapes,
            ));
        }
        for (i, (size, (before, after))) in shape.iter_mut().zip(&self.cropping).enumerate() {
            if before + after >= *size {
                return Err(shape_error(
                    self,
                    format!("cropping ({before}, {after}) leaves nothing of spatial axis {i}"),
                    input_shapes,
                ));
            }
            *size -= before + after;
        }
        Ok(shape)
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let mut x = call_inputs::single(self, inputs)?.clone();
        for (i, &(before, after)) in self.cropping.iter().enumerate() {
            let axis = i + 1;
            let len = x.shape()[axis].saturating_sub(before + after);
            x = x.narrow(axis as isize, before, len).in_layer(self.name())?;
        }
        Ok(x)
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        config.insert("cropping".into(), pairs_to_json(&self.cropping));
        if self.cropping.len() == 2 {
            config.insert("data_format".into(), json!("channels_last"));
        }
        Value::Object(config)
    }
}
