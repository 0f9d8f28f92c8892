//! Shared helpers of the integration tests: paths to the shared data, and an analyser of qa1 text written
//! independently of the crate's parser and generator.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The shared data directory, relative to this crate.
pub fn shared(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")).join(rel)
}

/// `Some(path)` if it exists, else prints a visible skipping message and returns `None`.
pub fn shared_or_skip(rel: &str) -> Option<PathBuf> {
    let path = shared(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} not found", path.display());
        None
    }
}

pub const REAL_QA1_TRAIN: &str =
    "datasets/babi/tasks_1-20_v1-2/en-10k/qa1_single-supporting-fact_train.txt";
pub const REAL_EN10K: &str = "datasets/babi/tasks_1-20_v1-2/en-10k";
pub const FIXTURE: &str = "fixtures/keras_memnn_qa1";

/// Statistics of qa1 text.
#[derive(Debug, Default)]
pub struct Qa1Stats {
    pub people: BTreeSet<String>,
    pub places: BTreeSet<String>,
    pub verbs: BTreeSet<String>,
    /// Story layouts as strings of `S` (statement) and `Q` (question), with counts.
    pub layouts: BTreeMap<String, usize>,
    /// Distance of the supporting fact, counted in statements back from the question (1 = the latest).
    pub distances: BTreeMap<usize, usize>,
    pub questions: usize,
    /// Moves of a person to the place they are already in.
    pub moves_to_same_place: usize,
    /// Consecutive statements of a story by the same person, and the number of consecutive pairs.
    pub same_person_pairs: usize,
    pub pairs: usize,
    /// Answers that disagree with the person's latest statement.
    pub wrong_answers: usize,
}

impl Qa1Stats {
    pub fn distance_fraction(&self, d: usize) -> f64 {
        *self.distances.get(&d).unwrap_or(&0) as f64 / self.questions as f64
    }
}

/// Measures qa1 text: `<id> <Person> <verb words> the <place>.` and `<id> Where is <Person>? \t<place>\t<id>`.
pub fn qa1_stats(text: &str) -> Qa1Stats {
    let mut stats = Qa1Stats::default();
    // Per story: statement ids in order, and each person's (place, id).
    let mut statement_ids: Vec<usize> = Vec::new();
    let mut location: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut last_person: Option<String> = None;
    let mut layout = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (id, rest) = line.split_once(' ').unwrap();
        let id: usize = id.parse().unwrap();
        if id == 1 {
            if !layout.is_empty() {
                *stats
                    .layouts
                    .entry(std::mem::take(&mut layout))
                    .or_default() += 1;
            }
            statement_ids.clear();
            location.clear();
            last_person = None;
        }
        if let Some((question, tail)) = rest.split_once('\t') {
            layout.push('Q');
            let (answer, support) = tail.split_once('\t').unwrap();
            let person = question
                .trim()
                .trim_start_matches("Where is ")
                .trim_end_matches('?');
            let support: usize = support.trim().parse().unwrap();
            let back = statement_ids.iter().filter(|&&s| s >= support).count();
            *stats.distances.entry(back).or_default() += 1;
            stats.questions += 1;
            match location.get(person) {
                Some((place, at)) if place == answer && *at == support => {}
                _ => stats.wrong_answers += 1,
            }
        } else {
            layout.push('S');
            let words: Vec<&str> = rest.split_whitespace().collect();
            let person = words[0].to_string();
            let place = words[words.len() - 1].trim_end_matches('.').to_string();
            assert_eq!(words[words.len() - 2], "the", "{line}");
            stats.verbs.insert(words[1..words.len() - 2].join(" "));
            if location.get(&person).is_some_and(|(p, _)| *p == place) {
                stats.moves_to_same_place += 1;
            }
            if let Some(last) = &last_person {
                stats.pairs += 1;
                stats.same_person_pairs += usize::from(*last == person);
            }
            last_person = Some(person.clone());
            stats.people.insert(person.clone());
            stats.places.insert(place.clone());
            location.insert(person, (place, id));
            statement_ids.push(id);
        }
    }
    if !layout.is_empty() {
        *stats.layouts.entry(layout).or_default() += 1;
    }
    stats
}

/// The shared data file or folder `rel` (e.g. `datasets/mnist`) if it exists; else `None` with a loud notice, or
/// a failure when `CI=true` (the real-data tests must run there).
pub fn required_shared(rel: &str, what: &str) -> Option<PathBuf> {
    let path = shared(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} missing at {} (CI=true: the real-data tests must run)",
        path.display()
    );
    eprintln!(
        "\n*** NOT TESTED: {what} missing at {} — the real-data test did not run ***\n",
        path.display()
    );
    None
}
