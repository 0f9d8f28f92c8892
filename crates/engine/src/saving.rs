//! Saving and loading models in Keras's `.h5` layout (through `rkeras-io`), and the resume state that makes
//! a restored run continue bit for bit. Paths ending in `.keras` or `.weights.h5` select Keras 3's native
//! formats instead (the `keras3_format` module), as Keras chooses by extension.

use crate::compile::Compiled;
use crate::error::{EngineError, Result};
use crate::keras3_format::{self, Format, format_of};
use crate::model::Model;
use crate::resume_state::ResumeState;
use rkeras_io::{
    ExtraState, LayerWeights, ModelFile, NamedArray, OptimizerState as FileOptimizerState,
};
use rkeras_layers::{Layer, LayerRef, Network};
use rkeras_optim::{OptimizerState, SlotArray, keras_variable_paths, optimizer_from_config};
use rkeras_tensor::Variable;
use serde_json::{Value, json};
use std::path::Path;

/// The `keras_version` rkeras writes (the Keras whose layout it follows).
pub const KERAS_VERSION: &str = rkeras_io::KERAS_VERSION;

/// A layer's weights, each named by the layer that owns it (`dense_5/kernel`; inside a model used as a layer,
/// the inner layer's name, as Keras's variable paths read), in the layer's weight order.
fn named_weights(layer: &dyn Layer) -> Vec<(String, Variable)> {
    match layer.nested_network() {
        Some(inner) => inner
            .layers()
            .iter()
            .flat_map(|l| named_weights(l.as_ref()))
            .collect(),
        None => layer
            .weights()
            .into_iter()
            .map(|w| (format!("{}/{}", layer.name(), w.name()), w))
            .collect(),
    }
}

/// A layer's weights as Keras's legacy `.h5` lists them (Keras's `_legacy_weights`): the trainable ones, then
/// the others, each in weight order.
fn legacy_weights(layer: &dyn Layer) -> Vec<(String, Variable)> {
    let mut named = named_weights(layer);
    named.sort_by_key(|(_, w)| !w.trainable());
    named
}

fn layer_weights(network: &Network) -> Vec<LayerWeights> {
    network
        .keras_layers()
        .iter()
        .map(|layer| LayerWeights {
            layer_name: layer.name().to_string(),
            weights: legacy_weights(layer.as_ref())
                .into_iter()
                .map(|(name, w)| NamedArray {
                    name,
                    value: (*w.value()).clone(),
                })
                .collect(),
        })
        .collect()
}

/// `(path, variable)` of every trainable weight, in the order the optimizer sees them.
fn trainable_paths(network: &Network) -> Vec<(String, Variable)> {
    network
        .layers()
        .iter()
        .flat_map(|layer| named_weights(layer.as_ref()))
        .filter(|(_, w)| w.trainable())
        .collect()
}

fn optimizer_to_file(model: &Model) -> Option<FileOptimizerState> {
    let compiled = model.compiled.as_ref()?;
    let opt = compiled.optimizer.as_ref();
    let state = opt.state();
    let params = trainable_paths(&model.network);
    let param_paths: Vec<&str> = params.iter().map(|(p, _)| p.as_str()).collect();
    let names = keras_variable_paths(opt, &param_paths);
    let mut weights = Vec::new();
    // With a schedule Keras keeps no learning-rate variable.
    if opt.schedule().is_none() {
        weights.push(NamedArray {
            name: names.get(1).cloned().unwrap_or_default(),
            value: ndarray::arr0(state.learning_rate.unwrap_or(opt.learning_rate()) as f32)
                .into_dyn(),
        });
    }
    // Keras 3 assigns `optimizer_weights` to `optimizer.variables` by position: its order, not slot by slot.
    if !state.slots.is_empty() {
        for (param, slot_name) in crate::keras3_vars::slot_order(opt, params.len()) {
            if let Some(slot) = state
                .slots
                .iter()
                .find(|s| s.param_index == param && s.slot == slot_name)
            {
                weights.push(NamedArray {
                    name: rkeras_optim::keras_slot_path(
                        opt.name(),
                        param_paths.get(param).copied().unwrap_or(""),
                        slot_name,
                    ),
                    value: slot.value.clone(),
                });
            }
        }
    }
    // Keras's Nadam keeps `u_product` (an unnamed variable) after its slots; rkeras recomputes it.
    if let Some(u_product) = rkeras_optim::keras_u_product(opt).filter(|_| !state.slots.is_empty())
    {
        weights.push(NamedArray {
            name: format!("{}/variable", opt.name()),
            value: ndarray::arr0(u_product).into_dyn(),
        });
    }
    Some(FileOptimizerState {
        iterations_name: names.first().cloned().unwrap_or_default(),
        iterations: state.iterations as i64,
        weights,
    })
}

