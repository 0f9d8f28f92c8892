//! [`ConvBase`]: the options, weights and forward pass that Conv1D and Conv2D share (a 1-D convolution runs as
//! a 2-D one of height 1), and the macro that wraps it into a named layer type.

use super::window::{as_2d, as_4d, check_data_format, check_tuple, padding_from_name, read_tuple};
use crate::activations::ActivationFn;
use crate::error::{InLayer, LayersError, Result};
use crate::layer::{Layer, LayerCore, Shape, expect_inputs, shape_error};
use crate::pooling::MaxPool2dWindow;
use crate::serialization::{ConfigReader, base_config, initializer_to_config};
use crate::weight_rules::WeightRules;
use rand::rngs::StdRng;
use rkeras_tensor::kernels::{Conv2dGeometry, ConvPadding};
use rkeras_tensor::ops::Conv2dOptions;
use rkeras_tensor::{Initializer, Tensor, Variable};
use serde_json::json;

/// A convolution layer of `rank` spatial axes (1 or 2), channels last.
#[derive(Debug, Clone)]
pub(crate) struct ConvBase {
    pub(crate) core: LayerCore,
    pub(crate) class: &'static str,
    pub(crate) rank: usize,
    pub(crate) filters: usize,
    pub(crate) kernel_size: Vec<usize>,
    pub(crate) strides: Vec<usize>,
    pub(crate) dilation_rate: Vec<usize>,
    pub(crate) padding: ConvPadding,
    pub(crate) groups: usize,
    pub(crate) activation: ActivationFn,
    pub(crate) use_bias: bool,
    pub(crate) kernel_initializer: Initializer,
    pub(crate) bias_initializer: Initializer,
    pub(crate) trainable: bool,
    pub(crate) rules: WeightRules,
}

impl ConvBase {
    pub(crate) fn new(
        class: &'static str,
        prefix: &str,
        filters: usize,
        kernel_size: &[usize],
    ) -> Self {
        let rank = kernel_size.len();
        ConvBase {
            core: LayerCore::new(prefix),
            class,
            rank,
            filters,
            kernel_size: kernel_size.to_vec(),
            strides: vec![1; rank],
            dilation_rate: vec![1; rank],
            padding: ConvPadding::Valid,
            groups: 1,
            activation: ActivationFn::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
            trainable: true,
            rules: WeightRules::new(&[("kernel", "kernel"), ("bias", "bias")]),
        }
    }

    pub(crate) fn set_strides(&mut self, strides: &[usize]) {
        self.strides = strides.to_vec();
    }

    pub(crate) fn set_dilation_rate(&mut self, dilation: &[usize]) {
        self.dilation_rate = dilation.to_vec();
    }

    pub(crate) fn set_padding(&mut self, name: &str) -> Result<()> {
        self.padding = padding_from_name(self.class, name, self.rank == 1)?;
        Ok(())
    }

    pub(crate) fn set_groups(&mut self, groups: usize) {
        self.groups = groups;
    }

    pub(crate) fn set_activation(&mut self, name: &str) -> Result<()> {
        self.activation = ActivationFn::from_name(name)?;
        Ok(())
    }

    pub(crate) fn set_use_bias(&mut self, use_bias: bool) {
        self.use_bias = use_bias;
    }

    pub(crate) fn set_kernel_initializer(&mut self, init: Initializer) {
        self.kernel_initializer = init;
    }

    pub(crate) fn set_bias_initializer(&mut self, init: Initializer) {
        self.bias_initializer = init;
    }

    pub(crate) fn set_trainable(&mut self, trainable: bool) {
        self.trainable = trainable;
    }

    /// The number of filters (output channels).
    pub fn filters(&self) -> usize {
        self.filters
    }

