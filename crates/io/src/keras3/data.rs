//! Plain data of Keras 3's weight store (`model.weights.h5` in a `.keras` archive, or a `.weights.h5`
//! file) and of the archive itself.
//!
//! ```
//! use ndarray::{ArrayD, IxDyn};
//! use rkeras_io::{VarObject, VarStore};
//!
//! let store = VarStore {
//!     objects: vec![VarObject::new("layers/lstm/cell", vec![ArrayD::zeros(IxDyn(&[4, 12]))])],
//!     optimizer: None,
//! };
//! assert_eq!(store.object("layers/lstm/cell").map(|o| o.vars.len()), Some(1));
//! assert!(store.object("layers/lstm").is_none());
//! ```

use ndarray::ArrayD;

/// One saveable object's variables: the group `<path>/vars` holding datasets `0`, `1`, ...
#[derive(Debug, Clone, PartialEq)]
pub struct VarObject {
    /// The object's path in the store (`layers/dense`, `layers/lstm/cell`; empty for the model).
    pub path: String,
    /// Its variables in Keras's order (`vars/0`, `vars/1`, ...).
    pub vars: Vec<ArrayD<f32>>,
}

impl VarObject {
    /// Pairs a path with its variables.
    pub fn new(path: impl Into<String>, vars: Vec<ArrayD<f32>>) -> Self {
        Self {
            path: path.into(),
            vars,
        }
    }
}

/// The optimizer's variables (`optimizer/vars`): the iteration counter (`vars/0`, an integer scalar),
/// then the others in Keras's `optimizer.variables` order (learning rate, then the slots).
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerVars {
    /// The optimizer's name (the `vars` group's `name` attribute: `adam`, `rm_sprop`).
    pub name: String,
    /// How many steps have been applied (`vars/0`).
    pub iterations: i64,
    /// `vars/1`, `vars/2`, ...: the learning rate and the slot variables.
    pub vars: Vec<ArrayD<f32>>,
}

/// Everything a Keras 3 weight store holds.
#[derive(Debug, Clone, PartialEq)]
pub struct VarStore {
    /// Every object with a `vars` group except the optimizer, in the order written (reading lists them
    /// sorted by path).
    pub objects: Vec<VarObject>,
    /// The optimizer's variables, when saved.
    pub optimizer: Option<OptimizerVars>,
}

impl VarStore {
    /// The object at `path`, if the store has one.
    pub fn object(&self, path: &str) -> Option<&VarObject> {
        self.objects.iter().find(|o| o.path == path)
    }
}

/// A `.keras` archive: `config.json`, `metadata.json` and the weight store `model.weights.h5`.
#[derive(Debug, Clone, PartialEq)]
pub struct KerasArchive {
    /// `config.json`: the model's Keras 3 serialization (`module`, `class_name`, `config`,
    /// `registered_name`, `build_config`, `compile_config`).
    pub config: String,
    /// The Keras version `metadata.json` names (`3.15.1`).
    pub keras_version: String,
    /// `model.weights.h5`.
    pub weights: VarStore,
}
