//! Keras's Reuters newswire topics (`keras.datasets.reuters`): 11 228 newswires as word-index lists with 46
//! topic labels, read from Keras's own `reuters.npz` and `reuters_word_index.json` and prepared exactly as
//! `reuters.load_data` does (NumPy's seeded shuffle, start and out-of-vocabulary characters, index offset,
//! `num_words` / `skip_top` / `maxlen`, the last `test_split` as test set).
//!
//! The directory holding the two files is `--data DIR` in the examples, or the `REUTERS_DIR` environment
//! variable ([`reuters_dir`]).

mod npz;

use crate::error::{DatasetError, Result};
use crate::numpy_random::legacy_shuffled_indices;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The environment variable naming the directory of `reuters.npz` and `reuters_word_index.json`.
pub const REUTERS_DIR_ENV: &str = "REUTERS_DIR";

/// The newswires' file name, as Keras caches it.
pub const REUTERS_NPZ: &str = "reuters.npz";

/// The word index's file name, as Keras caches it.
pub const REUTERS_WORD_INDEX: &str = "reuters_word_index.json";

/// The 46 topic names in label order, as Keras 3's `reuters.get_label_names()`.
pub const LABEL_NAMES: [&str; 46] = [
    "cocoa",
    "grain",
    "veg-oil",
    "earn",
    "acq",
    "wheat",
    "copper",
    "housing",
    "money-supply",
    "coffee",
    "sugar",
    "trade",
    "reserves",
    "ship",
    "cotton",
    "carcass",
    "crude",
    "nat-gas",
    "cpi",
    "money-fx",
    "interest",
    "gnp",
    "meal-feed",
    "alum",
    "oilseed",
    "gold",
    "tin",
    "strategic-metal",
    "livestock",
    "retail",
    "ipi",
    "iron-steel",
    "rubber",
    "heat",
    "jobs",
    "lei",
    "bop",
    "zinc",
    "orange",
    "pet-chem",
    "dlr",
    "gas",
    "silver",
    "wpi",
    "hog",
    "lead",
];

/// The arguments of Keras's `reuters.load_data`, Keras's defaults by [`Default`].
#[derive(Clone, Debug, PartialEq)]
pub struct ReutersOptions {
    /// Words of index `num_words` or more become `oov_char` (or are dropped without one). `None` (or
    /// `Some(0)`, as in Keras) takes the largest index present — which, as in Keras, makes that one word
    /// out-of-vocabulary.
    pub num_words: Option<usize>,
    /// Words of index below `skip_top` become `oov_char` (or are dropped). Default 0.
    pub skip_top: usize,
    /// Keep only newswires shorter than `maxlen` (counting the start character). Default `None` (all).
    pub maxlen: Option<usize>,
    /// The share of newswires, taken from the end after shuffling, in the test set. Default 0.2.
    pub test_split: f64,
    /// The seed of NumPy's `RandomState` shuffle. Default 113.
    pub seed: u32,
    /// Put before every newswire. Default `Some(1)`.
    pub start_char: Option<usize>,
    /// Replaces the words cut by `num_words` / `skip_top`. Default `Some(2)`.
    pub oov_char: Option<usize>,
    /// Added to every word index. Default 3.
    pub index_from: usize,
}

impl Default for ReutersOptions {
    fn default() -> Self {
        ReutersOptions {
            num_words: None,
            skip_top: 0,
            maxlen: None,
            test_split: 0.2,
            seed: 113,
            start_char: Some(1),
            oov_char: Some(2),
            index_from: 3,
        }
    }
}

/// Training and test newswires (word-index lists) and their labels (0..46).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reuters {
    /// Training newswires (8 982 with the defaults).
    pub x_train: Vec<Vec<usize>>,
    /// Training labels.
    pub y_train: Vec<usize>,
    /// Test newswires (2 246 with the defaults).
    pub x_test: Vec<Vec<usize>>,
    /// Test labels.
    pub y_test: Vec<usize>,
}

/// The directory of the Reuters files: `arg` if given, else `$REUTERS_DIR`; an error naming both otherwise.
pub fn reuters_dir(arg: Option<&Path>) -> Result<PathBuf> {
    match arg {
        Some(dir) => Ok(dir.to_path_buf()),
        None => std::env::var_os(REUTERS_DIR_ENV)
            .map(PathBuf::from)
            .ok_or(DatasetError::InvalidArgument {
                op: "reuters",
                reason: format!(
                    "no data directory: pass one or set {REUTERS_DIR_ENV} to the folder of {REUTERS_NPZ}"
                ),
            }),
    }
}

