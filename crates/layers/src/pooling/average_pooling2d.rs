//! `AveragePooling2D`: 2-D average pooling: the mean of each window over the positions inside the input (padding is not counted).

use super::base::pool_layer;

pool_layer!(
    /// 2-D average pooling: the mean of each window over the positions inside the input (padding is not counted) (Keras's `AveragePooling2D`), channels last.
    ///
    /// # Shapes
    /// input `[height, width, channels]`, output `[out_height, out_width, channels]` (`valid`: `(in − pool) / stride + 1`; `same`: `ceil(in / stride)`).
    ///
    /// ```
    /// use rkeras_layers::{AveragePooling2D, Input, LayerCall};
    /// assert_eq!(AveragePooling2D::new([3, 3]).with_strides([1, 1]).call(&Input::new(&[5, 5, 2]))?.shape(), &[3, 3, 2]);
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    AveragePooling2D,
    "average_pooling2d",
    Average,
    2
);
