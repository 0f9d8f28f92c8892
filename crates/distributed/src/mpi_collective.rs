//! [`Mpi`]: the MPI world as an rkeras [`Collective`].

use crate::error::{DistributedError, Result};
use crate::watchdog::Watchdog;
use mpi::Threading;
use mpi::datatype::{Partition, PartitionMut};
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::CommunicatorCollectives;
use rkeras_engine::{Collective, EngineError};
use std::sync::Arc;
use std::time::Duration;

/// The longest a collective operation waits for the other ranks before the job is ended, unless
/// `RKERAS_MPI_TIMEOUT` (seconds) or [`Mpi::set_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The processes of `mpirun`/`srun` (MPI's world communicator), started by [`Mpi::init`] and finalized when the
/// last clone of the `Arc` is dropped. Outside a launcher it is a world of one rank, which trains as one
/// process does.
///
/// ```no_run
/// use rkeras_engine::FitConfig;
/// let mpi = rkeras_distributed::Mpi::init().unwrap();
/// let config = FitConfig::new().shards(mpi.ranks()).collective(mpi.clone());
/// # drop(config);
/// ```
pub struct Mpi {
    _universe: Universe,
    rank: usize,
    ranks: usize,
    watchdog: Arc<Watchdog>,
}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mpi")
            .field("rank", &self.rank)
            .field("ranks", &self.ranks)
            .finish()
    }
}

/// Ends every rank of the job after printing `message` (the watchdog's and [`Mpi::abort`]'s way out).
fn abort_job(message: &str) -> ! {
    eprintln!("rkeras-distributed: {message}");
    SimpleCommunicator::world().abort(1)
}

/// Gives this rank's rayon pool its share of the machine's cores (the cores over the ranks on this machine, at
/// least one), unless `RAYON_NUM_THREADS` sets it: ranks that each start a thread per core slow each other down.
fn share_cores(world: &SimpleCommunicator) {
    if std::env::var_os("RAYON_NUM_THREADS").is_some() {
        return;
    }
    let here = usize::try_from(world.split_shared(0).size())
        .unwrap_or(1)
        .max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // A pool built before (by the program) stays as it is.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads((cores / here).max(1))
        .build_global();
}