    /// Rebuilds the layer from Keras's config (with the weights' regularizers and constraints, and the activity
    /// regularizer); `data_format` must be `channels_last`.
    pub(crate) fn from_config(
        class: &'static str,
        prefix: &str,
        rank: usize,
        config: &serde_json::Value,
    ) -> Result<Self> {
        let reader = ConfigReader::new(class, config)?;
        reader.reject_unsupported(&["lora_rank"])?;
        let kernel_size = read_tuple(&reader, class, "kernel_size", rank)?
            .ok_or_else(|| LayersError::Config(format!("{class} config: missing `kernel_size`")))?;
        let mut layer = ConvBase::new(class, prefix, reader.usize("filters")?, &kernel_size);
        layer.read_common(&reader)?;
        layer.set_groups(reader.opt_usize("groups")?.unwrap_or(1));
        layer.set_kernel_initializer(
            reader.initializer_or("kernel_initializer", Initializer::GlorotUniform)?,
        );
        layer.validate()?;
        Ok(layer)
    }

    /// Reads the options every convolution shares from Keras's config: `data_format` (must be
    /// `channels_last`), strides, dilation_rate, padding, activation, use_bias, bias_initializer, the weights'
    /// regularizers and constraints, trainable and name.
    pub(crate) fn read_common(&mut self, reader: &ConfigReader<'_>) -> Result<()> {
        self.rules.read(reader)?;
        let (class, rank) = (self.class, self.rank);
        check_data_format(class, reader.str_or("data_format", "channels_last")?)?;
        if let Some(strides) = read_tuple(reader, class, "strides", rank)? {
            self.set_strides(&strides);
        }
        if let Some(dilation) = read_tuple(reader, class, "dilation_rate", rank)? {
            self.set_dilation_rate(&dilation);
        }
        self.set_padding(reader.str_or("padding", "valid")?)?;
        self.set_activation(reader.str_or("activation", "linear")?)?;
        self.set_use_bias(reader.bool_or("use_bias", true)?);
        self.set_bias_initializer(reader.initializer_or("bias_initializer", Initializer::Zeros)?);
        self.set_trainable(reader.trainable()?);
        if let Some(name) = reader.name()? {
            self.core = LayerCore::named(name);
        }
        Ok(())
    }

    /// Checks the options every convolution's Keras constructor checks, echoing the bad value.
    pub(crate) fn validate_shared(&self) -> Result<()> {
        let invalid = |argument, reason: String| LayersError::InvalidArgument {
            class: self.class,
            argument,
            reason,
        };
        check_tuple(self.class, "kernel_size", &self.kernel_size, self.rank)?;
        check_tuple(self.class, "strides", &self.strides, self.rank)?;
        check_tuple(self.class, "dilation_rate", &self.dilation_rate, self.rank)?;
        if self.filters == 0 {
            return Err(invalid(
                "filters",
                "expected a positive integer, received 0".into(),
            ));
        }
        if self.groups == 0 || self.filters % self.groups != 0 {
            return Err(invalid(
                "groups",
                format!(
                    "expected a positive divisor of filters={}, received {}",
                    self.filters, self.groups
                ),
            ));
        }
        Ok(())
    }

    /// [`ConvBase::validate_shared`] plus Keras's rule for Conv1D/Conv2D/Conv2DTranspose: strides above 1 and
    /// dilation_rate above 1 are not accepted together.
    pub(crate) fn validate(&self) -> Result<()> {
        self.validate_shared()?;
        if self.strides.iter().any(|&s| s > 1) && self.dilation_rate.iter().any(|&d| d > 1) {
            return Err(LayersError::InvalidArgument {
                class: self.class,
                argument: "strides",
                reason: format!(
                    "strides > 1 are incompatible with dilation_rate > 1 (Keras), received strides={:?} and \
                     dilation_rate={:?}",
                    self.strides, self.dilation_rate
                ),
            });
        }
        Ok(())
    }

    fn options(&self) -> Conv2dOptions {
        Conv2dOptions {
            strides: as_2d(&self.strides, 1),
            dilation: as_2d(&self.dilation_rate, 1),
            padding: self.padding,
            groups: self.groups,
        }
    }

