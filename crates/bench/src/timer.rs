//! The counting allocator behind `--count-allocs` and the callback that times each epoch and its validation pass.

use rkeras::callbacks::TrainerControl;
use rkeras::engine::StepProfile;
use rkeras::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// The system allocator, counting allocations and live bytes while `COUNTING` is set (`--count-allocs`).
struct CountingAllocator;

pub(crate) static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

// SAFETY: every call is forwarded unchanged to the system allocator; the counters only observe.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            LIVE_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        }
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            LIVE_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        }
        // SAFETY: as for `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// (allocations so far, live bytes) while counting.
fn allocation_counters() -> (u64, u64) {
    (
        ALLOCATIONS.load(Ordering::Relaxed),
        LIVE_BYTES.load(Ordering::Relaxed),
    )
}

/// Records each epoch's wall time (validation included), its validation time and the first batch's start.
pub(crate) struct BenchTimer {
    pub(crate) epoch_start: Instant,
    pub(crate) test_start: Instant,
    pub(crate) epoch_seconds: Vec<f64>,
    /// CPU time (user + system, all threads) of each epoch, validation included.
    pub(crate) epoch_cpu_seconds: Vec<f64>,
    epoch_cpu_start: f64,
    pub(crate) validation_seconds: Vec<f64>,
    pub(crate) first_batch: Option<Instant>,
    pub(crate) last_logs: Logs,
    /// Allocations counted at the epoch's start.
    pub(crate) epoch_allocations: u64,
    /// Per epoch: allocations of its training batches (validation excluded), and the live heap at its end.
    pub(crate) train_allocations: Vec<u64>,
    pub(crate) live_bytes: Vec<u64>,
}

impl BenchTimer {
    pub(crate) fn new() -> Self {
        BenchTimer {
            epoch_start: Instant::now(),
            test_start: Instant::now(),
            epoch_seconds: Vec::new(),
            epoch_cpu_seconds: Vec::new(),
            epoch_cpu_start: 0.0,
            validation_seconds: Vec::new(),
            first_batch: None,
            last_logs: Logs::new(),
            epoch_allocations: 0,
            train_allocations: Vec::new(),
            live_bytes: Vec::new(),
        }
    }
}

impl Callback for BenchTimer {
    fn name(&self) -> &'static str {
        "BenchTimer"
    }
    fn on_epoch_begin(&mut self, _: usize, _: &mut dyn TrainerControl) -> CbResult {
        self.epoch_allocations = allocation_counters().0;
        self.epoch_cpu_start = cpu_seconds().unwrap_or(f64::NAN);
        self.epoch_start = Instant::now();
        Ok(())
    }
    fn on_train_batch_begin(&mut self, _: usize, _: &mut dyn TrainerControl) -> CbResult {
        self.first_batch.get_or_insert_with(Instant::now);
        Ok(())
    }
    fn on_test_begin(&mut self, _: &mut dyn TrainerControl) -> CbResult {
        self.test_start = Instant::now();
        self.train_allocations
            .push(allocation_counters().0 - self.epoch_allocations);
        Ok(())
    }
    fn on_test_end(&mut self, _: &Logs, _: &mut dyn TrainerControl) -> CbResult {
        self.validation_seconds
            .push(self.test_start.elapsed().as_secs_f64());
        Ok(())
    }
    fn on_epoch_end(&mut self, _: usize, logs: &mut Logs, _: &mut dyn TrainerControl) -> CbResult {
        self.epoch_seconds
            .push(self.epoch_start.elapsed().as_secs_f64());
        self.epoch_cpu_seconds
            .push(cpu_seconds().unwrap_or(f64::NAN) - self.epoch_cpu_start);
        self.live_bytes.push(allocation_counters().1);
        self.last_logs = logs.clone();
        Ok(())
    }
}

type CbResult = rkeras::callbacks::Result<()>;

/// What one training run measured.
pub(crate) struct Run {
    pub(crate) timer: BenchTimer,
    pub(crate) profile: StepProfile,
    pub(crate) threads: usize,
}

/// CPU time this process has used so far, user + system over all threads (/proc, clock ticks of 1/100 s).
/// On a machine shared with other work, samples per CPU-second measure the cost of training where wall time
/// mostly measures the share of the cores the process got.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}