impl Mpi {
    /// Starts MPI (once per process), with a watchdog that ends the job when a collective operation waits
    /// longer than 300 seconds (or `RKERAS_MPI_TIMEOUT` seconds). Unless `RAYON_NUM_THREADS` is set, the
    /// global rayon pool gets this rank's share of the machine's cores (cores / ranks on the machine).
    pub fn init() -> Result<Arc<Mpi>> {
        let (universe, threading) = mpi::initialize_with_threading(Threading::Multiple)
            .ok_or_else(|| DistributedError::Init("MPI was initialized before".into()))?;
        if threading < Threading::Serialized {
            return Err(DistributedError::Init(format!(
                "the MPI library offers thread support {threading:?}; rkeras needs Serialized"
            )));
        }
        let world = universe.world();
        share_cores(&world);
        let timeout = std::env::var("RKERAS_MPI_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64);
        let expire: fn(&str) -> ! = if threading == Threading::Multiple {
            abort_job
        } else {
            |message| {
                eprintln!("rkeras-distributed: {message}");
                std::process::abort()
            }
        };
        Ok(Arc::new(Mpi {
            rank: usize::try_from(world.rank()).unwrap_or(0),
            ranks: usize::try_from(world.size()).unwrap_or(1),
            _universe: universe,
            watchdog: Watchdog::start(timeout, expire),
        }))
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks.
    pub fn ranks(&self) -> usize {
        self.ranks
    }

    /// Sets the longest wait of one collective operation before the whole job is ended.
    pub fn set_timeout(&self, timeout: Duration) {
        self.watchdog.set_timeout(timeout);
    }

    /// Prints `message` and ends every rank of the job with exit code `code` (MPI_Abort): what a rank does
    /// with an error, so that the others do not wait for it.
    pub fn abort(&self, code: i32, message: &str) -> ! {
        eprintln!("rkeras-distributed: rank {}: {message}", self.rank);
        SimpleCommunicator::world().abort(code)
    }

    /// Waits until every rank arrives here (under the watchdog's deadline).
    pub fn barrier(&self) {
        self.watchdog
            .guard(|| SimpleCommunicator::world().barrier());
    }
}

impl Collective for Mpi {
    fn rank(&self) -> usize {
        self.rank
    }

    fn ranks(&self) -> usize {
        self.ranks
    }

    /// An all-to-all with the same message to every other rank: this rank's own message is not copied through
    /// MPI, and the receive buffer holds only the others' messages (at two ranks, the other's as it arrived).
    fn all_gather(&self, local: &[u8]) -> rkeras_engine::Result<Vec<Vec<u8>>> {
        let count = i32::try_from(local.len()).map_err(|_| too_long("a rank's step"))?;
        let counts: Vec<i32> = (0..self.ranks)
            .map(|r| if r == self.rank { 0 } else { count })
            .collect();
        self.send_to_others(local, &counts, &vec![0; self.ranks], local)
    }

    fn all_to_all(&self, parts: &[Vec<u8>]) -> rkeras_engine::Result<Vec<Vec<u8>>> {
        if parts.len() != self.ranks {
            return Err(EngineError::Distributed(format!(
                "{} parts for an all-to-all of {} ranks",
                parts.len(),
                self.ranks
            )));
        }
        // This rank's own part never goes through MPI (nor into the send and receive buffers): at two ranks the
        // other rank's part is sent as it is, and the receive buffer holds only what the other rank sent.
        let rank = self.rank;
        let counts = parts
            .iter()
            .enumerate()
            .map(|(r, p)| match r == rank {
                true => Ok(0),
                false => i32::try_from(p.len()).map_err(|_| too_long("a rank's step")),
            })
            .collect::<rkeras_engine::Result<Vec<i32>>>()?;
        let others: Vec<&Vec<u8>> = parts
            .iter()
            .enumerate()
            .filter(|&(r, p)| r != rank && !p.is_empty())
            .map(|(_, p)| p)
            .collect();
        let joined;
        let (send, displs): (&[u8], Vec<i32>) = match others.as_slice() {
            [] => (&[], vec![0; self.ranks]),
            [one] => (one.as_slice(), vec![0; self.ranks]),
            _ => {
                joined = others
                    .iter()
                    .map(|p| p.as_slice())
                    .collect::<Vec<_>>()
                    .concat();
                (joined.as_slice(), displacements(&counts)?.0)
            }
        };
        self.send_to_others(send, &counts, &displs, &parts[rank])
    }
}

impl Mpi {
    /// Sends `counts[r]` bytes of `send` from `displs[r]` to rank `r` (0 to this rank), and returns what every
    /// rank sent this one, in rank order, with `own` as this rank's.
    fn send_to_others(
        &self,
        send: &[u8],
        counts: &[i32],
        displs: &[i32],
        own: &[u8],
    ) -> rkeras_engine::Result<Vec<Vec<u8>>> {
        let world = SimpleCommunicator::world();
        let mut received = self.watchdog.guard(|| {
            let mut received = vec![0i32; self.ranks];
            world.all_to_all_into(counts, &mut received[..]);
            let (received_displs, total) = displacements(&received)?;
            let mut buffer = vec![0u8; total];
            {
                let sent = Partition::new(send, counts, displs);
                let mut partition =
                    PartitionMut::new(&mut buffer[..], &received[..], &received_displs[..]);
                world.all_to_all_varcount_into(&sent, &mut partition);
            }
            Ok::<_, EngineError>(split(buffer, &received, &received_displs))
        })?;
        if let Some(mine) = received.get_mut(self.rank) {
            mine.extend_from_slice(own);
        }
        Ok(received)
    }
}

fn too_long(what: &str) -> EngineError {
    EngineError::Distributed(format!(
        "{what} exceeds MPI's message size (2^31 bytes); use more shards"
    ))
}

/// Where each rank's message starts in a buffer of `counts` bytes in rank order, and the buffer's length.
fn displacements(counts: &[i32]) -> rkeras_engine::Result<(Vec<i32>, usize)> {
    let mut displs = Vec::with_capacity(counts.len());
    let mut total = 0i64;
    for &c in counts {
        displs.push(i32::try_from(total).map_err(|_| too_long("a step's messages"))?);
        total += i64::from(c);
    }
    let total = usize::try_from(total).map_err(|_| too_long("a step's messages"))?;
    Ok((displs, total))
}

/// The buffer cut into the ranks' messages (laid end to end from its start, as [`displacements`] places them),
/// from the last one back: the message at the buffer's start keeps the buffer, so the longest copy of two
/// ranks' is saved.
fn split(mut buffer: Vec<u8>, counts: &[i32], displs: &[i32]) -> Vec<Vec<u8>> {
    let mut parts: Vec<Vec<u8>> = counts
        .iter()
        .zip(displs)
        .rev()
        .map(|(&c, &d)| {
            let mut part = match d {
                0 => std::mem::take(&mut buffer),
                _ => buffer.split_off((d as usize).min(buffer.len())),
            };
            part.truncate(c as usize);
            part
        })
        .collect();
    parts.reverse();
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_splits_into_the_ranks_messages_in_order() {
        let counts = [2, 0, 3, 1];
        let (displs, total) = displacements(&counts).unwrap();
        assert_eq!((displs.as_slice(), total), ([0, 2, 2, 5].as_slice(), 6));
        let parts = split(vec![1, 2, 3, 4, 5, 6], &counts, &displs);
        assert_eq!(
            parts,
            [vec![1, 2], vec![], vec![3, 4, 5], vec![6]],
            "the messages come out in rank order"
        );
        // An all-to-all's receive buffer has no room for this rank's own part (count 0).
        for (counts, expected) in [
            ([0, 4], [vec![], vec![7, 8, 9, 10]]),
            ([4, 0], [vec![7, 8, 9, 10], vec![]]),
        ] {
            let (displs, _) = displacements(&counts).unwrap();
            assert_eq!(split(vec![7, 8, 9, 10], &counts, &displs), expected);
        }
    }
}