    /// The kernel's shape: `kernel_size + [in_channels / groups, filters]`.
    fn kernel_shape(&self, in_channels: usize) -> Vec<usize> {
        let mut shape = self.kernel_size.clone();
        shape.extend([in_channels / self.groups.max(1), self.filters]);
        shape
    }

    pub(crate) fn output_shape(&self, layer: &dyn Layer, input_shapes: &[Shape]) -> Result<Shape> {
        expect_inputs(layer, input_shapes, 1)?;
        self.validate()?;
        let shape = &input_shapes[0];
        let mut batched = vec![1];
        batched.extend(shape);
        let Some(x4) = as_4d(&batched).filter(|_| shape.len() == self.rank + 1) else {
            return Err(shape_error(
                layer,
                format!(
                    "expected {} axes (…spatial, channels) after the batch axis",
                    self.rank + 1
                ),
                input_shapes,
            ));
        };
        let channels = x4[3];
        if channels % self.groups != 0 {
            return Err(shape_error(
                layer,
                format!(
                    "the input's {channels} channels are not divisible by groups={}",
                    self.groups
                ),
                input_shapes,
            ));
        }
        if let Some(kernel) = self.core.weights().first() {
            if kernel.shape() != self.kernel_shape(channels).as_slice() {
                return Err(shape_error(
                    layer,
                    format!(
                        "the kernel {:?} was built for other input channels",
                        kernel.shape()
                    ),
                    input_shapes,
                ));
            }
        }
        let k4 = [1, 1, channels / self.groups, self.filters];
        let mut k4 = k4;
        [k4[0], k4[1]] = as_2d(&self.kernel_size, 1);
        let o = self.options();
        let g = Conv2dGeometry::conv(&x4, &k4, o.strides, o.dilation, o.padding, o.groups)
            .map_err(|e| shape_error(layer, e.to_string(), input_shapes))?;
        Ok(if self.rank == 1 {
            vec![g.out_w, self.filters]
        } else {
            vec![g.out_h, g.out_w, self.filters]
        })
    }

    pub(crate) fn build(
        &self,
        layer: &dyn Layer,
        input_shapes: &[Shape],
        rng: &mut StdRng,
    ) -> Result<Vec<Variable>> {
        self.output_shape(layer, input_shapes)?;
        let channels = input_shapes[0].last().copied().unwrap_or(0);
        self.build_weights(
            &[("kernel", self.kernel_shape(channels))],
            self.filters,
            rng,
        )
    }

