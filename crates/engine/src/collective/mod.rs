//! Data parallelism across processes: a [`Collective`] (an MPI communicator, say) that `fit` hands each
//! training step, so that every process (rank) computes the shards it owns of the global batch and all ranks
//! then hold every shard's loss, predictions and gradients. The step sums the gradients in shard order as it
//! does in one process, so N ranks end with the same weights bit for bit, and with the same bits as one
//! process running the same shards.

mod begin;
mod codec;
mod profile;

pub(crate) use begin::begin_together;
pub use profile::{CollectiveProfile, profile, reset_profile};

use crate::error::{EngineError, Result};
use crate::train_step::ShardResult;
use rayon::prelude::*;
use std::ops::Range;
use std::time::Instant;

/// A group of processes that train one model together (Keras's `MultiWorkerMirroredStrategy` idea): each
/// rank builds the same model from the same seed and calls `fit` with the same data and arguments.
///
/// Implemented for MPI by `rkeras-distributed`; [`Collective::all_gather`] is the one operation a step needs.
/// An implementation must not hang when a rank is gone: it returns an error or ends the job. Ranks in one
/// process (threads joined by an in-process collective) must each run `fit` inside a rayon pool of their own
/// (`ThreadPool::install`): a rank waiting in `all_gather` holds its pool's worker, so ranks sharing a pool
/// can wait for ranks that are queued behind them.
pub trait Collective: Send + Sync + std::fmt::Debug {
    /// This process's rank, `0..ranks()`.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn ranks(&self) -> usize;
    /// Every rank's `local` bytes, in rank order (an all-gather of messages of any length).
    fn all_gather(&self, local: &[u8]) -> Result<Vec<Vec<u8>>>;
}

/// The shards rank `rank` of `ranks` computes when a batch has `count` shards: a consecutive block, the
/// blocks in rank order covering `0..count` (a rank owns none when there are fewer shards than ranks).
///
/// ```
/// use rkeras_engine::collective::owned_shards;
/// assert_eq!(owned_shards(4, 0, 2), 0..2);
/// assert_eq!(owned_shards(4, 1, 2), 2..4);
/// assert_eq!(owned_shards(1, 0, 2), 0..0);
/// assert_eq!(owned_shards(1, 1, 2), 0..1);
/// ```
pub fn owned_shards(count: usize, rank: usize, ranks: usize) -> Range<usize> {
    let ranks = ranks.max(1);
    count * rank / ranks..count * (rank + 1) / ranks
}

/// Whether a callback writes files or the console and so runs on rank 0 alone (the others train silently;
/// they receive rank 0's restored backup from [`begin_together`]).
pub(crate) fn rank_zero_only(name: &str) -> bool {
    matches!(
        name,
        "ModelCheckpoint" | "CSVLogger" | "TensorBoard" | "ProgbarLogger" | "BackupAndRestore"
    )
}

/// Whether this process writes the run's files (backups): rank 0, or the only process.
pub(crate) fn writes_files(collective: Option<&dyn Collective>) -> bool {
    collective.is_none_or(|c| c.rank() == 0)
}

/// Runs `pass` on the shards `range` (side by side on the rayon pool when there are several).
fn run_local<F>(range: Range<usize>, pass: &F) -> Result<Vec<ShardResult>>
where
    F: Fn(usize) -> Result<ShardResult> + Sync,
{
    if range.len() == 1 {
        return Ok(vec![pass(range.start)?]);
    }
    range.into_par_iter().map(pass).collect()
}

/// Every shard's result (`count` shards, in order): computed by `pass` here, or — with a collective — the
/// owned shards computed here and the others received from their ranks. An error on any rank is an error on
/// every rank, naming the rank, so that no rank waits for one that has stopped.
pub(crate) fn run_shards<F>(
    collective: Option<&dyn Collective>,
    count: usize,
    pass: F,
) -> Result<Vec<ShardResult>>
where
    F: Fn(usize) -> Result<ShardResult> + Sync,
{
    let Some(collective) = collective else {
        return run_local(0..count, &pass);
    };
    let (rank, ranks) = (collective.rank(), collective.ranks());
    let started = Instant::now();
    let mine = run_local(owned_shards(count, rank, ranks), &pass);
    let computed = Instant::now();
    let message = codec::encode(&mine);
    let encoded = Instant::now();
    let messages = collective.all_gather(&message)?;
    let gathered = Instant::now();
    if messages.len() != ranks {
        return Err(EngineError::Distributed(format!(
            "the all-gather returned {} messages for {ranks} ranks",
            messages.len()
        )));
    }
    // This rank's own results are kept as computed (the message decodes to the same bits).
    let mut mine = Some(mine?);
    let mut all = Vec::with_capacity(count);
    for (r, bytes) in messages.iter().enumerate() {
        if r == rank {
            all.extend(mine.take().into_iter().flatten());
            continue;
        }
        let part = codec::decode(bytes).map_err(|reason| {
            EngineError::Distributed(format!("rank {r} sent an unreadable step: {reason}"))
        })?;
        match part {
            Ok(results) => {
                let expected = owned_shards(count, r, ranks).len();
                if results.len() != expected {
                    return Err(EngineError::Distributed(format!(
                        "rank {r} computed {} shard(s) of {count}, expected {expected}; \
                         every rank must run the same fit on the same data",
                        results.len()
                    )));
                }
                all.extend(results);
            }
            Err(reason) => {
                return Err(EngineError::Distributed(format!(
                    "rank {r} failed in a training step: {reason}"
                )));
            }
        }
    }
    profile::record(
        [
            computed - started,
            encoded - computed,
            gathered - encoded,
            gathered.elapsed(),
        ],
        message.len(),
        messages.iter().map(Vec::len).sum(),
    );
    Ok(all)
}
