//! Merging layers (several inputs, one output) and their functional forms.

mod base;
mod concatenate;
mod concatenate_mask;
mod dot;
mod elementwise;
mod elementwise_ops;
pub mod functions;
mod masked_values;
#[cfg(test)]
mod test_support;

pub use concatenate::Concatenate;
pub use dot::{Dot, DotAxes};
pub use elementwise::{ElementwiseMerge, MergeOp};
pub use elementwise_ops::{
    Add, AddOp, Average, AverageOp, Maximum, MaximumOp, Minimum, MinimumOp, Multiply, MultiplyOp,
    Subtract, SubtractOp,
};
pub use functions::{add, average, concatenate, dot, maximum, minimum, multiply, subtract};
