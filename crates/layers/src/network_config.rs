//! The Keras model config of a [`Network`] (`model_config` in a `.h5` file): writing it in Keras 3's functional
//! format, and reading both Keras 3's and Keras 2's formats back into a graph.

use crate::error::{LayersError, Result};
use crate::input_layer::InputLayer;
use crate::keras_call::{KEYWORD_INPUTS, KerasCall};
use crate::layer::{Layer, LayerRef};
use crate::network::Network;
use crate::registry::layer_from_saved;
use crate::serialization::saved_config;
use crate::symbolic::{Input, SymbolicTensor, apply, apply_all};
use serde_json::{Value, json};
use std::collections::HashMap;

mod mask_ops;

/// A tensor in a saved graph: Keras's `(layer name, node index, tensor index)`.
type TensorRef = (String, usize, usize);

/// The tensors one layer call reads.
type InboundRefs = Vec<TensorRef>;

fn batch_shape(shape: &[usize]) -> Value {
    let mut dims = vec![Value::Null];
    dims.extend(shape.iter().map(|&d| json!(d)));
    Value::Array(dims)
}

fn keras_tensor(t: &SymbolicTensor) -> Value {
    json!({
        "class_name": "__keras_tensor__",
        "config": {
            "shape": batch_shape(t.shape()),
            "dtype": "float32",
            "keras_history": [t.layer().name(), t.call_index(), t.tensor_index()],
        }
    })
}

/// One call in Keras 3's `inbound_nodes`: `{"args": [tensor | [tensors…]], "kwargs": {…}}`, the inputs a layer
/// takes by keyword (a recurrent layer's `initial_state`) under `kwargs`.
fn inbound_node(layer: &dyn Layer, inputs: &[SymbolicTensor]) -> Value {
    if let Some(call) = layer.keras_call() {
        return keras_call_node(&call, inputs);
    }
    let (positional, keyword) = match layer.keyword_inputs() {
        Some((name, n)) if inputs.len() > n => (&inputs[..n], Some((name, &inputs[n..]))),
        _ => (inputs, None),
    };
    let mut args: Vec<Value> = positional.iter().map(keras_tensor).collect();
    let arg = if args.len() == 1 {
        args.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(args)
    };
    let mut kwargs = serde_json::Map::new();
    if let Some((name, tensors)) = keyword {
        kwargs.insert(
            name.to_string(),
            Value::Array(tensors.iter().map(keras_tensor).collect()),
        );
    }
    json!({ "args": [arg], "kwargs": kwargs })
}

/// One call in Keras 3's `inbound_nodes` in a layer's [`KerasCall`] form: each positional input its own
/// argument, the inputs after them one tensor per keyword, then the call's other arguments.
fn keras_call_node(call: &KerasCall, inputs: &[SymbolicTensor]) -> Value {
    let split = call.positional.min(inputs.len());
    let args: Vec<Value> = inputs[..split].iter().map(keras_tensor).collect();
    let mut kwargs = serde_json::Map::new();
    for (keyword, tensor) in call.keywords.iter().zip(&inputs[split..]) {
        kwargs.insert(keyword.to_string(), keras_tensor(tensor));
    }
    kwargs.extend(call.arguments.clone());
    json!({ "args": args, "kwargs": kwargs })
}

/// Keras's `module` of a saved layer: `keras.layers` for a built-in layer, Keras's model modules for a model
/// used as a layer, none for a custom one.
fn module_of(layer: &dyn Layer) -> Value {
    match layer.nested_network() {
        Some(inner) if inner.is_sequential() => json!("keras"),
        Some(_) => json!("keras.src.models.functional"),
        None if layer.registered_name().is_none()
            && crate::registry::SUPPORTED_LAYER_CLASSES.contains(&layer.class_name()) =>
        {
            json!("keras.layers")
        }
        None => Value::Null,
    }
}

/// Keras's `registered_name` of a saved layer (`"Functional"` for a functional model used as a layer, as
/// Keras 3.15 writes it).
fn registered_name_of(layer: &dyn Layer) -> Value {
    match layer.nested_network() {
        Some(inner) if !inner.is_sequential() => json!("Functional"),
        _ => json!(layer.registered_name()),
    }
}

/// One layer as Keras serializes it: `module`, `class_name`, `config`, `registered_name`.
fn layer_entry(layer: &dyn Layer) -> serde_json::Map<String, Value> {
    let mut entry = serde_json::Map::new();
    entry.insert("module".into(), module_of(layer));
    entry.insert("class_name".into(), json!(layer.class_name()));
    entry.insert("config".into(), saved_config(layer));
    entry.insert("registered_name".into(), registered_name_of(layer));
    entry
}

