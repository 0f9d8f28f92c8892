//! The Reuters recurrent classifier (examples/reuters_rnn): Embedding(10000, 64, mask_zero=True),
//! Bidirectional(GRU(32)), Dense softmax over 46 classes, on synthetic id sequences padded with zeros in front,
//! Adam, batch 32.

use crate::transformer::synthetic_id;
use crate::workloads::{Validation, Workload, split_rows};
use crate::{BenchResult, Cli};
use ndarray::{Array1, Array2};
use serde_json::json;
use std::time::Instant;

#[allow(dead_code)]
#[path = "../../../examples/seq_common/reuters.rs"]
mod model;

/// The number of ids row `row` keeps, in `[20, maxlen]`: 19 + (1 + SplitMix64(seed · 2³² + rows · maxlen + row)
/// mod (maxlen − 19)), drawn after the `rows · maxlen` ids.
fn kept(seed: u64, row: usize, rows: usize, maxlen: usize) -> usize {
    19 + synthetic_id(seed, rows * maxlen + row, maxlen - 18) as usize
}

/// 2,000 training and 200 validation sequences of 200 steps, each of 20 to 200 ids below 10,000 after zeros
/// (as `pad_sequences` pads Reuters's newswires): the transformer workload's ids (`(i, t)` = 1 +
/// SplitMix64(seed · 2³² + i · 200 + t) mod 9,999) with the first 200 − `kept` replaced by 0. The label is the
/// last id modulo the 46 topics. benches/keras_reuters_rnn.py generates the same data.
pub(crate) fn classifier(cli: &Cli) -> BenchResult<Workload> {
    let started = Instant::now();
    let (train, val, maxlen, vocab, classes) = (2_000, 200, 200, 10_000, 46);
    let rows = train + val;
    let lengths: Vec<usize> = (0..rows).map(|i| kept(cli.seed, i, rows, maxlen)).collect();
    let x = Array2::from_shape_fn((rows, maxlen), |(i, t)| {
        if t + lengths[i] < maxlen {
            0.0
        } else {
            synthetic_id(cli.seed, i * maxlen + t, vocab) as f32
        }
    });
    let y: Array1<f32> = x
        .column(maxlen - 1)
        .mapv(|id| (id as usize % classes) as f32);
    let [x_train, x_val, y_train, y_val] = split_rows(x.into_dyn(), y, train);
    let data_ms = started.elapsed().as_secs_f64() * 1e3;
    rkeras::prelude::set_random_seed(cli.seed);
    let model = model::rnn_model(maxlen, vocab, 64, 32, classes)?;
    Ok(Workload {
        model,
        x_train: vec![x_train.into()],
        y_train,
        validation: Validation::Arrays(vec![x_val], y_val),
        optimizer: "adam",
        setup_ms: (data_ms, 0.0, 0.0),
        data: json!({ "source": format!("synthetic ids padded in front (20 to 200 kept), seed {}", cli.seed),
            "train_samples": train, "validation_samples": val, "input_shape": [maxlen], "vocab_size": vocab,
            "classes": classes }),
    })
}

#[cfg(test)]
mod tests {
    use super::kept;
    use crate::transformer::synthetic_id;

    /// The kept lengths of seed 1 are those benches/keras_reuters_rnn.py draws (`synthetic(1)`: 62 180 56 32
    /// 188; row 0 keeps ids 7461 at step 138 to 5227 at step 199), and all lie in [20, 200].
    #[test]
    fn lengths_match_the_keras_twin() {
        let first: Vec<usize> = (0..5).map(|i| kept(1, i, 2_200, 200)).collect();
        assert_eq!(first, [62, 180, 56, 32, 188]);
        assert!((0..2_200).all(|i| (20..=200).contains(&kept(1, i, 2_200, 200))));
        assert_eq!(synthetic_id(1, 138, 10_000), 7461);
        assert_eq!(synthetic_id(1, 199, 10_000), 5227);
    }
}
