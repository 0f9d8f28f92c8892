//! The calls of a Keras 3 model config that only compute timestep masks: Keras 3.15 records the mask it passes
//! a layer (`Embedding(mask_zero=True)`'s `not_equal(ids, 0)`, `Masking`'s `any(not_equal(x, v))`) as operation
//! nodes (`NotEqual`, `Any`, …) feeding the layer's `mask` keyword argument. rkeras computes the same masks
//! from the layers themselves ([`crate::Layer::compute_masks`]), so these nodes are left out of the graph.

use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Every layer name a value refers to (`keras_history` of Keras 3's tensors, nested at any depth).
fn referenced(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = value
                .pointer("/config/keras_history/0")
                .and_then(Value::as_str)
            {
                out.push(name.to_string());
                return;
            }
            map.values().for_each(|v| referenced(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| referenced(v, out)),
        _ => {}
    }
}

/// The names of the layers in `config` (a functional model's inner config) that are reached from the model's
/// outputs only through `mask` keyword arguments; empty for configs without such arguments (Keras 2's
/// included).
pub(super) fn mask_only_layers(config: &Value) -> HashSet<String> {
    let entries = config
        .get("layers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    // Per layer: the names its calls read other than as a mask, and the names read as a mask.
    let mut reads: HashMap<String, Vec<String>> = HashMap::new();
    let mut mask_reads: Vec<String> = Vec::new();
    for entry in entries {
        let Some(name) = entry
            .get("name")
            .or_else(|| entry.pointer("/config/name"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let mut names = Vec::new();
        for node in entry
            .get("inbound_nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut node = node.clone();
            if let Some(mask) = node
                .get_mut("kwargs")
                .and_then(Value::as_object_mut)
                .and_then(|kwargs| kwargs.remove("mask"))
            {
                referenced(&mask, &mut mask_reads);
            }
            referenced(&node, &mut names);
        }
        reads.insert(name.to_string(), names);
    }
    if mask_reads.is_empty() {
        return HashSet::new();
    }
    let closure = |start: Vec<String>| {
        let mut seen: HashSet<String> = HashSet::new();
        let mut stack = start;
        while let Some(name) = stack.pop() {
            if seen.insert(name.clone()) {
                stack.extend(reads.get(&name).into_iter().flatten().cloned());
            }
        }
        seen
    };
    let mut outputs = Vec::new();
    referenced_refs(config.get("output_layers"), &mut outputs);
    let needed = closure(outputs);
    closure(mask_reads)
        .into_iter()
        .filter(|name| !needed.contains(name))
        .collect()
}

/// The layer names of `output_layers` (`["name", 0, 0]` or a list of them).
fn referenced_refs(value: Option<&Value>, out: &mut Vec<String>) {
    match value {
        Some(Value::Array(items)) if items.first().is_some_and(Value::is_string) => {
            out.extend(items.first().and_then(Value::as_str).map(str::to_string));
        }
        Some(Value::Array(items)) => items.iter().for_each(|v| referenced_refs(Some(v), out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::mask_only_layers;
    use serde_json::json;

    fn tensor(name: &str) -> serde_json::Value {
        json!({"class_name": "__keras_tensor__", "config": {"keras_history": [name, 0, 0]}})
    }

    #[test]
    fn the_operations_feeding_only_masks_are_found() {
        let config = json!({
            "layers": [
                {"name": "ids", "class_name": "InputLayer", "inbound_nodes": []},
                {"name": "embedding", "inbound_nodes": [{"args": [tensor("ids")], "kwargs": {}}]},
                {"name": "not_equal", "inbound_nodes": [{"args": [tensor("ids"), 0], "kwargs": {}}]},
                {"name": "any", "inbound_nodes": [{"args": [tensor("not_equal")], "kwargs": {}}]},
                {"name": "lstm", "inbound_nodes": [
                    {"args": [tensor("embedding")], "kwargs": {"mask": tensor("any")}}]},
            ],
            "output_layers": [["lstm", 0, 0]],
        });
        let mut found: Vec<String> = mask_only_layers(&config).into_iter().collect();
        found.sort();
        assert_eq!(found, ["any", "not_equal"]);
    }

    #[test]
    fn a_layer_also_read_as_a_value_is_kept() {
        let config = json!({
            "layers": [
                {"name": "ids", "inbound_nodes": []},
                {"name": "not_equal", "inbound_nodes": [{"args": [tensor("ids"), 0], "kwargs": {}}]},
                {"name": "lstm", "inbound_nodes": [
                    {"args": [tensor("not_equal")], "kwargs": {"mask": tensor("not_equal")}}]},
            ],
            "output_layers": ["lstm", 0, 0],
        });
        assert!(mask_only_layers(&config).is_empty());
    }
}
