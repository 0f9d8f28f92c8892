//! The builder methods every convolution layer shares, generated around its [`super::base::ConvBase`] field.

/// Builders `with_strides`, `with_dilation_rate`, `with_padding`, `with_activation`, `with_bias`,
/// `with_bias_initializer`, `with_bias_regularizer`, `with_bias_constraint`, `with_trainable`, `with_data_format`
/// and `with_name` for `$name`, whose
/// `ConvBase` is the field `$field`, taking `[usize; $rank]` tuples.
macro_rules! conv_builders {
    ($name:ident, $field:tt, $rank:literal) => {
        /// The strides. Defaults to 1.
        pub fn with_strides(mut self, strides: [usize; $rank]) -> Self {
            self.$field.set_strides(&strides);
            self
        }

        /// The dilation rate. Defaults to 1.
        pub fn with_dilation_rate(mut self, dilation: [usize; $rank]) -> Self {
            self.$field.set_dilation_rate(&dilation);
            self
        }

        /// Keras's padding name (`valid`, `same`, and `causal` for 1-D). Defaults to `valid`.
        pub fn with_padding(mut self, padding: &str) -> crate::error::Result<Self> {
            self.$field.set_padding(padding)?;
            Ok(self)
        }

        /// The activation by Keras name. Defaults to linear.
        pub fn with_activation(mut self, name: &str) -> crate::error::Result<Self> {
            self.$field.set_activation(name)?;
            Ok(self)
        }

        /// Whether to add a bias. Defaults to true.
        pub fn with_bias(mut self, use_bias: bool) -> Self {
            self.$field.set_use_bias(use_bias);
            self
        }

        /// The bias initializer. Defaults to zeros.
        pub fn with_bias_initializer(mut self, init: rkeras_tensor::Initializer) -> Self {
            self.$field.set_bias_initializer(init);
            self
        }

        /// Whether the optimizer updates the weights. Defaults to true.
        pub fn with_trainable(mut self, trainable: bool) -> Self {
            self.$field.set_trainable(trainable);
            self
        }

        /// Keras's `data_format`: `channels_first` is a typed error (rkeras is channels-last).
        pub fn with_data_format(self, format: &str) -> crate::error::Result<Self> {
            crate::convolutional::window::check_data_format(stringify!($name), format)?;
            Ok(self)
        }

        fn rules_mut(&mut self) -> &mut crate::weight_rules::WeightRules {
            &mut self.$field.rules
        }

        crate::weight_rules::weight_rule_builders!(@without_activity
            "bias" => with_bias_regularizer, with_bias_constraint;
        );

        /// Sets the layer's name.
        pub fn with_name(mut self, name: &str) -> Self {
            self.$field.core = crate::layer::LayerCore::named(name);
            self
        }
    };
}

pub(crate) use conv_builders;
