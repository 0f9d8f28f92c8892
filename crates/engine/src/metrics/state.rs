//! Metric states as numbers that add up (Keras's `merge_state`): totals and counts laid end to end, so that
//! the shards of a batch (or ranks training together) can each update a fresh copy and the copies' states be
//! added in shard order.

use crate::error::{EngineError, Result};

/// Adds `state` (the targets' lengths laid end to end) into `targets`, element by element.
pub(crate) fn add_into(targets: &mut [&mut [f32]], state: &[f32]) -> Result<()> {
    let len: usize = targets.iter().map(|t| t.len()).sum();
    if len != state.len() {
        return Err(EngineError::invalid(
            "state",
            format!(
                "a metric state of {len} numbers cannot merge one of {}",
                state.len()
            ),
        ));
    }
    let mut rest = state;
    for target in targets.iter_mut() {
        let (part, tail) = rest.split_at(target.len());
        target.iter_mut().zip(part).for_each(|(t, v)| *t += v);
        rest = tail;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_adds_into_the_targets_in_order_and_must_match_their_length() {
        let (mut a, mut b) = (vec![1.0f32, 2.0], vec![10.0f32]);
        add_into(&mut [&mut a, &mut b], &[0.5, 0.25, 1.0]).unwrap();
        assert_eq!((a, b), (vec![1.5, 2.25], vec![11.0]));
        let mut c = vec![0.0f32; 2];
        let error = add_into(&mut [&mut c], &[1.0]).unwrap_err().to_string();
        assert_eq!(
            error,
            "invalid `state`: a metric state of 2 numbers cannot merge one of 1"
        );
    }

    #[test]
    fn shards_merged_in_order_give_the_whole_batch_result() {
        use crate::metrics::Metric;
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(4);
        let y: Vec<f32> = (0..40).map(|_| f32::from(rng.random::<bool>())).collect();
        let p: Vec<f32> = (0..40).map(|_| rng.random::<f32>()).collect();
        let column = |v: &[f32]| {
            ndarray::Array2::from_shape_vec((v.len(), 1), v.to_vec())
                .unwrap()
                .into_dyn()
        };
        for name in [
            "binary_accuracy",
            "mae",
            "mse",
            "binary_crossentropy",
            "sum",
            "mean",
            "auc",
            "precision",
            "recall",
            "TruePositives",
            "FalseNegatives",
            "f1_score",
            "root_mean_squared_error",
        ] {
            let mut whole = Metric::from_name(name).unwrap_or_else(|e| panic!("{e}"));
            whole.update_state(&column(&y), &column(&p), None).unwrap();
            // Shards of 16, 16 and 8 samples, each on a fresh copy, merged in order.
            let mut merged = whole.fresh();
            for range in [0..16, 16..32, 32..40] {
                let mut shard = whole.fresh();
                shard
                    .update_state(&column(&y[range.clone()]), &column(&p[range]), None)
                    .unwrap();
                merged.merge_state(&shard.state().unwrap()).unwrap();
            }
            let (a, b) = (merged.results(), whole.results());
            assert_eq!(a.len(), b.len(), "{name}");
            for (a, b) in a.iter().zip(&b) {
                assert!(
                    (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                    "{name}: {a} vs {b}"
                );
            }
        }
    }
}