impl Network {
    /// The graph as Keras 3's `model_config`: `{"class_name": "Functional", "config": {...}}`, or Keras's
    /// `Sequential` form for a graph marked [`Network::into_sequential`].
    pub fn to_config(&self, name: &str) -> Value {
        if self.is_sequential() {
            return self.sequential_config(name);
        }
        let mut layers = Vec::new();
        for layer in self.layers() {
            let mut calls: Vec<&SymbolicTensor> = self
                .nodes()
                .iter()
                .filter(|n| n.layer().core().id() == layer.core().id() && !n.is_input())
                .collect();
            calls.sort_by_key(|n| n.call_index());
            let inbound: Vec<Value> = calls
                .iter()
                .map(|n| inbound_node(layer.as_ref(), n.inputs()))
                .collect();
            let mut entry = layer_entry(layer.as_ref());
            entry.insert("name".into(), json!(layer.name()));
            entry.insert("inbound_nodes".into(), Value::Array(inbound));
            layers.push(Value::Object(entry));
        }
        let refs = |ts: &[SymbolicTensor]| -> Vec<Value> {
            ts.iter()
                .map(|t| json!([t.layer().name(), t.call_index(), t.tensor_index()]))
                .collect()
        };
        let outputs = refs(self.outputs());
        let output_layers = if outputs.len() == 1 {
            outputs[0].clone()
        } else {
            Value::Array(outputs)
        };
        json!({
            "class_name": "Functional",
            "config": {
                "name": name,
                "trainable": true,
                "layers": layers,
                "input_layers": refs(self.inputs()),
                "output_layers": output_layers,
            }
        })
    }

    /// Keras's `Sequential` config: the layers in order, the input layer first, and `build_input_shape`.
    fn sequential_config(&self, name: &str) -> Value {
        let layers: Vec<Value> = self
            .layers()
            .iter()
            .map(|layer| Value::Object(layer_entry(layer.as_ref())))
            .collect();
        let input_shape = self
            .inputs()
            .first()
            .map(|t| batch_shape(t.shape()))
            .unwrap_or(Value::Null);
        json!({
            "module": "keras",
            "class_name": "Sequential",
            "config": {
                "name": name,
                "trainable": true,
                "layers": layers,
                "build_input_shape": input_shape,
            },
            "registered_name": null,
        })
    }

    /// [`Network::from_config`] for a config written by Keras `keras_version` (a file's root attribute):
    /// Keras 1 and 2 (and files that do not say, which only they wrote) meant `clip(0.2x + 0.5, 0, 1)` by
    /// `hard_sigmoid`, so their `activation` / `recurrent_activation` `hard_sigmoid` becomes
    /// `hard_sigmoid_keras2`; Keras 3 and later mean `relu6(x + 3) / 6`, rkeras's `hard_sigmoid`.
    ///
    /// ```
    /// use rkeras_layers::{Activation, Input, LayerCall, Network};
    /// let x = Input::new(&[2]);
    /// let config = Network::new(&[x.clone()], &[Activation::new("hard_sigmoid")?.call(&x)?])?.to_config("m");
    /// let keras2 = Network::from_config_written_by(&config, "2.15.0")?;
    /// assert_eq!(keras2.layers()[1].config()["activation"], "hard_sigmoid_keras2");
    /// let keras3 = Network::from_config_written_by(&config, "3.15.1")?;
    /// assert_eq!(keras3.layers()[1].config()["activation"], "hard_sigmoid");
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    pub fn from_config_written_by(config: &Value, keras_version: &str) -> Result<Network> {
        if !is_keras_1_or_2(keras_version) {
            return Network::from_config(config);
        }
        let mut config = config.clone();
        let layers = config
            .get_mut("config")
            .and_then(|inner| inner.get_mut("layers"));
        for layer in layers.and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(Value::Object(layer_config)) = layer.get_mut("config") {
                for key in ["activation", "recurrent_activation"] {
                    if layer_config.get(key).and_then(Value::as_str) == Some("hard_sigmoid") {
                        layer_config.insert(key.into(), json!("hard_sigmoid_keras2"));
                    }
                }
            }
        }
        Network::from_config(&config)
    }

    /// Rebuilds a graph from a Keras model config (Keras 3 `Functional`, Keras 2 `Functional`/`Model`, or
    /// `Sequential`). A layer type rkeras lacks is an error naming it.
    pub fn from_config(config: &Value) -> Result<Network> {
        let class = config
            .get("class_name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let inner = config
            .get("config")
            .ok_or_else(|| LayersError::Config("missing `config`".into()))?;
        match class {
            "Functional" | "Model" => functional_from_config(inner),
            "Sequential" => sequential_from_config(inner),
            other => Err(LayersError::UnknownName {
                kind: "model class",
                name: other.to_string(),
                valid: vec!["Functional".into(), "Model".into(), "Sequential".into()],
            }),
        }
    }
}

