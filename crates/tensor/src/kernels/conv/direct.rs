//! A direct forward kernel for convolutions with few input channels (the convnet's first layer: 1 channel,
//! 3×3, 28×28 → 26×26×32), where im2col + `gemm` spends its time copying 9-value patches and packing a
//! 9-deep product.
//!
//! Per output position the patch's taps are read straight from the image and each block of 16 filters is
//! accumulated in registers, `acc = fma(x_t, w_t, acc)` over the taps in the kernel's order `(ky, kx,
//! channel)` from `acc = 0`: the chain of fused multiply-adds the `gemm` crate's micro-kernels run over a
//! depth that fits one block, so the values are bit for bit those of the im2col path (tested against it);
//! the bias and ReLU follow as in its epilogue. Only for windows inside the input (no padding), one group, and
//! machines with FMA (elsewhere the im2col path runs).

use super::Conv2dGeometry;
use crate::kernels::per_target::per_target;

/// Most taps (`kernel_h · kernel_w · in_c`) the direct kernel takes: the patch is held on the stack.
const MAX_TAPS: usize = 32;

/// Filters accumulated together (one AVX-512 register, two AVX2 registers).
const LANES: usize = 16;

/// Whether the direct kernel computes this convolution's forward pass.
pub(crate) fn applies(g: &Conv2dGeometry) -> bool {
    let inside = |out: usize, stride: usize, kernel: usize, dilation: usize, size: usize| {
        out == 0 || (out - 1) * stride + (kernel - 1) * dilation < size
    };
    g.groups == 1
        && g.patch_len() > 0
        && g.patch_len() <= MAX_TAPS
        && g.pad_top == 0
        && g.pad_left == 0
        && inside(g.out_h, g.stride_h, g.kernel_h, g.dilation_h, g.in_h)
        && inside(g.out_w, g.stride_w, g.kernel_w, g.dilation_w, g.in_w)
        && !super::implicit::applies(g)
        && simd::available()
}

/// The taps' offsets from a window's start, in the kernel's order `(ky, kx, channel)`.
fn tap_offsets(g: &Conv2dGeometry) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(g.patch_len());
    for ky in 0..g.kernel_h {
        for kx in 0..g.kernel_w {
            let at = (ky * g.dilation_h * g.in_w + kx * g.dilation_w) * g.in_c;
            offsets.extend((0..g.in_c).map(|c| at + c));
        }
    }
    offsets
}

/// One image's output (`positions × out_c`, overwritten): the convolution plus `bias`, through ReLU when
/// `relu`. Call only where [`applies`] holds.
pub(crate) fn forward_image(
    g: &Conv2dGeometry,
    image: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
    out: &mut [f32],
) {
    let offsets = tap_offsets(g);
    forward(g, &offsets, image, kernel, bias, relu, out);
}

/// The bias and ReLU of one output value, as the im2col path's epilogue computes them.
#[inline(always)]
fn finish(acc: f32, bias: f32, has_bias: bool, relu: bool) -> f32 {
    let y = if has_bias { acc + bias } else { acc };
    if relu {
        if y > 0.0 { y } else { 0.0 }
    } else {
        y
    }
}

per_target! {
/// The kernel's loop, compiled per target.
fn forward(
    g: &Conv2dGeometry,
    offsets: &[usize],
    image: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
    out: &mut [f32],
) {
    let (oc, taps) = (g.out_c, offsets.len().min(MAX_TAPS));
    let mut xs = [0.0f32; MAX_TAPS];
    let (has_bias, zeros) = (bias.is_some(), vec![0.0f32; oc]);
    let bias = bias.unwrap_or(&zeros);
    for (p, y) in out.chunks_exact_mut(oc).enumerate() {
        let (oy, ox) = (p / g.out_w, p % g.out_w);
        let start = (oy * g.stride_h * g.in_w + ox * g.stride_w) * g.in_c;
        for (x, &o) in xs.iter_mut().zip(&offsets[..taps]) {
            *x = image[start + o];
        }
        let mut f0 = 0;
        for y in y.chunks_exact_mut(LANES) {
            let mut acc = [0.0f32; LANES];
            for (t, &x) in xs[..taps].iter().enumerate() {
                let w: &[f32; LANES] = match kernel[t * oc + f0..].first_chunk() {
                    Some(w) => w,
                    None => return,
                };
                for l in 0..LANES {
                    acc[l] = x.mul_add(w[l], acc[l]);
                }
            }
            // The epilogue as whole-vector passes (a flag test per value keeps it scalar).
            if has_bias {
                for (a, b) in acc.iter_mut().zip(&bias[f0..f0 + LANES]) {
                    *a += b;
                }
            }
            if relu {
                for a in &mut acc {
                    *a = if *a > 0.0 { *a } else { 0.0 };
                }
            }
            y.copy_from_slice(&acc);
            f0 += LANES;
        }
        for (f, y) in (f0..oc).zip(y.chunks_exact_mut(LANES).into_remainder()) {
            let mut acc = 0.0f32;
            for (t, &x) in xs[..taps].iter().enumerate() {
                acc = x.mul_add(kernel[t * oc + f], acc);
            }
            *y = finish(acc, bias[f], has_bias, relu);
        }
    }
}

}

