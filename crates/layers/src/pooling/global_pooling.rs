//! `GlobalMaxPooling1D/2D`, `GlobalAveragePooling1D/2D`: the maximum or mean over every spatial axis.

use crate::call_inputs;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};

/// Which reduction a global pooling layer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalPoolingKind {
    /// The maximum (the gradient goes to the maximal entries, split evenly at ties, as TensorFlow does).
    Max,
    /// The mean.
    Average,
}

/// Keras's `GlobalMaxPooling1D/2D` and `GlobalAveragePooling1D/2D` (`channels_last`; `channels_first` is a
/// config error): the reduction over the 1 or 2 spatial axes, per channel; `keepdims` keeps them with size 1.
///
/// # Shapes
/// input `[d1, (d2,) c]`, output `[c]`, or `[1, (1,) c]` with `keepdims`. `GlobalAveragePooling1D` averages
/// over the steps a timestep mask keeps, when its input carries one (`Embedding(mask_zero=True)`).
///
/// ```
/// use rkeras_layers::{GlobalPooling, GlobalPoolingKind, Input, LayerCall};
/// let pool = GlobalPooling::new(GlobalPoolingKind::Average, 2);
/// assert_eq!(pool.call(&Input::new(&[4, 3, 8]))?.shape(), &[8]);
/// let pool = GlobalPooling::new(GlobalPoolingKind::Max, 1).with_keepdims(true);
/// assert_eq!(pool.call(&Input::new(&[5, 8]))?.shape(), &[1, 8]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct GlobalPooling {
    core: LayerCore,
    kind: GlobalPoolingKind,
    dims: usize,
    keepdims: bool,
}

const CLASSES: [[&str; 2]; 2] = [
    ["GlobalMaxPooling1D", "GlobalMaxPooling2D"],
    ["GlobalAveragePooling1D", "GlobalAveragePooling2D"],
];
const PREFIXES: [[&str; 2]; 2] = [
    ["global_max_pooling1d", "global_max_pooling2d"],
    ["global_average_pooling1d", "global_average_pooling2d"],
];

impl GlobalPooling {
    /// A global pooling of `kind` over `dims` (1 or 2) spatial axes; other `dims` are an error at the first
    /// call.
    pub fn new(kind: GlobalPoolingKind, dims: usize) -> Self {
        let prefix = PREFIXES[kind as usize][dims.clamp(1, 2) - 1];
        GlobalPooling {
            core: LayerCore::new(prefix),
            kind,
            dims,
            keepdims: false,
        }
    }

    /// Keeps the pooled axes with size 1. Defaults to false.
    pub fn with_keepdims(mut self, keepdims: bool) -> Self {
        self.keepdims = keepdims;
        self
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the layer from Keras's config (`keepdims`, `data_format`, `name`).
    pub fn from_config(config: &Value, kind: GlobalPoolingKind, dims: usize) -> Result<Self> {
        let class = CLASSES[kind as usize][dims.clamp(1, 2) - 1];
        let reader = ConfigReader::new(class, config)?;
        crate::reshaping::check_channels_last(&reader, class)?;
        let mut layer = Self::new(kind, dims).with_keepdims(reader.bool_or("keepdims", false)?);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }
}

impl Layer for GlobalPooling {
    fn class_name(&self) -> &'static str {
        CLASSES[self.kind as usize][self.dims.clamp(1, 2) - 1]
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        if !(1..=2).contains(&self.dims) {
            return Err(LayersError::InvalidArgument {
                class: self.class_name(),
                argument: "dims",
                reason: format!("expected 1 or 2 spatial axes, received {}", self.dims),
            });
        }
        let shape = &input_shapes[0];
        if shape.len() != self.dims + 1 || shape[..self.dims].contains(&0) {
            return Err(shape_error(
                self,
                format!(
                    "expected {} non-empty axes after the batch axis",
                    self.dims + 1
                ),
                input_shapes,
            ));
        }
        let channels = shape[self.dims];
        Ok(if self.keepdims {
            let mut kept = vec![1; self.dims];
            kept.push(channels);
            kept
        } else {
            vec![channels]
        })
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let x = call_inputs::single(self, inputs)?;
        let name = self.name();
        let spatial: Vec<isize> = (1..=self.dims as isize).collect();
        match self.kind {
            GlobalPoolingKind::Average => x.mean(&spatial, self.keepdims).in_layer(name),
            GlobalPoolingKind::Max => {
                // [b, d1, (d2,) c] → [b, d1·d2, c], then the maximum over the middle axis.
                let shape = x.shape();
                let (batch, channels) = (shape[0], shape[shape.len() - 1]);
                let positions: usize = shape[1..shape.len() - 1].iter().product();
                let pooled = x
                    .reshape(&[batch, positions, channels])
                    .and_then(|t| t.max(1, false))
                    .in_layer(name)?;
                if self.keepdims {
                    let mut kept = vec![batch];
                    kept.extend(std::iter::repeat_n(1, self.dims));
                    kept.push(channels);
                    pooled.reshape(&kept).in_layer(name)
                } else {
                    Ok(pooled)
                }
            }
        }
    }

