//! [`Mpi`]: the MPI world as an rkeras [`Collective`].

use crate::error::{DistributedError, Result};
use crate::watchdog::Watchdog;
use mpi::Threading;
use mpi::environment::Universe;
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
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

    /// The same message to every other rank; this rank's own message is not copied through MPI.
    fn all_gather(&self, local: &[u8]) -> rkeras_engine::Result<Vec<Vec<u8>>> {
        self.send_to_others(|_| local, local)
    }

    /// Each other rank's part straight from `parts` (no joined send buffer); this rank's own part is not copied
    /// through MPI.
    fn all_to_all(&self, parts: &[Vec<u8>]) -> rkeras_engine::Result<Vec<Vec<u8>>> {
        if parts.len() != self.ranks {
            return Err(EngineError::Distributed(format!(
                "{} parts for an all-to-all of {} ranks",
                parts.len(),
                self.ranks
            )));
        }
        self.send_to_others(|r| &parts[r], &parts[self.rank])
    }
}

impl Mpi {
    /// Sends `part(r)` to every other rank `r` and returns what every rank sent this one, in rank order, with
    /// `own` as this rank's. One message each way between every two ranks (non-blocking sends, then a matched
    /// probe and receive per rank), so that a step's exchange is one round: no separate exchange of the
    /// lengths, and each message received into a buffer of its length. Messages between two ranks arrive in
    /// the order they were sent (MPI's non-overtaking rule), so the n-th exchange of every rank meets the n-th
    /// of the others, as a collective would.
    fn send_to_others<'p>(
        &self,
        part: impl Fn(usize) -> &'p [u8],
        own: &[u8],
    ) -> rkeras_engine::Result<Vec<Vec<u8>>> {
        let others = || (0..self.ranks).filter(|&r| r != self.rank);
        if let Some(r) = others().find(|&r| i32::try_from(part(r).len()).is_err()) {
            return Err(too_long(&format!("the message to rank {r}")));
        }
        let world = SimpleCommunicator::world();
        let mut received = self.watchdog.guard(|| {
            mpi::request::scope(|scope| {
                let sends: Vec<_> = others()
                    .map(|r| {
                        world.process_at_rank(rank_of(r)).immediate_send_with_tag(
                            scope,
                            part(r),
                            TAG,
                        )
                    })
                    .collect();
                let received: Vec<Vec<u8>> = (0..self.ranks)
                    .map(|r| match r == self.rank {
                        true => Vec::new(),
                        false => {
                            world
                                .process_at_rank(rank_of(r))
                                .matched_probe_with_tag(TAG)
                                .matched_receive_vec()
                                .0
                        }
                    })
                    .collect();
                sends.into_iter().for_each(|s| s.wait_without_status());
                received
            })
        });
        if let Some(mine) = received.get_mut(self.rank) {
            mine.extend_from_slice(own);
        }
        Ok(received)
    }
}

/// The tag of the ranks' step messages on the world communicator.
const TAG: mpi::Tag = 0x726b;

/// Rank `r` as MPI counts (`r` is below the world's size, an MPI `int`).
fn rank_of(r: usize) -> mpi::Rank {
    mpi::Rank::try_from(r).unwrap_or(mpi::Rank::MAX)
}

fn too_long(what: &str) -> EngineError {
    EngineError::Distributed(format!(
        "{what} exceeds MPI's message size (2^31 bytes); use more shards"
    ))
}
