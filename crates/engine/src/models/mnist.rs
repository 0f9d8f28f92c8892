//! Keras's two classic MNIST models: the convnet (`mnist_cnn.py`) and the MLP (`mnist_mlp.py`).

use crate::{Model, Result, Sequential};
use rkeras_layers::{Conv2D, Dense, Dropout, Flatten, MaxPooling2D};

/// Keras's MNIST convnet on `(28, 28, 1)` images: Conv2D 32 3×3 relu, Conv2D 64 3×3 relu, MaxPooling2D 2×2,
/// Dropout 0.25, Flatten, Dense 128 relu, Dropout 0.5, Dense 10 softmax (1,199,882 parameters).
///
/// ```
/// let model = rkeras_engine::models::mnist_cnn()?;
/// assert_eq!(model.count_params(), 1_199_882);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub fn mnist_cnn() -> Result<Model> {
    Sequential::new(&[28, 28, 1])
        .add(Conv2D::new(32, [3, 3]).with_activation("relu")?)?
        .add(Conv2D::new(64, [3, 3]).with_activation("relu")?)?
        .add(MaxPooling2D::new([2, 2]))?
        .add(Dropout::new(0.25))?
        .add(Flatten::new())?
        .add(Dense::new(128).with_activation("relu")?)?
        .add(Dropout::new(0.5))?
        .add(Dense::new(10).with_activation("softmax")?)?
        .build()
}

/// Keras's MNIST MLP on 784 flattened pixels: Dense 512 relu, Dropout 0.2, Dense 512 relu, Dropout 0.2,
/// Dense 10 softmax (669,706 parameters).
///
/// ```
/// let model = rkeras_engine::models::mnist_mlp()?;
/// assert_eq!(model.count_params(), 669_706);
/// # Ok::<(), rkeras_engine::EngineError>(())
/// ```
pub fn mnist_mlp() -> Result<Model> {
    Sequential::new(&[784])
        .add(Dense::new(512).with_activation("relu")?)?
        .add(Dropout::new(0.2))?
        .add(Dense::new(512).with_activation("relu")?)?
        .add(Dropout::new(0.2))?
        .add(Dense::new(10).with_activation("softmax")?)?
        .build()
}
