//! Keras 3's native formats for whole models (`.keras`) and weights (`.weights.h5`): what `save`,
//! `load_model`, `save_weights` and `load_weights` do when the path has one of those extensions, as Keras
//! chooses the format by extension.
//!
//! `config.json` is Keras 3's serialization of the model (`module`, `class_name`, `config`,
//! `registered_name`, `build_config`, and `compile_config` when compiled); the weight store lays the
//! variables out as [`crate::keras3_vars`] describes.

use crate::compile::Compiled;
use crate::error::{EngineError, Result};
use crate::keras3_vars::{
    layer_objects, optimizer_state, optimizer_variable_count, optimizer_vars, pair_layer_weights,
};
use crate::model::Model;
use rkeras_io::{KerasArchive, VarStore};
use rkeras_layers::Network;
use rkeras_optim::optimizer_from_config;
use rkeras_tensor::Variable;
use serde_json::{Value, json};
use std::path::Path;

/// The file formats a path's extension selects, as Keras 3 reads extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `.keras`: Keras 3's zip archive.
    Archive,
    /// `.weights.h5`: Keras 3's weights-only store.
    Weights,
    /// Anything else (`.h5`, `.hdf5`): Keras's legacy HDF5 layout.
    LegacyH5,
}

/// The format `path`'s name selects.
pub(crate) fn format_of(path: &Path) -> Format {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".keras") {
        Format::Archive
    } else if name.ends_with(".weights.h5") {
        Format::Weights
    } else {
        Format::LegacyH5
    }
}

