//! A training step's recurrent layer: the fused GRU (Keras 3's `reset_after=True`) and LSTM ops that the `GRU`
//! and `LSTM` layers run, forward and backward (gradients of the kernel, recurrent kernel, bias and input), at
//! Reuters-like shapes: batch 32, 80 steps, 64 input features (an embedding), 128 units, the last output
//! (`return_sequences=False`), with and without a timestep mask (a quarter of each sequence padded at the
//! start), on one thread and on two.
//!
//! Run with `cargo bench --bench recurrent -p rkeras`; criterion reports `elem/s` as sequences (samples) per
//! second. `RKERAS_BENCH_FASTEST=1` times the fastest repetition (see `benches/kernels.rs`).

mod common;

use common::{configure, data, run};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rkeras_tensor::Tensor;
use rkeras_tensor::ops::{GruConfig, LstmConfig};

const BATCH: usize = 32;
const STEPS: usize = 80;
const FEATURES: usize = 64;
const UNITS: usize = 128;

fn leaf(shape: &[usize], seed: u32, scale: f32) -> Tensor {
    let values = data(shape.iter().product(), seed)
        .into_iter()
        .map(|v| v * scale)
        .collect();
    Tensor::leaf(ArrayD::from_shape_vec(IxDyn(shape), values).unwrap())
}

/// The mask of sequences whose first quarter is padding (as `pad_sequences` pads short Reuters newswires).
fn padding_mask() -> Tensor {
    let mask = ArrayD::from_shape_fn(IxDyn(&[BATCH, STEPS]), |i| {
        if i[1] < STEPS / 4 { 0.0 } else { 1.0 }
    });
    Tensor::new(mask)
}

/// The layer's weights: kernel, recurrent kernel and bias for `gates` gates (3 GRU, 4 LSTM).
fn weights(gates: usize, bias_rows: Option<usize>) -> [Tensor; 3] {
    let bias: Vec<usize> = bias_rows.into_iter().chain([gates * UNITS]).collect();
    [
        leaf(&[FEATURES, gates * UNITS], 11, 0.15),
        leaf(&[UNITS, gates * UNITS], 12, 0.1),
        leaf(&bias, 13, 0.1),
    ]
}

fn recurrent(c: &mut Criterion) {
    let mut group = c.benchmark_group("recurrent forward+backward");
    configure(&mut group);
    group.throughput(Throughput::Elements(BATCH as u64));
    let x = leaf(&[BATCH, STEPS, FEATURES], 10, 1.0);
    let mask = padding_mask();
    let [gk, gr, gb] = weights(3, Some(2));
    let [lk, lr, lb] = weights(4, None);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for masked in [false, true] {
            let m = masked.then_some(&mask);
            let label = |layer: &str| {
                let mask = if masked { ", masked" } else { "" };
                format!("{layer} 32x80x64→128{mask}, {threads} thread(s)")
            };
            group.bench_function(label("GRU"), |bench| {
                pool.install(|| {
                    run(bench, || {
                        let y = x
                            .gru_masked(&gk, &gr, &gb, None, m, GruConfig::default())
                            .unwrap();
                        y.sum_all().unwrap().backward().unwrap()
                    })
                })
            });
            group.bench_function(label("LSTM"), |bench| {
                pool.install(|| {
                    run(bench, || {
                        let y = x
                            .lstm_masked(&lk, &lr, &lb, m, LstmConfig::default())
                            .unwrap();
                        y.sum_all().unwrap().backward().unwrap()
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Criterion's charts need system fonts a machine may lack; the figures go to docs/performance.md.
    config = Criterion::default().without_plots();
    targets = recurrent
}
criterion_main!(benches);
