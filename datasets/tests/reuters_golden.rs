//! The Reuters loader against Keras's own `reuters.load_data` run on the same file
//! (`scripts/keras_reuters_golden.py` wrote the fixture), and its typed errors on small crafted `.npz` files.

mod common;

use rkeras_datasets::DatasetError;
use rkeras_datasets::numpy_random::legacy_shuffled_indices;
use rkeras_datasets::reuters::{
    LABEL_NAMES, Reuters, ReutersOptions, load_reuters, load_word_index,
};
use serde_json::Value;
use std::path::PathBuf;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/keras_reuters.json")).unwrap()
}

fn crafted(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

fn options_of(arguments: &Value) -> ReutersOptions {
    let mut options = ReutersOptions::default();
    let size = |v: &Value| v.as_u64().map(|n| n as usize);
    for (key, value) in arguments.as_object().unwrap() {
        match key.as_str() {
            "num_words" => options.num_words = size(value),
            "skip_top" => options.skip_top = size(value).unwrap(),
            "maxlen" => options.maxlen = size(value),
            "test_split" => options.test_split = value.as_f64().unwrap(),
            "seed" => options.seed = value.as_u64().unwrap() as u32,
            "start_char" => options.start_char = size(value),
            "oov_char" => options.oov_char = size(value),
            "index_from" => options.index_from = size(value).unwrap(),
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

fn rows(value: &Value) -> Vec<Vec<usize>> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_u64().unwrap() as usize)
                .collect()
        })
        .collect()
}

fn check_split(name: &str, xs: &[Vec<usize>], ys: &[usize], keras: &Value) {
    let n = |key: &str| keras[key].as_u64().unwrap() as usize;
    assert_eq!(xs.len(), n("count"), "{name}: count");
    assert_eq!(
        xs.iter().map(Vec::len).sum::<usize>(),
        n("total_words"),
        "{name}: words"
    );
    let index_sum: usize = xs.iter().flatten().sum();
    assert_eq!(index_sum, n("index_sum"), "{name}: index sum");
    assert_eq!(
        xs.iter().flatten().max().copied().unwrap_or(0),
        n("max_index"),
        "{name}"
    );
    let mut label_counts = vec![0usize; 46];
    for &y in ys {
        label_counts[y] += 1;
    }
    let keras_counts: Vec<usize> = keras["label_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(label_counts, keras_counts, "{name}: label counts");
    let first_labels: Vec<usize> = keras["first_labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(
        &ys[..first_labels.len()],
        &first_labels[..],
        "{name}: first labels"
    );
    assert_eq!(
        &xs[..3],
        &rows(&keras["first_rows"])[..],
        "{name}: first rows"
    );
    assert_eq!(
        xs.last().unwrap(),
        &rows(&Value::Array(vec![keras["last_row"].clone()]))[0],
        "{name}: last row"
    );
}

#[test]
fn numpy_permutation_of_1000() {
    let keras: Vec<usize> = fixture()["permutation_1000_seed_113"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(legacy_shuffled_indices(1000, 113), keras);
}

#[test]
fn load_data_matches_keras() {
    let Some(npz) = common::required_shared("datasets/reuters/reuters.npz", "reuters.npz") else {
        return;
    };
    let fixture = fixture();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let options = options_of(&case["arguments"]);
        let Reuters {
            x_train,
            y_train,
            x_test,
            y_test,
        } = load_reuters(&npz, &options).unwrap();
        let name = format!("{options:?}");
        check_split(&format!("{name} train"), &x_train, &y_train, &case["train"]);
        check_split(&format!("{name} test"), &x_test, &y_test, &case["test"]);
    }
}

#[test]
fn word_index_and_labels_as_the_readme() {
    let Some(path) = common::required_shared(
        "datasets/reuters/reuters_word_index.json",
        "reuters word index",
    ) else {
        return;
    };
    let index = load_word_index(&path).unwrap();
    assert_eq!(index.len(), 30_979);
    assert_eq!((index["the"], index["of"], index["said"]), (1, 2, 5));
    assert_eq!(
        (LABEL_NAMES[0], LABEL_NAMES[3], LABEL_NAMES[45]),
        ("cocoa", "earn", "lead")
    );
}

#[test]
fn object_arrays_of_lists_are_read() {
    // x = [[4, 5], [], [6]], y = [2, 0, 1], written by NumPy 2 (protocol-3 pickle, numpy._core globals).
    let options = ReutersOptions {
        test_split: 0.0,
        seed: 0,
        ..Default::default()
    };
    let data = load_reuters(&crafted("npz_lists.npz"), &options).unwrap();
    // RandomState(0).shuffle(arange(3)) → [2, 1, 0]; max index 9 → num_words 9 → 9 is oov.
    assert_eq!(data.y_train, vec![1, 0, 2]);
    assert_eq!(data.x_train, vec![vec![1, 2], vec![1], vec![1, 7, 8]]);
}

#[test]
fn typed_errors_name_file_and_member() {
    let options = ReutersOptions::default();
    let error = load_reuters(&crafted("npz_object_strings.npz"), &options).unwrap_err();
    assert!(
        matches!(&error, DatasetError::Npz { member, reason, .. }
            if member == "x.npy" && reason.contains("row 0") && reason.contains("a string")),
        "{error}"
    );
    let error = load_reuters(&crafted("npz_int_matrix.npz"), &options).unwrap_err();
    assert!(
        matches!(&error, DatasetError::Npz { member, reason, .. }
            if member == "x.npy" && reason.contains("'|O'")),
        "{error}"
    );
    assert!(error.to_string().contains("npz_int_matrix.npz"), "{error}");
    let error = load_reuters(&crafted("keras_tokenizer.json"), &options).unwrap_err();
    assert!(
        error.to_string().contains("keras_tokenizer.json"),
        "{error}"
    );
    let error = load_word_index(&crafted("keras_reuters.json")).unwrap_err();
    assert!(matches!(error, DatasetError::Json { .. }), "{error}");
}
