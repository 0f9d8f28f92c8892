//! im2col and its adjoint col2im for one channels-last image and one channel group.
//!
//! Row `oy·out_w + ox` of the column matrix holds the input patch that output position `(oy, ox)` sees, in the
//! kernel's order `(ky, kx, channel)`, with zeros where the window hangs over the padding; the convolution of
//! the image is then the product of this `positions × patch_len` matrix with the kernel viewed as
//! `patch_len × filters`.

use super::Conv2dGeometry;

/// Fills `cols` (`positions × patch_len`) with the patches of `image` (`in_h · in_w · in_c`) for `group`.
pub(crate) fn im2col(g: &Conv2dGeometry, image: &[f32], group: usize, cols: &mut [f32]) {
    let cg = g.group_in();
    let c0 = group * cg;
    let mut rows = cols.chunks_exact_mut(g.patch_len());
    for oy in 0..g.out_h {
        for ox in 0..g.out_w {
            let Some(row) = rows.next() else { return };
            let mut taps = row.chunks_exact_mut(cg);
            for ky in 0..g.kernel_h {
                for kx in 0..g.kernel_w {
                    let Some(dst) = taps.next() else { return };
                    match g.tap(oy, ox, ky, kx) {
                        Some((iy, ix)) => {
                            let at = (iy * g.in_w + ix) * g.in_c + c0;
                            dst.copy_from_slice(&image[at..at + cg]);
                        }
                        None => dst.fill(0.0),
                    }
                }
            }
        }
    }
}

/// Adds each row of `cols` back onto the input positions its patch came from (the adjoint of [`im2col`]).
pub(crate) fn col2im_add(g: &Conv2dGeometry, cols: &[f32], group: usize, image: &mut [f32]) {
    let cg = g.group_in();
    let c0 = group * cg;
    let mut rows = cols.chunks_exact(g.patch_len());
    for oy in 0..g.out_h {
        for ox in 0..g.out_w {
            let Some(row) = rows.next() else { return };
            let mut taps = row.chunks_exact(cg);
            for ky in 0..g.kernel_h {
                for kx in 0..g.kernel_w {
                    let Some(src) = taps.next() else { return };
                    if let Some((iy, ix)) = g.tap(oy, ox, ky, kx) {
                        let at = (iy * g.in_w + ix) * g.in_c + c0;
                        image[at..at + cg]
                            .iter_mut()
                            .zip(src)
                            .for_each(|(d, s)| *d += s);
                    }
                }
            }
        }
    }
}
