//! Convolution, pooling and layer-normalization kernels at the shapes of Keras's MNIST convnet
//! (examples/mnist_cnn, batch 128 split into two shards of 64 images, one per core), in GFLOP/s.
//!
//! Run with `cargo bench --bench conv -p rkeras`; criterion's `elem/s` is FLOP/s for the convolutions (2 per
//! multiply-add, the backward pass counted as its two products) and input elements per second for pooling and
//! normalization. Each kernel runs next to its naive reference (on fewer images: the references are slow) and
//! next to one `gemm` of the forward pass's shape, the best a product of that shape does on this machine (the
//! GEMM peak the convolutions are measured against); the square products of `cargo bench --bench kernels` give
//! the machine's peak for square shapes. conv1 (one input channel) runs its forward pass as a direct kernel
//! (the 9 taps read from the image, 16 filters accumulated in registers) and its kernel gradient as im2col +
//! `gemm`; max pooling selects 16 channels at a time, compiled for AVX-512/AVX2; conv2 (32 input
//! channels, stride 1, `valid`) as implicit GEMM on strided views of the images, its kernel gradient as one
//! product per kernel row over a whole shard of images; `relu-masked` is the backward pass of a convolution
//! fused with ReLU (`conv2d_backward_relu`, what `Conv2D(activation="relu")` runs), the mask applied as the
//! output gradient is read.
//! conv2's forward pass and input gradient run as Winograd F(2×2, 3×3) (16 products of `tiles × 32 · 32 × 64`,
//! 2.25× fewer multiply-adds; the FLOP/s figures still count the direct product's multiply-adds, so they are
//! "effective" FLOP/s); `RKERAS_WINOGRAD=0` runs the implicit GEMM instead, for the comparison, and each case's
//! name says which path it took. `conv2 same` is the same layer with `same` padding (im2col before Winograd).
//! `RKERAS_BENCH_FASTEST=1` makes every sample the fastest repetition (see `common`).

mod common;

use std::hint::black_box;

use common::{configure, data, run};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rkeras_tensor::kernels::batch_norm::{
    BatchNormGrads, batch_norm_backward, batch_norm_forward, batch_norm_statistics,
};
use rkeras_tensor::kernels::layer_norm::{
    LayerNormStats, layer_norm_backward, layer_norm_forward, layer_norm_reference,
};
use rkeras_tensor::kernels::{
    Conv2dGeometry, Conv2dGrads, ConvPadding, MatRef, Parallelism, conv2d_backward,
    conv2d_backward_relu, conv2d_forward, conv2d_reference, gemm, max_pool2d_backward,
    max_pool2d_backward_replay, max_pool2d_forward, max_pool2d_values, pool2d_reference,
};

/// Batch sizes: one of the kernel's own shards of 4 images (the work one thread does at a time, short enough
/// to run between two preemptions on a busy machine) and an engine shard of 64 (a batch of 128 on two cores).
const BATCHES: [usize; 2] = [4, 64];

/// The thread settings compared.
const SETTINGS: [(&str, Parallelism); 2] = [
    ("1 thread", Parallelism::None),
    ("2 threads", Parallelism::Rayon(2)),
];

/// mnist_cnn's two convolutions on `batch` images, and its second with `same` padding: (label, input shape,
/// kernel shape, padding).
fn layers(batch: usize) -> [(String, [usize; 4], [usize; 4], ConvPadding); 3] {
    let conv2 = |padding: ConvPadding| {
        let wino = std::env::var("RKERAS_WINOGRAD").map_or(true, |v| v.trim() != "0");
        let path = if wino { "winograd" } else { "gemm" };
        let label = format!("conv2 {} {batch}x26x26x32 3x3x64 {path}", padding.name());
        (label, [batch, 26, 26, 32], [3, 3, 32, 64], padding)
    };
    [
        (
            format!("conv1 {batch}x28x28x1 3x3x32"),
            [batch, 28, 28, 1],
            [3, 3, 1, 32],
            ConvPadding::Valid,
        ),
        conv2(ConvPadding::Valid),
        conv2(ConvPadding::Same),
    ]
}

fn geometry(input: [usize; 4], kernel: [usize; 4], padding: ConvPadding) -> Conv2dGeometry {
    Conv2dGeometry::conv(&input, &kernel, [1, 1], [1, 1], padding, 1).unwrap()
}

