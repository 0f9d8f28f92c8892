//! Ready-made architectures (Keras's examples).

mod memory_network;
mod mnist;

pub use memory_network::{memory_network, memory_network_keras1, memory_network_with_dropout};
pub use mnist::{mnist_cnn, mnist_mlp};
