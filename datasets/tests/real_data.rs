//! Loading the official en-10k qa1 files.

mod common;

use common::{REAL_EN10K, shared_or_skip};
use rkeras_datasets::{BabiSource, DatasetError, Task, Vectorizer, load_task_dir};

#[test]
fn official_qa1_loads_with_the_keras_shapes() {
    let Some(dir) = shared_or_skip(REAL_EN10K) else {
        return;
    };
    let splits = load_task_dir(&dir, Task::QA1, false).unwrap();
    assert_eq!((splits.train.len(), splits.test.len()), (10_000, 1_000));
    let first = &splits.train[0];
    // "1 Mary moved to the bathroom." "2 John went to the hallway." "3 Where is Mary? \tbathroom\t1"
    assert_eq!(
        first.story.join(" "),
        "Mary moved to the bathroom . John went to the hallway ."
    );
    assert_eq!(first.question.join(" "), "Where is Mary ?");
    assert_eq!(
        (first.answer.as_str(), first.supporting.as_slice()),
        ("bathroom", &[1][..])
    );
    let v = Vectorizer::fit(&splits.train, &splits.test).unwrap();
    assert_eq!(
        (v.vocab_size(), v.story_maxlen(), v.query_maxlen()),
        (22, 68, 4)
    );
    let train = v.vectorize(&splits.train).unwrap();
    assert_eq!(train.stories.dim(), (10_000, 68));
    assert_eq!(train.queries.dim(), (10_000, 4));
    assert_eq!(train.one_hot_answers().dim(), (10_000, 22));
    // The first story has 12 tokens: 56 zeros of padding before them.
    assert!(train.stories.row(0).iter().take(56).all(|&x| x == 0.0));
    assert_eq!(train.stories[[0, 56]], v.index_of("Mary").unwrap() as f32);
}

#[test]
fn only_supporting_keeps_one_statement_per_question() {
    let Some(dir) = shared_or_skip(REAL_EN10K) else {
        return;
    };
    let source = BabiSource::Dir(dir);
    let splits = source.load(Task::QA1, true).unwrap();
    for example in splits.train.iter().chain(&splits.test) {
        assert_eq!(example.supporting.len(), 1);
        // "<Person> <verb…> the <place> ." ending with the answer and the full stop.
        assert_eq!(example.story.first(), example.question.get(2));
        assert_eq!(
            example.story.get(example.story.len() - 2),
            Some(example.answer.as_str())
        );
    }
}

#[test]
fn a_missing_task_names_the_task_and_directory() {
    let Some(real) = shared_or_skip(REAL_EN10K) else {
        return;
    };
    // A directory named like the real one holding only qa1's files, whatever else the shared copy has.
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("en-10k");
    std::fs::create_dir(&dir).unwrap();
    for split in ["train", "test"] {
        let name = format!("qa1_single-supporting-fact_{split}.txt");
        std::fs::copy(real.join(&name), dir.join(&name)).unwrap();
    }
    assert!(load_task_dir(&dir, Task::QA1, false).is_ok());
    let err = load_task_dir(&dir, Task::new(20).unwrap(), false).unwrap_err();
    assert!(
        matches!(&err, DatasetError::MissingTaskFile { task, .. } if task == "qa20"),
        "{err}"
    );
    assert!(err.to_string().contains("en-10k"), "{err}");
}

/// Every task whose files are present (in `en-10k` or `en`) loads and vectorises; tasks without files are
/// listed as skipped.
#[test]
fn every_present_task_loads_and_vectorises() {
    let Some(real) = shared_or_skip(REAL_EN10K) else {
        return;
    };
    let mut skipped = Vec::new();
    for dir in [real.clone(), real.with_file_name("en")] {
        if !dir.is_dir() {
            skipped.push(format!("{} (absent)", dir.display()));
            continue;
        }
        for n in 1..=20 {
            let task = Task::new(n).unwrap();
            let splits = match load_task_dir(&dir, task, false) {
                Ok(splits) => splits,
                Err(DatasetError::MissingTaskFile { .. }) => {
                    skipped.push(format!("{}/qa{n}", dir.display()));
                    continue;
                }
                Err(err) => panic!("{}: qa{n}: {err}", dir.display()),
            };
            assert!(!splits.train.is_empty() && !splits.test.is_empty(), "qa{n}");
            let v = Vectorizer::fit(&splits.train, &splits.test).unwrap();
            let test = v.vectorize(&splits.test).unwrap();
            assert_eq!(test.stories.dim(), (splits.test.len(), v.story_maxlen()));
            assert_eq!(test.queries.dim(), (splits.test.len(), v.query_maxlen()));
        }
    }
    if !skipped.is_empty() {
        eprintln!("skipping tasks without files: {}", skipped.join(", "));
    }
}
