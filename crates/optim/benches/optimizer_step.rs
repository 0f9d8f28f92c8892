//! One optimizer step over the bAbI memory network's parameter shapes (about 35k weights in 8 tensors).
//!
//! Run with `cargo bench --bench optimizer_step -p rkeras-optim`; criterion reports steps per second as `elem/s`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rkeras_optim::{Optimizer, RMSpropConfig, optimizer_from_name};

/// The memory network's trainable shapes: three embeddings, the LSTM kernels and bias, the dense layer.
const SHAPES: [&[usize]; 8] = [
    &[22, 64],
    &[22, 68],
    &[22, 64],
    &[132, 128],
    &[32, 128],
    &[128],
    &[32, 22],
    &[22],
];

/// Reproducible values in [-1, 1).
fn filled(shape: &[usize], seed: u32) -> ArrayD<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    })
}

fn bench_optimizer(c: &mut Criterion, label: &str, mut opt: Box<dyn Optimizer>) {
    let mut params: Vec<ArrayD<f32>> = SHAPES
        .iter()
        .enumerate()
        .map(|(i, s)| filled(s, i as u32 + 1))
        .collect();
    let grads: Vec<ArrayD<f32>> = SHAPES
        .iter()
        .enumerate()
        .map(|(i, s)| filled(s, i as u32 + 100))
        .collect();
    let grad_refs: Vec<&ArrayD<f32>> = grads.iter().collect();
    let mut group = c.benchmark_group("optimizer step (memory network shapes)");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
    group.throughput(Throughput::Elements(1));
    group.bench_function(label, |b| {
        b.iter(|| {
            let mut param_refs: Vec<&mut ArrayD<f32>> = params.iter_mut().collect();
            opt.apply_gradients(black_box(&mut param_refs), black_box(&grad_refs))
                .unwrap();
        })
    });
    group.finish();
}

fn steps(c: &mut Criterion) {
    for name in ["sgd", "rmsprop", "adam", "adagrad"] {
        bench_optimizer(c, name, optimizer_from_name(name).unwrap());
    }
    let clipped = RMSpropConfig::default().with_clipnorm(1.0).build().unwrap();
    bench_optimizer(c, "rmsprop clipnorm", Box::new(clipped));
}

criterion_group! {
    name = benches;
    // Criterion's charts need system fonts a machine may lack; the figures go to docs/performance.md.
    config = Criterion::default().without_plots();
    targets = steps
}
criterion_main!(benches);
