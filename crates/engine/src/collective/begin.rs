//! The start of a `fit` across ranks: every rank learns whether all the others started (an error in any
//! rank's `on_train_begin` stops every rank), and the ranks other than 0 take the state rank 0 restored from a
//! `BackupAndRestore` backup, sent in the same all-gather (so only rank 0 reads and writes the backup
//! directory, and the ranks need no shared file system).

use super::{Collective, rank_zero_only};
use crate::control::FitControl;
use crate::error::{EngineError, Result};
use crate::saving;
use std::path::PathBuf;

const FAILED: u8 = 0;
const FRESH: u8 = 1;
const RESTORED: u8 = 2;

/// Shares the outcome `began` of this rank's `on_train_begin` (and rank 0's restored backup) with every rank;
/// returns an error on every rank when any rank failed. `names` are this rank's callbacks, in order.
pub(crate) fn begin_together(
    collective: Option<&dyn Collective>,
    began: Result<()>,
    ctl: &mut FitControl<'_>,
    names: &[&str],
) -> Result<()> {
    let Some(collective) = collective.filter(|c| c.ranks() > 1) else {
        return began;
    };
    let rank = collective.rank();
    let message = began.and_then(|()| match (&ctl.restored, rank) {
        (Some(_), 0) => restored_message(collective, ctl, names),
        _ => Ok(vec![FRESH]),
    });
    let bytes = match &message {
        Ok(bytes) => bytes.clone(),
        Err(e) => [&[FAILED][..], e.to_string().as_bytes()].concat(),
    };
    let messages = collective.all_gather(&bytes)?;
    message?;
    for (r, m) in messages.iter().enumerate() {
        if m.first().is_none_or(|&tag| tag == FAILED) {
            return Err(EngineError::Distributed(format!(
                "rank {r} failed to start training: {}",
                String::from_utf8_lossy(m.get(1..).unwrap_or_default())
            )));
        }
    }
    match messages.first().map(Vec::as_slice) {
        Some([RESTORED, rest @ ..]) if rank != 0 => restore_from(collective, ctl, names, rest),
        _ => Ok(()),
    }
}

/// A file of this process's for the backup in transit.
fn transit_path(collective: &dyn Collective) -> PathBuf {
    std::env::temp_dir().join(format!(
        "rkeras-backup-rank{}-{}.backup",
        collective.rank(),
        std::process::id()
    ))
}

/// Rank 0's message: its callbacks' names (JSON, length first) and the restored state written as a backup.
fn restored_message(
    collective: &dyn Collective,
    ctl: &FitControl<'_>,
    names: &[&str],
) -> Result<Vec<u8>> {
    let Some(state) = &ctl.restored else {
        return Ok(vec![FRESH]);
    };
    let path = transit_path(collective);
    let written = saving::write_backup(ctl.model, &path, state);
    let bytes = written.and_then(|()| std::fs::read(&path).map_err(|e| io_error(&path, e)));
    let _ = std::fs::remove_file(&path);
    let names = serde_json::to_vec(names).map_err(|e| EngineError::Distributed(e.to_string()))?;
    let mut out = vec![RESTORED];
    out.extend_from_slice(&(names.len() as u64).to_le_bytes());
    out.extend_from_slice(&names);
    out.extend_from_slice(&bytes?);
    Ok(out)
}

/// Restores rank 0's backup here, keeping the callback states of the callbacks this rank runs.
fn restore_from(
    collective: &dyn Collective,
    ctl: &mut FitControl<'_>,
    names: &[&str],
    message: &[u8],
) -> Result<()> {
    let malformed = |what: &str| EngineError::Distributed(format!("rank 0 sent {what}"));
    let (len, rest) = message
        .split_first_chunk::<8>()
        .ok_or_else(|| malformed("a cut backup"))?;
    let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| malformed("a cut backup"))?;
    if rest.len() < len {
        return Err(malformed("a cut backup"));
    }
    let (json, file) = rest.split_at(len);
    let first: Vec<String> =
        serde_json::from_slice(json).map_err(|_| malformed("unreadable callback names"))?;
    let kept: Vec<bool> = first.iter().map(|n| !rank_zero_only(n)).collect();
    let theirs: Vec<&str> = first
        .iter()
        .zip(&kept)
        .filter_map(|(n, &k)| k.then_some(n.as_str()))
        .collect();
    if theirs != names {
        return Err(EngineError::Distributed(format!(
            "rank {} runs the callbacks {names:?}, rank 0 {first:?}; every rank must run the same fit",
            collective.rank()
        )));
    }
    let path = transit_path(collective);
    let restored = std::fs::write(&path, file)
        .map_err(|e| io_error(&path, e))
        .and_then(|()| saving::restore_backup(ctl.model, &path));
    let _ = std::fs::remove_file(&path);
    let mut state = restored?;
    state.callback_states = keep(state.callback_states, &kept);
    state.callback_weights = keep(state.callback_weights, &kept);
    ctl.seed = state.seed;
    ctl.initial_epoch = Some(state.epoch);
    ctl.restored = Some(state);
    Ok(())
}

fn keep<T>(values: Vec<T>, kept: &[bool]) -> Vec<T> {
    values
        .into_iter()
        .zip(kept)
        .filter_map(|(v, &k)| k.then_some(v))
        .collect()
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> EngineError {
    EngineError::Distributed(format!("the backup in transit at {}: {e}", path.display()))
}
