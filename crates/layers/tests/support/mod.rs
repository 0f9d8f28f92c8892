//! Helpers shared by the layers' integration tests.

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::{CallContext, Network};
use rkeras_tensor::{Tensor, Variable};

/// Reproducible values in [-1, 1) of `shape`.
pub fn values(shape: &[usize], seed: u64) -> ArrayD<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    })
}

/// The values' bit patterns.
pub fn bits(values: &ArrayD<f32>) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// A training-mode forward pass of `net` on `x`: the outputs' bit patterns, then those of the gradients of
/// `Σ last output ⊙ R` for the input and each of `weights`, and the last output's op.
pub fn run(
    net: &Network,
    weights: &[Variable],
    x: &ArrayD<f32>,
) -> (Vec<Vec<u32>>, Option<&'static str>) {
    let x = Tensor::leaf(x.clone());
    let mut rng = StdRng::seed_from_u64(0);
    let mut ctx = CallContext {
        training: true,
        rng: &mut rng,
    };
    let outputs = net.forward(std::slice::from_ref(&x), &mut ctx).unwrap();
    let last = outputs.last().unwrap();
    let r = Tensor::new(values(last.shape(), 7));
    let grads = last.mul(&r).unwrap().sum_all().unwrap().backward().unwrap();
    let mut out: Vec<Vec<u32>> = outputs.iter().map(|o| bits(o.data())).collect();
    out.push(bits(grads.get(&x).unwrap()));
    for w in weights {
        out.push(bits(grads.get_var(w).unwrap()));
    }
    (out, last.op_name())
}

/// Gives `to` the values of `from`, weight by weight.
pub fn same_weights(from: &[Variable], to: &[Variable]) {
    for (a, b) in from.iter().zip(to) {
        b.set_value((*a.value()).clone()).unwrap();
    }
}
