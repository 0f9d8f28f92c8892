//! `Conv2DTranspose`: the transposed 2-D convolution (learned upsampling), channels last.

use super::base::ConvBase;
use super::builders::conv_builders;
use super::window::{as_2d, read_tuple};
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::serialization::{ConfigReader, initializer_to_config};
use crate::weight_rules::{WeightRules, weight_rule_builders};
use rand::rngs::StdRng;
use rkeras_tensor::kernels::Conv2dGeometry;
use rkeras_tensor::ops::Conv2dTransposeOptions;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::json;

/// Transposed 2-D convolution (Keras's `Conv2DTranspose`), channels last: the input gradient of a Conv2D,
/// `activation(conv_transpose(x, kernel) + bias)`. Kernel `[kh, kw, filters, in_channels]` (glorot_uniform;
/// note the swapped last axes), bias `[filters]` (zeros), saved as Keras's `kernel` and `bias`. Padding
/// `valid` or `same`, strides, output_padding (each below its stride), dilation_rate (not with strides above
/// 1, as in Keras); `channels_first` is a typed error.
///
/// # Shapes
/// input `[height, width, channels]`, output `[out_height, out_width, filters]` (batch axis first, not listed),
/// with Keras's sizes per axis (`k_eff = dilation·(k − 1) + 1`): `valid`: `in·stride + max(k_eff − stride,
/// 0)`, or `(in − 1)·stride + k_eff + output_padding`; `same`: `in·stride`, or `(in − 1)·stride + k_eff −
/// 2·(k_eff / 2) + output_padding`.
///
/// ```
/// use rkeras_layers::{Conv2DTranspose, Input, Layer, LayerCall};
/// let up = Conv2DTranspose::new(8, [3, 3]).with_strides([2, 2]).with_padding("same")?;
/// assert_eq!(up.call(&Input::new(&[7, 5, 4]))?.shape(), &[14, 10, 8]);
/// assert_eq!(up.weights()[0].shape(), &[3, 3, 8, 4]);
/// let padded = Conv2DTranspose::new(2, [3, 3]).with_strides([2, 2]).with_output_padding([1, 0]);
/// assert_eq!(padded.call(&Input::new(&[4, 4, 1]))?.shape(), &[10, 9, 2]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Conv2DTranspose {
    base: ConvBase,
    output_padding: Option<[usize; 2]>,
}

impl Conv2DTranspose {
    /// `filters` output channels from windows of `kernel_size`; stride 1, no dilation, `valid` padding, no
    /// output padding, linear activation, with bias (Keras's defaults).
    pub fn new(filters: usize, kernel_size: [usize; 2]) -> Self {
        Conv2DTranspose {
            base: ConvBase::new("Conv2DTranspose", "conv2d_transpose", filters, &kernel_size),
            output_padding: None,
        }
    }

    conv_builders!(Conv2DTranspose, base, 2);

    weight_rule_builders!(
        "kernel" => with_kernel_regularizer, with_kernel_constraint;
    );

    /// Extra rows and columns at the end of the output, each strictly below its stride. Defaults to none
    /// (Keras's `None`).
    pub fn with_output_padding(mut self, output_padding: [usize; 2]) -> Self {
        self.output_padding = Some(output_padding);
        self
    }

    /// The kernel initializer. Defaults to glorot_uniform.
    pub fn with_kernel_initializer(mut self, init: Initializer) -> Self {
        self.base.set_kernel_initializer(init);
        self
    }

    /// The number of filters (output channels).
    pub fn filters(&self) -> usize {
        self.base.filters()
    }

