//! [`Variable`]: a named, trainable weight whose value an optimizer updates in place.

use crate::error::{Result, TensorError};
use crate::tensor::{Tensor, TensorId};
use ndarray::ArrayD;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockWriteGuard};

struct VariableInner {
    id: TensorId,
    name: String,
    value: RwLock<Arc<ArrayD<f32>>>,
    trainable: AtomicBool,
}

/// A weight: a shared handle to a value that persists across training steps.
///
/// Every [`Variable::tensor`] call returns a graph leaf carrying the variable's id, so a variable used twice in
/// one graph (a shared layer) receives the sum of both gradients under that one id.
///
/// ```
/// use rkeras_tensor::Variable;
/// let v = Variable::new("dense/kernel", ndarray::ArrayD::zeros(ndarray::IxDyn(&[2, 3])));
/// let shared = v.clone(); // same weight, not a copy
/// v.set_value(ndarray::ArrayD::ones(ndarray::IxDyn(&[2, 3])))?;
/// assert_eq!(shared.value().sum(), 6.0);
/// # Ok::<(), rkeras_tensor::TensorError>(())
/// ```
#[derive(Clone)]
pub struct Variable(Arc<VariableInner>);

impl std::fmt::Debug for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variable")
            .field("name", &self.0.name)
            .field("shape", &self.shape())
            .finish()
    }
}

impl Variable {
    /// A trainable variable.
    pub fn new(name: impl Into<String>, value: ArrayD<f32>) -> Variable {
        Variable(Arc::new(VariableInner {
            id: TensorId::fresh(),
            name: name.into(),
            value: RwLock::new(Arc::new(crate::tensor::row_major(value))),
            trainable: AtomicBool::new(true),
        }))
    }

    /// The variable's name (`kernel`, `embeddings`, …).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The id its gradients are stored under.
    pub fn id(&self) -> TensorId {
        self.0.id
    }

    /// Whether the optimizer updates it.
    pub fn trainable(&self) -> bool {
        self.0.trainable.load(Ordering::Relaxed)
    }

    /// Freezes or unfreezes the variable.
    pub fn set_trainable(&self, trainable: bool) {
        self.0.trainable.store(trainable, Ordering::Relaxed);
    }

    /// The current value (a shared handle, not a copy).
    pub fn value(&self) -> Arc<ArrayD<f32>> {
        let guard = self
            .0
            .value
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&guard)
    }

    /// The shape of the value.
    pub fn shape(&self) -> Vec<usize> {
        self.value().shape().to_vec()
    }

    /// Replaces the value; the shape must stay the same.
    pub fn set_value(&self, value: ArrayD<f32>) -> Result<()> {
        let mut guard = self
            .0
            .value
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard.shape() != value.shape() {
            return Err(TensorError::shape_mismatch(
                "Variable::set_value",
                guard.shape(),
                value.shape(),
            ));
        }
        *guard = Arc::new(crate::tensor::row_major(value));
        Ok(())
    }

    /// Updates the value in place (copy-on-write if a graph still holds the old value).
    pub fn update<R>(&self, f: impl FnOnce(&mut ArrayD<f32>) -> R) -> R {
        let mut guard = self
            .0
            .value
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(Arc::make_mut(&mut guard))
    }

    /// Exclusive, in-place access to the value until the guard drops (copy-on-write if a graph still holds it).
    /// Lets an optimizer update many variables at once without copying them.
    pub fn write(&self) -> ValueGuard<'_> {
        ValueGuard(
            self.0
                .value
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// A graph leaf holding the current value; gradients of it are keyed by [`Variable::id`].
    pub fn tensor(&self) -> Tensor {
        Tensor::from_parts(self.0.id, self.value(), self.trainable(), None)
    }

    /// Whether two handles name the same variable.
    pub fn same_as(&self, other: &Variable) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Write access to a [`Variable`]'s value (see [`Variable::write`]).
pub struct ValueGuard<'a>(RwLockWriteGuard<'a, Arc<ArrayD<f32>>>);

impl Deref for ValueGuard<'_> {
    type Target = ArrayD<f32>;
    fn deref(&self) -> &ArrayD<f32> {
        &self.0
    }
}

impl DerefMut for ValueGuard<'_> {
    fn deref_mut(&mut self) -> &mut ArrayD<f32> {
        Arc::make_mut(&mut self.0)
    }
}