fn file_error(path: &Path, reason: impl Into<String>) -> EngineError {
    EngineError::File {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// `(variable)` of every trainable weight, in the order the optimizer sees them.
fn trainable(network: &Network) -> Vec<Variable> {
    network
        .layers()
        .iter()
        .flat_map(|layer| layer.weights().into_iter().filter(Variable::trainable))
        .collect()
}

fn compile_config(compiled: &Compiled) -> Value {
    let mut config = json!({
        "optimizer": {
            "module": "keras.optimizers",
            "class_name": compiled.optimizer.class_name(),
            "config": compiled.optimizer.config(),
            "registered_name": null,
        },
        "loss": null,
        "loss_weights": null,
        "metrics": null,
        "weighted_metrics": null,
        "run_eagerly": false,
        "steps_per_execution": 1,
        "jit_compile": "auto",
    });
    if let Some(map) = config.as_object_mut() {
        crate::training_config::insert(map, &compiled.config, &compiled.outputs);
    }
    config
}

/// The model's `config.json`.
fn model_config(model: &Model) -> Value {
    let mut config = model.network.to_config(&model.name);
    if let Value::Object(map) = &mut config {
        if model.network.is_sequential() {
            let input_shape = map
                .get("config")
                .and_then(|c| c.get("build_input_shape"))
                .cloned()
                .unwrap_or(Value::Null);
            map.insert("build_config".into(), json!({ "input_shape": input_shape }));
        } else {
            map.insert("module".into(), json!("keras.src.models.functional"));
            map.insert("registered_name".into(), json!("Functional"));
            map.insert("build_config".into(), json!({"input_shape": null}));
        }
        if let Some(compiled) = &model.compiled {
            map.insert("compile_config".into(), compile_config(compiled));
        }
    }
    config
}

/// The model's weight store (with the optimizer's variables when `with_optimizer` and compiled).
fn var_store(model: &Model, with_optimizer: bool) -> VarStore {
    let params = trainable(&model.network).len();
    VarStore {
        objects: layer_objects(&model.network),
        optimizer: model
            .compiled
            .as_ref()
            .filter(|_| with_optimizer)
            .map(|c| optimizer_vars(c.optimizer.as_ref(), params)),
    }
}

/// Saves `model` as a `.keras` archive.
pub(crate) fn save_archive(model: &Model, path: &Path) -> Result<()> {
    Ok(rkeras_io::save_keras_file(
        path,
        &KerasArchive {
            config: model_config(model).to_string(),
            keras_version: rkeras_io::KERAS_VERSION.to_string(),
            weights: var_store(model, true),
        },
    )?)
}

/// Saves `model`'s weights as a `.weights.h5` file (with the optimizer's variables, as Keras 3 does).
pub(crate) fn save_weights_store(model: &Model, path: &Path) -> Result<()> {
    Ok(rkeras_io::save_keras_weights_file(
        path,
        &var_store(model, true),
    )?)
}

/// Loads the layers' weights of a store into `network` (by object path, i.e. by layer name, as Keras 3),
/// all or none.
fn assign_store(network: &Network, path: &Path, store: &VarStore) -> Result<()> {
    let pairs = pair_layer_weights(network, path, store)?;
    for (variable, value) in pairs {
        variable.set_value(value.clone())?;
    }
    Ok(())
}

/// Keras 3's `Optimizer.load_own_variables`: the saved variables are loaded when there are as many as the
/// optimizer has (see [`optimizer_variable_count`]; `built` when `load_model` has just compiled it, as Keras
/// builds it there), else skipped with Keras's warning, the optimizer left as it was. A model that is not
/// compiled ignores them. Shapes are checked before anything changes.
fn restore_optimizer(model: &mut Model, path: &Path, store: &VarStore, built: bool) -> Result<()> {
    let params = trainable(&model.network);
    let Some(compiled) = model.compiled.as_mut() else {
        return Ok(());
    };
    let opt = compiled.optimizer.as_ref();
    let has = optimizer_variable_count(opt, params.len(), built);
    let saved_count = store.optimizer.as_ref().map_or(0, |o| 1 + o.vars.len());
    let Some(saved) = store.optimizer.as_ref().filter(|_| saved_count == has) else {
        eprintln!(
            "rkeras: warning: {}: skipping variable loading for optimizer '{}', because it has {has} variables \
             whereas the saved optimizer has {saved_count} variables{}",
            path.display(),
            opt.name(),
            if !built && opt.state().slots.is_empty() && !opt.slot_names().is_empty() {
                " (it has not been built yet: train a step first, as in Keras)"
            } else {
                ""
            }
        );
        return Ok(());
    };
    let state = optimizer_state(opt, &params, path, saved)?;
    compiled.optimizer.load_state(&state)?;
    Ok(())
}

/// Keras 3's `load_weights` of a `.keras` archive or a `.weights.h5` file: the layers' weights by store path
/// (by class and position, all or none), then the optimizer's variables into a compiled model whose
/// optimizer has as many (one that has trained, or one without slots), as Keras does.
pub(crate) fn load_weights_into(model: &mut Model, path: &Path) -> Result<()> {
    let store = match format_of(path) {
        Format::Archive => rkeras_io::load_keras_file(path)?.weights,
        _ => rkeras_io::load_keras_weights_file(path)?,
    };
    assign_store(&model.network, path, &store)?;
    restore_optimizer(model, path, &store, false)
}

/// The name of a serialized Keras object: `"mse"`, `{"class_name": "MeanSquaredError", ...}`, or a function as
/// Keras serializes one, `{"module": "builtins", "class_name": "function", "config": "mse"}`.
pub(crate) fn object_name(value: &Value) -> Option<&str> {
    if let Some(name) = value.as_str() {
        return Some(name);
    }
    match value.get("class_name").and_then(Value::as_str) {
        Some("function") => value.get("config").and_then(Value::as_str),
        other => other,
    }
}

fn compile_from_config(model: &mut Model, path: &Path, config: &Value) -> Result<()> {
    let opt = &config["optimizer"];
    let optimizer = match opt.get("config") {
        Some(opt_config) => optimizer_from_config(object_name(opt).unwrap_or(""), opt_config)?,
        None => rkeras_optim::optimizer_from_name(object_name(opt).unwrap_or(""))?,
    };
    let Some(compile) = crate::training_config::from_json(
        &config["loss"],
        &config["loss_weights"],
        &config["metrics"],
    )?
    else {
        return Err(file_error(path, "compile_config: no loss rkeras can read"));
    };
    model.compile_with(optimizer, compile)?;
    Ok(())
}

/// Rebuilds a model from a `.keras` archive: architecture, weights, and when it was compiled the optimizer
/// with its state.
pub(crate) fn load_archive(path: &Path) -> Result<Model> {
    let archive = rkeras_io::load_keras_file(path)?;
    let config: Value = serde_json::from_str(&archive.config)
        .map_err(|e| file_error(path, format!("config.json: {e}")))?;
    let mut model = crate::saving::model_from_config(&config, &archive.keras_version)?;
    assign_store(&model.network, path, &archive.weights)?;
    // Keras 3.15 writes `compile_config: {}` for a model never compiled.
    let compiled = config
        .get("compile_config")
        .filter(|c| !c.is_null() && c.as_object().is_none_or(|o| !o.is_empty()));
    if let Some(compile) = compiled {
        compile_from_config(&mut model, path, compile)?;
        restore_optimizer(&mut model, path, &archive.weights, true)?;
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_names_are_read_in_every_keras_form() {
        assert_eq!(object_name(&json!("mse")), Some("mse"));
        assert_eq!(
            object_name(
                &json!({"module": "keras.losses", "class_name": "MeanSquaredError", "config": {}})
            ),
            Some("MeanSquaredError")
        );
        let function = json!({"module": "builtins", "class_name": "function",
            "config": "sparse_categorical_crossentropy", "registered_name": "function"});
        assert_eq!(
            object_name(&function),
            Some("sparse_categorical_crossentropy")
        );
        assert_eq!(object_name(&json!(null)), None);
    }

    #[test]
    fn formats_follow_the_extension_as_in_keras() {
        assert_eq!(format_of(Path::new("run/model.keras")), Format::Archive);
        assert_eq!(format_of(Path::new("ckpt.weights.h5")), Format::Weights);
        assert_eq!(format_of(Path::new("CKPT.WEIGHTS.H5")), Format::Weights);
        assert_eq!(format_of(Path::new("model.h5")), Format::LegacyH5);
        assert_eq!(format_of(Path::new("weights.hdf5")), Format::LegacyH5);
    }
}
