//! Naive attention in `f64`, element by element: the reference the fused kernel is tested against.

use super::{AttentionDims, AttentionMask};

/// `(output, probabilities)` in the layouts of [`super::attention_forward`], computed with plain loops.
pub fn attention_reference(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    dims: AttentionDims,
    mask: Option<AttentionMask<'_>>,
    scale: f32,
    dropout: Option<&[f32]>,
) -> (Vec<f32>, Vec<f32>) {
    let AttentionDims {
        batch,
        heads,
        q_len,
        kv_len,
        key_dim,
        value_dim,
    } = dims;
    let mask = mask.unwrap_or_default();
    let [.., out_len, probs_len] = dims.lens();
    let (mut out, mut probs) = (vec![0.0f32; out_len], vec![0.0f32; probs_len]);
    let qi =
        |b: usize, t: usize, h: usize, c: usize| q[((b * q_len + t) * heads + h) * key_dim + c];
    let ki =
        |b: usize, t: usize, h: usize, c: usize| k[((b * kv_len + t) * heads + h) * key_dim + c];
    let vi =
        |b: usize, t: usize, h: usize, c: usize| v[((b * kv_len + t) * heads + h) * value_dim + c];
    for b in 0..batch {
        for h in 0..heads {
            for i in 0..q_len {
                let scores: Vec<Option<f64>> = (0..kv_len)
                    .map(|j| {
                        mask.keeps(&dims, b, i, j).then(|| {
                            (0..key_dim)
                                .map(|c| f64::from(qi(b, i, h, c)) * f64::from(ki(b, j, h, c)))
                                .sum::<f64>()
                                * f64::from(scale)
                        })
                    })
                    .collect();
                let max = scores
                    .iter()
                    .flatten()
                    .fold(f64::NEG_INFINITY, |m, &s| m.max(s));
                let total: f64 = scores.iter().flatten().map(|s| (s - max).exp()).sum();
                let row = ((b * heads + h) * q_len + i) * kv_len;
                for (j, s) in scores.iter().enumerate() {
                    probs[row + j] = s.map_or(0.0, |s| ((s - max).exp() / total) as f32);
                }
                for c in 0..value_dim {
                    let acc: f64 = (0..kv_len)
                        .map(|j| {
                            let d = dropout.map_or(1.0, |d| d[row + j]);
                            f64::from(probs[row + j] * d) * f64::from(vi(b, j, h, c))
                        })
                        .sum();
                    out[((b * q_len + i) * heads + h) * value_dim + c] = acc as f32;
                }
            }
        }
    }
    (out, probs)
}
