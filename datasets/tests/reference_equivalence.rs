//! The fast path (one shared token store per file, interned symbol ids, per-store remap tables) against the
//! straightforward reference in `reference/`: the same examples, vocabulary, lengths, index arrays and errors,
//! on generated data, on corrupted generated data and on the official files when they are present.

mod common;
mod reference;

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rkeras_datasets::{
    DatasetError, QaExample, Split, Task, Vectorizer, find_task_file, generate, parse_babi_bytes,
};

use common::{REAL_EN10K, shared_or_skip};
use reference::Example;

fn assert_same_examples(fast: &[QaExample], slow: &[Example]) {
    assert_eq!(fast.len(), slow.len());
    for (i, (f, s)) in fast.iter().zip(slow).enumerate() {
        assert_eq!(f.story, s.story, "story of example {i}");
        assert_eq!(f.question, s.question, "question of example {i}");
        assert_eq!(f.answer, s.answer, "answer of example {i}");
        assert_eq!(
            f.supporting, s.supporting,
            "supporting facts of example {i}"
        );
    }
}

fn assert_same_error(fast: &DatasetError, slow: &DatasetError) {
    assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
    assert_eq!(fast.to_string(), slow.to_string());
    assert_eq!((fast.file(), fast.line()), (slow.file(), slow.line()));
}

/// Parses with both paths and asserts the same examples or the same error; returns the examples.
fn parse_both(
    bytes: &[u8],
    source: &str,
    only_supporting: bool,
) -> Result<(Vec<QaExample>, Vec<Example>), DatasetError> {
    let fast = parse_babi_bytes(bytes, source, only_supporting);
    let slow = reference::parse_bytes(bytes, source, only_supporting);
    match (fast, slow) {
        (Ok(fast), Ok(slow)) => {
            assert_same_examples(&fast, &slow);
            Ok((fast, slow))
        }
        (Err(fast), Err(slow)) => {
            assert_same_error(&fast, &slow);
            Err(fast)
        }
        (fast, slow) => panic!(
            "the fast path gives {:?}, the reference {:?}",
            fast.map(|e| e.len()),
            slow.map(|e| e.len())
        ),
    }
}

/// Vectorises with both paths at the given lengths and asserts the same arrays or the same error.
fn assert_same_arrays(
    vectorizer: &Vectorizer,
    fast: &[QaExample],
    slow: &[Example],
) -> Option<DatasetError> {
    let words = vectorizer.words();
    let (story_len, query_len) = (vectorizer.story_maxlen(), vectorizer.query_maxlen());
    match (
        vectorizer.vectorize(fast),
        reference::vectorize(words, story_len, query_len, slow),
    ) {
        (Ok(got), Ok((stories, queries, answers))) => {
            assert_eq!(got.stories, stories);
            assert_eq!(got.queries, queries);
            assert_eq!(got.answers, answers);
            assert_eq!(got.vocab_size, words.len() + 1);
            None
        }
        (Err(fast), Err(slow)) => {
            assert_same_error(&fast, &slow);
            Some(fast)
        }
        (fast, slow) => panic!(
            "the fast path gives {:?}, the reference {:?}",
            fast.map(|v| v.len()),
            slow.map(|v| v.2.len())
        ),
    }
}

/// Fits on both splits and vectorises each with both paths: at the fitted lengths, truncated and over-padded.
fn assert_same_vectorised(train: (&[QaExample], &[Example]), test: (&[QaExample], &[Example])) {
    let vectorizer = Vectorizer::fit(train.0, test.0).unwrap();
    let (words, story_maxlen, query_maxlen) = reference::fit(train.1, test.1);
    assert_eq!(vectorizer.words(), words);
    assert_eq!(
        (vectorizer.story_maxlen(), vectorizer.query_maxlen()),
        (story_maxlen, query_maxlen)
    );
    for (story_len, query_len) in [
        (story_maxlen, query_maxlen),
        (story_maxlen / 2, 1),
        (story_maxlen + 3, query_maxlen + 2),
        (0, 0),
    ] {
        let fixed = vectorizer
            .clone()
            .with_story_maxlen(story_len)
            .with_query_maxlen(query_len);
        for (fast, slow) in [train, test] {
            assert!(assert_same_arrays(&fixed, fast, slow).is_none());
        }
    }
}

