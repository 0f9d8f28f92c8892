//! [`PoolBase`]: what the max and average pooling layers of 1 and 2 spatial axes share (a 1-D pooling runs as a
//! 2-D one of height 1), and the macro that wraps it into a named layer type.

use crate::convolutional::window::{
    as_2d, as_4d, check_data_format, check_tuple, padding_from_name, read_tuple,
};
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, base_config};
use rkeras_tensor::Tensor;
use rkeras_tensor::kernels::{Conv2dGeometry, ConvPadding};
use serde_json::json;

/// Which reduction a pooling layer applies over its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoolKind {
    Max,
    Average,
}

/// A 2-D max pooling's window, strides and padding (what [`Layer::max_pool2d_window`] reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2dWindow {
    /// The window's height and width.
    pub pool: [usize; 2],
    /// Vertical and horizontal strides.
    pub strides: [usize; 2],
    /// How the input is padded.
    pub padding: ConvPadding,
}

/// A pooling layer of `pool_size.len()` spatial axes, channels last.
#[derive(Debug, Clone)]
pub(crate) struct PoolBase {
    pub(crate) core: LayerCore,
    class: &'static str,
    kind: PoolKind,
    pool_size: Vec<usize>,
    strides: Option<Vec<usize>>,
    padding: ConvPadding,
}

impl PoolBase {
    pub(crate) fn new(
        class: &'static str,
        prefix: &str,
        kind: PoolKind,
        pool_size: &[usize],
    ) -> Self {
        PoolBase {
            core: LayerCore::new(prefix),
            class,
            kind,
            pool_size: pool_size.to_vec(),
            strides: None,
            padding: ConvPadding::Valid,
        }
    }

    pub(crate) fn set_strides(&mut self, strides: &[usize]) {
        self.strides = Some(strides.to_vec());
    }

    pub(crate) fn set_padding(&mut self, name: &str) -> Result<()> {
        self.padding = padding_from_name(self.class, name, false)?;
        Ok(())
    }

    /// The strides: `pool_size` unless set (Keras's `strides=None`).
    fn strides(&self) -> &[usize] {
        self.strides.as_deref().unwrap_or(&self.pool_size)
    }

    pub(crate) fn from_config(
        class: &'static str,
        prefix: &str,
        kind: PoolKind,
        rank: usize,
        config: &serde_json::Value,
    ) -> Result<Self> {
        let reader = ConfigReader::new(class, config)?;
        check_data_format(class, reader.str_or("data_format", "channels_last")?)?;
        let pool = read_tuple(&reader, class, "pool_size", rank)?.unwrap_or_else(|| vec![2; rank]);
        let mut layer = PoolBase::new(class, prefix, kind, &pool);
        if let Some(strides) = read_tuple(&reader, class, "strides", rank)? {
            layer.set_strides(&strides);
        }
        layer.set_padding(reader.str_or("padding", "valid")?)?;
        if let Some(name) = reader.name()? {
            layer.core = LayerCore::named(name);
        }
        layer.validate()?;
        Ok(layer)
    }

    fn validate(&self) -> Result<()> {
        check_tuple(
            self.class,
            "pool_size",
            &self.pool_size,
            self.pool_size.len(),
        )?;
        check_tuple(self.class, "strides", self.strides(), self.pool_size.len())
    }

    pub(crate) fn output_shape(&self, layer: &dyn Layer, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(layer, input_shapes, 1)?;
        self.validate()?;
        let rank = self.pool_size.len();
        let shape = &input_shapes[0];
        let mut batched = vec![1];
        batched.extend(shape);
        let Some(x4) = as_4d(&batched).filter(|_| shape.len() == rank + 1) else {
            return Err(shape_error(
                layer,
                format!(
                    "expected {} axes (…spatial, channels) after the batch axis",
                    rank + 1
                ),
                input_shapes,
            ));
        };
        let g = Conv2dGeometry::pool(
            &x4,
            as_2d(&self.pool_size, 1),
            as_2d(self.strides(), 1),
            self.padding,
        )
        .map_err(|e| shape_error(layer, e.to_string(), input_shapes))?;
        Ok(if rank == 1 {
            vec![g.out_w, g.out_c]
        } else {
            vec![g.out_h, g.out_w, g.out_c]
        })
    }

