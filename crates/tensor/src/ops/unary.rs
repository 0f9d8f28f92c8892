//! Elementwise unary ops and scalar arithmetic: neg, exp, log, sqrt, abs, powf, clip, scalar add/mul.

use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;

impl Tensor {
    /// An elementwise op `y = f(x)` whose derivative is `df(x, y)`.
    pub(crate) fn map_op(
        &self,
        op: &'static str,
        f: impl Fn(f32) -> f32,
        df: impl Fn(f32, f32) -> f32 + Send + Sync + 'static,
    ) -> Tensor {
        let out = super::fast::map(self.data(), f);
        Tensor::from_op(
            out,
            || {
                Node::new(op, vec![self.clone()], move |ctx| {
                    let grad =
                        super::fast::zip3(ctx.grad, ctx.inputs[0].data(), ctx.output, |g, x, y| {
                            g * df(x, y)
                        });
                    Ok(vec![Some(grad)])
                })
            },
            self.requires_grad(),
        )
    }

    /// `-x`.
    pub fn neg(&self) -> Result<Tensor> {
        Ok(self.map_op("neg", |x| -x, |_, _| -1.0))
    }

    /// `eˣ`.
    pub fn exp(&self) -> Result<Tensor> {
        Ok(self.map_op("exp", f32::exp, |_, y| y))
    }

    /// Natural logarithm.
    pub fn log(&self) -> Result<Tensor> {
        Ok(self.map_op("log", f32::ln, |x, _| 1.0 / x))
    }

    /// Square root.
    pub fn sqrt(&self) -> Result<Tensor> {
        Ok(self.map_op("sqrt", f32::sqrt, |_, y| 0.5 / y))
    }

    /// Absolute value (gradient 0 at 0).
    pub fn abs(&self) -> Result<Tensor> {
        Ok(self.map_op("abs", f32::abs, |x, _| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        }))
    }

    /// `xᵖ` for a constant exponent.
    pub fn powf(&self, exponent: f32) -> Result<Tensor> {
        Ok(self.map_op(
            "powf",
            move |x| x.powf(exponent),
            move |x, _| exponent * x.powf(exponent - 1.0),
        ))
    }

    /// `x·x`.
    pub fn square(&self) -> Result<Tensor> {
        Ok(self.map_op("square", |x| x * x, |x, _| 2.0 * x))
    }

    /// Clamps into `[min, max]`; the gradient is 1 inside and 0 where clamped.
    pub fn clip(&self, min: f32, max: f32) -> Result<Tensor> {
        if min.is_nan() || max.is_nan() || min > max {
            return Err(TensorError::invalid_argument(
                "clip",
                format!("expected min <= max, received [{min}, {max}]"),
            ));
        }
        Ok(self.map_op(
            "clip",
            move |x| x.clamp(min, max),
            move |x, _| if x < min || x > max { 0.0 } else { 1.0 },
        ))
    }

    /// `x + c`.
    pub fn add_scalar(&self, c: f32) -> Result<Tensor> {
        Ok(self.map_op("add_scalar", move |x| x + c, |_, _| 1.0))
    }

    /// `x · c`.
    pub fn mul_scalar(&self, c: f32) -> Result<Tensor> {
        Ok(self.map_op("mul_scalar", move |x| x * c, move |_, _| c))
    }

    /// `c - x`.
    pub fn rsub_scalar(&self, c: f32) -> Result<Tensor> {
        Ok(self.map_op("rsub_scalar", move |x| c - x, |_, _| -1.0))
    }
}
