//! `--distributed`: the benchmark across the ranks of `mpirun -np N` (feature `mpi`). Every rank trains the same
//! workload on its shards of each global batch; rank 0 prints the JSON, whose samples/s are those of all ranks
//! together (each rank's epoch covers the whole data set).

use crate::BenchResult;
use rkeras::engine::Collective;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The ranks' collective from [`start`] to [`finish`].
static COLLECTIVE: Mutex<Option<Arc<dyn Collective>>> = Mutex::new(None);

/// Starts MPI (with `--distributed`); an error without the `mpi` feature.
pub(crate) fn start() -> BenchResult<()> {
    #[cfg(feature = "mpi")]
    {
        let mpi: Arc<dyn Collective> = rkeras::distributed::Mpi::init()?;
        *COLLECTIVE.lock().map_err(|e| e.to_string())? = Some(mpi);
        Ok(())
    }
    #[cfg(not(feature = "mpi"))]
    Err("--distributed needs rkeras-bench built with `--features rkeras-bench/mpi`".into())
}

/// The ranks' collective, once started.
pub(crate) fn collective() -> Option<Arc<dyn Collective>> {
    COLLECTIVE.lock().ok().and_then(|c| c.clone())
}

/// Ends MPI (when the last handle is dropped), as every rank must before it exits.
pub(crate) fn finish() {
    if let Ok(mut c) = COLLECTIVE.lock() {
        c.take();
    }
}

/// `(rank, ranks)` of this process: `(0, 1)` alone.
pub(crate) fn place() -> (usize, usize) {
    collective().map_or((0, 1), |c| (c.rank(), c.ranks()))
}

/// The exchange's mean time per step (µs) and bytes per step on this rank, since the profile was reset.
pub(crate) fn summary() -> Value {
    let p = rkeras::engine::collective::profile();
    let [compute, encode, exchange, decode] = p.per_step_micros();
    let steps = p.steps.max(1);
    let round = |v: f64| (v * 10.0).round() / 10.0;
    json!({
        "ranks": place().1,
        "steps": p.steps,
        "compute_us": round(compute),
        "encode_us": round(encode),
        "exchange_us": round(exchange),
        "decode_and_sum_us": round(decode),
        "sent_bytes_per_step": p.sent_bytes / steps,
        "received_bytes_per_step": p.received_bytes / steps,
    })
}
