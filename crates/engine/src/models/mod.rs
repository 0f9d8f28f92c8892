//! Ready-made architectures (Keras's examples).

mod memory_network;

pub use memory_network::{memory_network, memory_network_keras1, memory_network_with_dropout};