#[test]
fn generated_tasks_match_the_reference() {
    for task in [Task::QA1, Task::QA2] {
        for seed in 0..3 {
            let (train, test) = generate::task_texts(task, 40, 8, seed).unwrap();
            for only_supporting in [false, true] {
                let train = parse_both(train.as_bytes(), "train.txt", only_supporting).unwrap();
                let test = parse_both(test.as_bytes(), "test.txt", only_supporting).unwrap();
                assert_eq!(train.0.len(), 200);
                assert_same_vectorised((&train.0, &train.1), (&test.0, &test.1));
            }
        }
    }
}

#[test]
fn examples_built_from_words_mix_with_parsed_ones() {
    let (train, test) = generate::task_texts(Task::QA2, 10, 3, 4).unwrap();
    let (mut fast, slow) = parse_both(train.as_bytes(), "train.txt", false).unwrap();
    // Every other example rebuilt from its words, in a store of its own.
    for (example, words) in fast.iter_mut().zip(&slow).step_by(2) {
        *example = QaExample::new(
            &words.story,
            &words.question,
            words.answer.clone(),
            words.supporting.clone(),
        );
    }
    let test = parse_both(test.as_bytes(), "test.txt", false).unwrap();
    assert_same_vectorised((&fast, &slow), (&test.0, &test.1));
}

#[test]
fn examples_serialise_as_lists_of_words() {
    let text = generate::qa2(2, 1);
    let (fast, slow) = parse_both(text.as_bytes(), "qa2.txt", true).unwrap();
    for (f, s) in fast.iter().zip(&slow) {
        let expected = serde_json::json!({
            "story": s.story, "question": s.question, "answer": s.answer, "supporting": s.supporting,
        });
        assert_eq!(serde_json::to_value(f).unwrap(), expected);
        let back: QaExample = serde_json::from_value(expected).unwrap();
        assert_eq!(&back, f);
    }
}

#[test]
fn unknown_words_give_the_reference_errors() {
    let (qa1, _) = generate::task_texts(Task::QA1, 6, 1, 2).unwrap();
    let (qa2, _) = generate::task_texts(Task::QA2, 6, 1, 2).unwrap();
    let (fast, slow) = parse_both(qa2.as_bytes(), "qa2.txt", false).unwrap();
    let words = reference::fit(&slow, &[]).0;
    // Without each word in turn: the first example using it fails, in its story, question or answer.
    let mut fields = BTreeSet::new();
    for missing in &words {
        let kept: Vec<String> = words.iter().filter(|w| *w != missing).cloned().collect();
        let vectorizer = Vectorizer::from_parts(kept, 80, 5).unwrap();
        let err = assert_same_arrays(&vectorizer, &fast, &slow).unwrap();
        let DatasetError::UnknownWord { field, .. } = err else {
            panic!("{err}");
        };
        fields.insert(field);
    }
    assert_eq!(fields, BTreeSet::from(["question", "story"]));
    // An answer outside the vocabulary (answers are places the story names first, so edit one).
    let (mut fast_edited, mut slow_edited) = (fast.clone(), slow.clone());
    fast_edited[3].answer = "upstairs".to_string();
    slow_edited[3].answer = "upstairs".to_string();
    let vectorizer = Vectorizer::from_parts(words.clone(), 80, 5).unwrap();
    let err = assert_same_arrays(&vectorizer, &fast_edited, &slow_edited).unwrap();
    assert!(
        matches!(
            err,
            DatasetError::UnknownWord {
                field: "answer",
                example: 3,
                ..
            }
        ),
        "{err}"
    );
    // A word truncated away is still an error, as in the reference: qa2 stories hold words qa1 lacks.
    let (qa1_fast, _) = parse_both(qa1.as_bytes(), "qa1.txt", false).unwrap();
    let qa1_only = Vectorizer::fit(&qa1_fast, &[])
        .unwrap()
        .with_story_maxlen(1);
    let err = assert_same_arrays(&qa1_only, &fast, &slow).unwrap();
    let DatasetError::UnknownWord {
        field: "story",
        example,
        ref word,
    } = err
    else {
        panic!("{err}");
    };
    assert_ne!(fast[example].story.last(), Some(word.as_str()));
}

