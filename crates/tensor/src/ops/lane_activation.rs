//! Keras 3's activations over an axis besides softmax: `glu` (gated linear unit) and `sparsemax`, as Keras
//! 3.15's JAX backend computes them (`keras/src/backend/jax/nn.py`).

use super::normalize_axis;
use crate::backprop::Node;
use crate::error::{Result, TensorError};
use crate::tensor::Tensor;
use ndarray::{ArrayViewMut1, Axis, Zip};

/// Keras 3.15's sparsemax threshold of one lane and each position's share of it: with the lane sorted in
/// decreasing order `z₍₁₎ ≥ z₍₂₎ ≥ …`, cumulative sums `c_r` and support `z₍r₎ − (c_r − 1)/r > 0` of size `k`,
/// Keras computes `τ = (Σ_{r ≤ k} c_r − 1) / k` (the sum of the cumulative sums over the support, as its code
/// does), so that `∂τ/∂z₍r₎ = (k − r + 1)/k` for `r ≤ k`, 0 otherwise.
fn sparsemax_threshold(lane: &[f32]) -> (f32, Vec<f32>) {
    let mut order: Vec<usize> = (0..lane.len()).collect();
    order.sort_by(|&a, &b| lane[b].total_cmp(&lane[a]));
    let mut cumsum = 0.0f32;
    let mut support = 0usize;
    let mut cumsums = Vec::with_capacity(lane.len());
    for (r, &i) in order.iter().enumerate() {
        cumsum += lane[i];
        cumsums.push(cumsum);
        if lane[i] - (cumsum - 1.0) / (r + 1) as f32 > 0.0 {
            support += 1;
        }
    }
    let k = support.max(1) as f32;
    let mut shares = vec![0.0f32; lane.len()];
    let mut total = 0.0f32;
    for (r, (&i, &c)) in order.iter().zip(&cumsums).enumerate() {
        // The support is a prefix of the sorted lane, as `z₍r₎ − (c_r − 1)/r` decreases with r.
        if lane[i] - (c - 1.0) / (r + 1) as f32 > 0.0 {
            total += c;
            shares[i] = (support - r) as f32 / k;
        }
    }
    ((total - 1.0) / k, shares)
}

impl Tensor {
    /// Keras's `sparsemax(x, axis)` (default the last axis): `max(x − τ, 0)` with Keras 3.15's threshold `τ`
    /// per lane (see the module source: Keras sums the cumulative sums over the support, so the outputs do
    /// not always add up to 1 as in Martins et al.'s sparsemax).
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let y = Tensor::from_vec(&[1, 3], vec![0.2, 0.1, 3.0])?.sparsemax(-1)?.to_vec();
    /// assert_eq!(y, vec![0.0, 0.0, 1.0]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn sparsemax(&self, axis: isize) -> Result<Tensor> {
        let axis = normalize_axis(axis, self.ndim(), "sparsemax")?;
        let mut out = crate::pooled::clone(self.data());
        for mut lane in out.lanes_mut(Axis(axis)) {
            let values: Vec<f32> = lane.iter().copied().collect();
            let (tau, _) = sparsemax_threshold(&values);
            lane.mapv_inplace(|v| (v - tau).max(0.0));
        }
        Ok(Tensor::from_op(
            out,
            || {
                Node::new("sparsemax", vec![self.clone()], move |ctx| {
                    // dx_i = g_i·[y_i > 0] − (Σ_{y_j > 0} g_j) · ∂τ/∂x_i
                    let mut dx = crate::pooled::clone(ctx.grad);
                    let lanes = Zip::from(dx.lanes_mut(Axis(axis)))
                        .and(ctx.inputs[0].data().lanes(Axis(axis)))
                        .and(ctx.output.lanes(Axis(axis)));
                    lanes.for_each(|mut d, x, y| {
                        let values: Vec<f32> = x.iter().copied().collect();
                        let (_, shares) = sparsemax_threshold(&values);
                        sparsemax_lane_grad(&mut d, &y.to_vec(), &shares);
                    });
                    Ok(vec![Some(dx)])
                })
            },
            self.requires_grad(),
        ))
    }

    /// Keras's `glu(x, axis)` (default the last axis): the axis is split in halves `a`, `b` and the result is
    /// `a · sigmoid(b)`; the axis must have an even size.
    ///
    /// ```
    /// use rkeras_tensor::Tensor;
    /// let y = Tensor::from_vec(&[1, 2], vec![3.0, 0.0])?.glu(-1)?.to_vec();
    /// assert_eq!(y, vec![1.5]);
    /// # Ok::<(), rkeras_tensor::TensorError>(())
    /// ```
    pub fn glu(&self, axis: isize) -> Result<Tensor> {
        let resolved = normalize_axis(axis, self.ndim(), "glu")?;
        let size = self.shape()[resolved];
        if size % 2 != 0 {
            return Err(TensorError::invalid_shape(
                "glu",
                self.shape(),
                format!(
                    "axis {axis} must have an even size to be split in halves, received {size}"
                ),
            ));
        }
        let half = size / 2;
        let a = self.narrow(axis, 0, half)?;
        let b = self.narrow(axis, half, half)?;
        a.mul(&b.sigmoid()?)
    }
}

/// One lane of sparsemax's input gradient, in place over the output gradient `d`.
fn sparsemax_lane_grad(d: &mut ArrayViewMut1<'_, f32>, y: &[f32], shares: &[f32]) {
    let active: f32 = d
        .iter()
        .zip(y)
        .filter(|&(_, &y)| y > 0.0)
        .map(|(&g, _)| g)
        .sum();
    for ((g, &y), &share) in d.iter_mut().zip(y).zip(shares) {
        let own = if y > 0.0 { *g } else { 0.0 };
        *g = own - active * share;
    }
}

#[cfg(test)]
mod tests {
    use crate::tensor::Tensor;

    #[test]
    fn sparsemax_follows_keras_threshold() {
        // Sorted 1, 0.5, 0.1: support of 2, τ = ((1 + 1.5) − 1)/2 = 0.75 (Keras 3.15 gives [0.25, 0, 0]).
        let x = Tensor::from_vec(&[2, 3], vec![1.0, 0.5, 0.1, 0.2, 0.1, 3.0]).unwrap();
        assert_eq!(
            x.sparsemax(-1).unwrap().to_vec(),
            vec![0.25, 0.0, 0.0, 0.0, 0.0, 1.0]
        );
        // Along axis 0 the lanes are the columns.
        let by_rows = x.sparsemax(0).unwrap().to_vec();
        let columns = x.permute(&[1, 0]).unwrap().sparsemax(-1).unwrap();
        assert_eq!(by_rows, columns.permute(&[1, 0]).unwrap().to_vec());
    }

    #[test]
    fn glu_needs_an_even_axis() {
        let err = Tensor::ones(&[2, 3]).glu(-1).unwrap_err().to_string();
        assert!(err.contains("even"), "{err}");
    }
}
