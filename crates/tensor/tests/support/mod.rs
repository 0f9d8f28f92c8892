//! Helpers shared by the tensor crate's integration tests.

/// Runs `f` in a rayon pool of two threads (for the 1 vs 2 threads bit-for-bit checks).
pub fn two_threads<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(f)
}
