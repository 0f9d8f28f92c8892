//! Robustness: hundreds of damaged copies of one rkeras-written and one Keras-written file are
//! loaded in child processes (this test binary, run again), so that a crash or hang inside the
//! HDF5 C library counts as a failure of the case instead of killing the test run.
//!
//! An rkeras file must load identically or fail with a typed error naming the file, whatever byte
//! is damaged (its checksums cover all content). A Keras file has no checksums: it must never
//! crash or hang, errors must name the file, and a damaged array value or string text may load
//! changed (docs/file-formats.md lists what cannot be detected).

mod cases;
mod outcome;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use cases::{Damage, damages, vlen_length_fields};
use ndarray::{ArrayD, IxDyn};
use outcome::{Outcome, load_outcome};
use rkeras_io::{
    ExtraState, LayerWeights, ModelFile, NamedArray, OptimizerState, save_model_file,
    save_weights_file,
};

const SOURCE_ENV: &str = "RKERAS_ROBUSTNESS_SOURCE";
const DAMAGES_ENV: &str = "RKERAS_ROBUSTNESS_DAMAGES";
const SCRATCH_ENV: &str = "RKERAS_ROBUSTNESS_SCRATCH";
const KIND_ENV: &str = "RKERAS_ROBUSTNESS_KIND";
/// A case taking longer than this hangs (cases take milliseconds).
const HANG: Duration = Duration::from_secs(30);
/// The damaged copy's name: every error must name it.
const DAMAGED: &str = "damaged.h5";
const KERAS_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keras_small_model.h5"
);

/// The child: loads each damaged copy and prints `case <i> start`, then `case <i> <outcome>`.
#[test]
#[ignore = "child process of the robustness tests"]
fn load_child() {
    let Ok(source) = std::env::var(SOURCE_ENV) else {
        return;
    };
    let bytes = std::fs::read(&source).unwrap();
    let scratch = PathBuf::from(std::env::var(SCRATCH_ENV).unwrap());
    let whole_model = std::env::var(KIND_ENV).unwrap() == "model";
    let reference = load_outcome(Path::new(&source), whole_model);
    let damaged = scratch.join(DAMAGED);
    for (i, item) in std::env::var(DAMAGES_ENV).unwrap().split(',').enumerate() {
        println!("case {i} start");
        std::fs::write(&damaged, Damage::decode(item).apply(&bytes)).unwrap();
        let outcome = load_outcome(&damaged, whole_model).compare(&reference, DAMAGED);
        println!("case {i} {outcome}");
    }
}

/// Runs every damage of `source` in child processes; a child that crashes or hangs is replaced
/// by a new one starting at the next case.
fn run(source: &Path, whole_model: bool, damages: &[Damage]) -> Vec<String> {
    let scratch = tempfile::tempdir().unwrap();
    let mut results: Vec<Option<String>> = vec![None; damages.len()];
    let mut next = 0;
    while next < damages.len() {
        let list: Vec<String> = damages[next..].iter().map(|d| d.encode()).collect();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "load_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SOURCE_ENV, source)
            .env(DAMAGES_ENV, list.join(","))
            .env(SCRATCH_ENV, scratch.path())
            .env(KIND_ENV, if whole_model { "model" } else { "weights" })
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut current = None;
        let stopped_at = loop {
            match lines.recv_timeout(HANG) {
                Ok(line) => {
                    let Some(rest) = line.strip_prefix("case ") else {
                        continue;
                    };
                    let (i, what) = rest.split_once(' ').unwrap();
                    let i = next + i.parse::<usize>().unwrap();
                    if what == "start" {
                        current = Some(i);
                    } else {
                        results[i] = Some(what.to_owned());
                        current = None;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    child.kill().unwrap();
                    break current.map(|i| (i, "hang".to_owned()));
                }
                Err(RecvTimeoutError::Disconnected) => break current.map(|i| (i, String::new())),
            }
        };
        let status = child.wait().unwrap();
        match stopped_at {
            Some((i, what)) => {
                let what = if what.is_empty() {
                    format!("crash ({status})")
                } else {
                    what
                };
                results[i] = Some(what);
                next = i + 1;
            }
            None => {
                let done = results
                    .iter()
                    .position(Option::is_none)
                    .unwrap_or(damages.len());
                assert!(done > next, "the child made no progress ({status})");
                next = done;
            }
        }
    }
    results.into_iter().map(Option::unwrap).collect()
}

/// Prints a summary of outcomes and returns the cases whose outcome `allowed` rejects.
fn failures(
    what: &str,
    damages: &[Damage],
    results: &[String],
    allowed: impl Fn(&Outcome) -> bool,
) -> Vec<String> {
    let mut counts = std::collections::BTreeMap::new();
    let mut bad = Vec::new();
    for (damage, result) in damages.iter().zip(results) {
        let outcome = Outcome::parse(result);
        *counts.entry(outcome.summary()).or_insert(0usize) += 1;
        if !allowed(&outcome) {
            bad.push(format!(
                "byte {} ^ {:#04x}: {result}",
                damage.offset, damage.mask
            ));
        }
    }
    eprintln!("{what}: {} cases: {counts:?}", results.len());
    bad
}

fn values(n: usize, scale: f32) -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(&[n]), (0..n).map(|i| i as f32 * scale).collect()).unwrap()
}