/// Whether `keras_version` (`"2.15.0"`, `"1.2.2"`, or empty when a file does not say) is Keras 1 or 2.
fn is_keras_1_or_2(keras_version: &str) -> bool {
    let major = keras_version.trim().split('.').next().unwrap_or("");
    major.is_empty() || major == "1" || major == "2"
}

/// `(layer name, node index, tensor index)` of a tensor reference in either format (a missing tensor index,
/// as in some hand-written configs, is 0).
fn history_of(value: &Value) -> Option<TensorRef> {
    // Keras 3: {"class_name": "__keras_tensor__", "config": {"keras_history": ["layer", node, tensor]}};
    // Keras 2: ["layer", node_index, tensor_index, {kwargs}]
    let list = value
        .pointer("/config/keras_history")
        .and_then(Value::as_array)
        .or_else(|| value.as_array())?;
    let tensor_index = match list.get(2) {
        Some(index) => index.as_u64()? as usize,
        None => 0,
    };
    Some((
        list.first()?.as_str()?.to_string(),
        list.get(1)?.as_u64()? as usize,
        tensor_index,
    ))
}

/// The inbound tensor references of one inbound node.
fn node_inputs(node: &Value) -> Result<InboundRefs> {
    let bad = || LayersError::Config(format!("cannot read inbound node {node}"));
    if let Some(args) = node.get("args").and_then(Value::as_array) {
        // Keras 3: {"args": [tensor | [tensors…], tensor…], "kwargs": {…}}
        let mut items: Vec<&Value> = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            match arg.as_array() {
                Some(list) if i == 0 => items.extend(list),
                _ => items.push(arg),
            }
        }
        // Inputs by keyword (MultiHeadAttention's `key`, `attention_mask`; a recurrent layer's initial
        // states) come after the positional ones.
        for keyword in KEYWORD_INPUTS {
            match node.get("kwargs").and_then(|k| k.get(keyword)) {
                Some(Value::Array(tensors)) => items.extend(tensors),
                Some(Value::Null) | None => {}
                Some(tensor) => items.push(tensor),
            }
        }
        if items.is_empty() {
            return Err(bad());
        }
        return items
            .into_iter()
            .map(|v| history_of(v).ok_or_else(bad))
            .collect();
    }
    // Keras 2: [["layer", 0, 0, {}], …]
    node.as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|v| history_of(v).ok_or_else(bad))
        .collect()
}

/// A call's `kwargs` with each tensor replaced by `true`: what a layer's call settings depend on.
fn call_settings(node: &Value) -> serde_json::Map<String, Value> {
    let mut kwargs = node
        .get("kwargs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for value in kwargs.values_mut() {
        if history_of(value).is_some() {
            *value = Value::Bool(true);
        }
    }
    kwargs
}

