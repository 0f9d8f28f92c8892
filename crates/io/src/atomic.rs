//! Opening files to read, and saving them atomically.
//!
//! A save writes a temporary HDF5 file in the target's directory (`.<name>.tmp-<pid>-<n>`), closes
//! it, fsyncs it, renames it over the target and fsyncs the directory. A crash or kill at any moment
//! therefore leaves either the old file or the new one at the target, never a partial one; on any
//! failure the temporary file is removed and the target is left untouched.
//!
//! A process killed during a save leaves its temporary file behind; after every successful save,
//! the stale temporary files of the same target are removed (see [`remove_stale_temporaries`]).

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use hdf5::file::{FileAccessBuilder, FileCloseDegree, LibraryVersion};

use crate::error::{IoError, Result, hdf5_error};

/// Distinguishes the temporary files of concurrent saves within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The temporary files this process is writing now (never removed as stale).
static LIVE_TEMPS: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// A temporary file untouched for this long is stale whoever wrote it (its writer's pid may have
/// been reused by another process).
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Adds (`live`) or removes `temp` from this process's in-progress temporary files.
fn mark_live(temp: &Path, live: bool) {
    let mut guard = LIVE_TEMPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if live {
        set.insert(temp.to_path_buf());
    } else {
        set.remove(temp);
    }
}

fn is_live_here(temp: &Path) -> bool {
    let guard = LIVE_TEMPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    guard.as_ref().is_some_and(|set| set.contains(temp))
}

/// The temporary-file prefix of `target`'s saves: `.<name>.tmp-`.
fn temp_prefix(target: &Path) -> Option<OsString> {
    let mut prefix = OsString::from(".");
    prefix.push(target.file_name()?);
    prefix.push(".tmp-");
    Some(prefix)
}

/// The writer pid of a temporary file name `<prefix><pid>-<n>`, if `name` is one of `prefix`'s.
fn temp_writer(name: &std::ffi::OsStr, prefix: &std::ffi::OsStr) -> Option<u32> {
    let rest = name.to_str()?.strip_prefix(prefix.to_str()?)?;
    let (pid, counter) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(counter))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Whether a process `pid` exists on this machine, when that can be known (`/proc`).
fn process_exists(pid: u32) -> Option<bool> {
    Path::new("/proc/self")
        .exists()
        .then(|| Path::new("/proc").join(pid.to_string()).exists())
}

/// Whether the temporary file `temp` written by `pid` is stale: its writer cannot still be writing
/// it. That is when it is this process's pid but not one of its saves in progress (a previous
/// process with the same pid, as after a container restart), when no process `pid` exists, or when
/// it has not been modified for [`STALE_AFTER`].
fn is_stale(temp: &Path, pid: u32, modified: Option<SystemTime>) -> bool {
    let old = modified
        .and_then(|time| time.elapsed().ok())
        .is_some_and(|age| age >= STALE_AFTER);
    let writer_gone = if pid == std::process::id() {
        !is_live_here(temp)
    } else {
        process_exists(pid) == Some(false)
    };
    old || writer_gone
}

/// Removes the stale temporary files of `target`'s saves (named `.<name>.tmp-<pid>-<n>` beside
/// it; see [`is_stale`] for when one is stale). Best effort: a file that cannot be removed stays.
/// Returns how many were removed.
pub(crate) fn remove_stale_temporaries(target: &Path) -> usize {
    let Some(prefix) = temp_prefix(target) else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(parent_dir(target)) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let Some(pid) = temp_writer(&entry.file_name(), &prefix) else {
            continue;
        };
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let path = entry.path();
        if metadata.is_file()
            && is_stale(&path, pid, metadata.modified().ok())
            && std::fs::remove_file(&path).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// What a non-regular file is, for messages.
fn file_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Checks that `path` is an existing regular file: [`IoError::NotFound`] if absent,
/// [`IoError::NotRegularFile`] for a directory, FIFO, socket or device (reading a FIFO would block
/// forever).
pub(crate) fn check_regular_file(path: &Path) -> Result<()> {
    let metadata = std::fs::metadata(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            IoError::NotFound {
                file: path.to_path_buf(),
            }
        } else {
            IoError::Fs {
                file: path.to_path_buf(),
                action: "reading the file's metadata",
                source,
            }
        }
    })?;
    if !metadata.is_file() {
        return Err(IoError::NotRegularFile {
            file: path.to_path_buf(),
            kind: file_kind(metadata.file_type()),
        });
    }
    Ok(())
}

