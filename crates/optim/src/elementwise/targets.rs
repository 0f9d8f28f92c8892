//! The instruction sets an element-wise loop is compiled for, chosen at run time.
//!
//! [`per_target!`] emits a loop's whole body three times: as written (the build's baseline, SSE2 on x86-64), and
//! inside `#[target_feature]` functions for AVX2 and AVX-512F. The loop's arrays stay the function's own slice
//! parameters in every copy, so the compiler keeps their no-alias information and vectorises each copy at its full
//! width (a closure capturing the slices would lose it and run scalar). Element-wise arithmetic without fused
//! multiply-adds rounds the same on every width, so the three copies give the same bits.

/// An instruction set a [`per_target!`] loop can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The build's baseline (SSE2 on x86-64).
    Baseline,
    /// AVX2 (256-bit vectors).
    Avx2,
    /// AVX-512F (512-bit vectors).
    Avx512,
}

impl Target {
    /// The widest target this CPU runs.
    pub(crate) fn detected() -> Self {
        if Self::Avx512.available() {
            Self::Avx512
        } else if Self::Avx2.available() {
            Self::Avx2
        } else {
            Self::Baseline
        }
    }

    /// Whether this CPU runs the target.
    pub(crate) fn available(self) -> bool {
        match self {
            Self::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// Defines `fn name<F: Fn(..)>(target: Target, params..) body`: `body` compiled for each [`Target`], the one
/// asked for run when the CPU has it (else the baseline copy).
macro_rules! per_target {
    (
        $(#[$attr:meta])*
        fn $name:ident<F: Fn($($arg:ty),* $(,)?)>($($param:ident: $ty:ty),* $(,)?) $body:block
    ) => {
        $(#[$attr])*
        pub(crate) fn $name<F: Fn($($arg),*)>(target: $crate::elementwise::targets::Target, $($param: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                use $crate::elementwise::targets::Target;
                if target == Target::Avx512 && target.available() {
                    // SAFETY: the CPU has AVX-512F (checked on the line above).
                    return unsafe { avx512($($param),*) };
                }
                if target == Target::Avx2 && target.available() {
                    // SAFETY: the CPU has AVX2 (checked on the line above).
                    return unsafe { avx2($($param),*) };
                }
            }
            return baseline($($param),*);

            fn baseline<F: Fn($($arg),*)>($($param: $ty),*) $body

            /// # Safety
            /// The CPU must have AVX-512F.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            unsafe fn avx512<F: Fn($($arg),*)>($($param: $ty),*) $body

            /// # Safety
            /// The CPU must have AVX2.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<F: Fn($($arg),*)>($($param: $ty),*) $body
        }
    };
}
