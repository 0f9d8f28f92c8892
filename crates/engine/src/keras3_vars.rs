//! Where a model's variables sit in Keras 3's weight store (`.keras` / `.weights.h5`), both ways.
//!
//! Keras 3 names a layer's object not by the layer's name (automatic names differ between processes) but by
//! its class in snake case, made unique in the model's layer order: `layers/input_layer`, `layers/dense`,
//! `layers/dense_1`, ... A layer's own weights are that object's (`layers/dense/vars/0` the kernel); a
//! recurrent layer's are its cell's, `layers/lstm/cell` (rkeras names them `lstm_cell/kernel`, ...). The optimizer's
//! are `optimizer/vars`: the iteration counter, the learning rate, then the slots in Keras 3.15's
//! `optimizer.variables` order, in which slots created together (Adam's momentum and velocity) alternate
//! parameter by parameter.

use crate::error::{EngineError, Result};
use rkeras_io::{OptimizerVars, VarObject, VarStore};
use rkeras_layers::Network;
use rkeras_optim::{Optimizer, OptimizerState, SlotArray};
use rkeras_tensor::Variable;
use std::path::Path;

fn file_error(path: &Path, reason: impl Into<String>) -> EngineError {
    EngineError::File {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Keras's `naming.to_snake_case` of a class name: `BatchNormalization` → `batch_normalization`,
/// `Conv2D` → `conv2d`, `SimpleRNN` → `simple_rnn`.
pub(crate) fn to_snake_case(class: &str) -> String {
    let chars: Vec<char> = class
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    // `(.)([A-Z][a-z]+)` → `\1_\2`: before a capital that starts a lower-case word.
    let mut words = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let starts_word =
            c.is_ascii_uppercase() && chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
        if i > 0 && starts_word {
            words.push('_');
        }
        words.push(c);
    }
    // `([a-z])([A-Z])` → `\1_\2`, then lower case.
    let mut out = String::new();
    let mut previous: Option<char> = None;
    for c in words.chars() {
        if c.is_ascii_uppercase() && previous.is_some_and(|p| p.is_ascii_lowercase()) {
            out.push('_');
        }
        out.push(c);
        previous = Some(c);
    }
    out.to_lowercase()
}

/// Every layer's object path in the store, in Keras's `model.layers` order (`layers/dense`, `layers/dense_1`,
/// ...), as Keras's `_save_container_state` names them; `prefix` is `layers` at the top, `<model path>/layers`
/// inside a model used as a layer.
pub(crate) fn layer_paths(network: &Network, prefix: &str) -> Vec<String> {
    let mut used: Vec<(String, usize)> = Vec::new();
    network
        .keras_layers()
        .iter()
        .map(|layer| {
            let base = to_snake_case(layer.class_name());
            let name = match used.iter_mut().find(|(n, _)| *n == base) {
                Some((_, count)) => {
                    *count += 1;
                    format!("{base}_{count}")
                }
                None => {
                    used.push((base.clone(), 0));
                    base
                }
            };
            format!("{prefix}/{name}")
        })
        .collect()
}

/// The store object holding weight `weight` (rkeras's name within the layer) of the layer stored at
/// `layer_path`.
pub(crate) fn object_path(layer_path: &str, weight: &str) -> String {
    match weight.rsplit_once('/') {
        None => layer_path.to_string(),
        Some((owner, _)) if owner.ends_with("_cell") => format!("{layer_path}/cell"),
        Some((owner, _)) => format!("{layer_path}/{owner}"),
    }
}

/// The store object holding weight `weight` of a layer of class `class` stored at `layer_path`: a
/// `TimeDistributed` wrapper keeps its layer's under `layer_path/layer`, a `Bidirectional` its copies' under
/// `layer_path/forward_layer` and `layer_path/backward_layer` (rkeras names those weights
/// `forward_<name>/…` and `backward_<name>/…`), as Keras 3 stores a wrapper's tracked layers; a
/// `MultiHeadAttention` keeps `query/…`, `key/…`, `value/…` and `attention_output/…` under its EinsumDense
/// sublayers `query_dense`, `key_dense`, `value_dense` and `output_dense`.
pub(crate) fn layer_object_path(class: &str, layer_path: &str, weight: &str) -> String {
    match (class, weight.split_once('/')) {
        ("TimeDistributed", _) => object_path(&format!("{layer_path}/layer"), weight),
        ("Bidirectional", Some((owner, rest))) if owner.starts_with("forward_") => {
            object_path(&format!("{layer_path}/forward_layer"), rest)
        }
        ("Bidirectional", Some((owner, rest))) if owner.starts_with("backward_") => {
            object_path(&format!("{layer_path}/backward_layer"), rest)
        }
        // Keras 3 keeps MultiHeadAttention's projections as EinsumDense sublayers.
        ("MultiHeadAttention", Some((owner, _))) => {
            let sublayer = match owner {
                "attention_output" => "output_dense".to_string(),
                part => format!("{part}_dense"),
            };
            format!("{layer_path}/{sublayer}")
        }
        _ => object_path(layer_path, weight),
    }
}

/// One weight's place in the store.
pub(crate) struct StoredWeight {
    /// The name of the layer that owns it (the innermost one, for a model used as a layer).
    pub(crate) layer: String,
    /// The store object holding it.
    pub(crate) object: String,
    pub(crate) variable: Variable,
}

/// Every layer object (weights or not) and every weight with its object, in Keras's order; a model used as a
/// layer is an object of its own with its layers under `<its path>/layers`, as Keras saves one.
pub(crate) fn stored_weights(network: &Network, prefix: &str) -> (Vec<String>, Vec<StoredWeight>) {
    let mut objects = Vec::new();
    let mut weights = Vec::new();
    collect_stored(network, prefix, &mut objects, &mut weights);
    (objects, weights)
}

fn collect_stored(
    network: &Network,
    prefix: &str,
    objects: &mut Vec<String>,
    weights: &mut Vec<StoredWeight>,
) {
    for (layer, own) in network
        .keras_layers()
        .iter()
        .zip(layer_paths(network, prefix))
    {
        objects.push(own.clone());
        if let Some(inner) = layer.nested_network() {
            collect_stored(inner, &format!("{own}/layers"), objects, weights);
            continue;
        }
        for weight in layer.weights() {
            weights.push(StoredWeight {
                layer: layer.name().to_string(),
                object: layer_object_path(layer.class_name(), &own, weight.name()),
                variable: weight,
            });
        }
    }
}

/// Every layer's weights as store objects, in layer order (a layer without weights gets an empty object, as
/// Keras writes one).
pub(crate) fn layer_objects(network: &Network) -> Vec<VarObject> {
    let (layers, weights) = stored_weights(network, "layers");
    let mut objects: Vec<VarObject> = layers
        .into_iter()
        .map(|own| VarObject::new(own, Vec::new()))
        .collect();
    for weight in weights {
        let value = (*weight.variable.value()).clone();
        match objects.iter_mut().find(|o| o.path == weight.object) {
            Some(object) => object.vars.push(value),
            None => objects.push(VarObject::new(weight.object, vec![value])),
        }
    }
    objects
}

/// Pairs every weight of the model with its array in `store`, checking counts and shapes before anything is
/// assigned. As in Keras 3, a layer the store lacks is an error, as is an object of one of the model's layers
/// holding another number of variables; objects of layers the model lacks are ignored.
pub(crate) fn pair_layer_weights<'a>(
    network: &Network,
    path: &Path,
    store: &'a VarStore,
) -> Result<Vec<(Variable, &'a ndarray::ArrayD<f32>)>> {
    let mut pairs = Vec::new();
    let mut used: Vec<(&str, usize)> = Vec::new();
    for stored in stored_weights(network, "layers").1 {
        let (layer, object_name, weight) = (&stored.layer, &stored.object, &stored.variable);
        let object = store.object(object_name).ok_or_else(|| {
            file_error(
                path,
                format!("layer `{layer}`: the file has no `{object_name}/vars`"),
            )
        })?;
        let next = used.iter_mut().find(|(p, _)| *p == object.path.as_str());
        let index = match next {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                used.push((object.path.as_str(), 1));
                0
            }
        };
        let value = object.vars.get(index).ok_or_else(|| {
            file_error(
                path,
                format!(
                    "layer `{layer}`: `{object_name}/vars` holds {} variables, the model has more",
                    object.vars.len()
                ),
            )
        })?;
        if value.shape() != weight.shape().as_slice() {
            return Err(file_error(
                path,
                format!(
                    "layer `{layer}`: weight `{}` (`{object_name}/vars/{index}`) has shape {:?} in the file, the model expects {:?}",
                    weight.name(),
                    value.shape(),
                    weight.shape()
                ),
            ));
        }
        pairs.push((weight.clone(), value));
    }
    // Objects under no layer of the model are not read, as Keras 3 walks the model, not the file.
    let layers = stored_weights(network, "layers").0;
    let visited = |object: &str| {
        layers
            .iter()
            .any(|l| object == l || object.starts_with(&format!("{l}/")))
    };
    for object in store.objects.iter().filter(|o| visited(&o.path)) {
        let taken = used
            .iter()
            .find(|(p, _)| *p == object.path)
            .map_or(0, |(_, n)| *n);
        if taken != object.vars.len() {
            return Err(file_error(
                path,
                format!(
                    "`{}/vars` holds {} variables, the model's matching layer takes {taken}",
                    object.path,
                    object.vars.len()
                ),
            ));
        }
    }
    Ok(pairs)
}