/// Turns off HDF5's advisory file lock for a file rkeras opens.
///
/// A save never writes a file that another handle reads: it fills a fresh temporary file and renames
/// it over the target, so the lock guards nothing. It would do harm: HDF5 opens files without
/// close-on-exec, so a process spawned by any thread while a file is open inherits the descriptor and
/// its lock, and every later open of that file fails with "unable to lock file" until the child exits.
pub(crate) fn without_file_lock(fapl: &mut FileAccessBuilder) -> &mut FileAccessBuilder {
    fapl.file_locking(false)
}

/// Opens an existing HDF5 file read-only without HDF5's file lock (see [`without_file_lock`]).
pub(crate) fn open_unlocked(path: &Path) -> hdf5::Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fapl(without_file_lock)
        .open(path)
}

/// Opens an existing HDF5 file for reading: the errors of [`check_regular_file`], and
/// [`IoError::Open`] if the HDF5 library cannot read it.
pub(crate) fn open_for_reading(path: &Path) -> Result<hdf5::File> {
    check_regular_file(path)?;
    open_unlocked(path).map_err(|source| IoError::Open {
        file: path.to_path_buf(),
        source,
    })
}

/// The directory a target lives in (`.` for a bare file name).
fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A fresh temporary path beside `target`.
fn temp_path(target: &Path) -> Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| IoError::Fs {
        file: target.to_path_buf(),
        action: "choosing a temporary file beside the target",
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path has no file name",
        ),
    })?;
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    Ok(parent_dir(target).join(temp_name))
}

/// Creates the HDF5 file `temp` as every save writes it, fills it with `write` and closes it; errors
/// are reported against `target`.
fn write_hdf5(
    target: &Path,
    temp: &Path,
    write: impl FnOnce(&hdf5::File) -> Result<()>,
) -> Result<()> {
    let file = hdf5::File::with_options()
        .with_fapl(|fapl| {
            without_file_lock(fapl)
                .fclose_degree(FileCloseDegree::Strong)
                .libver_bounds(LibraryVersion::V18, LibraryVersion::V18)
        })
        .create(temp)
        .map_err(hdf5_error(
            target,
            format!("creating temporary file `{}`", temp.display()),
        ))?;
    write(&file)?;
    file.close().map_err(hdf5_error(
        target,
        format!("closing temporary file `{}`", temp.display()),
    ))
}

/// Fsyncs the finished temporary file and renames it over `target`.
fn sync_and_rename(target: &Path, temp: &Path) -> Result<()> {
    std::fs::File::open(temp)
        .and_then(|written| written.sync_all())
        .map_err(|source| IoError::Fs {
            file: temp.to_path_buf(),
            action: "flushing the temporary file to disk",
            source,
        })?;
    std::fs::rename(temp, target).map_err(|source| IoError::Fs {
        file: target.to_path_buf(),
        action: "renaming the temporary file over the target",
        source,
    })
}

/// Writes a temporary file beside `target` with `write`, renames it over `target` and fsyncs the
/// directory; on failure the temporary file is removed and the target left untouched.
fn commit(target: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let temp = temp_path(target)?;
    mark_live(&temp, true);
    let written = write(&temp).and_then(|()| sync_and_rename(target, &temp));
    if written.is_err() {
        // The temporary file may be absent (creation failed); either way the target is untouched.
        let _ = std::fs::remove_file(&temp);
    }
    mark_live(&temp, false);
    written?;
    remove_stale_temporaries(target);
    let dir = parent_dir(target);
    std::fs::File::open(&dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|source| IoError::Fs {
            file: dir,
            action: "flushing the directory entry to disk",
            source,
        })
}

/// Saves `bytes` at `target` atomically (a `.keras` archive).
pub(crate) fn save_bytes_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    commit(target, |temp| {
        std::fs::write(temp, bytes).map_err(|source| IoError::Fs {
            file: temp.to_path_buf(),
            action: "writing the temporary file",
            source,
        })
    })
}

