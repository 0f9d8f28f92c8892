//! Reading tasks from a `.tar.gz` with the official layout.

use std::path::Path;

use rkeras_datasets::{DatasetError, Task, generate, load_task_archive, parse_babi};

/// Writes a `.tar.gz` holding the given (member path, contents) pairs.
fn write_archive(path: &Path, members: &[(String, String)]) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for (name, text) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, text.as_bytes()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
}

fn official_layout(dir: &Path) -> std::path::PathBuf {
    let root = "tasks_1-20_v1-2";
    let members = vec![
        (
            format!("{root}/en/qa1_single-supporting-fact_train.txt"),
            generate::qa1(2, 1),
        ),
        (
            format!("{root}/en/qa1_single-supporting-fact_test.txt"),
            generate::qa1(1, 2),
        ),
        (
            format!("{root}/en-10k/qa1_single-supporting-fact_train.txt"),
            generate::qa1(20, 3),
        ),
        (
            format!("{root}/en-10k/qa10_indefinite-knowledge_test.txt"),
            "not bAbI".to_string(),
        ),
        (
            format!("{root}/en-10k/qa1_single-supporting-fact_test.txt"),
            generate::qa1(4, 4),
        ),
        (
            format!("{root}/en-10k/qa2_two-supporting-facts_train.txt"),
            generate::qa2(3, 5),
        ),
        (
            format!("{root}/en-10k/qa2_two-supporting-facts_test.txt"),
            "1 Mary moved.\n2 Where?\n".to_string(),
        ),
    ];
    let path = dir.join("tasks_1-20_v1-2.tar.gz");
    write_archive(&path, &members);
    path
}

#[test]
fn reads_the_requested_subset_and_task() {
    let dir = tempfile::tempdir().unwrap();
    let archive = official_layout(dir.path());
    let en10k = load_task_archive(&archive, "en-10k", Task::QA1, false).unwrap();
    assert_eq!(
        en10k.train,
        parse_babi(&generate::qa1(20, 3), "x", false).unwrap()
    );
    assert_eq!(
        en10k.test,
        parse_babi(&generate::qa1(4, 4), "x", false).unwrap()
    );
    let en = load_task_archive(&archive, "en", Task::QA1, true).unwrap();
    assert_eq!((en.train.len(), en.test.len()), (10, 5));
    // One supporting statement: "<Person> <verb> the <place> ." with a one- or two-word verb.
    for e in &en.train {
        assert!(matches!(e.story.len(), 6 | 7), "{:?}", e.story);
        assert_eq!(e.story.get(e.story.len() - 2), Some(e.answer.as_str()));
    }
}

#[test]
fn missing_members_name_the_task_subset_and_archive() {
    let dir = tempfile::tempdir().unwrap();
    let archive = official_layout(dir.path());
    let err = load_task_archive(&archive, "hn", Task::QA1, false).unwrap_err();
    assert!(
        matches!(&err, DatasetError::MissingArchiveEntry { task, subset, split: "train", .. }
            if task == "qa1" && subset == "hn"),
        "{err}"
    );
    assert!(err.to_string().contains("tasks_1-20_v1-2.tar.gz"), "{err}");
    let err = load_task_archive(&archive, "en-10k", Task::new(3).unwrap(), false).unwrap_err();
    assert!(
        matches!(err, DatasetError::MissingArchiveEntry { .. }),
        "{err}"
    );
}

#[test]
fn parse_errors_name_the_archive_member_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let archive = official_layout(dir.path());
    let err = load_task_archive(&archive, "en-10k", Task::QA2, false).unwrap_err();
    assert!(
        matches!(err, DatasetError::MissingAnswer { line: 2, .. }),
        "{err}"
    );
    assert!(
        err.file()
            .unwrap()
            .ends_with(":tasks_1-20_v1-2/en-10k/qa2_two-supporting-facts_test.txt")
    );
}

#[test]
fn a_file_that_is_not_gzip_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.tar.gz");
    std::fs::write(&path, b"this is not a gzip stream").unwrap();
    let err = load_task_archive(&path, "en-10k", Task::QA1, false).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }), "{err}");
    assert!(err.to_string().contains("broken.tar.gz"));
}

#[test]
fn a_member_of_nuls_or_of_one_huge_line_gives_a_short_error() {
    // Issue 12: an archive of a few MB whose member unpacked to NULs produced an error message of gigabytes.
    let dir = tempfile::tempdir().unwrap();
    let root = "tasks_1-20_v1-2/en-10k";
    let huge = 16 << 20;
    for (train, kind) in [
        ("\0".repeat(huge), "ControlCharacter"),
        ("x".repeat(huge), "MissingLineNumber"),
    ] {
        let path = dir.path().join(format!("{kind}.tar.gz"));
        let members = vec![
            (
                format!("{root}/qa1_single-supporting-fact_train.txt"),
                train,
            ),
            (
                format!("{root}/qa1_single-supporting-fact_test.txt"),
                generate::qa1(1, 2),
            ),
        ];
        write_archive(&path, &members);
        assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
        let err = load_task_archive(&path, "en-10k", Task::QA1, false).unwrap_err();
        assert!(format!("{err:?}").starts_with(kind), "{err:?}");
        assert_eq!(err.line(), Some(1));
        assert!(
            err.file()
                .unwrap()
                .ends_with("qa1_single-supporting-fact_train.txt")
        );
        let message = err.to_string();
        assert!(
            message.len() < 400,
            "{} bytes: {}",
            message.len(),
            &message[..400]
        );
    }
}