/// The layer set up for its saved calls' keyword arguments ([`Layer::with_call_kwargs`]), or `None` when it
/// keeps no call settings; calls that differ in them are an error naming the layer, since rkeras holds them as
/// settings of the layer.
fn with_call_settings(layer: &LayerRef, nodes: &[Value]) -> Result<Option<LayerRef>> {
    let Some(first) = nodes.first() else {
        return Ok(None);
    };
    if first.get("args").is_none() {
        return Ok(None);
    }
    let settings = call_settings(first);
    if nodes.iter().any(|node| call_settings(node) != settings) {
        return Err(LayersError::Config(format!(
            "layer `{}` is called with different keyword arguments; rkeras holds them as settings of the layer",
            layer.name()
        )));
    }
    let kwargs = first
        .get("kwargs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    layer.with_call_kwargs(&kwargs)
}

fn input_shape_of(config: &Value) -> Result<Vec<usize>> {
    let dims = config
        .get("batch_shape")
        .or_else(|| config.get("batch_input_shape"))
        .and_then(Value::as_array)
        .ok_or_else(|| LayersError::Config(format!("InputLayer without batch_shape: {config}")))?;
    dims.iter()
        .skip(1)
        .map(|d| {
            d.as_u64().map(|d| d as usize).ok_or_else(|| {
                LayersError::Config(format!(
                    "input dimension {d} is not a fixed size (rkeras needs fixed shapes)"
                ))
            })
        })
        .collect()
}

fn refs_of(value: Option<&Value>) -> Result<Vec<TensorRef>> {
    let value =
        value.ok_or_else(|| LayersError::Config("missing input_layers/output_layers".into()))?;
    let list = value
        .as_array()
        .ok_or_else(|| LayersError::Config(format!("bad layer reference {value}")))?;
    if list.first().is_some_and(Value::is_string) {
        return history_of(value)
            .map(|r| vec![r])
            .ok_or_else(|| LayersError::Config(format!("bad layer reference {value}")));
    }
    list.iter()
        .map(|v| {
            history_of(v).ok_or_else(|| LayersError::Config(format!("bad layer reference {v}")))
        })
        .collect()
}

fn functional_from_config(config: &Value) -> Result<Network> {
    let entries = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| LayersError::Config("missing `layers`".into()))?;
    let mut created: Vec<(LayerRef, Vec<InboundRefs>)> = Vec::new();
    let mut tensors: HashMap<TensorRef, SymbolicTensor> = HashMap::new();
    let mask_only = mask_ops::mask_only_layers(config);
    for entry in entries {
        let class = entry
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| LayersError::Config("layer without class_name".into()))?;
        let layer_config = entry.get("config").cloned().unwrap_or(Value::Null);
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .or_else(|| layer_config.get("name").and_then(Value::as_str))
            .unwrap_or("")
            .to_string();
        if mask_only.contains(&name) {
            continue;
        }
        if class == "InputLayer" {
            let shape = input_shape_of(&layer_config)?;
            tensors.insert(
                (name.clone(), 0, 0),
                Input::from_layer(InputLayer::named(&shape, &name)),
            );
            continue;
        }
        let mut with_name = layer_config.clone();
        if let Some(obj) = with_name.as_object_mut() {
            obj.insert("name".into(), json!(name));
        }
        let registered = entry.get("registered_name").and_then(Value::as_str);
        let mut layer = layer_from_saved(class, registered, &with_name)?;
        let saved_nodes = entry
            .get("inbound_nodes")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if let Some(configured) = with_call_settings(&layer, saved_nodes)? {
            layer = configured;
        }
        let nodes = saved_nodes
            .iter()
            .map(node_inputs)
            .collect::<Result<Vec<_>>>()?;
        created.push((layer, nodes));
    }
    // Create nodes whose inputs exist, pass after pass (a shared layer's later call may wait for layers below).
    let mut next_node: Vec<usize> = vec![0; created.len()];
    loop {
        let mut progressed = false;
        for (i, (layer, nodes)) in created.iter().enumerate() {
            while let Some(refs) = nodes.get(next_node[i]) {
                let Some(inputs) = refs
                    .iter()
                    .map(|r| tensors.get(r).cloned())
                    .collect::<Option<Vec<_>>>()
                else {
                    break;
                };
                for output in apply_all(layer.clone(), &inputs)? {
                    let index = output.tensor_index();
                    tensors.insert((layer.name().to_string(), next_node[i], index), output);
                }
                next_node[i] += 1;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    if let Some((i, (layer, _))) = created
        .iter()
        .enumerate()
        .find(|(i, (_, nodes))| next_node[*i] < nodes.len())
    {
        return Err(LayersError::Config(format!(
            "layer `{}` call {} reads a tensor that no layer produces",
            layer.name(),
            next_node[i]
        )));
    }
    let lookup = |refs: Vec<TensorRef>| -> Result<Vec<SymbolicTensor>> {
        refs.into_iter()
            .map(|r| {
                tensors
                    .get(&r)
                    .cloned()
                    .ok_or_else(|| LayersError::Config(format!("unknown layer reference {r:?}")))
            })
            .collect()
    };
    let inputs = lookup(refs_of(config.get("input_layers"))?)?;
    let outputs = lookup(refs_of(config.get("output_layers"))?)?;
    Network::new(&inputs, &outputs)
}

fn sequential_from_config(config: &Value) -> Result<Network> {
    let entries = config
        .get("layers")
        .and_then(Value::as_array)
        .ok_or_else(|| LayersError::Config("missing `layers`".into()))?;
    let mut current: Option<SymbolicTensor> = None;
    let mut input: Option<SymbolicTensor> = None;
    for entry in entries {
        let class = entry
            .get("class_name")
            .and_then(Value::as_str)
            .ok_or_else(|| LayersError::Config("layer without class_name".into()))?;
        let layer_config = entry.get("config").cloned().unwrap_or(Value::Null);
        let name = layer_config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("input_layer")
            .to_string();
        if class == "InputLayer"
            || (current.is_none() && layer_config.get("batch_input_shape").is_some())
        {
            let shape = input_shape_of(&layer_config)?;
            let t = Input::from_layer(InputLayer::named(
                &shape,
                if class == "InputLayer" {
                    &name
                } else {
                    "input_layer"
                },
            ));
            input = Some(t.clone());
            current = Some(t);
            if class == "InputLayer" {
                continue;
            }
        }
        let x = current.as_ref().ok_or_else(|| {
            LayersError::Config("a Sequential config needs an input shape".into())
        })?;
        let registered = entry.get("registered_name").and_then(Value::as_str);
        let layer = layer_from_saved(class, registered, &layer_config)?;
        current = Some(apply(layer, std::slice::from_ref(x))?);
    }
    match (input, current) {
        (Some(i), Some(o)) => Network::new(&[i], &[o])?.into_sequential(),
        _ => Err(LayersError::Config("an empty Sequential config".into())),
    }
}
