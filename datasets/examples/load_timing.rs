//! Times loading and vectorising a bAbI task: the whole `load_task_dir` → arrays path (run first, so the first
//! run shows what a fresh process pays), then each phase alone: read, tokenise alone (into owned strings with
//! `tokenize`, and borrowed with `split_tokens`, as the parser does), parse (tokenising and interning
//! included), vocabulary (`Vectorizer::fit`), vectorise and drop.
//!
//! ```text
//! cargo run --release -p rkeras-datasets --example load_timing -- [DIR] [TASK] [RUNS]
//! ```
//! `DIR` defaults to `$BABI_DIR`, then to the shared `tasks_1-20_v1-2/en-10k`; `TASK` to `qa1`; `RUNS` to 20.
//! Prints the first (cold) run and the median of all runs, in milliseconds.

use std::path::PathBuf;
use std::time::Instant;

use rkeras_datasets::{
    Split, Task, Vectorizer, data_dir_from_env, find_task_file, load_task_dir, parse_babi_bytes,
    split_tokens, tokenize,
};

const PHASES: [&str; 8] = [
    "end to end",
    "read",
    "tokenise (tokenize)",
    "tokenise (split_tokens)",
    "parse (incl. tokenise)",
    "vocabulary (fit)",
    "vectorise",
    "drop",
];

fn default_dir() -> PathBuf {
    data_dir_from_env().unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/datasets/babi/tasks_1-20_v1-2/en-10k"
        ))
    })
}

/// The number of tokens of every line's sentence (after the id, before any TAB), counted by `count`.
fn tokenise_all(texts: &[String], count: impl Fn(&str) -> usize) -> usize {
    let mut tokens = 0;
    for text in texts {
        for line in text.lines() {
            let Some((_, rest)) = line.trim().split_once(' ') else {
                continue;
            };
            tokens += count(rest.split('\t').next().unwrap_or_default());
        }
    }
    tokens
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// One run: the milliseconds of each phase, in the order of [`PHASES`].
fn run(dir: &std::path::Path, task: Task) -> [f64; 8] {
    // End to end first, so that the first run shows what a fresh process pays.
    let start = Instant::now();
    let splits = load_task_dir(dir, task, false).unwrap();
    let vectorizer = Vectorizer::fit(&splits.train, &splits.test).unwrap();
    let arrays = [
        vectorizer.vectorize(&splits.train).unwrap(),
        vectorizer.vectorize(&splits.test).unwrap(),
    ];
    drop((splits, arrays));
    let end_to_end = ms(start);

    let paths = [Split::Train, Split::Test].map(|split| find_task_file(dir, task, split).unwrap());

    let start = Instant::now();
    let bytes = paths.clone().map(|p| std::fs::read(p).unwrap());
    let read = ms(start);

    let texts: Vec<String> = bytes
        .iter()
        .map(|b| String::from_utf8(b.clone()).unwrap())
        .collect();
    let start = Instant::now();
    std::hint::black_box(tokenise_all(&texts, |s| tokenize(s).len()));
    let tokenise_owned = ms(start);

    let start = Instant::now();
    std::hint::black_box(tokenise_all(&texts, |s| split_tokens(s).count()));
    let tokenise_borrowed = ms(start);

    let start = Instant::now();
    let [train, test] = [0, 1]
        .map(|i| parse_babi_bytes(&bytes[i], &paths[i].display().to_string(), false).unwrap());
    let parse = ms(start);

    let start = Instant::now();
    let vectorizer = Vectorizer::fit(&train, &test).unwrap();
    let fit = ms(start);

    let start = Instant::now();
    let arrays = [
        vectorizer.vectorize(&train).unwrap(),
        vectorizer.vectorize(&test).unwrap(),
    ];
    let vectorise = ms(start);

    let start = Instant::now();
    drop((train, test, arrays));
    let dropping = ms(start);

    [
        end_to_end,
        read,
        tokenise_owned,
        tokenise_borrowed,
        parse,
        fit,
        vectorise,
        dropping,
    ]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(default_dir);
    let task: Task = args.next().as_deref().unwrap_or("qa1").parse().unwrap();
    let runs: usize = args.next().map_or(20, |r| r.parse().unwrap()).max(1);

    let all: Vec<[f64; 8]> = (0..runs).map(|_| run(&dir, task)).collect();
    println!("{} {task}, {runs} runs (ms)", dir.display());
    println!("{:<24} {:>9} {:>9}", "phase", "first", "median");
    for (p, phase) in PHASES.iter().enumerate() {
        let mut times: Vec<f64> = all.iter().map(|r| r[p]).collect();
        let first = times[0];
        times.sort_by(f64::total_cmp);
        println!("{phase:<24} {first:>9.2} {:>9.2}", times[times.len() / 2]);
    }
}