/// The bytes of an HDF5 file filled by `write` (the weight store of a `.keras` archive), built in a
/// temporary file beside `target` that is removed afterwards.
pub(crate) fn hdf5_bytes(
    target: &Path,
    write: impl FnOnce(&hdf5::File) -> Result<()>,
) -> Result<Vec<u8>> {
    let temp = temp_path(target)?;
    mark_live(&temp, true);
    let bytes = write_hdf5(target, &temp, write).and_then(|()| {
        std::fs::read(&temp).map_err(|source| IoError::Fs {
            file: temp.clone(),
            action: "reading the temporary weight store",
            source,
        })
    });
    let _ = std::fs::remove_file(&temp);
    mark_live(&temp, false);
    bytes
}

/// Saves a new HDF5 file at `target` atomically; `write` fills the (temporary) file and reports its
/// errors against `target`.
pub(crate) fn save_atomically(
    target: &Path,
    write: impl FnOnce(&hdf5::File) -> Result<()>,
) -> Result<()> {
    commit(target, |temp| write_hdf5(target, temp, write))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_sit_beside_the_target_and_are_unique() {
        let a = temp_path(Path::new("/data/run/model.h5")).unwrap();
        let b = temp_path(Path::new("/data/run/model.h5")).unwrap();
        assert_eq!(a.parent(), Some(Path::new("/data/run")));
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".model.h5.tmp-"), "{name}");
        assert_ne!(a, b);
        assert_eq!(
            temp_path(Path::new("model.h5")).unwrap().parent(),
            Some(Path::new("."))
        );
        assert!(temp_path(Path::new("/")).is_err());
    }

    #[test]
    fn a_failed_write_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model.h5");
        let err = save_atomically(&target, |_| {
            Err(IoError::NotFound {
                file: PathBuf::from("x"),
            })
        })
        .unwrap_err();
        assert!(matches!(err, IoError::NotFound { .. }));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_successful_write_replaces_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model.h5");
        std::fs::write(&target, b"old").unwrap();
        save_atomically(&target, |file| {
            file.create_group("g")
                .map(|_| ())
                .map_err(hdf5_error(&target, "creating g"))
        })
        .unwrap();
        assert!(open_for_reading(&target).unwrap().group("g").is_ok());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn only_this_targets_temporaries_are_recognised() {
        let prefix = temp_prefix(Path::new("/d/model.h5")).unwrap();
        let writer = |name: &str| temp_writer(std::ffi::OsStr::new(name), &prefix);
        assert_eq!(writer(".model.h5.tmp-123-4"), Some(123));
        for other in [
            ".model.h5.tmp-123",
            ".model.h5.tmp-x-4",
            ".model.h5.tmp-1-2-3",
            ".model.h5.bak.tmp-1-2",
            ".other.h5.tmp-1-2",
            "model.h5",
        ] {
            assert_eq!(writer(other), None, "{other}");
        }
    }

    #[test]
    fn a_dead_writers_temporary_is_stale_a_live_ones_is_not() {
        let temp = Path::new("/d/.m.h5.tmp-1-1");
        let now = Some(SystemTime::now());
        let own = std::process::id();
        // This process, not saving that file now: a previous process with the same pid left it.
        assert!(is_stale(temp, own, now));
        mark_live(temp, true);
        assert!(!is_stale(temp, own, now));
        let old = SystemTime::now().checked_sub(STALE_AFTER + Duration::from_secs(1));
        assert!(
            is_stale(temp, own, old),
            "untouched for a day: stale whoever writes it"
        );
        mark_live(temp, false);
        // pid 1 always exists; a pid above the kernel's maximum never does.
        assert!(!is_stale(temp, 1, now));
        assert!(is_stale(temp, 4_194_305, now));
    }

    #[test]
    fn a_successful_save_removes_stale_temporaries_of_its_target_only() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model.h5");
        let names = [
            ".model.h5.tmp-4194305-0", // writer gone
            ".model.h5.tmp-1-0",       // writer (pid 1) alive: kept
            ".other.h5.tmp-4194305-0", // another target: kept
        ];
        for name in names {
            std::fs::write(dir.path().join(name), b"partial").unwrap();
        }
        save_atomically(&target, |_| Ok(())).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [".model.h5.tmp-1-0", ".other.h5.tmp-4194305-0", "model.h5"]
        );
    }

    #[test]
    fn opening_reports_missing_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.h5");
        assert!(matches!(
            open_for_reading(&missing),
            Err(IoError::NotFound { .. })
        ));
        let text = dir.path().join("notes.h5");
        std::fs::write(&text, "not hdf5").unwrap();
        assert!(matches!(open_for_reading(&text), Err(IoError::Open { .. })));
    }
}
