//! What the tests against Keras's shared fixture (`../shared/fixtures/keras_memnn_qa1`) share.

use ndarray::ArrayD;
use rkeras_datasets::Vectorized;
use std::path::PathBuf;

/// The fixture's directory when every `needed` entry exists in it; else `None` with a loud notice, or a failure
/// with CI=true (the shared material lives next to the repository and may be absent elsewhere).
pub fn fixture(needed: &[&str]) -> Option<PathBuf> {
    const CHECK: &str = "the checks against Keras's memory-network fixture";
    let dir = rkeras_testkit::shared_path("fixtures/keras_memnn_qa1", CHECK)?;
    for entry in needed {
        rkeras_testkit::shared_path(&format!("fixtures/keras_memnn_qa1/{entry}"), CHECK)?;
    }
    Some(dir)
}

/// The memory network's inputs `[stories, queries]` of a vectorised split.
pub fn inputs(split: &Vectorized) -> Vec<ArrayD<f32>> {
    vec![
        split.stories.clone().into_dyn(),
        split.queries.clone().into_dyn(),
    ]
}
