//! [`per_target!`]: a loop compiled once per x86-64 level (x86-64-v4 with AVX-512, v3 with AVX2 and FMA, v2) and
//! chosen at run time by the `multiversion` crate, so that a kernel of a crate built for baseline x86-64 (SSE2)
//! still runs on the machine's widest vectors. The loop's parameters stay parameters (not a closure's captures),
//! so every compiled copy keeps their no-alias information and its constants in registers.

/// `$vis fn $name(args) { body }` compiled for `multiversion`'s `simd` targets, the best one the CPU has run.
/// The body must not rely on FMA being used (Rust never fuses `a * b + c` by itself; `mul_add` is the same fused
/// operation in software), so every target computes the same bits.
macro_rules! per_target {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        #[::multiversion::multiversion(targets = "simd")]
        $vis fn $name($($arg: $ty),*) $body
    };
}

pub(crate) use per_target;

#[cfg(test)]
mod tests {
    per_target! {
        /// A loop whose copies must agree with the plain loop below.
        fn scaled_sums(out: &mut [f32], a: &[f32], b: &[f32], s: f32) {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = x * s + y;
            }
        }
    }

    /// The copy the CPU runs gives the bits of the element-by-element loop (a tail past the vector width too).
    #[test]
    fn the_chosen_copy_gives_the_plain_loops_bits() {
        let n = 1037;
        let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos() * 1e-3).collect();
        let mut out = vec![0.0f32; n];
        scaled_sums(&mut out, &a, &b, 0.3);
        for i in 0..n {
            let expected = std::hint::black_box(a[i]) * 0.3 + b[i];
            assert_eq!(out[i].to_bits(), expected.to_bits(), "element {i}");
        }
    }
}
