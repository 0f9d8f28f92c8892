//! Data-parallel rkeras training across processes and machines on MPI (the system's Open MPI through the
//! `mpi` crate), with this crate's feature `mpi` (enabled by `rkeras/mpi`; without it only [`rank_path`] is
//! here, so that a workspace build needs no Open MPI).
//!
//! Every rank builds the same model from the same seed, loads the same data and calls `fit` with the same
//! arguments plus [`rkeras_engine::FitConfig::collective`] set to an `Mpi`; each rank then computes its block
//! of every batch's shards, the shards' results are all-gathered and every rank sums the gradients in shard
//! order, so all ranks keep bit-identical weights, equal to one process's with the same shards.
//!
//! Start it with `mpirun -np 2 program …` (or `srun`); see docs/distributed.md.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod error;
#[cfg(feature = "mpi")]
mod mpi_collective;
mod rank_path;
#[cfg(feature = "mpi")]
mod watchdog;

pub use error::{DistributedError, Result};
#[cfg(feature = "mpi")]
pub use mpi_collective::Mpi;
pub use rank_path::rank_path;
