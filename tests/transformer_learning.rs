//! The transformer_classifier example's model (examples/seq_common/transformer.rs) learns the Reuters topics on a
//! small subset in a few seconds: its test accuracy beats the most frequent topic's share by a clear margin.

#[path = "../examples/seq_common/token_position.rs"]
#[allow(dead_code)]
mod token_position;
#[path = "../examples/seq_common/transformer.rs"]
mod transformer;

use rkeras::datasets::reuters::{ReutersOptions, load_reuters};
use rkeras::prelude::*;
use std::path::PathBuf;

#[test]
fn transformer_classifier_learns_topics() {
    let npz = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/datasets/reuters/reuters.npz"
    ));
    if !npz.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{} missing (CI=true: the real-data learning tests must run)",
            npz.display()
        );
        eprintln!("\n*** NOT TESTED: {} missing ***\n", npz.display());
        return;
    }
    let (vocab, maxlen) = (2000, 64);
    let options = ReutersOptions {
        num_words: Some(vocab),
        ..Default::default()
    };
    let data = load_reuters(&npz, &options).unwrap();
    let x_train = transformer::pad(&data.x_train[..2000], maxlen);
    let y_train = transformer::labels(&data.y_train[..2000]);
    let x_test = transformer::pad(&data.x_test[..500], maxlen);
    let y_test = transformer::labels(&data.y_test[..500]);
    set_random_seed(1);
    let mut model = transformer::model(maxlen, vocab, 46).unwrap();
    model
        .compile("adam", "sparse_categorical_crossentropy", &["accuracy"])
        .unwrap();
    model
        .fit(
            &[x_train],
            &y_train,
            FitConfig::new().epochs(4).batch_size(32).verbose(0).seed(1),
        )
        .unwrap();
    let accuracy = model.evaluate(&[x_test], &y_test, 256).unwrap()["accuracy"];
    let mut counts = [0usize; 46];
    data.y_test[..500].iter().for_each(|&y| counts[y] += 1);
    let majority = *counts.iter().max().unwrap() as f64 / 500.0;
    eprintln!("transformer: test accuracy {accuracy:.3}, majority {majority:.3}");
    assert!(
        accuracy > majority + 0.1,
        "accuracy {accuracy} vs majority {majority}"
    );
}