fn conv_forward(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv2d forward");
    configure(&mut group);
    for (label, input, kernel, padding) in BATCHES.into_iter().flat_map(layers) {
        let g = geometry(input, kernel, padding);
        let x = data(input.iter().product(), 1);
        let k = data(kernel.iter().product(), 2);
        let b = data(g.out_c, 3);
        let mut y = vec![0.0; g.output_shape().iter().product()];
        group.throughput(Throughput::Elements(g.flops()));
        for (name, par) in SETTINGS {
            group.bench_function(format!("{label} {name}"), |bench| {
                run(bench, || {
                    conv2d_forward(&x, &k, Some(&b), black_box(&mut y), &g, par).unwrap()
                });
            });
        }
        // One product of the forward pass's whole size, as if im2col were done: (images · positions) × patch_len ·
        // patch_len × filters — the GEMM peak of this shape.
        let (m, kk, n) = (input[0] * g.positions(), g.patch_len(), g.out_c);
        let cols = data(m * kk, 4);
        group.bench_function(format!("{label} gemm {m}x{kk}x{n} 1 thread"), |bench| {
            let lhs = MatRef::row_major(&cols, m, kk).unwrap();
            let rhs = MatRef::row_major(&k, kk, n).unwrap();
            run(bench, || {
                gemm(black_box(&mut y), lhs, rhs, 1.0, 0.0, Parallelism::None).unwrap()
            });
        });
        // The naive seven loops on 2 images.
        let small = geometry([2, input[1], input[2], input[3]], kernel, padding);
        let xs = &x[..2 * small.image_len()];
        let mut ys = vec![0.0; small.output_shape().iter().product()];
        group.throughput(Throughput::Elements(small.flops()));
        group.bench_function(format!("{label} naive reference"), |bench| {
            run(bench, || {
                conv2d_reference(xs, &k, Some(&b), black_box(&mut ys), &small).unwrap()
            });
        });
    }
    group.finish();
}

fn conv_backward(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv2d backward");
    configure(&mut group);
    for (label, input, kernel, padding) in BATCHES.into_iter().flat_map(layers) {
        let g = geometry(input, kernel, padding);
        let x = data(input.iter().product(), 1);
        let k = data(kernel.iter().product(), 2);
        let dy = data(g.output_shape().iter().product(), 3);
        let (mut dx, mut dk, mut db) = (vec![0.0; x.len()], vec![0.0; k.len()], vec![0.0; g.out_c]);
        // The first layer needs no input gradient (Keras's does not compute it either).
        let wants_input = input[3] > 1;
        let products = if wants_input { 2 } else { 1 };
        group.throughput(Throughput::Elements(products * g.flops()));
        for (name, par) in SETTINGS {
            group.bench_function(format!("{label} {name}"), |bench| {
                run(bench, || {
                    let grads = Conv2dGrads {
                        input: wants_input.then_some(&mut dx[..]),
                        kernel: Some(&mut dk),
                        bias: Some(&mut db),
                    };
                    conv2d_backward(&x, &k, black_box(&dy), grads, &g, par).unwrap()
                });
            });
        }
        let y = data(dy.len(), 4);
        group.bench_function(format!("{label} relu-masked 1 thread"), |bench| {
            run(bench, || {
                let grads = Conv2dGrads {
                    input: wants_input.then_some(&mut dx[..]),
                    kernel: Some(&mut dk),
                    bias: Some(&mut db),
                };
                conv2d_backward_relu(&x, &k, black_box(&dy), &y, grads, &g, Parallelism::None)
                    .unwrap()
            });
        });
    }
    group.finish();
}

fn pooling(c: &mut Criterion) {
    let mut group = c.benchmark_group("max_pool2d 2x2");
    configure(&mut group);
    let input = [64, 24, 24, 64];
    let g = Conv2dGeometry::pool(&input, [2, 2], [2, 2], ConvPadding::Valid).unwrap();
    let x = data(input.iter().product(), 5);
    let len = g.output_shape().iter().product();
    let (mut y, mut argmax, dy) = (vec![0.0; len], vec![0; len], data(len, 6));
    let mut dx = vec![0.0; x.len()];
    group.throughput(Throughput::Elements(x.len() as u64));
    for (name, par) in SETTINGS {
        group.bench_function(format!("forward 64x24x24x64 {name}"), |bench| {
            run(bench, || {
                max_pool2d_forward(&x, black_box(&mut y), &mut argmax, &g, par).unwrap()
            });
        });
    }
    group.bench_function("backward 64x24x24x64", |bench| {
        run(bench, || {
            max_pool2d_backward(&dy, &argmax, black_box(&mut dx), &g).unwrap()
        });
    });
    // What the `max_pool2d` op runs: values only forward, the maxima selected again backward.
    for (name, par) in SETTINGS {
        group.bench_function(format!("values-only forward 64x24x24x64 {name}"), |bench| {
            run(bench, || {
                max_pool2d_values(&x, black_box(&mut y), &g, par).unwrap()
            });
        });
        group.bench_function(format!("replayed backward 64x24x24x64 {name}"), |bench| {
            run(bench, || {
                max_pool2d_backward_replay(&x, &dy, black_box(&mut dx), &g, par).unwrap()
            });
        });
    }
    group.bench_function("forward 64x24x24x64 naive reference", |bench| {
        run(bench, || {
            pool2d_reference(&x, black_box(&mut y), &g, true).unwrap()
        });
    });
    group.finish();
}

