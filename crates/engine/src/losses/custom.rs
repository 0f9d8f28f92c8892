//! Custom losses: any `(y_true, y_pred) → per-sample values` function, from a closure or a type.

use rkeras_tensor::Tensor;

/// A loss written by the user: per-sample values of shape `[batch]` (or `[batch, …]`, averaged).
///
/// Closures implement it, so `Loss::custom("my_mse", |y, p| y.sub(p)?.square()?.mean(&[-1], false))` works;
/// a type implements it to carry parameters.
pub trait LossFunction: Send + Sync {
    /// The per-sample values.
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> rkeras_tensor::Result<Tensor>;
}

impl<F> LossFunction for F
where
    F: Fn(&Tensor, &Tensor) -> rkeras_tensor::Result<Tensor> + Send + Sync,
{
    fn call(&self, y_true: &Tensor, y_pred: &Tensor) -> rkeras_tensor::Result<Tensor> {
        self(y_true, y_pred)
    }
}