fn training_config(compiled: &Compiled) -> Value {
    let mut config = json!({
        "loss": null,
        "loss_weights": null,
        "metrics": null,
        "weighted_metrics": null,
        "optimizer_config": { "class_name": compiled.optimizer.class_name(), "config": compiled.optimizer.config() },
    });
    if let Some(map) = config.as_object_mut() {
        crate::training_config::insert(map, &compiled.config, &compiled.outputs);
    }
    config
}

fn model_file(model: &Model, extra: Option<ExtraState>) -> ModelFile {
    ModelFile {
        keras_version: KERAS_VERSION.to_string(),
        backend: rkeras_io::BACKEND.to_string(),
        model_config: Some(
            crate::legacy_config::for_legacy_reader(model.network.to_config(&model.name))
                .to_string(),
        ),
        training_config: model
            .compiled
            .as_ref()
            .map(|c| training_config(c).to_string()),
        layers: layer_weights(&model.network),
        optimizer: optimizer_to_file(model),
        extra,
    }
}

fn file_error(path: &Path, reason: impl Into<String>) -> EngineError {
    EngineError::File {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Checks every saved weight against the model before changing any, then assigns them (never half-loaded).
fn assign(path: &Path, pairs: Vec<(&Variable, &NamedArray, &str)>) -> Result<()> {
    for (var, saved, layer) in &pairs {
        if var.shape() != saved.value.shape() {
            return Err(file_error(
                path,
                format!(
                    "layer `{layer}`: weight `{}` has shape {:?} in the file, the model expects {:?}",
                    saved.name,
                    saved.value.shape(),
                    var.shape()
                ),
            ));
        }
    }
    for (var, saved, _) in pairs {
        var.set_value(saved.value.clone())?;
    }
    Ok(())
}

fn load_layer_weights(
    network: &Network,
    path: &Path,
    saved: &[LayerWeights],
    by_name: bool,
) -> Result<()> {
    let layers: Vec<_> = network
        .layers()
        .iter()
        .filter(|l| !l.weights().is_empty())
        .collect();
    let mut pairs: Vec<(Variable, NamedArray, String)> = Vec::new();
    if by_name {
        for layer in &layers {
            let Some(entry) = saved.iter().find(|s| s.layer_name == layer.name()) else {
                continue;
            };
            push_layer(&mut pairs, path, layer.name(), &legacy_order(layer), entry)?;
        }
    } else {
        let saved: Vec<&LayerWeights> = saved.iter().filter(|s| !s.weights.is_empty()).collect();
        if saved.len() != layers.len() {
            let saved_names: Vec<&str> = saved.iter().map(|s| s.layer_name.as_str()).collect();
            let model_names: Vec<&str> = layers.iter().map(|l| l.name()).collect();
            return Err(file_error(
                path,
                format!(
                    "the file holds {} layers with weights ({}), the model has {} ({})",
                    saved.len(),
                    saved_names.join(", "),
                    layers.len(),
                    model_names.join(", ")
                ),
            ));
        }
        for (layer, entry) in layers.iter().zip(saved) {
            push_layer(&mut pairs, path, layer.name(), &legacy_order(layer), entry)?;
        }
    }
    assign(
        path,
        pairs.iter().map(|(v, a, l)| (v, a, l.as_str())).collect(),
    )
}

fn legacy_order(layer: &LayerRef) -> Vec<Variable> {
    legacy_weights(layer.as_ref())
        .into_iter()
        .map(|(_, w)| w)
        .collect()
}

fn push_layer(
    pairs: &mut Vec<(Variable, NamedArray, String)>,
    path: &Path,
    layer: &str,
    weights: &[Variable],
    entry: &LayerWeights,
) -> Result<()> {
    if weights.len() != entry.weights.len() {
        return Err(file_error(
            path,
            format!(
                "layer `{layer}` has {} weights, the file's `{}` has {}",
                weights.len(),
                entry.layer_name,
                entry.weights.len()
            ),
        ));
    }
    for (w, a) in weights.iter().zip(&entry.weights) {
        pairs.push((w.clone(), a.clone(), layer.to_string()));
    }
    Ok(())
}

fn load_optimizer(model: &mut Model, path: &Path, saved: &FileOptimizerState) -> Result<()> {
    let params = trainable_paths(&model.network);
    let Some(compiled) = model.compiled.as_mut() else {
        return Ok(());
    };
    let opt = compiled.optimizer.as_mut();
    let mut learning_rate = None;
    let mut slots = Vec::new();
    let mut slot_weights = Vec::new();
    for weight in &saved.weights {
        if weight.name.ends_with("/learning_rate") {
            // The file holds the rate as float32, the precision the optimizer holds it in.
            learning_rate = weight.value.iter().next().map(|&v| f64::from(v));
            continue;
        }
        // Nadam's scalar `u_product` (Keras names it `variable`): recomputed from the step count.
        let last = weight.name.rsplit('/').next().unwrap_or("");
        if opt.class_name() == "Nadam" && weight.value.ndim() == 0 && last.starts_with("variable") {
            continue;
        }
        slot_weights.push(weight);
    }
    // Slots pair by their name's slot suffix where every name has one (Keras 3.15 writes a parameter's slots
    // together, `…_kernel_momentum, …_kernel_velocity, …_bias_momentum`; earlier versions slot by slot), the
    // parameter being the position among that slot's arrays; otherwise by position, slot by slot (Keras 2).
    let slot_names = opt.slot_names();
    let expected = slot_names.len() * params.len();
    // An optimizer that never stepped has no slots yet (the file then holds none).
    if !slot_weights.is_empty() && slot_weights.len() != expected {
        return Err(file_error(
            path,
            format!(
                "the file holds {} optimizer slot arrays, the model's {} needs {expected} ({} slots x {} weights)",
                slot_weights.len(),
                opt.class_name(),
                slot_names.len(),
                params.len()
            ),
        ));
    }
    let positions = slot_positions(&slot_weights, &slot_names, params.len());
    for (weight, (slot_index, param_index)) in slot_weights.into_iter().zip(positions) {
        // A file without checksums (Keras) may carry a damaged shape: check it against the parameter.
        if let Some((param, variable)) = params.get(param_index)
            && variable.shape() != weight.value.shape()
        {
            return Err(file_error(
                path,
                format!(
                    "optimizer variable `{}` has shape {:?} in the file, the model's `{param}` has {:?}",
                    weight.name,
                    weight.value.shape(),
                    variable.shape()
                ),
            ));
        }
        slots.push(SlotArray {
            param_index,
            slot: slot_names[slot_index].to_string(),
            value: weight.value.clone(),
        });
    }
    opt.load_state(&OptimizerState {
        iterations: saved.iterations.max(0) as u64,
        learning_rate,
        slots,
    })?;
    Ok(())
}

/// The (slot, parameter) index of each saved slot array: by the slot suffix of its name (`…_momentum`) when
/// every name ends in one of `slot_names` and every slot holds `params` arrays, else by position, slot by slot.
fn slot_positions(
    weights: &[&NamedArray],
    slot_names: &[&str],
    params: usize,
) -> Vec<(usize, usize)> {
    let positional = || {
        (0..weights.len())
            .map(|i| (i / params.max(1), i % params.max(1)))
            .collect()
    };
    // Longest suffix first, so that `velocity_hat` is not read as `velocity`.
    let mut by_length: Vec<usize> = (0..slot_names.len()).collect();
    by_length.sort_by_key(|&i| std::cmp::Reverse(slot_names[i].len()));
    let mut seen = vec![0usize; slot_names.len()];
    let mut positions = Vec::with_capacity(weights.len());
    for weight in weights {
        let Some(slot) = by_length
            .iter()
            .copied()
            .find(|&i| weight.name.ends_with(&format!("_{}", slot_names[i])))
        else {
            return positional();
        };
        positions.push((slot, seen[slot]));
        seen[slot] += 1;
    }
    if seen.iter().all(|&n| n == params) {
        positions
    } else {
        positional()
    }
}

fn compile_from_training_config(model: &mut Model, path: &Path, text: &str) -> Result<()> {
    let config: Value = serde_json::from_str(text)
        .map_err(|e| file_error(path, format!("training_config: {e}")))?;
    let Some(opt) = config.get("optimizer_config") else {
        return Ok(());
    };
    let class = opt.get("class_name").and_then(Value::as_str).unwrap_or("");
    let optimizer = optimizer_from_config(class, opt.get("config").unwrap_or(&Value::Null))?;
    let field = |name: &str| config.get(name).unwrap_or(&Value::Null);
    let Some(compile) =
        crate::training_config::from_json(field("loss"), field("loss_weights"), field("metrics"))?
    else {
        return Ok(());
    };
    model.compile_with(optimizer, compile)?;
    Ok(())
}

impl Model {
    /// Saves architecture, weights and optimizer state, atomically: Keras 3's zip archive for a `.keras`
    /// path, Keras's legacy HDF5 layout otherwise (`model.save("x.h5")`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        // A Lambda's closure cannot be written: a typed error saying why, before any file is touched.
        self.network.check_serializable()?;
        if format_of(path) == Format::Archive {
            return keras3_format::save_archive(self, path);
        }
        Ok(rkeras_io::save_model_file(path, &model_file(self, None))?)
    }

    /// Saves the weights (Keras's `save_weights`), atomically: Keras 3's store for a `.weights.h5` path (with
    /// the optimizer's variables, as Keras 3 writes them), Keras's legacy HDF5 layout otherwise.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if format_of(path) == Format::Weights {
            return keras3_format::save_weights_store(self, path);
        }
        Ok(rkeras_io::save_weights_file(
            path,
            &layer_weights(&self.network),
        )?)
    }

    /// Loads weights saved by rkeras or Keras, as Keras 3's `load_weights` does. A `.keras` or `.weights.h5`
    /// file is read by store path (each layer's class and position, as Keras 3 stores them; objects of layers
    /// the model lacks are ignored, a layer the file lacks is an error), and its optimizer variables are
    /// loaded into a compiled model whose optimizer has as many (one that has trained, or one without
    /// slots; otherwise they are skipped with Keras's warning). Any other file (a legacy weights file or a
    /// whole-model file) is read by position, the optimizer untouched: the model's layers that have weights,
    /// in order, paired with the saved layers that have weights. Counts and shapes are checked before
    /// anything changes.
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if format_of(path) != Format::LegacyH5 {
            return keras3_format::load_weights_into(self, path);
        }
        load_layer_weights(
            &self.network,
            path,
            &rkeras_io::load_weights_file(path)?,
            false,
        )
    }

    /// Loads the weights of a legacy `.h5` file by layer name (Keras's `load_weights(path, by_name=True)`);
    /// layers absent from the file keep their weights. Keras 3's formats have no such mode: a `.keras` or
    /// `.weights.h5` path is an error, as in Keras.
    pub fn load_weights_by_name(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if format_of(path) != Format::LegacyH5 {
            return Err(file_error(
                path,
                "loading by name only reads legacy `.h5` files (Keras 3's formats are read by store path: use load_weights)",
            ));
        }
        load_layer_weights(
            &self.network,
            path,
            &rkeras_io::load_weights_file(path)?,
            true,
        )
    }
}

