use super::*;
use crate::kernels::Parallelism;
use rand::{Rng, SeedableRng};

fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn dims() -> AttentionDims {
    AttentionDims {
        batch: 2,
        heads: 3,
        q_len: 5,
        kv_len: 7,
        key_dim: 4,
        value_dim: 6,
    }
}

fn run(
    dims: AttentionDims,
    mask: Option<AttentionMask<'_>>,
    dropout: Option<&[f32]>,
    par: Parallelism,
) -> (Vec<f32>, Vec<f32>) {
    let [ql, kl, vl, ol, pl] = dims.lens();
    let (q, k, v) = (values(ql, 1), values(kl, 2), values(vl, 3));
    let (mut out, mut probs) = (vec![f32::NAN; ol], vec![f32::NAN; pl]);
    attention_forward(
        &mut out, &mut probs, &q, &k, &v, dims, mask, 0.5, dropout, par,
    )
    .unwrap();
    let (expected_out, expected_probs) = attention_reference(&q, &k, &v, dims, mask, 0.5, dropout);
    for (a, b) in out
        .iter()
        .zip(&expected_out)
        .chain(probs.iter().zip(&expected_probs))
    {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    (out, probs)
}

#[test]
fn matches_the_naive_reference_with_masks_and_dropout() {
    let d = dims();
    run(d, None, None, Parallelism::None);
    let (_, probs) = run(
        d,
        Some(AttentionMask {
            values: None,
            causal: true,
        }),
        None,
        Parallelism::None,
    );
    // Query 0 sees key 0 only.
    assert_eq!(&probs[..2], &[1.0, 0.0]);
    let mut mask = values(d.batch * d.q_len * d.kv_len, 4);
    mask.iter_mut()
        .for_each(|m| *m = if *m > -0.3 { 1.0 } else { 0.0 });
    run(
        d,
        Some(AttentionMask {
            values: Some(&mask),
            causal: false,
        }),
        None,
        Parallelism::None,
    );
    run(
        d,
        Some(AttentionMask {
            values: Some(&mask[..d.q_len * d.kv_len]),
            causal: true,
        }),
        None,
        Parallelism::None,
    );
    let drop: Vec<f32> = values(d.lens()[4], 5)
        .iter()
        .map(|&x| if x > 0.0 { 2.0 } else { 0.0 })
        .collect();
    run(d, None, Some(&drop), Parallelism::Rayon(0));
}

#[test]
fn a_fully_masked_query_attends_to_nothing() {
    let d = AttentionDims {
        batch: 1,
        heads: 1,
        q_len: 2,
        kv_len: 3,
        key_dim: 2,
        value_dim: 2,
    };
    let mask = [0.0, 0.0, 0.0, 1.0, 0.0, 1.0];
    let (out, probs) = run(
        d,
        Some(AttentionMask {
            values: Some(&mask),
            causal: false,
        }),
        None,
        Parallelism::None,
    );
    assert_eq!(&probs[..3], &[0.0, 0.0, 0.0]);
    assert_eq!(probs[4], 0.0);
    assert!((probs[3] + probs[5] - 1.0).abs() < 1e-6);
    assert_eq!(&out[..2], &[0.0, 0.0]);
}

#[test]
fn bit_identical_with_one_and_two_threads() {
    let d = AttentionDims {
        batch: 4,
        heads: 4,
        q_len: 16,
        kv_len: 16,
        key_dim: 8,
        value_dim: 8,
    };
    let [ql, kl, vl, ol, pl] = d.lens();
    let (q, k, v, dout) = (values(ql, 1), values(kl, 2), values(vl, 3), values(ol, 4));
    let go = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (mut out, mut probs) = (vec![0.0; ol], vec![0.0; pl]);
            let mask = AttentionMask {
                values: None,
                causal: true,
            };
            attention_forward(
                &mut out,
                &mut probs,
                &q,
                &k,
                &v,
                d,
                Some(mask),
                0.3,
                None,
                Parallelism::Rayon(0),
            )
            .unwrap();
            let (mut dq, mut dk, mut dv) = (vec![0.0; ql], vec![0.0; kl], vec![0.0; vl]);
            let grads = AttentionGrads {
                dq: &mut dq,
                dk: &mut dk,
                dv: &mut dv,
            };
            attention_backward(
                grads,
                &dout,
                &q,
                &k,
                &v,
                &probs,
                d,
                0.3,
                None,
                Parallelism::Rayon(0),
            )
            .unwrap();
            (out, probs, dq, dk, dv)
        })
    };
    let (one, two) = (go(1), go(2));
    assert!(
        one.0
            .iter()
            .zip(&two.0)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    assert!(
        one.2
            .iter()
            .zip(&two.2)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
    assert_eq!(one, two);
}

#[test]
fn wrong_lengths_are_errors() {
    let d = dims();
    let [ql, kl, vl, ol, pl] = d.lens();
    let (mut out, mut probs) = (vec![0.0; ol], vec![0.0; pl]);
    let short = vec![0.0; ql - 1];
    assert!(
        attention_forward(
            &mut out,
            &mut probs,
            &short,
            &vec![0.0; kl],
            &vec![0.0; vl],
            d,
            None,
            1.0,
            None,
            Parallelism::None
        )
        .is_err()
    );
    let bad_mask = [1.0; 3];
    let mask = AttentionMask {
        values: Some(&bad_mask),
        causal: false,
    };
    assert!(
        attention_forward(
            &mut out,
            &mut probs,
            &vec![0.0; ql],
            &vec![0.0; kl],
            &vec![0.0; vl],
            d,
            Some(mask),
            1.0,
            None,
            Parallelism::None
        )
        .is_err()
    );
}
