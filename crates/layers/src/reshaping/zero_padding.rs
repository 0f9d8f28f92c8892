//! `ZeroPadding1D` / `ZeroPadding2D`: zeros added before and after each spatial axis.

use super::spatial::{check_channels_last, class_name, pairs_to_json, read_pairs};
use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// Keras's `ZeroPadding1D` (`[steps, channels]`) and `ZeroPadding2D` (`[rows, cols, channels]`,
/// `channels_last`; `channels_first` is a config error): `padding[i] = (before, after)` zeros on spatial axis `i`.
///
/// # Shapes
/// input `[d1, (d2,) c]`, output `[d1 + b1 + a1, (d2 + b2 + a2,) c]`.
///
/// ```
/// use rkeras_layers::{Input, LayerCall, ZeroPadding};
/// assert_eq!(ZeroPadding::one_d(1, 2).call(&Input::new(&[4, 3]))?.shape(), &[7, 3]);
/// assert_eq!(ZeroPadding::two_d((1, 0), (2, 3)).call(&Input::new(&[3, 2, 2]))?.shape(), &[4, 7, 2]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ZeroPadding {
    core: LayerCore,
    padding: Vec<(usize, usize)>,
}

impl ZeroPadding {
    fn with_pairs(padding: Vec<(usize, usize)>) -> Self {
        let prefix = class_name(padding.len(), "zero_padding1d", "zero_padding2d");
        ZeroPadding {
            core: LayerCore::new(prefix),
            padding,
        }
    }

    /// `ZeroPadding1D(padding=(before, after))`.
    pub fn one_d(before: usize, after: usize) -> Self {
        Self::with_pairs(vec![(before, after)])
    }

    /// `ZeroPadding2D(padding=((top, bottom), (left, right)))`.
    pub fn two_d(rows: (usize, usize), cols: (usize, usize)) -> Self {
        Self::with_pairs(vec![rows, cols])
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds `ZeroPadding1D` (`dims = 1`) or `ZeroPadding2D` (`dims = 2`) from Keras's config.
    pub fn from_config(config: &Value, dims: usize) -> Result<Self> {
        let class = class_name(dims, "ZeroPadding1D", "ZeroPadding2D");
        let reader = ConfigReader::new(class, config)?;
        check_channels_last(&reader, class)?;
        let mut layer = Self::with_pairs(read_pairs(&reader, class, "padding", dims)?);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }
}

impl Layer for ZeroPadding {
    fn class_name(&self) -> &'static str {
        class_name(self.padding.len(), "ZeroPadding1D", "ZeroPadding2D")
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        let dims = self.padding.len();
        let mut shape = input_shapes[0].clone();
        if shape.len() != dims + 1 {
            return Err(shape_error(
                self,
                format!("expected {} axes after the batch axis", dims + 1),
                input_shapes,
            ));
        }
        for (size, (before, after)) in shape.iter_mut().zip(&self.padding) {
            *size += before + after;
        }
        Ok(shape)
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let mut x = call_inputs::single(self, inputs)?.clone();
        for (i, &(before, after)) in self.padding.iter().enumerate() {
            let axis = i + 1;
            let zeros = |n: usize| {
                let mut shape = x.shape().to_vec();
                shape[axis] = n;
                Tensor::zeros(&shape)
            };
            let mut parts = Vec::with_capacity(3);
            if before > 0 {
                parts.push(zeros(before));
            }
            parts.push(x.clone());
            if after > 0 {
                parts.push(zeros(after));
            }
            x = Tensor::concat(&parts, axis as isize).in_layer(self.name())?;
        }
        Ok(x)
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        config.insert("padding".into(), pairs_to_json(&self.padding));
        config.insert("data_format".into(), json!("channels_last"));
        Value::Object(config)
    }
}
