//! GEMM throughput (GFLOP/s): square products, the memory network's batch-32 layer shapes and the MNIST MLP's
//! batch-128 products (forward and backward), on one thread, on two threads and with the automatic choice; the
//! fused attention kernel against its naive reference, and its backward pass.
//!
//! Run with `cargo bench --bench kernels -p rkeras`; criterion reports `elem/s`, which here is FLOP/s because
//! the throughput of each case is its floating-point operation count (2·m·n·k per product).
//!
//! With `RKERAS_BENCH_FASTEST=1` every sample is the fastest single repetition (scaled to the sample's
//! repetition count) instead of their mean: on a machine shared with builds and tests, that estimates the
//! uncontended speed, which the mean does not.

mod common;

use std::hint::black_box;

use common::{configure, data, run, settings};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rkeras_tensor::kernels::attention::{
    AttentionDims, AttentionGrads, attention_backward, attention_forward, attention_reference,
};
use rkeras_tensor::kernels::{BatchedMatRef, MatRef, batched_gemm, gemm, gemm_flops};

fn square_gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm square");
    configure(&mut group);
    for size in [64, 128, 256, 512, 1024] {
        let a = data(size * size, 1);
        let b = data(size * size, 2);
        let mut dst = vec![0.0; size * size];
        let flops = gemm_flops(size, size, size);
        group.throughput(Throughput::Elements(flops));
        for (name, par) in settings(flops) {
            group.bench_function(format!("{size}^3 {name}"), |bench| {
                let lhs = MatRef::row_major(&a, size, size).unwrap();
                let rhs = MatRef::row_major(&b, size, size).unwrap();
                run(bench, || {
                    gemm(black_box(&mut dst), lhs, rhs, 1.0, 0.0, par).unwrap()
                });
            });
        }
    }
    group.finish();
}

fn lstm_gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm lstm");
    configure(&mut group);
    // [batch, input_dim + ...]·[.., 4·units]: the input step and the recurrent step of the memory network's LSTM.
    for (label, m, k, n) in [
        ("[32x132]·[132x128] input", 32, 132, 128),
        ("[32x32]·[32x128] recurrent", 32, 32, 128),
    ] {
        let a = data(m * k, 3);
        let b = data(k * n, 4);
        let mut dst = vec![0.0; m * n];
        let flops = gemm_flops(m, n, k);
        group.throughput(Throughput::Elements(flops));
        for (name, par) in settings(flops) {
            group.bench_function(format!("{label} {name}"), |bench| {
                let lhs = MatRef::row_major(&a, m, k).unwrap();
                let rhs = MatRef::row_major(&b, k, n).unwrap();
                run(bench, || {
                    gemm(black_box(&mut dst), lhs, rhs, 1.0, 0.0, par).unwrap()
                });
            });
        }
    }
    group.finish();
}

/// The MNIST MLP's products at batch 128 (Dense 784→512→512→10), laid out as the matmul op runs them:
/// forward `x·W`, backward `xᵀ·dy` (kernel gradient, `x` read transposed) and `dy·Wᵀ` (input gradient, `W`
/// read transposed). The whole step is 410 MFLOP: 171 forward, 239 backward (no input gradient of the first
/// layer).
fn mnist_mlp_gemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm mnist mlp");
    configure(&mut group);
    // (label, m, k, n, lhs stored transposed, rhs stored transposed)
    for (label, m, k, n, lhs_t, rhs_t) in [
        ("[128x784]·[784x512] dense_1", 128, 784, 512, false, false),
        ("[128x512]·[512x512] dense_2", 128, 512, 512, false, false),
        (
            "[784x128]·[128x512] dense_1 kernel grad",
            784,
            128,
            512,
            true,
            false,
        ),
        (
            "[512x128]·[128x512] dense_2 kernel grad",
            512,
            128,
            512,
            true,
            false,
        ),
        (
            "[128x512]·[512x512] dense_2 input grad",
            128,
            512,
            512,
            false,
            true,
        ),
    ] {
        let a = data(m * k, 7);
        let b = data(k * n, 8);
        let mut dst = vec![0.0; m * n];
        let flops = gemm_flops(m, n, k);
        group.throughput(Throughput::Elements(flops));
        for (name, par) in settings(flops) {
            group.bench_function(format!("{label} {name}"), |bench| {
                let lhs = if lhs_t {
                    MatRef::row_major(&a, k, m).unwrap().t()
                } else {
                    MatRef::row_major(&a, m, k).unwrap()
                };
                let rhs = if rhs_t {
                    MatRef::row_major(&b, n, k).unwrap().t()
                } else {
                    MatRef::row_major(&b, k, n).unwrap()
                };
                run(bench, || {
                    gemm(black_box(&mut dst), lhs, rhs, 1.0, 0.0, par).unwrap()
                });
            });
        }
    }
    group.finish();
}

