//! The Tokenizer against Keras's own (`scripts/keras_tokenizer_golden.py` wrote the fixture with
//! tf.keras.preprocessing.text.Tokenizer): word index, counts, document counts, sequences of seen and unseen
//! texts, and the four matrix modes, under six configurations.

use rkeras_datasets::text::{DEFAULT_FILTERS, MatrixMode, Tokenizer, TokenizerConfig};
use serde_json::Value;
use std::collections::HashMap;

fn fixture() -> Value {
    let text = include_str!("fixtures/keras_tokenizer.json");
    serde_json::from_str(text).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn config_of(config: &Value) -> TokenizerConfig {
    let get = |key: &str| config.get(key);
    TokenizerConfig {
        num_words: get("num_words").map(|v| v.as_u64().unwrap() as usize),
        filters: get("filters").map_or(DEFAULT_FILTERS.to_string(), |v| {
            v.as_str().unwrap().to_string()
        }),
        lower: get("lower").is_none_or(|v| v.as_bool().unwrap()),
        split: get("split").map_or(" ".to_string(), |v| v.as_str().unwrap().to_string()),
        char_level: get("char_level").is_some_and(|v| v.as_bool().unwrap()),
        oov_token: get("oov_token").map(|v| v.as_str().unwrap().to_string()),
    }
}

#[test]
fn tokenizer_matches_keras() {
    let fixture = fixture();
    let fit_texts = strings(&fixture["fit_texts"]);
    let other_texts = strings(&fixture["other_texts"]);
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut tokenizer = Tokenizer::new(config_of(&case["config"])).unwrap();
        tokenizer.fit_on_texts(&fit_texts);
        assert_eq!(
            tokenizer.document_count() as u64,
            case["document_count"].as_u64().unwrap(),
            "{name}"
        );

        let keras_index: HashMap<String, usize> = case["word_index"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(w, i)| (w.clone(), i.as_u64().unwrap() as usize))
            .collect();
        assert!(keras_index.len() > 10, "{name}");
        assert_eq!(tokenizer.word_index(), &keras_index, "{name}: word_index");

        let keras_counts: Vec<(String, usize)> = case["word_counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                (
                    pair[0].as_str().unwrap().to_string(),
                    pair[1].as_u64().unwrap() as usize,
                )
            })
            .collect();
        let counts: Vec<(String, usize)> = tokenizer
            .word_counts()
            .iter()
            .map(|(w, &c)| (w.clone(), c))
            .collect();
        assert_eq!(counts, keras_counts, "{name}: word_counts in order");

        for (word, docs) in case["word_docs"].as_object().unwrap() {
            assert_eq!(
                tokenizer.word_docs()[word] as u64,
                docs.as_u64().unwrap(),
                "{name}: word_docs[{word}]"
            );
        }

        let all_texts: Vec<&String> = fit_texts.iter().chain(&other_texts).collect();
        let keras_sequences: Vec<Vec<usize>> = case["sequences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s.as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_u64().unwrap() as usize)
                    .collect()
            })
            .collect();
        assert_eq!(
            tokenizer.texts_to_sequences(&all_texts),
            keras_sequences,
            "{name}: sequences"
        );

        let matrix_texts: Vec<&String> = other_texts.iter().chain(&fit_texts[..3]).collect();
        for (mode_name, expected) in case["matrices"].as_object().unwrap() {
            let mode = MatrixMode::from_name(mode_name).unwrap();
            let matrix = tokenizer.texts_to_matrix(&matrix_texts, mode).unwrap();
            let shape: Vec<usize> = expected["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(matrix.shape(), &shape[..], "{name} {mode_name}");
            let mut keras = ndarray::Array2::<f64>::zeros((shape[0], shape[1]));
            for entry in expected["nonzero"].as_array().unwrap() {
                let (i, j) = (
                    entry[0].as_u64().unwrap() as usize,
                    entry[1].as_u64().unwrap() as usize,
                );
                keras[[i, j]] = entry[2].as_f64().unwrap();
            }
            assert!(keras.iter().filter(|&&v| v != 0.0).count() > 3);
            for ((i, j), &want) in keras.indexed_iter() {
                let got = f64::from(matrix[[i, j]]);
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs().max(1.0),
                    "{name} {mode_name} [{i}, {j}]: {got} vs Keras {want}"
                );
            }
        }
    }
}
