//! Keras's Reuters newswires and models: the loader the Reuters examples share, the MLP (Dense 512 relu,
//! Dropout, Dense softmax over the topics, on binary bags of words) and the recurrent classifier (masked
//! Embedding, Bidirectional GRU, Dense softmax).

use rkeras::datasets::reuters::{REUTERS_NPZ, Reuters, ReutersOptions, load_reuters, reuters_dir};
use rkeras::prelude::*;
use std::path::{Path, PathBuf};

/// The newswires of Keras's `reuters.npz`, where they were read and how many topics they have.
pub struct Newswires {
    /// The folder of `reuters.npz` (`--data`, or $REUTERS_DIR).
    pub dir: PathBuf,
    /// The sequences and labels (Keras's `reuters.load_data(num_words=…)`).
    pub data: Reuters,
    /// The number of topics: one more than the largest label.
    pub classes: usize,
}

/// Loads `reuters.npz` from `data` (or $REUTERS_DIR) keeping the `num_words` most frequent words, and prints the
/// `data: …` line (folder, train / test counts, topics).
pub fn load_newswires(
    data: Option<&Path>,
    num_words: usize,
) -> Result<Newswires, Box<dyn std::error::Error>> {
    let dir = reuters_dir(data)?;
    let options = ReutersOptions {
        num_words: Some(num_words),
        ..Default::default()
    };
    let data = load_reuters(&dir.join(REUTERS_NPZ), &options)?;
    let classes = data
        .y_train
        .iter()
        .chain(&data.y_test)
        .max()
        .map_or(0, |&c| c + 1);
    println!(
        "data: {} · {} train / {} test newswires · {classes} topics",
        dir.display(),
        data.x_train.len(),
        data.x_test.len()
    );
    Ok(Newswires { dir, data, classes })
}

/// The model for `max_words`-column bags of words and `classes` topics (Keras's dropout: 0.5).
pub fn model(max_words: usize, classes: usize, dropout: f32) -> rkeras::Result<Model> {
    Sequential::new(&[max_words])
        .add(Dense::new(512).with_activation("relu")?)?
        .add(Dropout::new(dropout))?
        .add(Dense::new(classes).with_activation("softmax")?)?
        .build()
}

/// The Reuters recurrent classifier: Embedding with `mask_zero` (index 0 is padding), a bidirectional GRU that
/// skips the padded steps, Dense softmax over the topics.
pub fn rnn_model(
    maxlen: usize,
    num_words: usize,
    embed_dim: usize,
    units: usize,
    classes: usize,
) -> rkeras::Result<Model> {
    Sequential::new(&[maxlen])
        .add(Embedding::new(num_words, embed_dim).with_mask_zero(true))?
        .add(rkeras::layers::Bidirectional::new(
            rkeras::layers::GRU::new(units),
        )?)?
        .add(Dense::new(classes).with_activation("softmax")?)?
        .build()
}