/// One batched case: `lhs` and `rhs` as the memory network stores them (see `memnn_batched`).
struct BatchedCase {
    label: &'static str,
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    /// rhs stored as [batch, n, k] and read transposed.
    rhs_transposed: bool,
}

fn memnn_batched(c: &mut Criterion) {
    let mut group = c.benchmark_group("batched gemm memnn");
    configure(&mut group);
    let cases = [
        // match = memory [32, 68, 64] · question [32, 4, 64]ᵀ
        BatchedCase {
            label: "32x[68x64]·[64x4] match",
            batch: 32,
            m: 68,
            k: 64,
            n: 4,
            rhs_transposed: true,
        },
        // question gradient = d_match [32, 68, 4]ᵀ · memory [32, 68, 64] (lhs read transposed)
        BatchedCase {
            label: "32x[4x68]·[68x64]",
            batch: 32,
            m: 4,
            k: 68,
            n: 64,
            rhs_transposed: false,
        },
        // memory gradient = d_match [32, 68, 4] · question [32, 4, 64]
        BatchedCase {
            label: "32x[68x4]·[4x64]",
            batch: 32,
            m: 68,
            k: 4,
            n: 64,
            rhs_transposed: false,
        },
    ];
    for case in cases {
        let BatchedCase {
            label,
            batch,
            m,
            k,
            n,
            rhs_transposed,
        } = case;
        let a = data(batch * m * k, 5);
        let b = data(batch * k * n, 6);
        let mut dst = vec![0.0; batch * m * n];
        let flops = gemm_flops(m, n, k) * batch as u64;
        group.throughput(Throughput::Elements(flops));
        let lhs = if m == 4 {
            BatchedMatRef::contiguous(&a, batch, k, m).unwrap().t()
        } else {
            BatchedMatRef::contiguous(&a, batch, m, k).unwrap()
        };
        let rhs = if rhs_transposed {
            BatchedMatRef::contiguous(&b, batch, n, k).unwrap().t()
        } else {
            BatchedMatRef::contiguous(&b, batch, k, n).unwrap()
        };
        for (name, par) in settings(flops) {
            group.bench_function(format!("{label} {name}"), |bench| {
                run(bench, || {
                    batched_gemm(black_box(&mut dst), lhs, rhs, 1.0, 0.0, par).unwrap()
                });
            });
        }
    }
    // The match computed directly by the gemm crate in its row-major orientation (no column-major scratch),
    // for comparison with the kernel above.
    let (batch, m, k, n) = (32, 68, 64, 4);
    let a = data(batch * m * k, 5);
    let b = data(batch * k * n, 6);
    let mut dst = vec![0.0f32; batch * m * n];
    group.throughput(Throughput::Elements(gemm_flops(m, n, k) * batch as u64));
    group.bench_function(
        "32x[68x64]·[64x4] match, gemm crate row-major 1 thread",
        |bench| {
            run(bench, || {
                for item in 0..batch {
                    let (lhs, rhs) = (
                        &a[item * m * k..(item + 1) * m * k],
                        &b[item * k * n..(item + 1) * k * n],
                    );
                    let out = &mut dst[item * m * n..(item + 1) * m * n];
                    // SAFETY: the three slices hold exactly m×k, n×k (read as k×n through strides) and m×n elements.
                    unsafe {
                        gemm::gemm(
                            m,
                            n,
                            k,
                            out.as_mut_ptr(),
                            1,
                            n as isize,
                            false,
                            lhs.as_ptr(),
                            1,
                            k as isize,
                            rhs.as_ptr(),
                            k as isize,
                            1,
                            0.0,
                            1.0,
                            false,
                            false,
                            false,
                            gemm::Parallelism::None,
                        );
                    }
                }
                black_box(&mut dst);
            });
        },
    );
    group.finish();
}

