//! Helpers shared by the kernels' unit tests: reproducible random data and tolerance checks.

/// `len` reproducible pseudo-random values in `[-1, 1)` (xorshift64*, seeded).
pub(crate) fn random_vec(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40; // 24 random bits
            (bits as f32 / (1u64 << 23) as f32) - 1.0
        })
        .collect()
}

/// `len` smooth values in `[-1, 1]`, `sin((7i + 13·seed) · 0.37)`: the convolution kernels' test data.
pub(crate) fn sin_values(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7 + seed * 13) as f32 * 0.37).sin())
        .collect()
}

/// Asserts that a fast product agrees with the `f64`-accumulated reference within rounding of a `k`-term sum
/// of products of values in `[-1, 1]`, scaled by alpha, beta up to 2.3.
pub(crate) fn assert_gemm_close(fast: &[f32], reference: &[f32], k: usize, what: &str) {
    assert_eq!(fast.len(), reference.len(), "{what}: lengths");
    let tolerance = 4.0 * f32::EPSILON * (k as f32 + 2.0) * 2.3;
    for (idx, (x, y)) in fast.iter().zip(reference).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * (1.0 + y.abs()),
            "{what}: element {idx}: {x} vs reference {y}"
        );
    }
}

/// Asserts two slices are bit-for-bit equal.
pub(crate) fn assert_bits_eq(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (idx, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(
            x.to_bits(),
            y.to_bits(),
            "{what}: element {idx}: {x} vs {y}"
        );
    }
}

/// Runs `f` inside a fresh rayon pool of `threads` threads.
pub(crate) fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}
