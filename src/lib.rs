//! rkeras: Keras-style deep learning in Rust.
//!
//! One import brings what a Keras script uses:
//!
//! ```
//! use rkeras::prelude::*;
//! let x = Input::new(&[4]);
//! let y = Dense::new(3).with_activation("softmax")?.call(&x)?;
//! let mut model = Model::new(&[x], &y)?;
//! model.compile("rmsprop", "sparse_categorical_crossentropy", &["accuracy"])?;
//! let xs = ndarray::Array2::<f32>::zeros((8, 4)).into_dyn();
//! let ys = ndarray::Array1::<f32>::zeros(8).into_dyn();
//! let history = model.fit(&[xs], &ys, FitConfig::new().epochs(2).verbose(0))?;
//! assert_eq!(history.get("accuracy").unwrap().len(), 2);
//! # Ok::<(), rkeras::EngineError>(())
//! ```
//!
//! The crates, in the order data flows through them: [`datasets`] → [`tensor`] (autodiff and kernels) →
//! [`layers`] → [`optim`] → [`callbacks`] → [`io`] (HDF5) → [`engine`] (compile / fit).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub use rkeras_callbacks as callbacks;
pub use rkeras_datasets as datasets;
/// Data-parallel training across processes on MPI (the `mpi` feature).
#[cfg(feature = "mpi")]
pub use rkeras_distributed as distributed;
pub use rkeras_engine as engine;
pub use rkeras_io as io;
pub use rkeras_layers as layers;
pub use rkeras_optim as optim;
pub use rkeras_tensor as tensor;

pub use rkeras_engine::{EngineError, Result, load_model};

/// Ready-made architectures (Keras's examples).
pub use rkeras_engine::models;

/// Everything a training script needs, Keras-style.
pub mod prelude {
    pub use rkeras_callbacks::{
        BackupAndRestore, CSVLogger, Callback, EarlyStopping, History, LambdaCallback,
        LearningRateScheduler, Logs, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
    };
    pub use rkeras_engine::{EngineError, FitConfig, Loss, Model, Sequential, load_model};
    pub use rkeras_layers::{
        Activation, Add, Concatenate, Dense, Dot, Dropout, Embedding, Flatten, Input, LSTM, Layer,
        LayerCall, Multiply, Permute, Reshape, SymbolicTensor, add, concatenate, dot, multiply,
        set_random_seed,
    };
    pub use rkeras_optim::{Adagrad, Adam, Optimizer, RMSprop, SGD};
    pub use rkeras_tensor::{Initializer, Tensor};
}