    /// Samples the kernels `(name, shape)` with the kernel initializer (the first) and `extra` initializers
    /// (the others, in order), then the bias of `bias_len` when the layer has one, all with the layer's
    /// `trainable`.
    pub(crate) fn build_weights_with(
        &self,
        kernels: &[(&'static str, Vec<usize>, &Initializer)],
        bias_len: usize,
        rng: &mut StdRng,
    ) -> Result<Vec<Variable>> {
        let name = self.core.name();
        let mut weights = Vec::with_capacity(kernels.len() + 1);
        for (weight, shape, init) in kernels {
            weights.push(Variable::new(
                *weight,
                init.sample(shape, rng).in_layer(name)?,
            ));
        }
        if self.use_bias {
            let bias = self
                .bias_initializer
                .sample(&[bias_len], rng)
                .in_layer(name)?;
            weights.push(Variable::new("bias", bias));
        }
        weights.iter().for_each(|w| w.set_trainable(self.trainable));
        Ok(weights)
    }

    /// [`Self::build_weights_with`] for kernels that all use the kernel initializer.
    pub(crate) fn build_weights(
        &self,
        kernels: &[(&'static str, Vec<usize>)],
        bias_len: usize,
        rng: &mut StdRng,
    ) -> Result<Vec<Variable>> {
        let kernels: Vec<_> = kernels
            .iter()
            .map(|(name, shape)| (*name, shape.clone(), &self.kernel_initializer))
            .collect();
        self.build_weights_with(&kernels, bias_len, rng)
    }

    /// The bias weight (at `index` among the layer's weights) when the layer has one.
    pub(crate) fn bias(&self, index: usize) -> Result<Option<Tensor>> {
        self.use_bias.then(|| self.core.weight(index)).transpose()
    }

    /// The activation applied to `pre_activation`, errors naming the layer.
    pub(crate) fn activate(&self, pre_activation: Result<Tensor>) -> Result<Tensor> {
        self.activation
            .apply(&pre_activation?)
            .in_layer(self.core.name())
    }

    /// The convolution plus bias, before the activation; with `relu`, the ReLU fused into the same op.
    fn pre_activation(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        let name = self.core.name();
        let kernel = self.core.weight(0)?;
        let bias = self.bias(1)?;
        let conv = |x: &Tensor, kernel: &Tensor| {
            if relu {
                x.conv2d_relu(kernel, bias.as_ref(), self.options())
            } else {
                x.conv2d(kernel, bias.as_ref(), self.options())
            }
        };
        if self.rank == 2 {
            return conv(x, &kernel).in_layer(name);
        }
        let x4 = as_4d(x.shape()).ok_or_else(|| {
            LayersError::Graph(format!(
                "layer `{name}`: expected a batch (n, steps, channels), received {:?}",
                x.shape()
            ))
        })?;
        let mut k4 = vec![1];
        k4.extend(kernel.shape());
        let y = x
            .reshape(&x4)
            .and_then(|x| conv(&x, &kernel.reshape(&k4)?))
            .in_layer(name)?;
        let (n, steps, c) = (y.shape()[0], y.shape()[2], y.shape()[3]);
        y.reshape(&[n, steps, c]).in_layer(name)
    }

    pub(crate) fn forward(&self, layer: &dyn Layer, inputs: &[Tensor]) -> Result<Tensor> {
        let x = crate::call_inputs::single(layer, inputs)?;
        if self.activation == ActivationFn::Relu {
            return self.pre_activation(x, true);
        }
        self.activation
            .apply(&self.pre_activation(x, false)?)
            .in_layer(self.core.name())
    }

    /// The convolution, ReLU and max pooling over `window` as one op, for a 2-D convolution ending in ReLU;
    /// `None` for the others.
    pub(crate) fn forward_max_pooled(
        &self,
        layer: &dyn Layer,
        inputs: &[Tensor],
        window: crate::pooling::MaxPool2dWindow,
    ) -> Result<Option<Tensor>> {
        if self.rank != 2 || self.activation != ActivationFn::Relu {
            return Ok(None);
        }
        let x = crate::call_inputs::single(layer, inputs)?;
        let bias = self.bias(1)?;
        let MaxPool2dWindow {
            pool,
            strides,
            padding,
        } = window;
        x.conv2d_relu_max_pool2d(
            &self.core.weight(0)?,
            bias.as_ref(),
            self.options(),
            pool,
            strides,
            padding,
        )
        .in_layer(self.core.name())
        .map(Some)
    }

    pub(crate) fn forward_logits(
        &self,
        layer: &dyn Layer,
        inputs: &[Tensor],
    ) -> Result<Option<Tensor>> {
        if self.activation != ActivationFn::Softmax {
            return Ok(None);
        }
        self.pre_activation(crate::call_inputs::single(layer, inputs)?, false)
            .map(Some)
    }

    /// Keras's config keys every convolution shares (all but the kernel's and `filters`/`groups`).
    pub(crate) fn common_config(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut config = base_config(self.core.name(), self.trainable);
        config.insert("kernel_size".into(), json!(self.kernel_size));
        config.insert("strides".into(), json!(self.strides));
        config.insert("padding".into(), json!(self.padding.name()));
        config.insert("data_format".into(), json!("channels_last"));
        config.insert("dilation_rate".into(), json!(self.dilation_rate));
        config.insert("activation".into(), json!(self.activation.name()));
        config.insert("use_bias".into(), json!(self.use_bias));
        config.insert(
            "bias_initializer".into(),
            initializer_to_config(&self.bias_initializer),
        );
        self.rules.write(&mut config);
        self.rules.write_activity(&mut config);
        config
    }

    pub(crate) fn config(&self) -> serde_json::Value {
        let mut config = self.common_config();
        config.insert("filters".into(), json!(self.filters));
        config.insert("groups".into(), json!(self.groups));
        config.insert(
            "kernel_initializer".into(),
            initializer_to_config(&self.kernel_initializer),
        );
        serde_json::Value::Object(config)
    }
}

/// Defines a convolution layer type `$name` of `$rank` spatial axes around a [`ConvBase`], with builders
/// taking `[usize; $rank]` tuples.
macro_rules! conv_layer {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $rank:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(crate::convolutional::base::ConvBase);

        impl $name {
            /// `filters` output channels from windows of `kernel_size`; stride 1, no dilation, `valid` padding,
            /// one group, linear activation, with bias (Keras's defaults).
            pub fn new(filters: usize, kernel_size: [usize; $rank]) -> Self {
                $name(crate::convolutional::base::ConvBase::new(stringify!($name), $prefix, filters, &kernel_size))
            }

            crate::convolutional::builders::conv_builders!($name, 0, $rank);

            crate::weight_rules::weight_rule_builders!(
                "kernel" => with_kernel_regularizer, with_kernel_constraint;
            );

            /// Channel groups. Defaults to 1.
            pub fn with_groups(mut self, groups: usize) -> Self {
                self.0.set_groups(groups);
                self
            }

            /// The kernel initializer. Defaults to glorot_uniform.
            pub fn with_kernel_initializer(mut self, init: rkeras_tensor::Initializer) -> Self {
                self.0.set_kernel_initializer(init);
                self
            }

            /// The number of filters.
            pub fn filters(&self) -> usize {
                self.0.filters()
            }

            /// Rebuilds the layer from Keras's config.
            pub fn from_config(config: &serde_json::Value) -> crate::error::Result<Self> {
                crate::convolutional::base::ConvBase::from_config(stringify!($name), $prefix, $rank, config).map($name)
            }
        }

        impl crate::layer::Layer for $name {
            fn class_name(&self) -> &'static str {
                stringify!($name)
            }

            fn core(&self) -> &crate::layer::LayerCore {
                &self.0.core
            }

            fn weight_rules(&self) -> Option<&crate::weight_rules::WeightRules> {
                Some(&self.0.rules)
            }

            fn output_shape(&self, input_shapes: &[crate::layer::Shape]) -> crate::error::Result<crate::layer::Shape> {
                self.0.output_shape(self, input_shapes)
            }

            fn build(
                &self,
                input_shapes: &[crate::layer::Shape],
                rng: &mut rand::rngs::StdRng,
            ) -> crate::error::Result<Vec<rkeras_tensor::Variable>> {
                self.0.build(self, input_shapes, rng)
            }

            fn forward(
                &self,
                inputs: &[rkeras_tensor::Tensor],
                _ctx: &mut crate::layer::CallContext<'_>,
            ) -> crate::error::Result<rkeras_tensor::Tensor> {
                self.0.forward(self, inputs)
            }

            fn forward_logits(
                &self,
                inputs: &[rkeras_tensor::Tensor],
                _ctx: &mut crate::layer::CallContext<'_>,
            ) -> crate::error::Result<Option<rkeras_tensor::Tensor>> {
                self.0.forward_logits(self, inputs)
            }

            fn forward_max_pooled(
                &self,
                inputs: &[rkeras_tensor::Tensor],
                window: crate::pooling::MaxPool2dWindow,
                _ctx: &mut crate::layer::CallContext<'_>,
            ) -> crate::error::Result<Option<rkeras_tensor::Tensor>> {
                self.0.forward_max_pooled(self, inputs, window)
            }

            fn config(&self) -> serde_json::Value {
                self.0.config()
            }
        }
    };
}

pub(crate) use conv_layer;