/// The groups of slots Keras 3.15 creates together for `class` (their variables alternate parameter by
/// parameter); any other slot is a group of its own.
fn slot_groups(class: &str, slot_names: &[&'static str]) -> Vec<Vec<&'static str>> {
    let together: &[&str] = match class {
        "Adam" | "AdamW" | "Nadam" => &["momentum", "velocity"],
        "Adamax" => &["momentum", "norm"],
        "Ftrl" => &["accumulator", "linear"],
        "Adadelta" => &["accumulated_grad", "accumulated_delta_var"],
        _ => &[],
    };
    let mut groups: Vec<Vec<&'static str>> = Vec::new();
    let joint: Vec<&'static str> = slot_names
        .iter()
        .copied()
        .filter(|s| together.contains(s))
        .collect();
    if !joint.is_empty() {
        groups.push(joint);
    }
    groups.extend(
        slot_names
            .iter()
            .filter(|s| !together.contains(s))
            .map(|s| vec![*s]),
    );
    groups
}

/// `(param_index, slot)` in Keras 3's `optimizer.variables` order after the learning rate (also the order of
/// a legacy `.h5`'s `optimizer_weights`, which Keras 3 assigns by position).
pub(crate) fn slot_order(opt: &dyn Optimizer, params: usize) -> Vec<(usize, &'static str)> {
    let mut order = Vec::new();
    for group in slot_groups(opt.class_name(), &opt.slot_names()) {
        for param in 0..params {
            order.extend(group.iter().map(|slot| (param, *slot)));
        }
    }
    order
}

/// The optimizer's variables as Keras 3 stores them: the learning rate (none when it is a schedule, as in
/// Keras), the slots, and Nadam's `u_product`.
pub(crate) fn optimizer_vars(opt: &dyn Optimizer, params: usize) -> OptimizerVars {
    let state = opt.state();
    let mut vars = Vec::new();
    if opt.schedule().is_none() {
        vars.push(
            ndarray::arr0(state.learning_rate.unwrap_or(opt.learning_rate()) as f32).into_dyn(),
        );
    }
    if !state.slots.is_empty() {
        for (param, slot) in slot_order(opt, params) {
            if let Some(found) = state
                .slots
                .iter()
                .find(|s| s.param_index == param && s.slot == slot)
            {
                vars.push(found.value.clone());
            }
        }
        if let Some(u_product) = rkeras_optim::keras_u_product(opt) {
            vars.push(ndarray::arr0(u_product).into_dyn());
        }
    }
    OptimizerVars {
        name: opt.name().to_string(),
        iterations: state.iterations as i64,
        vars,
    }
}

/// How many variables Keras 3's optimizer has (`len(optimizer.variables)`, the iteration counter included):
/// built (as `load_model` builds it, or a first training step) with its slots, else the counter and learning
/// rate alone (as long as rkeras's optimizer has not stepped).
pub(crate) fn optimizer_variable_count(opt: &dyn Optimizer, params: usize, built: bool) -> usize {
    if !built {
        return 1 + optimizer_vars(opt, params).vars.len();
    }
    let slots = slot_order(opt, params).len();
    let u_product = usize::from(rkeras_optim::keras_u_product(opt).is_some() && slots > 0);
    1 + usize::from(opt.schedule().is_none()) + slots + u_product
}

/// The optimizer state of Keras 3's `optimizer/vars`, checked against the model's trainable weights.
pub(crate) fn optimizer_state(
    opt: &dyn Optimizer,
    params: &[Variable],
    path: &Path,
    saved: &OptimizerVars,
) -> Result<OptimizerState> {
    // With a schedule Keras stores no learning rate.
    let rate_vars = usize::from(opt.schedule().is_none());
    let learning_rate = saved
        .vars
        .first()
        .filter(|_| rate_vars == 1)
        .and_then(|v| v.iter().next())
        .map(|&v| f64::from(v));
    let mut slot_vars = saved.vars.get(rate_vars..).unwrap_or_default();
    // Nadam's trailing `u_product` is recomputed from the step count.
    if opt.class_name() == "Nadam" && slot_vars.last().is_some_and(|v| v.ndim() == 0) {
        slot_vars = &slot_vars[..slot_vars.len() - 1];
    }
    let order = slot_order(opt, params.len());
    // An optimizer that never stepped (or that Keras did not build) has no slots yet.
    if !slot_vars.is_empty() && slot_vars.len() != order.len() {
        return Err(file_error(
            path,
            format!(
                "`optimizer/vars` holds {} slot variables, the model's {} needs {} ({} slots x {} weights)",
                slot_vars.len(),
                opt.class_name(),
                order.len(),
                opt.slot_names().len(),
                params.len()
            ),
        ));
    }
    let mut slots = Vec::new();
    for (i, (value, (param, slot))) in slot_vars.iter().zip(order).enumerate() {
        let expected = params[param].shape();
        if value.shape() != expected.as_slice() {
            return Err(file_error(
                path,
                format!(
                    "`optimizer/vars/{}` ({slot} of trainable weight {param}) has shape {:?}, the weight {expected:?}",
                    i + 2,
                    value.shape()
                ),
            ));
        }
        slots.push(SlotArray {
            param_index: param,
            slot: slot.to_string(),
            value: value.clone(),
        });
    }
    Ok(OptimizerState {
        iterations: saved.iterations.max(0) as u64,
        learning_rate,
        slots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeras_optim::{Adam, AdamConfig, RMSpropConfig};

    #[test]
    fn recurrent_cells_are_their_own_objects() {
        assert_eq!(object_path("layers/dense", "kernel"), "layers/dense");
        assert_eq!(
            layer_object_path("TimeDistributed", "layers/time_distributed", "kernel"),
            "layers/time_distributed/layer"
        );
        assert_eq!(
            layer_object_path(
                "TimeDistributed",
                "layers/time_distributed",
                "lstm_cell/kernel"
            ),
            "layers/time_distributed/layer/cell"
        );
        assert_eq!(
            layer_object_path(
                "Bidirectional",
                "layers/bidirectional",
                "forward_lstm/lstm_cell/kernel"
            ),
            "layers/bidirectional/forward_layer/cell"
        );
        assert_eq!(
            layer_object_path(
                "Bidirectional",
                "layers/bidirectional_1",
                "backward_gru/gru_cell/bias"
            ),
            "layers/bidirectional_1/backward_layer/cell"
        );
        assert_eq!(
            layer_object_path(
                "MultiHeadAttention",
                "layers/multi_head_attention",
                "attention_output/bias"
            ),
            "layers/multi_head_attention/output_dense"
        );
        assert_eq!(
            layer_object_path(
                "MultiHeadAttention",
                "layers/multi_head_attention_1",
                "value/kernel"
            ),
            "layers/multi_head_attention_1/value_dense"
        );
        assert_eq!(
            object_path("layers/lstm", "lstm_cell/kernel"),
            "layers/lstm/cell"
        );
        assert_eq!(
            object_path("layers/gru_1", "gru_cell/bias"),
            "layers/gru_1/cell"
        );
    }

    #[test]
    fn class_names_become_keras_snake_case() {
        // Keras 3.15's `naming.to_snake_case` of each.
        for (class, snake) in [
            ("Dense", "dense"),
            ("InputLayer", "input_layer"),
            ("BatchNormalization", "batch_normalization"),
            ("Conv2D", "conv2d"),
            ("MaxPooling2D", "max_pooling2d"),
            ("LSTM", "lstm"),
            ("SimpleRNN", "simple_rnn"),
            ("GlobalAveragePooling1D", "global_average_pooling1d"),
            ("Conv2DTranspose", "conv2d_transpose"),
        ] {
            assert_eq!(to_snake_case(class), snake, "{class}");
        }
    }

    #[test]
    fn slots_follow_keras_3_15_variable_order() {
        // Keras 3.15: adam/kernel_momentum, adam/kernel_velocity, adam/bias_momentum, adam/bias_velocity,
        // then adam/kernel_velocity_hat, adam/bias_velocity_hat.
        let amsgrad = AdamConfig::default().with_amsgrad(true).build().unwrap();
        assert_eq!(
            slot_order(&amsgrad, 2),
            [
                (0, "momentum"),
                (0, "velocity"),
                (1, "momentum"),
                (1, "velocity"),
                (0, "velocity_hat"),
                (1, "velocity_hat")
            ]
        );
        assert_eq!(
            slot_order(&Adam::default(), 1),
            [(0, "momentum"), (0, "velocity")]
        );
        // RMSprop creates each slot for every parameter in turn.
        let rms = RMSpropConfig::default()
            .with_momentum(0.5)
            .with_centered(true)
            .build()
            .unwrap();
        assert_eq!(
            slot_order(&rms, 2),
            [
                (0, "velocity"),
                (1, "velocity"),
                (0, "momentum"),
                (1, "momentum"),
                (0, "average_gradient"),
                (1, "average_gradient")
            ]
        );
    }
}
