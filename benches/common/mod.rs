//! What the criterion benches share: reproducible data, the thread settings compared, and the timing mode.

#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Bencher, BenchmarkGroup, measurement::WallTime};
use rkeras_tensor::kernels::Parallelism;

/// Reproducible values in [-1, 1).
pub fn data(len: usize, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

/// The three settings compared for every shape.
pub fn settings(flops: u64) -> [(&'static str, Parallelism); 3] {
    [
        ("1 thread", Parallelism::None),
        ("2 threads", Parallelism::Rayon(2)),
        ("auto", Parallelism::auto(flops)),
    ]
}

/// Whether samples are the fastest repetition (`RKERAS_BENCH_FASTEST=1`) rather than the mean.
pub fn fastest_mode() -> bool {
    std::env::var("RKERAS_BENCH_FASTEST").is_ok_and(|v| v == "1")
}

/// Times `routine` the usual criterion way, or by its fastest repetition (see the module documentation).
pub fn run<R>(bench: &mut Bencher<'_>, mut routine: impl FnMut() -> R) {
    if fastest_mode() {
        bench.iter_custom(|iters| {
            let mut fastest = Duration::MAX;
            for _ in 0..iters {
                let start = Instant::now();
                black_box(routine());
                fastest = fastest.min(start.elapsed());
            }
            fastest.mul_f64(iters as f64)
        });
    } else {
        bench.iter(routine);
    }
}

pub fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
}