/// Rebuilds a model saved by rkeras or by Keras (`model.save("x.keras")` or `model.save("x.h5")`):
/// architecture from the model config, weights, and, when the file has a training (compile) config, the
/// compiled optimizer with its state.
///
/// A layer type rkeras lacks is an error naming it.
pub fn load_model(path: impl AsRef<Path>) -> Result<Model> {
    let path = path.as_ref();
    if format_of(path) == Format::Archive {
        return keras3_format::load_archive(path);
    }
    let file = rkeras_io::load_model_file(path)?;
    load_from_file(path, &file)
}

/// The (uncompiled) model a Keras model config describes, named as the config names it. `hard_sigmoid` means
/// Keras 1/2's formula in files those versions wrote, Keras 3's otherwise.
pub(crate) fn model_from_config(config: &Value, keras_version: &str) -> Result<Model> {
    let network = Network::from_config_written_by(config, keras_version)?;
    let name = config
        .pointer("/config/name")
        .and_then(Value::as_str)
        .unwrap_or("functional");
    Ok(Model::from_network(network).with_name(name))
}

fn load_from_file(path: &Path, file: &ModelFile) -> Result<Model> {
    let config_text = file.model_config.as_deref().ok_or_else(|| {
        file_error(
            path,
            "no model_config: a weights-only file (use load_weights)",
        )
    })?;
    let config: Value = serde_json::from_str(config_text)
        .map_err(|e| file_error(path, format!("model_config: {e}")))?;
    let mut model = model_from_config(&config, &file.keras_version)?;
    load_layer_weights(&model.network, path, &file.layers, false)?;
    if let Some(text) = &file.training_config {
        compile_from_training_config(&mut model, path, text)?;
        if let Some(opt) = &file.optimizer {
            load_optimizer(&mut model, path, opt)?;
        }
    }
    Ok(model)
}

/// Writes a backup: the whole model plus the resume state.
pub(crate) fn write_backup(model: &Model, path: &Path, state: &ResumeState) -> Result<()> {
    let extra = state.to_extra(path)?;
    Ok(rkeras_io::save_model_file(
        path,
        &model_file(model, Some(extra)),
    )?)
}

/// Restores a backup into `model` (weights and optimizer state) and returns the resume state. The state is
/// read and checked before the model changes.
pub(crate) fn restore_backup(model: &mut Model, path: &Path) -> Result<ResumeState> {
    let file = rkeras_io::load_model_file(path)?;
    let extra = file
        .extra
        .as_ref()
        .ok_or_else(|| file_error(path, "not a backup (no rkeras_state group)"))?;
    let state = ResumeState::from_extra(path, extra)?;
    load_layer_weights(&model.network, path, &file.layers, false)?;
    if let Some(opt) = &file.optimizer {
        load_optimizer(model, path, opt)?;
    }
    Ok(state)
}
