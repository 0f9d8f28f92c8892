//! Recurrent layers.

mod bidirectional;
mod carried_state;
mod common;
mod dropout;
mod dropout_steps;
#[cfg(test)]
mod dropout_tests;
mod gru;
mod lstm;
mod lstm_steps;
mod simple_rnn;
#[cfg(test)]
mod stateful_tests;
mod time_distributed;

pub use bidirectional::{Bidirectional, MergeMode};
pub use gru::GRU;
pub use lstm::{DEFAULT_RECURRENT_INITIALIZER, LSTM};
pub use simple_rnn::SimpleRNN;
pub use time_distributed::TimeDistributed;
