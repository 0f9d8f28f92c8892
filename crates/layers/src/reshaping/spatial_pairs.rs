//! [`SpatialPairs`]: the layers that take Keras's `(before, after)` pair per spatial axis (`Cropping1D/2D`,
//! `ZeroPadding1D/2D`); what each does with the pairs is a [`PairsEdit`].

use super::spatial::{check_channels_last, class_name, pairs_to_json, read_pairs};
use crate::call_inputs;
use crate::error::{InLayer, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rand::rngs::StdRng;
use rkeras_tensor::{Tensor, Variable};
use serde_json::{Value, json};
use std::fmt::Debug;
use std::marker::PhantomData;

/// What a pairs layer does on one spatial axis, and its Keras names.
pub trait PairsEdit: Debug + Clone + Send + Sync + 'static {
    /// Keras's class names in 1D and 2D (`Cropping1D`, `Cropping2D`).
    const CLASSES: [&'static str; 2];
    /// The automatic name prefixes in 1D and 2D (`cropping1d`, `cropping2d`).
    const PREFIXES: [&'static str; 2];
    /// The config key of the pairs (`cropping`).
    const KEY: &'static str;
    /// Whether the 1D config also names `data_format` (Keras writes it for ZeroPadding1D, not Cropping1D).
    const DATA_FORMAT_IN_1D: bool;

    /// The axis's new size, or why the pair does not fit it.
    fn resize(size: usize, before: usize, after: usize) -> std::result::Result<usize, String>;

    /// The edit of `x` along `axis`.
    fn apply(x: &Tensor, axis: usize, before: usize, after: usize)
    -> rkeras_tensor::Result<Tensor>;
}

/// A layer editing each spatial axis by a `(before, after)` pair, channels last; see [`crate::Cropping`] and
/// [`crate::ZeroPadding`].
#[derive(Debug, Clone)]
pub struct SpatialPairs<E: PairsEdit> {
    core: LayerCore,
    pairs: Vec<(usize, usize)>,
    edit: PhantomData<E>,
}

impl<E: PairsEdit> SpatialPairs<E> {
    fn with_pairs(pairs: Vec<(usize, usize)>) -> Self {
        let [one, two] = E::PREFIXES;
        SpatialPairs {
            core: LayerCore::new(class_name(pairs.len(), one, two)),
            pairs,
            edit: PhantomData,
        }
    }

    /// The 1D layer with `(before, after)` on the steps axis.
    pub fn one_d(before: usize, after: usize) -> Self {
        Self::with_pairs(vec![(before, after)])
    }

    /// The 2D layer with `(top, bottom)` on the rows and `(left, right)` on the columns.
    pub fn two_d(rows: (usize, usize), cols: (usize, usize)) -> Self {
        Self::with_pairs(vec![rows, cols])
    }

    /// Sets the layer's name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.core = LayerCore::named(name);
        self
    }

    /// Rebuilds the 1D (`dims = 1`) or 2D (`dims = 2`) layer from Keras's config.
    pub fn from_config(config: &Value, dims: usize) -> Result<Self> {
        let [one, two] = E::CLASSES;
        let class = class_name(dims, one, two);
        let reader = ConfigReader::new(class, config)?;
        check_channels_last(&reader, class)?;
        let mut layer = Self::with_pairs(read_pairs(&reader, class, E::KEY, dims)?);
        if let Some(name) = reader.name()? {
            layer = layer.with_name(name);
        }
        Ok(layer)
    }
}

impl<E: PairsEdit> Layer for SpatialPairs<E> {
    fn class_name(&self) -> &'static str {
        let [one, two] = E::CLASSES;
        class_name(self.pairs.len(), one, two)
    }

    fn core(&self) -> &LayerCore {
        &self.core
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        let dims = self.pairs.len();
        let mut shape = input_shapes[0].clone();
        if shape.len() != dims + 1 {
            return Err(shape_error(
                self,
                format!("expected {} axes after the batch axis", dims + 1),
                input_shapes,
            ));
        }
        for (i, (size, &(before, after))) in shape.iter_mut().zip(&self.pairs).enumerate() {
            *size = E::resize(*size, before, after).map_err(|why| {
                shape_error(self, format!("{why} (spatial axis {i})"), input_shapes)
            })?;
        }
        Ok(shape)
    }

    fn build(&self, input_shapes: &[Shape], _rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        Ok(Vec::new())
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        let mut x = call_inputs::single(self, inputs)?.clone();
        for (i, &(before, after)) in self.pairs.iter().enumerate() {
            x = E::apply(&x, i + 1, before, after).in_layer(self.name())?;
        }
        Ok(x)
    }

    fn config(&self) -> Value {
        let mut config = base_config(self.name(), true);
        config.insert(E::KEY.into(), pairs_to_json(&self.pairs));
        if self.pairs.len() == 2 || E::DATA_FORMAT_IN_1D {
            config.insert("data_format".into(), json!("channels_last"));
        }
        Value::Object(config)
    }
}
