//! Finite-difference gradient checking, shared by every crate's tests.
//!
//! The function under test is reduced to a scalar `L = Σ f(x) ⊙ R` with a fixed random `R`, so every output
//! element contributes with a distinct weight. Each input element is perturbed by `±eps` and the central
//! difference `(L(x+eps) − L(x−eps)) / 2eps` (accumulated in f64) is compared with the analytic gradient.
//! Forward values are f32, so the tolerance is `|analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|)`
//! with defaults `eps = 5e-3`, `atol = 1e-3`, `rtol = 1e-2`: the f32 rounding of `L` divided by `2eps` stays
//! well below `atol` for outputs of moderate size, and the `O(eps²)` truncation error below `rtol`.

use crate::backprop::no_grad;
use crate::error::Result;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Uniform};

/// Settings of a gradient check.
#[derive(Debug, Clone, Copy)]
pub struct GradCheck {
    /// The perturbation.
    pub eps: f32,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck {
            eps: 5e-3,
            atol: 1e-3,
            rtol: 1e-2,
        }
    }
}

/// The worst disagreement found.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheckReport {
    /// Which input (position in the list).
    pub input: usize,
    /// Which element (row-major index).
    pub element: usize,
    /// The analytic gradient there.
    pub analytic: f64,
    /// The finite-difference estimate there.
    pub numeric: f64,
    /// `|analytic − numeric| − (atol + rtol·max(|analytic|, |numeric|))`: positive means the check failed.
    pub excess: f64,
    /// How many elements were compared.
    pub compared: usize,
}

impl GradCheckReport {
    /// Whether every element was within tolerance.
    pub fn passed(&self) -> bool {
        self.excess <= 0.0
    }
}

fn projected(out: &Tensor, weights: &ArrayD<f32>) -> f64 {
    out.data()
        .iter()
        .zip(weights.iter())
        .map(|(&o, &w)| f64::from(o) * f64::from(w))
        .sum()
}

/// Compares the analytic gradients of `f` at `inputs` with central finite differences.
///
/// ```
/// use rkeras_tensor::gradcheck::{check_gradients, GradCheck};
/// let x = ndarray::arr1(&[0.3f32, -1.2, 2.0]).into_dyn();
/// let report = check_gradients(&[x], |xs| xs[0].tanh(), GradCheck::default())?;
/// assert!(report.passed(), "{report:?}");
/// # Ok::<(), rkeras_tensor::TensorError>(())
/// ```
pub fn check_gradients(
    inputs: &[ArrayD<f32>],
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    settings: GradCheck,
) -> Result<GradCheckReport> {
    let leaves: Vec<Tensor> = inputs.iter().map(|x| Tensor::leaf(x.clone())).collect();
    let out = f(&leaves)?;
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let dist = Uniform::new(0.5f32, 1.5).map_err(|e| crate::TensorError::Internal {
        op: "gradcheck",
        reason: e.to_string(),
    })?;
    let weights = ArrayD::from_shape_simple_fn(IxDyn(out.shape()), || {
        let v = dist.sample(&mut rng);
        if rng.random_bool(0.5) { v } else { -v }
    });
    let loss = out.mul(&Tensor::new(weights.clone()))?.sum_all()?;
    let grads = loss.backward()?;
    let mut worst = GradCheckReport {
        input: 0,
        element: 0,
        analytic: 0.0,
        numeric: 0.0,
        excess: f64::NEG_INFINITY,
        compared: 0,
    };
    for (i, x) in inputs.iter().enumerate() {
        // Row gradients (a lookup's table) are compared in dense form.
        let analytic = match grads.gradient(&leaves[i]) {
            Some(g) => g.clone().into_dense()?,
            None => ArrayD::zeros(x.raw_dim()),
        };
        let flat: Vec<f32> = x.iter().copied().collect();
        for (j, &a) in analytic.iter().enumerate() {
            let eval = |delta: f32| -> Result<f64> {
                let mut values = flat.clone();
                values[j] += delta;
                let perturbed = ArrayD::from_shape_vec(x.raw_dim(), values).map_err(|_| {
                    crate::TensorError::Internal {
                        op: "gradcheck",
                        reason: "shape".into(),
                    }
                })?;
                let tensors: Vec<Tensor> = inputs
                    .iter()
                    .enumerate()
                    .map(|(k, other)| {
                        Tensor::new(if k == i {
                            perturbed.clone()
                        } else {
                            other.clone()
                        })
                    })
                    .collect();
                Ok(projected(&no_grad(|| f(&tensors))?, &weights))
            };
            let numeric =
                (eval(settings.eps)? - eval(-settings.eps)?) / (2.0 * f64::from(settings.eps));
            let analytic = f64::from(a);
            let excess = (analytic - numeric).abs()
                - (settings.atol + settings.rtol * analytic.abs().max(numeric.abs()));
            worst.compared += 1;
            if excess > worst.excess {
                worst = GradCheckReport {
                    input: i,
                    element: j,
                    analytic,
                    numeric,
                    excess,
                    compared: worst.compared,
                };
            }
        }
    }
    if worst.compared == 0 {
        worst.excess = 0.0;
    }
    Ok(worst)
}
