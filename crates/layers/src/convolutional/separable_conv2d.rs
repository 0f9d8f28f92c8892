//! `SeparableConv2D`: a depthwise convolution followed by a 1×1 pointwise one, channels last.

use super::base::ConvBase;
use super::builders::conv_builders;
use super::depthwise;
use super::window::read_tuple;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{CallContext, Layer, LayerCore, Shape};
use crate::serialization::{ConfigReader, initializer_to_config};
use crate::weight_rules::{WeightRules, weight_rule_builders};
use rand::rngs::StdRng;
use rkeras_tensor::ops::Conv2dOptions;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::json;

/// Depthwise-separable 2-D convolution (Keras's `SeparableConv2D`), channels last:
/// `activation(pointwise(depthwise(x)) + bias)`. Weights in Keras's order and names: `depthwise_kernel`
/// `[kh, kw, channels, depth_multiplier]`, `pointwise_kernel` `[1, 1, channels · depth_multiplier, filters]`
/// (both glorot_uniform), `bias` `[filters]` (zeros). Strides, dilation_rate (both above 1 together too, as Keras)
/// and padding apply to the depthwise step; `channels_first` is a typed error.
///
/// # Shapes
/// input `[height, width, channels]`, output `[out_height, out_width, filters]` (batch axis first, not listed),
/// with Conv2D's output sizes.
///
/// ```
/// use rkeras_layers::{Input, Layer, LayerCall, SeparableConv2D};
/// let conv = SeparableConv2D::new(16, [3, 3]).with_depth_multiplier(2).with_strides([2, 2]);
/// assert_eq!(conv.call(&Input::new(&[9, 9, 3]))?.shape(), &[4, 4, 16]);
/// let shapes: Vec<_> = conv.weights().iter().map(|w| w.shape().to_vec()).collect();
/// assert_eq!(shapes, [vec![3, 3, 3, 2], vec![1, 1, 6, 16], vec![16]]);
/// # Ok::<(), rkeras_layers::LayersError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SeparableConv2D {
    base: ConvBase,
    depth_multiplier: usize,
    pointwise_initializer: Initializer,
}

impl SeparableConv2D {
    /// `filters` output channels from depthwise windows of `kernel_size`; depth multiplier 1, stride 1, no
    /// dilation, `valid` padding, linear activation, with bias (Keras's defaults).
    pub fn new(filters: usize, kernel_size: [usize; 2]) -> Self {
        SeparableConv2D {
            base: ConvBase {
                rules: WeightRules::new(&[
                    ("depthwise", "depthwise_kernel"),
                    ("pointwise", "pointwise_kernel"),
                    ("bias", "bias"),
                ]),
                ..ConvBase::new("SeparableConv2D", "separable_conv2d", filters, &kernel_size)
            },
            depth_multiplier: 1,
            pointwise_initializer: Initializer::GlorotUniform,
        }
    }

    conv_builders!(SeparableConv2D, base, 2);

    weight_rule_builders!(
        "depthwise" => with_depthwise_regularizer, with_depthwise_constraint;
        "pointwise" => with_pointwise_regularizer, with_pointwise_constraint;
    );

    /// Depthwise filters per input channel. Defaults to 1.
    pub fn with_depth_multiplier(mut self, depth_multiplier: usize) -> Self {
        self.depth_multiplier = depth_multiplier;
        self
    }

    /// The depthwise kernel's initializer. Defaults to glorot_uniform.
    pub fn with_depthwise_initializer(mut self, init: Initializer) -> Self {
        self.base.set_kernel_initializer(init);
        self
    }

    /// The pointwise kernel's initializer. Defaults to glorot_uniform.
    pub fn with_pointwise_initializer(mut self, init: Initializer) -> Self {
        self.pointwise_initializer = init;
        self
    }

    /// The number of filters (output channels).
    pub fn filters(&self) -> usize {
        self.base.filters()
    }

    /// Rebuilds the layer from Keras's config (with the weights' regularizers and constraints, and the activity
    /// regularizer); `data_format` must be `channels_last`.
    pub fn from_config(config: &serde_json::Value) -> Result<Self> {
        let class = "SeparableConv2D";
        let reader = ConfigReader::new(class, config)?;
        let kernel_size = read_tuple(&reader, class, "kernel_size", 2)?
            .ok_or_else(|| LayersError::Config(format!("{class} config: missing `kernel_size`")))?;
        let mut layer =
            SeparableConv2D::new(reader.usize("filters")?, [kernel_size[0], kernel_size[1]])
                .with_depth_multiplier(reader.opt_usize("depth_multiplier")?.unwrap_or(1))
                .with_pointwise_initializer(
                    reader.initializer_or("pointwise_initializer", Initializer::GlorotUniform)?,
                );
        layer.base.read_common(&reader)?;
        layer.base.set_kernel_initializer(
            reader.initializer_or("depthwise_initializer", Initializer::GlorotUniform)?,
        );
        depthwise::validate(&layer.base, layer.depth_multiplier)?;
        Ok(layer)
    }

    fn pre_activation(&self, inputs: &[Tensor]) -> Result<Tensor> {
        let x = crate::call_inputs::single(self, inputs)?;
        let core = &self.base.core;
        let depthwise = depthwise::forward(&self.base, x, &core.weight(0)?, None)?;
        let bias = self.base.bias(2)?;
        depthwise
            .conv2d(&core.weight(1)?, bias.as_ref(), Conv2dOptions::default())
            .in_layer(core.name())
    }
}

impl Layer for SeparableConv2D {
    fn class_name(&self) -> &'static str {
        "SeparableConv2D"
    }

    fn core(&self) -> &LayerCore {
        &self.base.core
    }

    fn weight_rules(&self) -> Option<&WeightRules> {
        Some(&self.base.rules)
    }

    fn output_shape(&self, input_shapes: &[Shape]) -> Result<Shape> {
        let built = self.base.core.weights().first().map(|k| k.shape().to_vec());
        let mut shape = depthwise::output_shape(
            &self.base,
            self,
            input_shapes,
            self.depth_multiplier,
            built.as_deref(),
        )?;
        if let Some(last) = shape.last_mut() {
            *last = self.base.filters;
        }
        Ok(shape)
    }

    fn build(&self, input_shapes: &[Shape], rng: &mut StdRng) -> Result<Vec<Variable>> {
        self.output_shape(input_shapes)?;
        let channels = input_shapes[0].last().copied().unwrap_or(0);
        let depthwise_shape = depthwise::kernel_shape(&self.base, channels, self.depth_multiplier);
        let pointwise_shape = vec![1, 1, channels * self.depth_multiplier, self.base.filters];
        self.base.build_weights_with(
            &[
                (
                    "depthwise_kernel",
                    depthwise_shape,
                    &self.base.kernel_initializer,
                ),
                (
                    "pointwise_kernel",
                    pointwise_shape,
                    &self.pointwise_initializer,
                ),
            ],
            self.base.filters,
            rng,
        )
    }

    fn forward(&self, inputs: &[Tensor], _ctx: &mut CallContext<'_>) -> Result<Tensor> {
        self.base.activate(self.pre_activation(inputs))
    }

    fn config(&self) -> serde_json::Value {
        let mut config = self.base.common_config();
        config.insert("filters".into(), json!(self.base.filters));
        config.insert("depth_multiplier".into(), json!(self.depth_multiplier));
        config.insert(
            "depthwise_initializer".into(),
            initializer_to_config(&self.base.kernel_initializer),
        );
        config.insert(
            "pointwise_initializer".into(),
            initializer_to_config(&self.pointwise_initializer),
        );
        serde_json::Value::Object(config)
    }
}