    /// `GlobalAveragePooling1D` supports masks (Keras's `supports_masking`); its output carries none.
    fn supports_masking(&self) -> bool {
        self.kind == GlobalPoolingKind::Average && self.dims == 1
    }

    fn compute_mask(
        &self,
        _inputs: &[Tensor],
        _masks: &[Option<Tensor>],
    ) -> Result<Option<Tensor>> {
        Ok(None)
    }

    /// `GlobalAveragePooling1D` with a timestep mask `[batch, steps]`: the mean over the kept steps only
    /// (Keras's `sum(where(mask, x, 0)) / sum(mask)`).
    fn forward_masked(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
        _ctx: &mut CallContext<'_>,
    ) -> Result<Option<Vec<Tensor>>> {
        let Some(mask) = masks
            .first()
            .and_then(Option::as_ref)
            .filter(|_| self.supports_masking())
        else {
            return Ok(None);
        };
        let x = call_inputs::single(self, inputs)?;
        let (batch, steps) = (x.shape()[0], x.shape()[1]);
        if mask.shape() != [batch, steps] {
            return Err(shape_error(
                self,
                format!(
                    "the mask is {:?}, expected [{batch}, {steps}]",
                    mask.shape()
                ),
                &[x.shape()[1..].to_vec()],
            ));
        }
        let name = self.name();
        let kept = Tensor::new(mask.data().mapv(|m| f32::from(u8::from(m != 0.0))));
        let kept = kept.reshape(&[batch, steps, 1]).in_layer(name)?;
        let sum = x
            .mul(&kept)
            .and_then(|t| t.sum(&[1], self.keepdims))
            .in_layer(name)?;
        let count = kept.sum(&[1], self.keepdims).in_layer(name)?;
        sum.div(&count).map(|y| Some(vec![y])).in_layer(name)
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        config.insert("data_format".into(), json!("channels_last"));
        config.insert("keepdims".into(), json!(self.keepdims));
        Value::Object(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rkeras_tensor::gradcheck::{GradCheck, check_gradients};

    fn masked_mean(x: &[Tensor], mask: &Tensor, keepdims: bool) -> Tensor {
        let pool = GlobalPooling::new(GlobalPoolingKind::Average, 1).with_keepdims(keepdims);
        let mut rng = StdRng::seed_from_u64(0);
        let ctx = &mut CallContext {
            training: false,
            rng: &mut rng,
        };
        pool.forward_masked(x, &[Some(mask.clone())], ctx)
            .unwrap()
            .unwrap()
            .remove(0)
    }

    #[test]
    fn the_masked_mean_averages_the_kept_steps_and_has_finite_difference_gradients() {
        let x = Tensor::from_vec(&[2, 3, 1], vec![1.0, 2.0, 6.0, -1.0, 5.0, 3.0]).unwrap();
        let mask = Tensor::from_vec(&[2, 3], vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]).unwrap();
        assert_eq!(
            masked_mean(std::slice::from_ref(&x), &mask, false).to_vec(),
            [3.5, 5.0]
        );
        assert_eq!(
            masked_mean(std::slice::from_ref(&x), &mask, true).shape(),
            [2, 1, 1]
        );
        let report = check_gradients(
            &[x.data().clone()],
            |t| {
                let y = masked_mean(t, &mask, false);
                let target = Tensor::from_vec(y.shape(), vec![0.7, -1.3])?;
                y.mul(&target)?.sum_all()
            },
            GradCheck::default(),
        )
        .unwrap();
        assert!(report.compared > 0);
        assert!(report.passed(), "{report:?}");
    }
}