fn rkeras_model() -> ModelFile {
    ModelFile {
        keras_version: rkeras_io::KERAS_VERSION.into(),
        backend: rkeras_io::BACKEND.into(),
        model_config: Some(
            r#"{"class_name": "Sequential", "config": {"name": "m", "layers": [{"class_name": "Dropout", "config": {"rate": 0.3}}]}}"#.into(),
        ),
        training_config: Some(r#"{"loss": "mse", "optimizer_config": {"class_name": "SGD"}}"#.into()),
        layers: vec![
            LayerWeights::new("dropout", vec![]),
            LayerWeights::new(
                "dense",
                vec![
                    NamedArray::new("dense/kernel", values(96, 0.25)),
                    NamedArray::new("dense/bias", values(8, -0.5)),
                ],
            ),
        ],
        optimizer: Some(OptimizerState {
            iterations_name: "sgd/iteration".into(),
            iterations: 42,
            weights: vec![NamedArray::new("sgd/learning_rate", ndarray::arr0(0.01f32).into_dyn())],
        }),
        extra: Some(ExtraState {
            json: r#"{"epoch": 3, "seed": 7}"#.into(),
            arrays: vec![NamedArray::new("callback_0/weight_0", values(8, 1.5))],
        }),
    }
}

/// Only identical loads and typed errors naming the file are allowed.
fn identical_or_typed_error(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Same
            | Outcome::Error {
                names_file: true,
                ..
            }
    )
}

#[test]
fn damaged_rkeras_model_files_load_identically_or_fail_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.h5");
    save_model_file(&path, &rkeras_model()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let list = damages(&bytes, 12, 300);
    assert!(
        list.len() > 300,
        "the variable-length length fields are damaged too"
    );
    let results = run(&path, true, &list);
    let bad = failures(
        "rkeras model file",
        &list,
        &results,
        identical_or_typed_error,
    );
    assert!(bad.is_empty(), "{} cases:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn damaged_rkeras_weights_files_load_identically_or_fail_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.h5");
    save_weights_file(&path, &rkeras_model().layers).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let list = damages(&bytes, 13, 150);
    let results = run(&path, false, &list);
    let bad = failures(
        "rkeras weights file",
        &list,
        &results,
        identical_or_typed_error,
    );
    assert!(bad.is_empty(), "{} cases:\n{}", bad.len(), bad.join("\n"));
}

/// A Keras file has no checksums: a damaged value or string text can load changed, but nothing
/// may crash or hang, and errors name the file.
#[test]
fn damaged_keras_files_never_crash_or_hang() {
    let bytes = std::fs::read(KERAS_FIXTURE).unwrap();
    let list = damages(&bytes, 14, 300);
    let results = run(Path::new(KERAS_FIXTURE), true, &list);
    let bad = failures("Keras model file", &list, &results, |outcome| {
        matches!(
            outcome,
            Outcome::Same
                | Outcome::Error {
                    names_file: true,
                    ..
                }
                | Outcome::Changed { .. }
        )
    });
    assert!(bad.is_empty(), "{} cases:\n{}", bad.len(), bad.join("\n"));
}

/// The issue's crash: one flipped byte in the length of a variable-length string attribute made
/// libhdf5 overflow a buffer. Each must now be a typed error naming the file (or, for an attribute
/// the loaders do not read, such as `model_weights@backend`, change nothing): in a Keras file
/// (object headers without checksums) `Corrupt` from the check against the global heap, in an
/// rkeras file (object headers with checksums) the HDF5 library's header checksum error, or
/// `Corrupt`.
#[test]
fn damaged_string_lengths_are_typed_errors_in_both_writers_files() {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("model.h5");
    save_model_file(&ours, &rkeras_model()).unwrap();
    for (source, accepted) in [
        (ours.as_path(), &["Corrupt", "Hdf5"][..]),
        (Path::new(KERAS_FIXTURE), &["Corrupt"][..]),
    ] {
        let bytes = std::fs::read(source).unwrap();
        let list: Vec<Damage> = vlen_length_fields(&bytes)
            .into_iter()
            .flat_map(|offset| [0x02, 0xF0].map(|mask| Damage { offset, mask }))
            .collect();
        assert!(
            list.len() >= 8,
            "{}: {} length fields",
            source.display(),
            list.len()
        );
        let results = run(source, true, &list);
        let bad = failures(&source.display().to_string(), &list, &results, |outcome| {
            *outcome == Outcome::Same
                || matches!(outcome, Outcome::Error { variant, names_file: true }
                    if accepted.contains(&variant.as_str()))
        });
        assert!(bad.is_empty(), "{} cases:\n{}", bad.len(), bad.join("\n"));
    }
}