/// The machine's peak: 12 independent chains of 256-bit fused multiply-adds on one thread (no memory traffic).
/// On cores that split 512-bit operations in two (Zen 4) this equals the AVX-512 peak; on cores with full-width
/// 512-bit units (Zen 5) the AVX-512 peak is twice this figure.
fn fma_peak(c: &mut Criterion) {
    #[cfg(target_arch = "x86_64")]
    {
        if !(std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma"))
        {
            return;
        }
        const ITERATIONS: u64 = 100_000;
        const CHAINS: u64 = 12;
        let mut group = c.benchmark_group("peak");
        configure(&mut group);
        // 12 chains × 8 lanes × 2 FLOP per iteration.
        group.throughput(Throughput::Elements(ITERATIONS * CHAINS * 8 * 2));
        group.bench_function("256-bit FMA, 1 thread", |bench| {
            // SAFETY: AVX2 and FMA were detected above.
            run(bench, || unsafe { fma_chains(black_box(ITERATIONS)) });
        });
        group.finish();
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = c;
}

/// # Safety
/// Requires AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_chains(iterations: u64) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_set1_ps(1.0); 12];
    let (x, y) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
    for _ in 0..iterations {
        for a in acc.iter_mut() {
            *a = _mm256_fmadd_ps(*a, x, y);
        }
    }
    let mut lanes = [0.0f32; 8];
    let sum = acc
        .iter()
        .fold(_mm256_setzero_ps(), |s, &a| _mm256_add_ps(s, a));
    // SAFETY: `lanes` holds 8 elements.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
    lanes.iter().sum()
}

/// The fused attention forward pass (scores, softmax and weighted sum per `(batch, head)` pair) against the naive
/// reference loops, on the transformer classifier's shape (batch 32, 2 heads, 200 tokens, key_dim 32) and a
/// smaller one; the throughput counts the two products' FLOPs.
fn fused_attention(c: &mut Criterion) {
    let mut group = c.benchmark_group("attention forward");
    configure(&mut group);
    for (label, batch, len) in [
        ("classifier 32x2x200x32", 32, 200),
        ("small 8x2x64x32", 8, 64),
    ] {
        let dims = AttentionDims {
            batch,
            heads: 2,
            q_len: len,
            kv_len: len,
            key_dim: 32,
            value_dim: 32,
        };
        let [nq, nk, nv, nout, nprobs] = dims.lens();
        let (q, k, v) = (data(nq, 5), data(nk, 6), data(nv, 7));
        let (mut out, mut probs) = (vec![0.0; nout], vec![0.0; nprobs]);
        let flops = dims.forward_flops();
        group.throughput(Throughput::Elements(flops));
        for (name, par) in settings(flops) {
            group.bench_function(format!("{label} fused {name}"), |bench| {
                run(bench, || {
                    attention_forward(
                        black_box(&mut out),
                        &mut probs,
                        &q,
                        &k,
                        &v,
                        dims,
                        None,
                        0.25,
                        None,
                        par,
                    )
                    .unwrap()
                });
            });
        }
        group.bench_function(format!("{label} naive reference"), |bench| {
            run(bench, || {
                attention_reference(black_box(&q), &k, &v, dims, None, 0.25, None)
            });
        });
    }
    group.finish();
}

/// The fused attention backward pass (per batch item and head: `dV = Pᵀ·dO`, `dP = dO·Vᵀ`, the softmax backward
/// row pass, `dQ = dS·K`, `dK = dSᵀ·Q`, each head written into its columns of the gradients) from the
/// probabilities of a forward pass, on the same shapes as the forward bench; the throughput counts the four
/// products' FLOPs (twice the forward's).
fn fused_attention_backward(c: &mut Criterion) {
    let mut group = c.benchmark_group("attention backward");
    configure(&mut group);
    for (label, batch, len) in [
        ("classifier 32x2x200x32", 32, 200),
        ("small 8x2x64x32", 8, 64),
    ] {
        let dims = AttentionDims {
            batch,
            heads: 2,
            q_len: len,
            kv_len: len,
            key_dim: 32,
            value_dim: 32,
        };
        let [nq, nk, nv, nout, nprobs] = dims.lens();
        let (q, k, v, dout) = (data(nq, 5), data(nk, 6), data(nv, 7), data(nout, 8));
        let (mut out, mut probs) = (vec![0.0; nout], vec![0.0; nprobs]);
        attention_forward(
            &mut out,
            &mut probs,
            &q,
            &k,
            &v,
            dims,
            None,
            0.25,
            None,
            rkeras_tensor::kernels::Parallelism::None,
        )
        .unwrap();
        let (mut dq, mut dk, mut dv) = (vec![0.0; nq], vec![0.0; nk], vec![0.0; nv]);
        let flops = 2 * dims.forward_flops();
        group.throughput(Throughput::Elements(flops));
        for (name, par) in settings(flops) {
            group.bench_function(format!("{label} fused {name}"), |bench| {
                run(bench, || {
                    attention_backward(
                        AttentionGrads {
                            dq: black_box(&mut dq),
                            dk: &mut dk,
                            dv: &mut dv,
                        },
                        &dout,
                        &q,
                        &k,
                        &v,
                        &probs,
                        dims,
                        0.25,
                        None,
                        par,
                    )
                    .unwrap()
                });
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Criterion's charts need system fonts a machine may lack; the figures go to docs/performance.md.
    config = Criterion::default().without_plots();
    targets = fma_peak, square_gemm, lstm_gemm, memnn_batched, mnist_mlp_gemm, fused_attention, fused_attention_backward
}
criterion_main!(benches);
