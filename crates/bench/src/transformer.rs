//! The transformer classifier (examples/transformer_classifier): keras.io's "Text classification with
//! Transformer" model on synthetic token sequences, Adam, batch 32.

use crate::workloads::{Validation, Workload, split_rows};
use crate::{BenchResult, Cli};
use ndarray::{Array1, Array2};
use serde_json::json;
use std::time::Instant;

#[allow(dead_code)]
#[path = "../../../examples/seq_common/transformer.rs"]
mod model;
#[allow(dead_code)]
#[path = "../../../examples/seq_common/token_position.rs"]
mod token_position;

/// SplitMix64's output for `state`: the synthetic ids, which benches/keras_transformer.py reproduces.
fn splitmix64(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The id at flat position `index` of the synthetic data of `seed`: in `[1, vocab)`.
pub(crate) fn synthetic_id(seed: u64, index: usize, vocab: usize) -> u64 {
    let state = seed.wrapping_mul(1 << 32).wrapping_add(index as u64);
    1 + splitmix64(state) % (vocab as u64).saturating_sub(1).max(1)
}

/// 2,000 training and 200 validation sequences of 200 ids in `[1, 10000)` (Reuters's sizes in the example), id
/// `(i, t)` = 1 + SplitMix64(seed · 2³² + i · 200 + t) mod 9,999; the label is the first id modulo the 46 topics.
pub(crate) fn classifier(cli: &Cli) -> BenchResult<Workload> {
    let started = Instant::now();
    let (train, val, maxlen, vocab, classes) = (2_000, 200, 200, 10_000, 46);
    let x = Array2::from_shape_fn((train + val, maxlen), |(i, t)| {
        synthetic_id(cli.seed, i * maxlen + t, vocab) as f32
    });
    let y: Array1<f32> = x.column(0).mapv(|id| (id as usize % classes) as f32);
    let [x_train, x_val, y_train, y_val] = split_rows(x.into_dyn(), y, train);
    let data_ms = started.elapsed().as_secs_f64() * 1e3;
    rkeras::prelude::set_random_seed(cli.seed);
    let model = model::model(maxlen, vocab, classes)?;
    Ok(Workload {
        model,
        x_train: vec![x_train.into()],
        y_train,
        validation: Validation::Arrays(vec![x_val], y_val),
        optimizer: "adam",
        setup_ms: (data_ms, 0.0, 0.0),
        data: json!({ "source": format!("synthetic ids, seed {}", cli.seed), "train_samples": train,
            "validation_samples": val, "input_shape": [maxlen], "vocab_size": vocab, "classes": classes }),
    })
}

#[cfg(test)]
mod tests {
    use super::{splitmix64, synthetic_id};

    /// SplitMix64 from state 0 gives its published first output, and the first ids of seed 1 are those
    /// benches/keras_transformer.py generates (`synthetic(1)`: 8051 3494 9661 6349 5639, then 5472 4108 8621).
    #[test]
    fn synthetic_ids_match_the_keras_twin() {
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        let id = |i: usize, t: usize| synthetic_id(1, i * 200 + t, 10_000);
        let first: Vec<u64> = (0..5).map(|t| id(0, t)).collect();
        assert_eq!(first, [8051, 3494, 9661, 6349, 5639]);
        assert_eq!([id(1, 0), id(1, 1), id(1, 2)], [5472, 4108, 8621]);
    }
}
