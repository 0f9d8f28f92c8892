//! The transformer classifier (examples/seq_common/transformer.rs: token and position embedding,
//! MultiHeadAttention, LayerNormalization, the feed-forward Dense layers, dropout, Adam) trains to the same bits
//! with 1 and 2 rayon threads, with one shard per batch and with two.

#[allow(dead_code)]
#[path = "../examples/seq_common/token_position.rs"]
mod token_position;
#[allow(dead_code)]
#[path = "../examples/seq_common/transformer.rs"]
mod transformer;

use ndarray::{Array2, ArrayD};
use rkeras::prelude::*;

/// A run's outcome as bits: every weight's, then every logged value's, key by key.
type RunBits = (Vec<u32>, Vec<(String, Vec<u64>)>);

/// 96 sequences of 24 ids in `[1, 50)` from a fixed scramble; the label is the first id modulo the 5 classes.
fn data() -> (ArrayD<f32>, ArrayD<f32>) {
    let x = Array2::from_shape_fn((96, 24), |(i, t)| {
        (1 + (i * 7919 + t * 104_729) % 49) as f32
    });
    let y = x.column(0).mapv(|id| (id as usize % 5) as f32);
    (x.into_dyn(), y.into_dyn())
}

/// Two seeded epochs of Adam, batch 32, a quarter held out, in a pool of `threads` threads.
fn train(threads: usize, shards: usize) -> RunBits {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
    pool.unwrap().install(|| {
        let (x, y) = data();
        set_random_seed(5);
        let mut model = transformer::model(24, 50, 5).unwrap();
        model
            .compile("adam", "sparse_categorical_crossentropy", &["accuracy"])
            .unwrap();
        let config = FitConfig::new().epochs(2).batch_size(32).verbose(0).seed(9);
        let config = config.validation_split(0.25).shards(shards);
        let history = model.fit(&[x], &y, config).unwrap();
        let weights: Vec<u32> = model
            .get_weights()
            .iter()
            .flatten()
            .map(|v| v.to_bits())
            .collect();
        assert!(weights.iter().all(|&b| f32::from_bits(b).is_finite()));
        let logs = history
            .history
            .into_iter()
            .map(|(key, values)| (key, values.into_iter().map(f64::to_bits).collect()));
        (weights, logs.collect())
    })
}

#[test]
fn one_and_two_threads_give_the_same_bits() {
    let runs: Vec<_> = [1, 2].map(|shards| train(1, shards)).into();
    // The shard count does change the summation order, so a split that followed the threads would show.
    assert_ne!(runs[0], runs[1]);
    for (shards, one) in [1, 2].into_iter().zip(runs) {
        assert_eq!(one, train(2, shards), "{shards} shards");
    }
}
