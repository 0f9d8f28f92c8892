//! Layers defined outside rkeras, rebuilt from saved configs: [`register_layer`] is Keras's
//! `@register_keras_serializable` / `custom_objects` in one call.
//!
//! A custom layer implements [`crate::Layer`] (its [`crate::Layer::class_name`] is what the file records) and
//! registers a function that rebuilds it from its [`crate::Layer::config`]. `load_model` then finds it by the
//! `registered_name` Keras writes (`"package>Name"`), by the part after `>`, or by the class name; a layer
//! class neither built in nor registered is an error listing both.
//!
//! ```
//! use rkeras_layers::{Dense, Layer, LayerRef, layer_from_config, register_layer};
//! use std::sync::Arc;
//! // A "custom" layer: here a Dense rebuilt under another registered name.
//! register_layer("Demo>Wide", |config| Ok(Arc::new(Dense::from_config(config)?) as LayerRef));
//! let config = serde_json::json!({"name": "wide", "units": 8});
//! let layer = layer_from_config("Wide", &config)?;
//! assert_eq!((layer.class_name(), layer.name()), ("Dense", "wide"));
//! # Ok::<(), rkeras_layers::LayersError>(())
//! ```

use crate::error::Result;
use crate::layer::LayerRef;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};

/// A function rebuilding a layer from its config.
pub type LayerFactory = Arc<dyn Fn(&Value) -> Result<LayerRef> + Send + Sync>;

fn registry() -> &'static RwLock<BTreeMap<String, LayerFactory>> {
    static REGISTRY: OnceLock<RwLock<BTreeMap<String, LayerFactory>>> = OnceLock::new();
    REGISTRY.get_or_init(|| RwLock::new(BTreeMap::new()))
}

/// Registers `from_config` under `name` (Keras's `registered_name`, `"package>Name"`, or a plain class name),
/// replacing an earlier registration of the same name. Registrations are process-wide.
pub fn register_layer(
    name: &str,
    from_config: impl Fn(&Value) -> Result<LayerRef> + Send + Sync + 'static,
) {
    let mut map = registry().write().unwrap_or_else(|e| e.into_inner());
    map.insert(name.to_string(), Arc::new(from_config));
}

/// Removes a registration; returns whether there was one.
pub fn unregister_layer(name: &str) -> bool {
    let mut map = registry().write().unwrap_or_else(|e| e.into_inner());
    map.remove(name).is_some()
}

/// The registered names, sorted.
pub fn registered_layer_names() -> Vec<String> {
    let map = registry().read().unwrap_or_else(|e| e.into_inner());
    map.keys().cloned().collect()
}

/// The factory for a saved layer: by its `registered_name` when given, else by its class name; each tried as
/// registered and as the part after a registered name's `>`.
pub(crate) fn find(class_name: &str, registered_name: Option<&str>) -> Option<LayerFactory> {
    let map = registry().read().unwrap_or_else(|e| e.into_inner());
    let short = |key: &str| key.rsplit('>').next().unwrap_or(key).to_string();
    let by = |wanted: &str| -> Option<LayerFactory> {
        map.get(wanted).cloned().or_else(|| {
            map.iter()
                .find(|(key, _)| short(key) == short(wanted))
                .map(|(_, f)| f.clone())
        })
    };
    registered_name.and_then(by).or_else(|| by(class_name))
}
