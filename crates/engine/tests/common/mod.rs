//! What the tests against Keras's shared fixture (`../shared/fixtures/keras_memnn_qa1`) share.

use ndarray::ArrayD;
use rkeras_datasets::Vectorized;
use std::path::PathBuf;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/keras_memnn_qa1"
);

/// The fixture's directory when every `needed` entry exists in it, else `None` with a message (the shared
/// material lives next to the repository and may be absent).
pub fn fixture(needed: &[&str]) -> Option<PathBuf> {
    let dir = PathBuf::from(FIXTURE);
    if needed.iter().all(|entry| dir.join(entry).exists()) {
        Some(dir)
    } else {
        eprintln!("skipped: the Keras fixture {} is absent", dir.display());
        None
    }
}

/// The memory network's inputs `[stories, queries]` of a vectorised split.
pub fn inputs(split: &Vectorized) -> Vec<ArrayD<f32>> {
    vec![
        split.stories.clone().into_dyn(),
        split.queries.clone().into_dyn(),
    ]
}
