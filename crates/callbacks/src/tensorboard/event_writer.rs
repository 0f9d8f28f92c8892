//! An event file writer: `events.out.tfevents.{seconds}.{host}.{pid}.{n}.v2` in a directory, opened with the
//! `brain.Event:2` record, one framed [`Event`] per summary value, flushed after every write so that a running
//! TensorBoard sees the values at once.

use super::proto::{Event, SourceMetadata, Summary, SummaryValue, What};
use super::record::frame;
use crate::error::{CallbackError, Result};
use prost::Message;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const NAME: &str = "TensorBoard";

/// Numbers the files a process opens, as TensorFlow's global writer counter does.
static FILE_COUNTER: AtomicUsize = AtomicUsize::new(0);

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Writes events to one file.
#[derive(Debug)]
pub struct EventWriter {
    path: PathBuf,
    file: File,
}

impl EventWriter {
    /// Creates `dir` if needed and a new event file in it, starting with the file-version record.
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| CallbackError::Path {
            callback: NAME,
            path: dir.to_path_buf(),
            reason: format!("cannot create the log directory: {e}"),
        })?;
        let wall_time = now();
        let name = format!(
            "events.out.tfevents.{}.{}.{}.{}.v2",
            wall_time as u64,
            host_name(),
            std::process::id(),
            FILE_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        let file = File::create(&path).map_err(|source| CallbackError::Io {
            callback: NAME,
            path: path.clone(),
            source,
        })?;
        let mut writer = Self { path, file };
        writer.write_event(&Event {
            wall_time,
            step: 0,
            what: Some(What::FileVersion("brain.Event:2".into())),
            source_metadata: Some(SourceMetadata {
                writer: "rkeras".into(),
            }),
        })?;
        Ok(writer)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `value` at `step` as one event.
    pub fn write(&mut self, step: i64, value: SummaryValue) -> Result<()> {
        self.write_event(&Event {
            wall_time: now(),
            step,
            what: Some(What::Summary(Summary { value: vec![value] })),
            source_metadata: None,
        })
    }

    fn write_event(&mut self, event: &Event) -> Result<()> {
        let mut record = Vec::new();
        frame(&event.encode_to_vec(), &mut record);
        self.file
            .write_all(&record)
            .and_then(|()| self.file.flush())
            .map_err(|source| CallbackError::Io {
                callback: NAME,
                path: self.path.clone(),
                source,
            })
    }
}
