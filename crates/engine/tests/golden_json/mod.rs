//! Reading the golden JSON files Keras scripts write: flat value lists with their shapes.

#![allow(dead_code)]

use ndarray::{ArrayD, IxDyn};
use serde_json::Value;
use std::path::Path;

/// A golden JSON file, parsed.
pub fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A number or a (nested) JSON list of numbers as `f32`s, flattened in order.
pub fn nested_floats(value: &Value) -> Vec<f32> {
    match value {
        Value::Array(items) => items.iter().flat_map(nested_floats).collect(),
        v => vec![v.as_f64().unwrap() as f32],
    }
}

/// A JSON list of numbers as `f32`s.
pub fn floats(values: &Value) -> Vec<f32> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

/// A JSON list of sizes.
pub fn sizes(shape: &Value) -> Vec<usize> {
    shape
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

/// A flat JSON list of values with its shape.
pub fn array(values: &Value, shape: &Value) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(&sizes(shape)), floats(values)).unwrap()
}

/// Every element within 1e-5 of Keras's.
pub fn assert_close(actual: &[f32], expected: &[f32], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5,
            "{what}: element {i}: {a} vs Keras {e}"
        );
    }
}