fn layer_norm(c: &mut Criterion) {
    let mut group = c.benchmark_group("layer_norm");
    configure(&mut group);
    // A transformer-sized row: 128 samples × 64 steps of 256 features.
    let (rows, cols) = (128 * 64, 256);
    let x = data(rows * cols, 7);
    let (gamma, beta, dy) = (data(cols, 8), data(cols, 9), data(rows * cols, 10));
    let mut y = vec![0.0; x.len()];
    let mut stats = LayerNormStats::zeros(rows);
    let (mut dx, mut dgamma, mut dbeta) = (vec![0.0; x.len()], vec![0.0; cols], vec![0.0; cols]);
    group.throughput(Throughput::Elements(x.len() as u64));
    for (name, par) in SETTINGS {
        group.bench_function(format!("forward {rows}x{cols} {name}"), |bench| {
            run(bench, || {
                layer_norm_forward(
                    black_box(&mut y),
                    &mut stats,
                    &x,
                    Some(&gamma),
                    Some(&beta),
                    cols,
                    1e-3,
                    par,
                )
                .unwrap()
            });
        });
        group.bench_function(format!("backward {rows}x{cols} {name}"), |bench| {
            run(bench, || {
                layer_norm_backward(
                    black_box(&mut dx),
                    Some(&mut dgamma),
                    Some(&mut dbeta),
                    &dy,
                    &x,
                    &stats,
                    Some(&gamma),
                    cols,
                    par,
                )
                .unwrap()
            });
        });
    }
    group.bench_function(
        format!("forward+backward {rows}x{cols} naive reference"),
        |bench| {
            run(bench, || {
                layer_norm_reference(&x, &gamma, &beta, black_box(&dy), cols, 1e-3)
            });
        },
    );
    group.finish();
}

/// Batch normalization over the whole batch at the convnet's second activation (128×24×24 rows of 64
/// channels); the throughput is the bytes of the input read and the output written once, so GB/s compares
/// with the machine's memory bandwidth (the kernel reads the input three times forward, twice backward).
fn batch_norm(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_norm");
    configure(&mut group);
    let (rows, channels) = (128 * 24 * 24, 64);
    let x = data(rows * channels, 11);
    let (gamma, beta, dy) = (data(channels, 12), data(channels, 13), data(x.len(), 14));
    let mut y = vec![0.0; x.len()];
    let (mut dx, mut dgamma, mut dbeta) =
        (vec![0.0; x.len()], vec![0.0; channels], vec![0.0; channels]);
    group.throughput(Throughput::Bytes(2 * 4 * x.len() as u64));
    for (name, par) in SETTINGS {
        group.bench_function(
            format!("training forward {rows}x{channels} {name}"),
            |bench| {
                run(bench, || {
                    let (mean, var) = batch_norm_statistics(&x, channels, par).unwrap();
                    batch_norm_forward(
                        &x,
                        black_box(&mut y),
                        &mean,
                        &var,
                        Some(&gamma),
                        Some(&beta),
                        1e-3,
                        par,
                    )
                    .unwrap()
                });
            },
        );
        let (mean, var) = batch_norm_statistics(&x, channels, par).unwrap();
        group.bench_function(format!("backward {rows}x{channels} {name}"), |bench| {
            run(bench, || {
                let grads = BatchNormGrads {
                    input: Some(black_box(&mut dx)),
                    gamma: Some(&mut dgamma),
                    beta: Some(&mut dbeta),
                };
                batch_norm_backward(&x, &dy, &mean, &var, Some(&gamma), 1e-3, grads, par).unwrap()
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Criterion's charts need system fonts a machine may lack; the figures go to docs/performance.md.
    config = Criterion::default().without_plots();
    targets = conv_forward, conv_backward, pooling, layer_norm, batch_norm
}
criterion_main!(benches);
