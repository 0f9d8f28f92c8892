//! Fused softmax + cross-entropy from logits (classes on the last axis), returning one loss per sample so that
//! the caller can weight and reduce. The fused backward is `softmax − target`, exact and cheap.

use super::softmax::softmax_array;
use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, IxDyn};

fn class_axis(logits: &Tensor, op: &'static str) -> Result<usize> {
    if logits.ndim() == 0 || logits.shape()[logits.ndim() - 1] == 0 {
        return Err(TensorError::invalid_shape(
            op,
            logits.shape(),
            "expected classes on a non-empty last axis",
        ));
    }
    Ok(logits.ndim() - 1)
}

impl Tensor {
    /// Per-sample `−Σ target · log softmax(logits)` over the last axis; `targets` has the logits' shape
    /// (one-hot or probabilities). Output shape: the logits' shape without the last axis.
    pub fn softmax_cross_entropy(&self, targets: &Tensor) -> Result<Tensor> {
        const OP: &str = "softmax_cross_entropy";
        let axis = class_axis(self, OP)?;
        if targets.shape() != self.shape() {
            return Err(TensorError::shape_mismatch(
                OP,
                self.shape(),
                targets.shape(),
            ));
        }
        let mut log_probs = crate::pooled::clone(self.data());
        for mut lane in log_probs.lanes_mut(Axis(axis)) {
            let max = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let log_sum = lane.fold(0.0f32, |s, &v| s + (v - max).exp()).ln() + max;
            lane.mapv_inplace(|v| v - log_sum);
        }
        let out = if log_probs.is_standard_layout() && targets.data().is_standard_layout() {
            // The product in place, row-major as `&log_probs * targets` would be.
            log_probs.zip_mut_with(targets.data(), |p, &t| *p *= t);
            let out = log_probs.sum_axis(Axis(axis)).mapv(|v| -v);
            crate::buffer_pool::give_array(log_probs);
            out
        } else {
            (&log_probs * targets.data())
                .sum_axis(Axis(axis))
                .mapv(|v| -v)
        };
        Ok(Tensor::from_op(
            out,
            || {
                Node::new(OP, vec![self.clone(), targets.clone()], move |ctx| {
                    // d/dlogits = (softmax · Σ target − target) · g
                    let t = ctx.inputs[1].data();
                    let probs = softmax_array(ctx.inputs[0].data(), axis);
                    let t_sum = t.sum_axis(Axis(axis)).insert_axis(Axis(axis));
                    let g = ctx.grad.clone().insert_axis(Axis(axis));
                    let mut grad = probs * &t_sum - t;
                    grad *= &g;
                    Ok(vec![Some(grad), None])
                })
            },
            self.requires_grad(),
        ))
    }

    /// Per-sample `−log softmax(logits)[label]` over the last axis; `labels` holds class ids coded as f32 with
    /// the logits' shape minus the last axis. A label outside `0..classes` is an error.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let logits = Tensor::from_vec(&[1, 2], vec![0.0, 0.0])?;
    /// let labels = Tensor::from_vec(&[1], vec![1.0])?;
    /// let loss = logits.sparse_softmax_cross_entropy(&labels)?;
    /// assert!((loss.to_scalar()? - 2f32.ln()).abs() < 1e-6);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn sparse_softmax_cross_entropy(&self, labels: &Tensor) -> Result<Tensor> {
        const OP: &str = "sparse_softmax_cross_entropy";
        let axis = class_axis(self, OP)?;
        let classes = self.shape()[axis];
        let expected = &self.shape()[..axis];
        let labels_shape = labels.shape();
        // Keras also accepts labels with a trailing axis of 1.
        let squeeze = labels_shape.len() == axis + 1
            && labels_shape[axis] == 1
            && &labels_shape[..axis] == expected;
        if labels_shape != expected && !squeeze {
            return Err(TensorError::shape_mismatch(OP, self.shape(), labels_shape));
        }
        let mut ids: Vec<usize> = Vec::with_capacity(labels.len());
        for &v in labels.data() {
            if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && (v as usize) < classes) {
                return Err(TensorError::IndexOutOfRange {
                    op: OP,
                    index: f64::from(v),
                    bound: classes,
                });
            }
            ids.push(v as usize);
        }
        let mut losses = crate::buffer_pool::take_empty(ids.len());
        for (lane, &id) in self.data().lanes(Axis(axis)).into_iter().zip(&ids) {
            let max = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let log_sum = lane.fold(0.0f32, |s, &v| s + (v - max).exp()).ln() + max;
            losses.push(log_sum - lane[id]);
        }
        let out =
            ArrayD::from_shape_vec(IxDyn(expected), losses).map_err(|_| TensorError::Internal {
                op: OP,
                reason: "output shape".into(),
            })?;
        Ok(Tensor::from_op(
            out,
            || {
                Node::new(OP, vec![self.clone(), labels.clone()], move |ctx| {
                    // d/dlogits = (softmax − onehot(label)) · g
                    let mut grad = softmax_array(ctx.inputs[0].data(), axis);
                    for ((mut lane, &id), &g) in grad
                        .lanes_mut(Axis(axis))
                        .into_iter()
                        .zip(&ids)
                        .zip(ctx.grad.iter())
                    {
                        lane[id] -= 1.0;
                        lane.mapv_inplace(|v| v * g);
                    }
                    Ok(vec![Some(grad), None])
                })
            },
            self.requires_grad(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;
    use crate::pooled::testing::{assert_identical, varied};
    use ndarray::Axis;

    #[test]
    fn dense_cross_entropy_matches_the_array_expression_bit_for_bit() {
        let logits = varied(&[5, 4], 1);
        let targets = varied(&[5, 4], 2).mapv(f32::abs);
        let mut log_probs = logits.clone();
        for mut lane in log_probs.lanes_mut(Axis(1)) {
            let max = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let log_sum = lane.fold(0.0f32, |s, &v| s + (v - max).exp()).ln() + max;
            lane.mapv_inplace(|v| v - log_sum);
        }
        let expected = (&log_probs * &targets).sum_axis(Axis(1)).mapv(|v| -v);
        let loss = Tensor::new(logits)
            .softmax_cross_entropy(&Tensor::new(targets))
            .unwrap();
        assert_identical(loss.data(), &expected, "softmax_cross_entropy");
    }
}
