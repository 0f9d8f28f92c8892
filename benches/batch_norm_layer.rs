//! The `BatchNormalization` layer's training step (forward with the batch statistics and the moving-average
//! update, then the backward pass to the input, gamma and beta) on the fused batch-normalization op, against
//! the chain of generic ops it replaced (`mean`, `sub`, `square`, `mean`, `add_scalar`, `sqrt`, `div`, `mul`,
//! `add`), at mnist_cnn-like activations: a batch of 128 images of 28×28×32, channels last.
//!
//! Run: `cargo bench --bench batch_norm_layer` (`RKERAS_BENCH_FASTEST=1` times the fastest repetition, the
//! fairer figure on a loaded machine).

mod common;

use std::hint::black_box;

use common::{configure, data, run};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rkeras_layers::{BatchNormalization, CallContext, Input, Layer, LayerCall};
use rkeras_tensor::Tensor;

const SHAPE: [usize; 4] = [128, 28, 28, 32];

fn tensor(shape: &[usize], seed: u32) -> Tensor {
    let len = shape.iter().product();
    Tensor::new(ArrayD::from_shape_vec(IxDyn(shape), data(len, seed)).unwrap())
}

/// The layer's former training forward pass, as generic ops.
fn op_chain(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> Tensor {
    let axes = [0, 1, 2];
    let mean = x.mean(&axes, true).unwrap();
    let var = x
        .sub(&mean)
        .unwrap()
        .square()
        .unwrap()
        .mean(&axes, true)
        .unwrap();
    let std = var.add_scalar(1e-3).unwrap().sqrt().unwrap();
    let y = x.sub(&mean).unwrap().div(&std).unwrap();
    y.mul(gamma).unwrap().add(beta).unwrap()
}

fn batch_norm_layer(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_norm_layer");
    configure(&mut group);
    let elements: usize = SHAPE.iter().product();
    // Bytes of the input read and the output written once, forward and backward.
    group.throughput(Throughput::Bytes(4 * 4 * elements as u64));
    let x = Tensor::leaf(tensor(&SHAPE, 1).data().clone());
    let r = tensor(&SHAPE, 2);
    let channels = SHAPE[3];
    let label = format!(
        "{}x{}x{}x{} forward+backward",
        SHAPE[0], SHAPE[1], SHAPE[2], SHAPE[3]
    );

    let layer = BatchNormalization::new();
    layer.call(&Input::new(&SHAPE[1..])).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    group.bench_function(format!("fused op {label}"), |bench| {
        run(bench, || {
            let mut ctx = CallContext {
                training: true,
                rng: &mut rng,
            };
            let y = layer.forward(std::slice::from_ref(&x), &mut ctx).unwrap();
            black_box(y.mul(&r).unwrap().sum_all().unwrap().backward().unwrap())
        });
    });

    let gamma = Tensor::leaf(ArrayD::ones(IxDyn(&[channels])));
    let beta = Tensor::leaf(ArrayD::zeros(IxDyn(&[channels])));
    group.bench_function(format!("op chain {label}"), |bench| {
        run(bench, || {
            let y = op_chain(&x, &gamma, &beta);
            black_box(y.mul(&r).unwrap().sum_all().unwrap().backward().unwrap())
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Criterion's charts need system fonts a machine may lack; the figures go to docs/performance.md.
    config = Criterion::default().without_plots();
    targets = batch_norm_layer
}
criterion_main!(benches);
