//! The examples' `--distributed` flag: training across the processes of `mpirun`/`srun` (needs the `mpi`
//! feature: `cargo build --release --features rkeras/mpi --examples`).

use rkeras::prelude::*;
use std::path::{Path, PathBuf};
#[cfg(feature = "mpi")]
use std::sync::Arc;
use std::sync::OnceLock;

/// This process's place in the run: `(rank, ranks)`, `(0, 1)` alone.
static PLACE: OnceLock<(usize, usize)> = OnceLock::new();

/// The processes training together (one, without `--distributed`).
pub struct Ranks {
    #[cfg(feature = "mpi")]
    mpi: Option<Arc<rkeras_distributed::Mpi>>,
}

impl Ranks {
    /// Starts MPI when `distributed` is set.
    pub fn start(distributed: bool) -> Result<Ranks, Box<dyn std::error::Error>> {
        #[cfg(feature = "mpi")]
        {
            let mpi = if distributed {
                let mpi = rkeras_distributed::Mpi::init()?;
                let _ = PLACE.set((mpi.rank(), mpi.ranks()));
                Some(mpi)
            } else {
                None
            };
            Ok(Ranks { mpi })
        }
        #[cfg(not(feature = "mpi"))]
        {
            if distributed {
                return Err(
                    "--distributed needs the examples built with `--features rkeras/mpi`".into(),
                );
            }
            Ok(Ranks {})
        }
    }

    /// `config`, training across the ranks when distributed.
    pub fn configure<'a>(&self, config: FitConfig<'a>) -> FitConfig<'a> {
        #[cfg(feature = "mpi")]
        if let Some(mpi) = &self.mpi {
            let collective: Arc<dyn rkeras::engine::Collective> = mpi.clone();
            return config.collective(collective);
        }
        config
    }

    /// Whether this process writes the run's shared files (pictures): rank 0, or the only process.
    pub fn is_first(&self) -> bool {
        place().0 == 0
    }

    /// Ends the run: under MPI an error ends every rank (MPI_Abort) instead of leaving them waiting.
    pub fn finish(&self, result: Result<(), Box<dyn std::error::Error>>) -> std::process::ExitCode {
        #[cfg(feature = "mpi")]
        if let (Some(mpi), Err(e)) = (&self.mpi, &result) {
            if mpi.ranks() > 1 {
                mpi.abort(1, &format!("error: {e}"));
            }
        }
        match result {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error}");
                std::process::ExitCode::FAILURE
            }
        }
    }
}

/// `(rank, ranks)` of this process.
pub fn place() -> (usize, usize) {
    PLACE.get().copied().unwrap_or((0, 1))
}

/// The file this rank writes for `path` (`path` on rank 0, `name.rank<r>.ext` on rank r).
pub fn rank_path(path: &Path) -> PathBuf {
    #[cfg(feature = "mpi")]
    {
        rkeras_distributed::rank_path(path, place().0)
    }
    #[cfg(not(feature = "mpi"))]
    {
        path.to_path_buf()
    }
}

/// The mean time per step of training across ranks (this rank's shards, encoding, all-gather, decoding) and the
/// bytes per step, for the summary JSON (zeros without `--distributed`).
pub fn collective_summary() -> serde_json::Value {
    let p = rkeras::engine::collective::profile();
    let [compute, encode, all_gather, decode] = p.per_step_micros();
    let steps = p.steps.max(1);
    serde_json::json!({
        "steps": p.steps,
        "compute_us": compute,
        "encode_us": encode,
        "all_gather_us": all_gather,
        "decode_us": decode,
        "sent_bytes_per_step": p.sent_bytes / steps,
        "received_bytes_per_step": p.received_bytes / steps,
    })
}