pub(super) mod simd {
    /// Whether the machine has the fused multiply-add the kernel's bits depend on (see the module's text).
    pub(in crate::kernels::conv) fn available() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ConvPadding;
    use crate::kernels::test_util::sin_values as values;

    #[test]
    fn the_convnets_first_layer_and_windows_inside_apply() {
        if !simd::available() {
            eprintln!("NOTICE: no AVX2/FMA on this machine; the direct kernel is not used");
            return;
        }
        let conv = |input: [usize; 4], kernel: [usize; 4], s, d, p| {
            applies(&Conv2dGeometry::conv(&input, &kernel, s, d, p, 1).unwrap())
        };
        use ConvPadding::*;
        assert!(conv([2, 28, 28, 1], [3, 3, 1, 32], [1, 1], [1, 1], Valid));
        assert!(conv([2, 9, 9, 3], [3, 3, 3, 5], [2, 2], [1, 1], Valid));
        assert!(conv([2, 9, 9, 2], [2, 2, 2, 5], [1, 1], [2, 2], Valid));
        // Padding, or more than 32 taps, go through im2col.
        assert!(!conv([2, 28, 28, 1], [3, 3, 1, 32], [1, 1], [1, 1], Same));
        assert!(!conv([2, 9, 9, 4], [3, 3, 4, 8], [1, 1], [1, 1], Valid));
    }

    /// The direct kernel gives the im2col path's bits (im2col, one `gemm`, then bias and ReLU) and the
    /// definition's values, with and without bias and ReLU, over a remainder of filters past 16.
    #[test]
    fn bit_for_bit_the_im2col_product_and_close_to_the_definition() {
        if !simd::available() {
            eprintln!("NOTICE: no AVX2/FMA on this machine; the direct kernel is not used");
            return;
        }
        use crate::kernels::{MatRef, Parallelism, gemm};
        for (input, kernel, stride, dilation) in [
            ([3, 28, 28, 1], [3, 3, 1, 32], [1, 1], [1, 1]),
            ([2, 9, 11, 3], [3, 3, 3, 5], [2, 1], [1, 1]),
            ([2, 9, 9, 2], [2, 2, 2, 20], [1, 1], [2, 2]),
        ] {
            let g = Conv2dGeometry::conv(&input, &kernel, stride, dilation, ConvPadding::Valid, 1)
                .unwrap();
            assert!(applies(&g));
            let x = values(g.batch * g.image_len(), 1);
            let k: Vec<f32> = values(g.patch_len() * g.out_c, 2)
                .iter()
                .map(|v| v * 3.0)
                .collect();
            let b = values(g.out_c, 3);
            for (bias, relu) in [(Some(&b[..]), true), (None, false), (Some(&b[..]), false)] {
                let (p, oc) = (g.positions(), g.out_c);
                let mut got = vec![f32::NAN; g.batch * p * oc];
                let mut want = vec![f32::NAN; got.len()];
                let mut cols = vec![0.0; p * g.patch_len()];
                for (i, (got, want)) in got
                    .chunks_exact_mut(p * oc)
                    .zip(want.chunks_exact_mut(p * oc))
                    .enumerate()
                {
                    let image = &x[i * g.image_len()..(i + 1) * g.image_len()];
                    forward_image(&g, image, &k, bias, relu, got);
                    super::super::im2col::im2col(&g, image, 0, &mut cols);
                    let a = MatRef::row_major(&cols, p, g.patch_len()).unwrap();
                    let w = MatRef::row_major(&k, g.patch_len(), oc).unwrap();
                    gemm(want, a, w, 1.0, 0.0, Parallelism::None).unwrap();
                    for row in want.chunks_exact_mut(oc) {
                        for (f, y) in row.iter_mut().enumerate() {
                            *y = finish(*y, bias.map_or(0.0, |b| b[f]), bias.is_some(), relu);
                        }
                    }
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "{input:?} {kernel:?} bias {} relu {relu}",
                    bias.is_some()
                );
                let mut reference = vec![0.0; got.len()];
                super::super::conv2d_reference(&x, &k, bias, &mut reference, &g).unwrap();
                for (y, r) in got.iter().zip(&reference) {
                    let r = if relu { r.max(0.0) } else { *r };
                    assert!((y - r).abs() <= 1e-5 * (1.0 + r.abs()), "{y} vs {r}");
                }
            }
        }
    }

    #[test]
    fn tap_offsets_follow_the_kernels_order() {
        let g = Conv2dGeometry::conv(
            &[1, 5, 6, 2],
            &[2, 2, 2, 1],
            [1, 1],
            [1, 2],
            ConvPadding::Valid,
            1,
        )
        .unwrap();
        // (ky, kx, c) → ((ky·1·6 + kx·2)·2 + c)
        assert_eq!(tap_offsets(&g), vec![0, 1, 4, 5, 12, 13, 16, 17]);
    }
}