/// The lines of `text` with one line changed by a random edit, as bytes.
fn corrupt(text: &str, rng: &mut StdRng) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = rng.random_range(0..lines.len());
    let line = lines[at].clone();
    let (id, rest) = line.split_once(' ').unwrap();
    let id: usize = id.parse().unwrap();
    let question = rest.split('\t').next().unwrap();
    let replacement = match rng.random_range(0..14) {
        0 => rest.to_string(),
        1 => format!("{} {rest}", id + rng.random_range(1..3)),
        2 => format!("{id} {}?", question.trim_end()),
        3 => format!("{id}{rest}"),
        4 => format!("{line}\t1"),
        5 if rest.contains('\t') => format!("{id} {question}\t \t1"),
        6 if rest.contains('\t') => {
            let fact = ["x", "0", "1 x", "2 1"][rng.random_range(0..4)].to_string();
            format!("{id} {question}\tkitchen\t{fact}")
        }
        7 if rest.contains('\t') => {
            let fact = rng.random_range(1..id + 3);
            format!("{id} {question}\tkitchen\t{fact}")
        }
        8 => format!("\n  {line}  \r"),
        9 => format!("{id} {}", rest.replacen("the", "Zoë's  café, ", 1)),
        10 => format!("{id} {}", rest.replacen(' ', " .. ; ", 2)),
        11 => format!("0{line}"),
        12 => format!("{id}  {rest}"),
        _ => format!("{line}\u{1}\u{3000}"),
    };
    lines[at] = replacement;
    let mut bytes = lines.join("\n").into_bytes();
    if rng.random_range(0..20) == 0 {
        let at = rng.random_range(0..bytes.len());
        bytes.insert(at, 0xff);
    }
    bytes
}

#[test]
fn corrupted_text_gives_the_reference_examples_or_errors() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut kinds = BTreeSet::new();
    for trial in 0..600 {
        let task = [Task::QA1, Task::QA2][trial % 2];
        let text = generate::task_text(task, 3, trial as u64).unwrap();
        let bytes = corrupt(&text, &mut rng);
        let only_supporting = rng.random_bool(0.5);
        match parse_both(&bytes, "corrupt.txt", only_supporting) {
            Ok((fast, slow)) if !fast.is_empty() => {
                assert_same_vectorised((&fast, &slow), (&[], &[]));
                kinds.insert("Ok".to_string());
            }
            Ok(_) => {}
            Err(err) => {
                let debug = format!("{err:?}");
                kinds.insert(debug.split(' ').next().unwrap_or_default().to_string());
            }
        }
    }
    let expected = [
        "ControlCharacter",
        "InvalidSupportingFact",
        "InvalidUtf8",
        "MissingAnswer",
        "MissingLineNumber",
        "Ok",
        "SupportingFactIsQuestion",
        "SupportingFactOutOfRange",
        "UnexpectedLineId",
    ];
    assert_eq!(kinds, expected.map(str::to_string).into());
}

#[test]
fn whitespace_around_answers_gives_the_clean_examples() {
    // Keras's tokenizer makes `bathroom` of `bathroom `; both paths drop the spaces, so the padded text parses as
    // the clean one.
    for (trial, task) in [Task::QA1, Task::QA2].into_iter().enumerate() {
        let clean = generate::task_text(task, 4, trial as u64).unwrap();
        let padded: String = clean
            .lines()
            .map(|line| match line.split_once('\t') {
                Some((question, rest)) => {
                    format!("{question}\t {}\n", rest.replacen('\t', " \t", 1))
                }
                None => format!("{line}\n"),
            })
            .collect();
        assert_ne!(padded, clean);
        let (fast, slow) = parse_both(padded.as_bytes(), "padded.txt", false).unwrap();
        let (clean_fast, _) = parse_both(clean.as_bytes(), "clean.txt", false).unwrap();
        assert_eq!(fast, clean_fast);
        assert_same_vectorised((&fast, &slow), (&[], &[]));
    }
}

#[test]
fn official_qa1_matches_the_reference() {
    let Some(dir) = shared_or_skip(REAL_EN10K) else {
        return;
    };
    let read = |split| {
        let path = find_task_file(&dir, Task::QA1, split).unwrap();
        (std::fs::read(&path).unwrap(), path.display().to_string())
    };
    let (train_bytes, train_name) = read(Split::Train);
    let (test_bytes, test_name) = read(Split::Test);
    for only_supporting in [false, true] {
        let train = parse_both(&train_bytes, &train_name, only_supporting).unwrap();
        let test = parse_both(&test_bytes, &test_name, only_supporting).unwrap();
        assert_eq!((train.0.len(), test.0.len()), (10_000, 1_000));
        assert_same_vectorised((&train.0, &train.1), (&test.0, &test.1));
    }
    // A corrupted official file fails at the same line with the same error.
    let mut broken = train_bytes.clone();
    let at = broken.len() / 2
        + broken[broken.len() / 2..]
            .iter()
            .position(|&b| b == b'\t')
            .unwrap();
    broken[at] = b' ';
    let err = parse_both(&broken, &train_name, false).unwrap_err();
    assert!(matches!(err, DatasetError::MissingAnswer { .. }), "{err}");
}
