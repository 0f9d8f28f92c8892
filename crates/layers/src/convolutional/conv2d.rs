//! `Conv2D`: 2-D convolution over channels-last images.

use super::base::conv_layer;

conv_layer!(
    /// 2-D convolution (Keras's `Conv2D`), channels last: `activation(conv(x, kernel) + bias)`. Kernel
    /// `[kh, kw, in_channels / groups, filters]` (glorot_uniform), bias `[filters]` (zeros), saved in Keras's
    /// order and names (`kernel`, `bias`). Padding `valid` or `same`, strides, dilation_rate, groups;
    /// `channels_first` is a typed error.
    ///
    /// # Shapes
    /// input `[height, width, channels]`, output `[out_height, out_width, filters]` (batch axis first, not
    /// listed), with `out = (in − dilation·(k − 1) − 1) / stride + 1` for `valid` and `ceil(in / stride)` for
    /// `same`.
    ///
    /// ```
    /// use rkeras_layers::{Conv2D, Input, Layer, LayerCall};
    /// let conv = Conv2D::new(32, [3, 3]).with_activation("relu")?;
    /// let y = conv.call(&Input::new(&[28, 28, 1]))?;
    /// assert_eq!(y.shape(), &[26, 26, 32]);
    /// assert_eq!(conv.weights()[0].shape(), &[3, 3, 1, 32]);
    /// let same = Conv2D::new(8, [3, 3]).with_strides([2, 2]).with_padding("same")?;
    /// assert_eq!(same.call(&Input::new(&[7, 7, 4]))?.shape(), &[4, 4, 8]);
    /// assert!(Conv2D::new(8, [3, 3]).with_data_format("channels_first").is_err());
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    Conv2D,
    "conv2d",
    2
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{CallContext, Layer};
    use crate::{Input, LayerCall};
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use rkeras_tensor::Tensor;
    use serde_json::json;

    #[test]
    fn forward_is_the_hand_computed_convolution() {
        let conv = Conv2D::new(1, [2, 2]).with_activation("relu").unwrap();
        conv.call(&Input::new(&[2, 3, 1])).unwrap();
        let w = conv.weights();
        w[0].set_value(
            ndarray::ArrayD::from_shape_vec(
                ndarray::IxDyn(&[2, 2, 1, 1]),
                vec![1.0, 0.0, 0.0, -1.0],
            )
            .unwrap(),
        )
        .unwrap();
        w[1].set_value(ndarray::arr1(&[0.5f32]).into_dyn()).unwrap();
        let x = Tensor::from_vec(&[1, 2, 3, 1], vec![1.0, 5.0, 2.0, 3.0, 4.0, 0.0]).unwrap();
        let mut rng = StdRng::seed_from_u64(0);
        let y = conv
            .forward(
                &[x],
                &mut CallContext {
                    training: false,
                    rng: &mut rng,
                },
            )
            .unwrap();
        // [1 − 4 + 0.5, 5 − 0 + 0.5] → relu → [0, 5.5]
        assert_eq!(y.to_vec(), vec![0.0, 5.5]);
    }

    #[test]
    fn shapes_and_options_are_checked() {
        let err = Conv2D::new(4, [3, 3])
            .call(&Input::new(&[2, 8, 3]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("does not fit") && err.contains("(None, 2, 8, 3)"),
            "{err}"
        );
        let err = Conv2D::new(4, [3, 3])
            .call(&Input::new(&[8, 3]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected 3 axes"), "{err}");
        let err = Conv2D::new(4, [3, 3])
            .with_groups(2)
            .call(&Input::new(&[8, 8, 3]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("groups=2"), "{err}");
        let err = Conv2D::new(4, [3, 3])
            .with_strides([2, 2])
            .with_dilation_rate([2, 2])
            .call(&Input::new(&[9, 9, 1]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("dilation_rate"), "{err}");
        assert!(Conv2D::new(4, [3, 3]).with_padding("causal").is_err());
        let grouped = Conv2D::new(6, [3, 3]).with_groups(3);
        assert_eq!(
            grouped.call(&Input::new(&[5, 5, 3])).unwrap().shape(),
            &[3, 3, 6]
        );
        assert_eq!(grouped.weights()[0].shape(), &[3, 3, 1, 6]);
    }

    #[test]
    fn keras_config_round_trips_and_channels_first_is_refused() {
        let conv = Conv2D::new(16, [3, 5])
            .with_strides([2, 1])
            .with_padding("same")
            .unwrap()
            .with_activation("relu")
            .unwrap()
            .with_name("c");
        let config = conv.config();
        assert_eq!(config["kernel_size"], json!([3, 5]));
        assert_eq!(config["padding"], json!("same"));
        let rebuilt = Conv2D::from_config(&config).unwrap();
        assert_eq!(rebuilt.config(), config);
        let mut first = config.clone();
        first["data_format"] = json!("channels_first");
        let err = Conv2D::from_config(&first).unwrap_err().to_string();
        assert!(
            err.contains("channels_first") && err.contains("data_format"),
            "{err}"
        );
        let mut int_kernel = config;
        int_kernel["kernel_size"] = json!(3);
        assert_eq!(
            Conv2D::from_config(&int_kernel).unwrap().config()["kernel_size"],
            json!([3, 3])
        );
    }
}