/// Keras's `reuters.load_data(path, …)` on a `reuters.npz` file.
///
/// ```no_run
/// use rkeras_datasets::reuters::{load_reuters, ReutersOptions};
/// let options = ReutersOptions { num_words: Some(1000), ..Default::default() };
/// let data = load_reuters("reuters/reuters.npz".as_ref(), &options)?;
/// assert_eq!((data.x_train.len(), data.x_test.len()), (8982, 2246));
/// # Ok::<(), rkeras_datasets::DatasetError>(())
/// ```
pub fn load_reuters(path: &Path, options: &ReutersOptions) -> Result<Reuters> {
    if !(0.0..=1.0).contains(&options.test_split) {
        return Err(DatasetError::InvalidArgument {
            op: "reuters.load_data",
            reason: format!(
                "`test_split` must be in [0, 1], received {}",
                options.test_split
            ),
        });
    }
    let mut archive = npz::Npz::open(path)?;
    let xs = archive.integer_lists("x")?;
    let labels = archive.integers("y")?;
    if xs.len() != labels.len() {
        return Err(DatasetError::Npz {
            file: path.to_path_buf(),
            member: "y.npy".into(),
            reason: format!("{} labels for {} newswires", labels.len(), xs.len()),
        });
    }
    let labels = labels
        .iter()
        .map(|&y| {
            usize::try_from(y).map_err(|_| DatasetError::Npz {
                file: path.to_path_buf(),
                member: "y.npy".into(),
                reason: format!("negative label {y}"),
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    Ok(prepare(xs, labels, options))
}

/// `load_data`'s steps after reading the file.
fn prepare(xs: Vec<Vec<usize>>, labels: Vec<usize>, options: &ReutersOptions) -> Reuters {
    let order = legacy_shuffled_indices(xs.len(), options.seed);
    let mut shuffled: Vec<(Vec<usize>, usize)> = order
        .iter()
        .map(|&i| {
            let words = xs[i].iter().map(|&w| w + options.index_from);
            let x = options.start_char.into_iter().chain(words).collect();
            (x, labels[i])
        })
        .collect();
    if let Some(maxlen) = options.maxlen.filter(|&m| m > 0) {
        shuffled.retain(|(x, _)| x.len() < maxlen);
    }
    let num_words = options.num_words.filter(|&n| n > 0).unwrap_or_else(|| {
        shuffled
            .iter()
            .filter_map(|(x, _)| x.iter().max())
            .max()
            .copied()
            .unwrap_or(0)
    });
    let keep = |w: usize| options.skip_top <= w && w < num_words;
    for (x, _) in &mut shuffled {
        *x = match options.oov_char {
            Some(oov) => x.iter().map(|&w| if keep(w) { w } else { oov }).collect(),
            None => x.iter().copied().filter(|&w| keep(w)).collect(),
        };
    }
    let split = (shuffled.len() as f64 * (1.0 - options.test_split)) as usize;
    let test = shuffled.split_off(split);
    let (x_train, y_train) = shuffled.into_iter().unzip();
    let (x_test, y_test) = test.into_iter().unzip();
    Reuters {
        x_train,
        y_train,
        x_test,
        y_test,
    }
}

/// Keras's `reuters.get_word_index()`: word → raw index (1 = most frequent; add `index_from` to match
/// [`load_reuters`]'s sequences).
pub fn load_word_index(path: &Path) -> Result<HashMap<String, usize>> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| DatasetError::Json {
        file: path.to_path_buf(),
        reason: format!("expected an object of word → non-negative integer: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Vec<Vec<usize>>, Vec<usize>) {
        (
            vec![vec![1, 2], vec![5], vec![3, 3, 3], vec![4, 1], vec![2]],
            vec![0, 1, 2, 3, 4],
        )
    }

    #[test]
    fn defaults_offset_and_split_as_keras() {
        let (xs, ys) = data();
        let out = prepare(xs, ys, &ReutersOptions::default());
        // NumPy: RandomState(113).shuffle(arange(5)) → [1, 0, 3, 2, 4]; 5 · 0.8 = 4 training rows.
        assert_eq!(out.y_train, vec![1, 0, 3, 2]);
        assert_eq!(out.y_test, vec![4]);
        // Largest index 5 + 3 = 8 is the implicit num_words, so 8 itself becomes oov (2), as in Keras.
        assert_eq!(out.x_train[0], vec![1, 2]);
        assert_eq!(out.x_train[1], vec![1, 4, 5]);
        assert_eq!(out.x_train[3], vec![1, 6, 6, 6]);
        assert_eq!(out.x_test[0], vec![1, 5]);
    }

    #[test]
    fn num_words_skip_top_maxlen_and_no_oov() {
        let (xs, ys) = data();
        let options = ReutersOptions {
            num_words: Some(6),
            skip_top: 2,
            maxlen: Some(3),
            oov_char: None,
            test_split: 0.0,
            ..Default::default()
        };
        let out = prepare(xs, ys, &options);
        // Kept (length < 3 with the start char): labels 1 ([1, 8]) and 4 ([1, 5]); indices in 2..6 kept.
        assert_eq!(out.y_train, vec![1, 4]);
        assert_eq!(out.x_train, vec![vec![], vec![5]]);
        assert!(out.x_test.is_empty());
    }

    #[test]
    fn bad_test_split_is_an_error() {
        let options = ReutersOptions {
            test_split: 1.5,
            ..Default::default()
        };
        let error = load_reuters(Path::new("missing.npz"), &options).unwrap_err();
        assert!(error.to_string().contains("test_split"), "{error}");
        let error = load_reuters(
            Path::new("/nonexistent/reuters.npz"),
            &ReutersOptions::default(),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/reuters.npz"),
            "{error}"
        );
    }
}
