//! `DepthwiseConv2D`: one 2-D filter bank per input channel, channels last.

use super::base::ConvBase;
use super::builders::conv_builders;
use super::depthwise;
use super::window::read_tuple;
use crate::error::{LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape};
use crate::serialization::{ConfigReader, initializer_to_config};
use crate::weight_rules::{WeightRules, weight_rule_builders};
use rand::rngs::StdRng;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::json;

/// Depthwise 2-D convolution (Keras's `DepthwiseConv2D`), channels last: each input channel is convolved with
/// its own `depth_multiplier` filters, `activation(depthwise_conv(x, kernel) + bias)`. Kernel `[kh, kw,
/// channels, depth_multiplier]` (glorot_uniform), bias `[channels · depth_multiplier]` (zeros), saved as
/// Keras's `kernel` and `bias`; output channel `c · depth_multiplier + j` is channel `c` through filter `j`.
/// Padding `valid` or `same`, strides, dilation_rate (both above 1 together too, as in Keras); `channels_first` is a
/// typed error.
///
/// # Shapes
/// input `[height, width, channels]`, output `[out_height, out_width, channels · depth_multiplier]` (batch
/// axis first, not listed), with Conv2D's output sizes.
///
/// ```
/// use rkeras_layers::{DepthwiseConv2D, Input, Layer, LayerCall};
/// let conv = DepthwiseConv2D::new([3, 3]).with_depth_multiplier(2).with_padding("same")?;
/// assert_eq!(conv.call(&Input::new(&[8, 8, 3]))?.shape(), &[8, 8, 6]);
/// assert_eq!(conv.weights()[0].shape(), &[3, 3, 3, 2]);
/// assert_eq!(conv.weights()[1].shape(), &[6]);
/// assert!(DepthwiseConv2D::new([3, 3]).call(&Input::new(&[2, 8, 3])).is_err());
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DepthwiseConv2D {
    base: ConvBase,
    depth_multiplier: usize,
}

impl DepthwiseConv2D {
    /// A depthwise convolution with windows of `kernel_size`; depth multiplier 1, stride 1, no dilation,
    /// `valid` padding, linear activation, with bias (Keras's defaults).
    pub fn new(kernel_size: [usize; 2]) -> Self {
        DepthwiseConv2D {
            base: ConvBase {
                rules: WeightRules::new(&[("depthwise", "kernel"), ("bias", "bias")]),
                ..ConvBase::new("DepthwiseConv2D", "depthwise_conv2d", 1, &kernel_size)
            },
            depth_multiplier: 1,
        }
    }

    conv_builders!(DepthwiseConv2D, base, 2);

    weight_rule_builders!(
        "depthwise" => with_depthwise_regularizer, with_depthwise_constraint;
    );

    /// Filters per input channel. Defaults to 1.
    pub fn with_depth_multiplier(mut self, depth_multiplier: usize) -> Self {
        self.depth_multiplier = depth_multiplier;
        self
    }

    /// The depthwise kernel's initializer (Keras's `depthwise_initializer`). Defaults to glorot_uniform.
    pub fn with_depthwise_initializer(mut self, init: Initializer) -> Self {
        self.base.set_kernel_initializer(init);
        self
    }

    /// Filters per input channel.
    pub fn depth_multiplier(&self) -> usize {
        self.depth_multiplier
    }

    /// Rebuilds the layer from Keras's config (with the weights' regularizers and constraints, and the activity
    /// regularizer); `data_format` must be `channels_last`.
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let class = "DepthwiseConv2D";
        let reader = ConfigReader::new(class, config)?;
        let kernel_size = read_tuple(&reader, class, "kernel_size", 2)?
            .ok_or_else(|| LayersError::Config(format!("{class} config: missing `kernel_size`")))?;
        let mut layer = DepthwiseConv2D::new([kernel_size[0], kernel_size[1]])
            .with_depth_multiplier(reader.opt_usize("depth_multiplier")?.unwrap_or(1));
        layer.base.read_common(&reader)?;
        layer.base.set_kernel_initializer(
            reader.initializer_or("depthwise_initializer", Initializer::GlorotUniform)?,
        );
        depthwise::validate(&layer.base, layer.depth_multiplier)?;
        Ok(layer)
    }

    fn pre_activation(&self, inputs: &[Tensor]) -> Result<Tensor> {
        let x = crate::call_inputs::single(self, inputs)?;
        let kernel = self.base.core.weight(0)?;
        depthwise::forward(&self.base, x, &kernel, self.base.bias(1)?.as_ref())
    }
}

impl Layer for DepthwiseConv2D {
    fn class_name(&self) -> &'static str {
        "DepthwiseConv2D"
    }

    fn core(&self) -> &LayerCore {
        &self.base.core
    }

    fn weight_rules(&self) -> Option<&WeightRules> {
        Some(&self.base.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        let built = self.base.core.weights().first().map(|k| k.shape().to_vec());
        depthwise::output_shape(
            &self.base,
            self,
            input_shapes,
            self.depth_multiplier,
            built.as_deref(),
        )
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        let out = self.output_shape(input_shapes)?;
        let channels = input_shapes[0].last().copied().unwrap_or(0);
        let shape = depthwise::kernel_shape(&self.base, channels, self.depth_multiplier);
        self.base.build_weights(&[("kernel", shape)], out[2], rng)
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        self.base.activate(self.pre_activation(inputs))
    }

    fn config(&self) -> serde_json::Value {
        let mut config = self.base.common_config();
        config.insert("depth_multiplier".into(), json!(self.depth_multiplier));
        config.insert(
            "depthwise_initializer".into(),
            initializer_to_config(&self.base.kernel_initializer),
        );
        serde_json::Value::Object(config)
    }
}
