//! `MaxPooling2D`: 2-D max pooling: the maximum of each window (the first on ties receives the gradient).

use super::base::pool_layer;

pool_layer!(
    /// 2-D max pooling: the maximum of each window (the first on ties receives the gradient) (Keras's `MaxPooling2D`), channels last.
    ///
    /// # Shapes
    /// input `[height, width, channels]`, output `[out_height, out_width, channels]` (`valid`: `(in − pool) / stride + 1`; `same`: `ceil(in / stride)`).
    ///
    /// ```
    /// use rkeras_layers::{MaxPooling2D, Input, LayerCall};
    /// assert_eq!(MaxPooling2D::new([2, 2]).call(&Input::new(&[26, 26, 32]))?.shape(), &[13, 13, 32]);
    /// let same = MaxPooling2D::new([2, 2]).with_padding("same")?;
    /// assert_eq!(same.call(&Input::new(&[5, 5, 3]))?.shape(), &[3, 3, 3]);
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    MaxPooling2D,
    "max_pooling2d",
    Max,
    2
);
