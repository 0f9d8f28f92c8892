//! `Conv1D`: 1-D convolution over channels-last sequences (run as a 2-D convolution of height 1).

use super::base::conv_layer;

conv_layer!(
    /// 1-D convolution (Keras's `Conv1D`), channels last: `activation(conv(x, kernel) + bias)`. Kernel
    /// `[kernel_size, in_channels / groups, filters]`, bias `[filters]`. Padding `valid`, `same` or `causal`
    /// (all padding before: output `t` sees inputs up to `t`), strides, dilation_rate, groups.
    ///
    /// # Shapes
    /// input `[steps, channels]`, output `[out_steps, filters]`.
    ///
    /// ```
    /// use rkeras_layers::{Conv1D, Input, Layer, LayerCall};
    /// let conv = Conv1D::new(4, [3]).with_padding("causal")?.with_dilation_rate([2]);
    /// assert_eq!(conv.call(&Input::new(&[10, 2]))?.shape(), &[10, 4]);
    /// assert_eq!(conv.weights()[0].shape(), &[3, 2, 4]);
    /// assert_eq!(Conv1D::new(4, [3]).with_strides([2]).call(&Input::new(&[10, 2]))?.shape(), &[4, 4]);
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    Conv1D,
    "conv1d",
    1
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::{CallContext, Layer};
    use crate::{Input, LayerCall};
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use rkeras_tensor::Tensor;

    #[test]
    fn causal_output_sees_only_the_past() {
        let conv = Conv1D::new(1, [2])
            .with_padding("causal")
            .unwrap()
            .with_bias(false);
        conv.call(&Input::new(&[4, 1])).unwrap();
        conv.weights()[0]
            .set_value(
                ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[2, 1, 1]), vec![10.0, 1.0])
                    .unwrap(),
            )
            .unwrap();
        let x = Tensor::from_vec(&[1, 4, 1], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
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
        // y[t] = 10·x[t−1] + x[t], x[−1] = 0.
        assert_eq!(y.shape(), &[1, 4, 1]);
        assert_eq!(y.to_vec(), vec![1.0, 12.0, 23.0, 34.0]);
    }
}
