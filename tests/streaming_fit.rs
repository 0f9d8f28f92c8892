//! The `streaming_fit` example on a small size: it streams what it promises, stays small in memory and learns.
//! (The 2 GB figure and the throughput ratio are in docs/performance.md; this checks the example's behaviour.)

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// `cargo test` builds the examples next to the test binaries (target/<profile>/examples).
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let path = dir.join(format!("streaming_fit{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run through `cargo test`, which builds the examples",
        path.display()
    );
    path
}

#[test]
fn the_streaming_example_streams_its_bytes_in_little_memory_and_learns() {
    let output = Command::new(example())
        .args([
            "--gigabytes",
            "0.02",
            "--features",
            "64",
            "--batch-size",
            "128",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let sample_bytes = (64 + 1) * 4;
    let batches = (0.02e9 / (sample_bytes * 128) as f64).ceil() as u64;
    assert_eq!(report["samples"], batches * 128);
    assert_eq!(
        report["bytes_streamed"],
        batches * 128 * sample_bytes as u64
    );
    assert!(report["bytes_streamed"].as_u64().unwrap() >= 20_000_000);
    let rss = report["peak_rss_mb"].as_f64().unwrap();
    assert!(rss > 0.0 && rss < 150.0, "peak RSS {rss} MB");
    assert!(report["samples_per_sec"].as_f64().unwrap() > 0.0);
    // Ten classes: the label is the largest of the first ten features, which one Dense layer can find.
    let accuracy = report["accuracy"].as_f64().unwrap();
    assert!(
        accuracy > 0.3,
        "accuracy {accuracy} after one streamed epoch"
    );
}