    /// Rebuilds the layer from Keras's config (with the weights' regularizers and constraints, and the activity
    /// regularizer); `data_format` must be `channels_last`.
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let class = "Conv2DTranspose";
        let reader = ConfigReader::new(class, config)?;
        let kernel_size = read_tuple(&reader, class, "kernel_size", 2)?
            .ok_or_else(|| LayersError::Config(format!("{class} config: missing `kernel_size`")))?;
        let mut layer =
            Conv2DTranspose::new(reader.usize("filters")?, [kernel_size[0], kernel_size[1]]);
        layer.base.read_common(&reader)?;
        layer.base.set_kernel_initializer(
            reader.initializer_or("kernel_initializer", Initializer::GlorotUniform)?,
        );
        if reader.get("output_padding").is_some_and(|v| !v.is_null()) {
            layer.output_padding =
                read_tuple(&reader, class, "output_padding", 2)?.map(|p| as_2d(&p, 0));
        }
        layer.validate()?;
        Ok(layer)
    }

    fn validate(&self) -> Result<()> {
        self.base.validate()?;
        if crate::convolutional::window::padding_from_name(
            self.base.class,
            self.base.padding.name(),
            false,
        )
        .is_err()
        {
            return Err(LayersError::InvalidArgument {
                class: self.base.class,
                argument: "padding",
                reason: format!(
                    "expected \"valid\" or \"same\", received {:?}",
                    self.base.padding.name()
                ),
            });
        }
        let strides = as_2d(&self.base.strides, 1);
        match self.output_padding {
            Some(p) if p[0] >= strides[0] || p[1] >= strides[1] => {
                Err(LayersError::InvalidArgument {
                    class: self.base.class,
                    argument: "output_padding",
                    reason: format!(
                        "each value must be strictly less than its stride, received output_padding={p:?} and \
                     strides={strides:?}"
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    fn options(&self) -> Conv2dTransposeOptions {
        Conv2dTransposeOptions {
            strides: as_2d(&self.base.strides, 1),
            dilation: as_2d(&self.base.dilation_rate, 1),
            padding: self.base.padding,
            output_padding: self.output_padding,
        }
    }

    fn kernel_shape(&self, channels: usize) -> Vec<usize> {
        let mut shape = self.base.kernel_size.clone();
        shape.extend([self.base.filters, channels]);
        shape
    }

    fn pre_activation(&self, inputs: &[Tensor]) -> Result<Tensor> {
        let x = crate::call_inputs::single(self, inputs)?;
        let core = &self.base.core;
        let bias = self.base.bias(1)?;
        x.conv2d_transpose(&core.weight(0)?, bias.as_ref(), self.options())
            .in_layer(core.name())
    }
}

impl Layer for Conv2DTranspose {
    fn class_name(&self) -> &'static str {
        "Conv2DTranspose"
    }

    fn core(&self) -> &LayerCore {
        &self.base.core
    }

    fn weight_rules(&self) -> Option<&WeightRules> {
        Some(&self.base.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(self, input_shapes, 1)?;
        self.validate()?;
        let &[h, w, c] = input_shapes[0].as_slice() else {
            return Err(shape_error(
                self,
                "expected 3 axes (height, width, channels) after the batch axis",
                input_shapes,
            ));
        };
        let kernel = self.kernel_shape(c);
        if let Some(built) = self.base.core.weights().first() {
            if built.shape() != kernel.as_slice() {
                return Err(shape_error(
                    self,
                    format!(
                        "the kernel {:?} was built for other input channels",
                        built.shape()
                    ),
                    input_shapes,
                ));
            }
        }
        let o = self.options();
        let g = Conv2dGeometry::conv_transpose(
            &[1, h, w, c],
            &kernel,
            o.strides,
            o.dilation,
            o.padding,
            o.output_padding,
        )
        .map_err(|e| shape_error(self, e.to_string(), input_shapes))?;
        let [_, out_h, out_w, filters] = g.transpose_output_shape();
        Ok(vec![out_h, out_w, filters])
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        let channels = input_shapes[0].last().copied().unwrap_or(0);
        let kernel = self.kernel_shape(channels);
        self.base
            .build_weights(&[("kernel", kernel)], self.base.filters, rng)
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        self.base.activate(self.pre_activation(inputs))
    }

    fn config(&self) -> serde_json::Value {
        let mut config = self.base.common_config();
        config.insert("filters".into(), json!(self.base.filters));
        config.insert("output_padding".into(), json!(self.output_padding));
        config.insert(
            "kernel_initializer".into(),
            initializer_to_config(&self.base.kernel_initializer),
        );
        serde_json::Value::Object(config)
    }
}
