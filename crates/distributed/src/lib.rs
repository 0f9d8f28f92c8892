//! Data-parallel rkeras training across processes and machines on MPI (the system's Open MPI through the
//! `mpi` crate).
//!
//! Every rank builds the same model from the same seed, loads the same data and calls `fit` with the same
//! arguments plus [`rkeras_engine::FitConfig::collective`] set to an [`Mpi`]; each rank then computes its block
//! of every batch's shards, the shards' results are all-gathered and every rank sums the gradients in shard
//! order, so all ranks keep bit-identical weights, equal to one process's with the same shards.
//!
//! ```no_run
//! use rkeras_engine::FitConfig;
//! let mpi = rkeras_distributed::Mpi::init().unwrap();
//! let config = FitConfig::new().shards(mpi.ranks()).collective(mpi.clone());
//! # drop(config);
//! ```
//!
//! Start it with `mpirun -np 2 program …` (or `srun`); see docs/distributed.md.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod mpi_collective;
mod rank_path;
mod watchdog;

pub use error::{DistributedError, Result};
pub use mpi_collective::Mpi;
pub use rank_path::rank_path;
