//! [`per_target!`]: a loop body compiled once per x86-64 target (AVX-512F, AVX2 with FMA) and chosen at run
//! time, so that a kernel whose crate is built for baseline x86-64 (SSE2) still runs on the machine's widest
//! vectors. The body's parameters stay parameters (not a closure's captures), so the compiled loop keeps its
//! no-alias information and its constants in registers.

/// `$vis fn $name(args) { body }` whose body is compiled with AVX-512F (+ AVX2, FMA) when the CPU has it, else
/// with AVX2 and FMA, else as built. The body must not rely on FMA being used (Rust never fuses `a * b + c` by
/// itself; `mul_add` is the same fused operation in software), so every target computes the same bits.
macro_rules! per_target {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                /// # Safety
                /// AVX-512F, AVX2 and FMA must be available.
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn avx512($($arg: $ty),*) {
                    body($($arg),*)
                }
                /// # Safety
                /// AVX2 and FMA must be available.
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                let (has_avx2, has_fma) = (
                    std::arch::is_x86_feature_detected!("avx2"),
                    std::arch::is_x86_feature_detected!("fma"),
                );
                if has_avx2 && has_fma && std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the three features were detected just above; the body reads and writes only
                    // through bounds-checked slices.
                    return unsafe { avx512($($arg),*) };
                }
                if has_avx2 && has_fma {
                    // SAFETY: as above, for AVX2 and FMA.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

pub(crate) use per_target;