    pub(crate) fn forward(&self, layer: &dyn Layer, inputs: &[Tensor]) -> Result<Tensor> {
        let name = self.core.name();
        let x = crate::call_inputs::single(layer, inputs)?;
        let x4 = as_4d(x.shape()).ok_or_else(|| {
            LayersError::Graph(format!(
                "layer `{name}`: expected a channels-last batch, received {:?}",
                x.shape()
            ))
        })?;
        let (pool, strides) = (as_2d(&self.pool_size, 1), as_2d(self.strides(), 1));
        let pooled = |x: &Tensor| match self.kind {
            PoolKind::Max => x.max_pool2d(pool, strides, self.padding),
            PoolKind::Average => x.avg_pool2d(pool, strides, self.padding),
        };
        if self.pool_size.len() == 2 {
            return pooled(x).in_layer(name);
        }
        let y = x.reshape(&x4).and_then(|x| pooled(&x)).in_layer(name)?;
        let (n, steps, c) = (y.shape()[0], y.shape()[2], y.shape()[3]);
        y.reshape(&[n, steps, c]).in_layer(name)
    }

    /// The window of a 2-D max pooling; `None` for the other kinds and ranks.
    pub(crate) fn max_pool2d_window(&self) -> Option<MaxPool2dWindow> {
        (self.kind == PoolKind::Max && self.pool_size.len() == 2).then(|| MaxPool2dWindow {
            pool: as_2d(&self.pool_size, 1),
            strides: as_2d(self.strides(), 1),
            padding: self.padding,
        })
    }

    pub(crate) fn config(&self) -> serde_json::Value {
        let mut config = base_config(self.core.name(), true);
        config.insert("pool_size".into(), json!(self.pool_size));
        config.insert("padding".into(), json!(self.padding.name()));
        config.insert("strides".into(), json!(self.strides()));
        config.insert("data_format".into(), json!("channels_last"));
        serde_json::Value::Object(config)
    }
}

/// Defines a pooling layer type `$name` of `$rank` spatial axes and kind `$kind` around a [`PoolBase`].
macro_rules! pool_layer {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $kind:ident, $rank:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(crate::pooling::base::PoolBase);

        impl $name {
            /// Windows of `pool_size`, moved by `pool_size` (Keras's `strides=None`), `valid` padding.
            pub fn new(pool_size: [usize; $rank]) -> Self {
                $name(crate::pooling::base::PoolBase::new(
                    stringify!($name),
                    $prefix,
                    crate::pooling::base::PoolKind::$kind,
                    &pool_size,
                ))
            }

            /// The strides. Defaults to `pool_size`.
            pub fn with_strides(mut self, strides: [usize; $rank]) -> Self {
                self.0.set_strides(&strides);
                self
            }

            /// Keras's padding name (`valid` or `same`). Defaults to `valid`.
            pub fn with_padding(mut self, padding: &str) -> crate::error::Result<Self> {
                self.0.set_padding(padding)?;
                Ok(self)
            }

            /// Keras's `data_format`: `channels_first` is a typed error (rkeras is channels-last).
            pub fn with_data_format(self, format: &str) -> crate::error::Result<Self> {
                crate::convolutional::window::check_data_format(stringify!($name), format)?;
                Ok(self)
            }

            /// Sets the layer's name.
            pub fn with_name(mut self, name: &str) -> Self {
                self.0.core = crate::layer::LayerCore::named(name);
                self
            }

            /// Rebuilds the layer from Keras's config (`pool_size`, `strides`, `padding`, `data_format`).
            pub fn from_config(config: &serde_json::Value) -> crate::error::Result<Self> {
                crate::pooling::base::PoolBase::from_config(
                    stringify!($name),
                    $prefix,
                    crate::pooling::base::PoolKind::$kind,
                    $rank,
                    config,
                )
                .map($name)
            }
        }

        impl crate::layer::Layer for $name {
            fn class_name(&self) -> &'static str {
                stringify!($name)
            }

            fn core(&self) -> &crate::layer::LayerCore {
                &self.0.core
            }

            fn output_shape(&self, input_shapes: &[crate::layer::Shape]) -> crate::error::Result<crate::layer::Shape> {
                self.0.output_shape(self, input_shapes)
            }

            fn build(
                &self,
                input_shapes: &[crate::layer::Shape],
                _rng: &mut rand::rngs::StdRng,
            ) -> crate::error::Result<Vec<rkeras_tensor::Variable>> {
                self.0.output_shape(self, input_shapes)?;
                Ok(Vec::new())
            }

            fn forward(
                &self,
                inputs: &[rkeras_tensor::Tensor],
                _ctx: &mut crate::layer::CallContext<'_>,
            ) -> crate::error::Result<rkeras_tensor::Tensor> {
                self.0.forward(self, inputs)
            }

            fn max_pool2d_window(&self) -> Option<crate::pooling::MaxPool2dWindow> {
                self.0.max_pool2d_window()
            }

            fn config(&self) -> serde_json::Value {
                self.0.config()
            }
        }
    };
}

pub(crate) use pool_layer;
