//! Reading event files back (for tests and tools): every event of every `events.out.tfevents.*` file in a
//! directory, and the scalars among them.

use super::proto::{Event, What, dtype};
use super::record::unframe;
use crate::error::{CallbackError, Result};
use prost::Message;
use std::path::Path;

const NAME: &str = "TensorBoard";

/// Every event in the event files of `dir`, file by file in name order, checking each record's checksums.
pub fn read_events(dir: &Path) -> Result<Vec<Event>> {
    let io = |source| CallbackError::Io {
        callback: NAME,
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("events.out.tfevents."))
        })
        .collect();
    files.sort();
    let mut events = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file).map_err(|source| CallbackError::Io {
            callback: NAME,
            path: file.clone(),
            source,
        })?;
        let bad = |reason: String| CallbackError::Path {
            callback: NAME,
            path: file.clone(),
            reason,
        };
        for record in unframe(&bytes).map_err(|e| bad(e.to_string()))? {
            events.push(Event::decode(record).map_err(|e| bad(e.to_string()))?);
        }
    }
    Ok(events)
}

/// The scalar summaries in `dir` as (tag, step, value), in file order.
pub fn read_scalars(dir: &Path) -> Result<Vec<(String, i64, f32)>> {
    let mut scalars = Vec::new();
    for event in read_events(dir)? {
        let Some(What::Summary(summary)) = event.what else {
            continue;
        };
        for value in summary.value {
            let Some(tensor) = value.tensor else { continue };
            if tensor.dtype != dtype::FLOAT {
                continue;
            }
            if let Ok(bytes) = <[u8; 4]>::try_from(tensor.tensor_content.as_slice()) {
                scalars.push((value.tag, event.step, f32::from_le_bytes(bytes)));
            }
        }
    }
    Ok(scalars)
}
