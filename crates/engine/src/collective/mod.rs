//! Data parallelism across processes: a [`Collective`] (an MPI communicator, say) that `fit` hands each
//! training step, so that every process (rank) computes the shards it owns of the global batch and all ranks
//! then hold every shard's loss and predictions and the gradients summed over the shards. The gradients are
//! summed in shard order as in one process (each rank sums a block of the elements, see `reduce`), so N ranks
//! end with the same weights bit for bit, and with the same bits as one process running the same shards.

mod agree;
mod begin;
mod block_values;
mod codec;
mod profile;
mod reduce;
mod sharded;

pub(crate) use agree::{agree, share_outcome};
pub(crate) use begin::begin_together;
pub use profile::{CollectiveProfile, profile, reset_profile};
pub(crate) use sharded::{BlockOptimizer, ShardedStep, gather_slots, shardable};

use crate::error::Result;
use crate::train_step::ShardResult;
use rayon::prelude::*;
use rkeras_tensor::Gradient;
use std::ops::Range;
use std::time::Instant;

/// A group of processes that train one model together (Keras's `MultiWorkerMirroredStrategy` idea): each
/// rank builds the same model from the same seed and calls `fit` with the same data and arguments.
///
/// Implemented for MPI by `rkeras-distributed`; a step needs [`Collective::all_to_all`] and
/// [`Collective::all_gather`] (the first has a default made of the second). An implementation must not hang
/// when a rank is gone: it returns an error or ends the job. Ranks in one process (threads joined by an
/// in-process collective) must each run `fit` inside a rayon pool of their own (`ThreadPool::install`): a rank
/// waiting in a collective holds its pool's worker, so ranks sharing a pool can wait for ranks queued behind them.
pub trait Collective: Send + Sync + std::fmt::Debug {
    /// This process's rank, `0..ranks()`.
    fn rank(&self) -> usize;
    /// The number of ranks.
    fn ranks(&self) -> usize;
    /// Every rank's `local` bytes, in rank order (an all-gather of messages of any length).
    fn all_gather(&self, local: &[u8]) -> Result<Vec<Vec<u8>>>;

    /// Sends `parts[r]` to rank `r` and returns what every rank sent this one, in rank order (an all-to-all of
    /// messages of any length). The default sends every part to every rank through [`Collective::all_gather`];
    /// an implementation with a real all-to-all moves only the parts each rank needs.
    fn all_to_all(&self, parts: &[Vec<u8>]) -> Result<Vec<Vec<u8>>> {
        let mut message = Vec::with_capacity(parts.iter().map(|p| p.len() + 8).sum());
        for part in parts {
            message.extend_from_slice(&(part.len() as u64).to_le_bytes());
            message.extend_from_slice(part);
        }
        let rank = self.rank();
        // A part this rank cannot find comes out empty, which the step reads as an unreadable message and
        // shares with the other ranks (an error here would be this rank's alone, and leave them waiting).
        Ok(self
            .all_gather(&message)?
            .iter()
            .map(|m| nth_part(m, rank).unwrap_or_default())
            .collect())
    }
}

/// Part `n` of a message of length-prefixed parts.
fn nth_part(message: &[u8], n: usize) -> Option<Vec<u8>> {
    let mut rest = message;
    for i in 0..=n {
        let (len, tail) = rest.split_first_chunk::<8>()?;
        let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
        if tail.len() < len {
            return None;
        }
        if i == n {
            return Some(tail[..len].to_vec());
        }
        rest = &tail[len..];
    }
    None
}

/// Every shard's result of a step (their `grads` taken out) and the gradients summed over the shards in shard
/// order, one per trainable weight (`None` when a shard's loss was not finite: nothing is updated; `None` too
/// when a sharded optimizer step has already `updated` the weights).
pub(crate) struct Shards {
    pub(crate) results: Vec<ShardResult>,
    pub(crate) grads: Option<Vec<Option<Gradient>>>,
    pub(crate) updated: bool,
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

/// Every shard's result (`count` shards, in order) and their gradients summed in shard order: computed by
/// `pass` here, or — with a collective — the owned shards computed here and the rest shared with the other
/// ranks ([`reduce`]). An error on any rank is an error on every rank, naming the rank (and `step`, this
/// step's number in the `fit`, when one rank alone found it), so that no rank waits for one that has stopped.
/// With `sharded` (and a collective) the ranks step the optimizer block by block and return `updated` weights
/// instead of the gradients ([`ShardedStep`]).
pub(crate) fn run_shards<F>(
    collective: Option<&dyn Collective>,
    step: u64,
    count: usize,
    pass: F,
    sharded: Option<ShardedStep<'_>>,
) -> Result<Shards>
where
    F: Fn(usize) -> Result<ShardResult> + Sync,
{
    let Some(collective) = collective else {
        let mut results = run_local(0..count, &pass)?;
        let grads = sum_shards(&mut results)?;
        return Ok(Shards {
            results,
            grads,
            updated: false,
        });
    };
    let (rank, ranks) = (collective.rank(), collective.ranks());
    let started = Instant::now();
    let mine = run_local(owned_shards(count, rank, ranks), &pass);
    reduce::exchange(collective, step, count, mine, started, sharded)
}

/// The shards' gradients (taken out of `results`) summed weight by weight in shard order; `None` when a shard
/// has none.
fn sum_shards(results: &mut [ShardResult]) -> Result<Option<Vec<Option<Gradient>>>> {
    let Some(mut all) = results
        .iter_mut()
        .map(|r| r.grads.take())
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let weights = all.first().map_or(0, Vec::len);
    (0..weights)
        .map(|i| sum_in_order(all.iter_mut().map(|g| g.get_mut(i).and_then(Option::take))))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The sum of the given gradients in order (the first one reused as the total), or `None` when none is given.
pub(crate) fn sum_in_order(
    parts: impl Iterator<Item = Option<Gradient>>,
) -> Result<Option<Gradient>> {
    let mut total: Option<Gradient> = None;
    for part in parts.flatten() {
        match total.as_mut() {
            Some(t) => t.add(part)?,
            None => total = Some(part),
        }
    }
    Ok(total)
}
