//! A per-thread pool of `f32` buffers, so that a training step reuses the arrays the previous step freed
//! instead of asking the allocator (and the kernel, for fresh pages) again.
//!
//! Tensors hand their buffer back when their last owner drops, and so do intermediate gradients once they
//! have been propagated and [`crate::Gradients`] when it drops; operations take their outputs from the pool.
//! Buffers are kept by capacity and handed out for exactly that length, which is what a training loop
//! with fixed shapes asks for step after step, or, when none of that length is kept, for a length down to
//! two thirds of it (the shorter last batch of an epoch or an evaluation pass). The pool takes back at most as many buffers of a size as it
//! has handed out: an array allocated elsewhere (a user's input batch, say) is freed as usual once those
//! are back, so the pool never grows beyond what the thread's steps ask for.
//!
//! The pool is bounded: each thread keeps at most [`limit_bytes`] bytes (all threads share the setting), at
//! most [`MAX_BUFFERS_PER_SIZE`] buffers of one size and at most [`MAX_SIZES`] sizes; past that, the sizes
//! used least recently are freed first. A buffer freed on another thread (a rayon worker) goes to that
//! thread's pool.
//!
//! ```
//! use rkeras_tensor::buffer_pool;
//! buffer_pool::clear();
//! let before = buffer_pool::stats();
//! let mut first = buffer_pool::take(1000); // a miss: allocates, and marks the size as wanted
//! first.fill(7.0);
//! let address = first.as_ptr();
//! buffer_pool::give(first);
//! // The same allocation comes back, zeroed on request.
//! let again = buffer_pool::take_zeroed(1000);
//! assert_eq!(again.as_ptr(), address);
//! assert!(again.iter().all(|&v| v == 0.0));
//! let after = buffer_pool::stats();
//! assert_eq!((after.hits, after.misses), (before.hits + 1, before.misses + 1));
//! ```

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The default of [`limit_bytes`]: 64 MiB per thread.
pub const DEFAULT_LIMIT_BYTES: usize = 64 << 20;

/// At most this many buffers of one capacity are kept per thread.
pub const MAX_BUFFERS_PER_SIZE: usize = 32;

/// At most this many distinct capacities are kept per thread.
pub const MAX_SIZES: usize = 256;

/// A request no buffer of its exact size can serve takes a kept buffer of up to 1 + 1 / `LARGER_BY_HALVES`
/// (1.5) times its length: a training or evaluation pass whose last batch is shorter then reuses the buffers of the
/// full batches instead of allocating a second set beside them.
const LARGER_BY_HALVES: usize = 2;

static LIMIT_BYTES: AtomicUsize = AtomicUsize::new(DEFAULT_LIMIT_BYTES);

/// Counters of the calling thread's pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Buffers held now.
    pub buffers: usize,
    /// Bytes held now (capacity × 4).
    pub bytes: usize,
    /// Requests served from the pool.
    pub hits: u64,
    /// Requests that allocated.
    pub misses: u64,
    /// Buffers freed instead of kept (over a bound, or evicted to make room).
    pub discarded: u64,
}

/// Buffers of one capacity.
struct Bucket {
    capacity: usize,
    buffers: Vec<Vec<f32>>,
    last_use: u64,
    /// Buffers of this size handed out and not yet handed back: the most the pool takes back, so that
    /// arrays allocated elsewhere (a user's batch, a reduction's result) cannot make it grow.
    lent: usize,
}

struct Pool {
    /// Sorted by capacity.
    buckets: Vec<Bucket>,
    bytes: usize,
    clock: u64,
    stats: PoolStats,
}

impl Pool {
    const fn new() -> Pool {
        Pool {
            buckets: Vec::new(),
            bytes: 0,
            clock: 0,
            stats: PoolStats {
                buffers: 0,
                bytes: 0,
                hits: 0,
                misses: 0,
                discarded: 0,
            },
        }
    }

    fn find(&self, capacity: usize) -> Result<usize, usize> {
        self.buckets.binary_search_by_key(&capacity, |b| b.capacity)
    }

    /// A buffer of exactly `capacity` if one is kept; for a size not kept yet, a kept one of at most 1.5 times
    /// as many elements (a batch's last, shorter batch reuses the full batches' buffers); a miss records the
    /// size as wanted.
    fn take(&mut self, capacity: usize) -> Option<Vec<f32>> {
        self.clock += 1;
        let (index, exact) = match self.find(capacity) {
            Ok(index) => (index, true),
            Err(index) => (index, false),
        };
        // Only a size the pool does not keep yet borrows a larger buffer: a size in use step after step
        // waits for its own, so that it does not take the buffers another size will ask for.
        let larger = (!exact)
            .then(|| self.larger_kept(index, capacity))
            .flatten();
        let chosen = match (exact, larger) {
            (_, Some(larger)) => larger,
            (true, None) => index,
            (false, None) => {
                self.stats.misses += 1;
                self.track(capacity);
                return None;
            }
        };
        let clock = self.clock;
        let found = self.buckets.get_mut(chosen).and_then(|bucket| {
            bucket.last_use = clock;
            bucket.lent += 1;
            bucket.buffers.pop()
        });
        match &found {
            Some(buffer) => {
                self.bytes -= bytes_of(buffer);
                self.stats.buffers -= 1;
                self.stats.hits += 1;
            }
            None => self.stats.misses += 1,
        }
        found
    }

    /// The first bucket from `from` on holding a buffer of at most 1.5 × `capacity` elements.
    fn larger_kept(&self, from: usize, capacity: usize) -> Option<usize> {
        let most = capacity.saturating_add(capacity / LARGER_BY_HALVES);
        self.buckets
            .iter()
            .enumerate()
            .skip(from)
            .take_while(|(_, bucket)| bucket.capacity <= most)
            .find(|(_, bucket)| !bucket.buffers.is_empty())
            .map(|(index, _)| index)
    }

    /// Starts keeping buffers of `capacity`, forgetting the least recently used size if too many are kept.
    fn track(&mut self, capacity: usize) {
        if self.buckets.len() >= MAX_SIZES && !self.evict_least_recent(capacity) {
            return;
        }
        if let Err(index) = self.find(capacity) {
            self.buckets.insert(
                index,
                Bucket {
                    capacity,
                    buffers: Vec::new(),
                    last_use: self.clock,
                    lent: 1,
                },
            );
        }
    }

    /// Keeps `buffer` if buffers of its size are out on loan and the bounds allow it; frees it otherwise.
    fn give(&mut self, buffer: Vec<f32>, limit: usize) {
        let size = bytes_of(&buffer);
        let capacity = buffer.capacity();
        let wanted = self
            .find(capacity)
            .ok()
            .and_then(|index| self.buckets.get(index))
            .is_some_and(|bucket| bucket.lent > 0 && bucket.buffers.len() < MAX_BUFFERS_PER_SIZE);
        if !wanted || size > limit {
            self.stats.discarded += 1;
            return;
        }
        while self.bytes + size > limit {
            if !self.evict_least_recent(capacity) {
                self.stats.discarded += 1;
                return;
            }
        }
        self.clock += 1;
        let clock = self.clock;
        let Some(bucket) = self
            .find(capacity)
            .ok()
            .and_then(|index| self.buckets.get_mut(index))
        else {
            self.stats.discarded += 1;
            return;
        };
        bucket.last_use = clock;
        bucket.lent -= 1;
        bucket.buffers.push(buffer);
        self.bytes += size;
        self.stats.buffers += 1;
    }

    /// Forgets the least recently used size other than `keep`, freeing its buffers; `false` if there is none.
    fn evict_least_recent(&mut self, keep: usize) -> bool {
        let victim = self
            .buckets
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity != keep)
            .min_by_key(|(_, b)| b.last_use)
            .map(|(index, _)| index);
        let Some(index) = victim else {
            return false;
        };
        let freed = self.buckets.remove(index).buffers;
        self.stats.discarded += freed.len() as u64;
        self.stats.buffers -= freed.len();
        self.bytes -= freed.iter().map(bytes_of).sum::<usize>();
        true
    }

    fn clear(&mut self) {
        self.stats.discarded += self.stats.buffers as u64;
        self.stats.buffers = 0;
        self.buckets.clear();
        self.bytes = 0;
    }
}

fn bytes_of(buffer: &Vec<f32>) -> usize {
    buffer.capacity() * std::mem::size_of::<f32>()
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool::new()) };
}

/// Runs `f` on this thread's pool; `None` while the thread is shutting down or the pool is busy.
fn with_pool<R>(f: impl FnOnce(&mut Pool) -> R) -> Option<R> {
    POOL.try_with(|pool| pool.try_borrow_mut().ok().map(|mut pool| f(&mut pool)))
        .ok()
        .flatten()
}

fn take_pooled(len: usize) -> Option<Vec<f32>> {
    if len == 0 {
        return None;
    }
    with_pool(|pool| pool.take(len)).flatten()
}

/// A buffer of `len` elements whose values are unspecified (left from an earlier use, or zero when freshly
/// allocated): for outputs that are written whole before they are read.
pub fn take(len: usize) -> Vec<f32> {
    match take_pooled(len) {
        Some(mut buffer) => {
            // Pooled buffers normally come back full; `resize` only writes a missing tail.
            buffer.resize(len, 0.0);
            buffer
        }
        None => vec![0.0; len],
    }
}

/// A buffer of `len` zeros: for outputs that are accumulated into.
pub fn take_zeroed(len: usize) -> Vec<f32> {
    match take_pooled(len) {
        Some(mut buffer) => {
            buffer.clear();
            buffer.resize(len, 0.0);
            buffer
        }
        None => vec![0.0; len],
    }
}

/// An empty buffer with room for `capacity` elements without reallocating: for outputs built with
/// `extend` / `push`.
pub fn take_empty(capacity: usize) -> Vec<f32> {
    match take_pooled(capacity) {
        Some(mut buffer) => {
            buffer.clear();
            buffer
        }
        None => Vec::with_capacity(capacity),
    }
}

/// Hands a buffer back for reuse (or frees it if the pool is full or disabled).
pub fn give(buffer: Vec<f32>) {
    if buffer.capacity() == 0 {
        return;
    }
    let limit = limit_bytes();
    if limit == 0 {
        return;
    }
    // If the pool is unavailable, the closure is dropped and with it the buffer: freed as usual.
    let _ = with_pool(move |pool| pool.give(buffer, limit));
}

/// Hands an array's buffer back (whatever its layout: only the allocation is reused).
pub fn give_array<D: ndarray::Dimension>(array: ndarray::Array<f32, D>) {
    give(array.into_raw_vec_and_offset().0);
}

/// The most bytes each thread keeps (default [`DEFAULT_LIMIT_BYTES`]).
pub fn limit_bytes() -> usize {
    LIMIT_BYTES.load(Ordering::Relaxed)
}

/// Sets the most bytes each thread keeps; `0` switches pooling off (buffers are freed as they are handed
/// back). Pools already over a lower limit shrink as buffers come back.
pub fn set_limit_bytes(bytes: usize) {
    LIMIT_BYTES.store(bytes, Ordering::Relaxed);
}

/// Frees every buffer the calling thread's pool holds.
pub fn clear() {
    let _ = with_pool(Pool::clear);
}

/// The calling thread's counters.
pub fn stats() -> PoolStats {
    with_pool(|pool| PoolStats {
        bytes: pool.bytes,
        ..pool.stats
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each test runs on its own thread, so it owns the thread's pool; the limit is only read here.
    fn fresh() -> PoolStats {
        clear();
        stats()
    }

    /// Takes a buffer of `len` (marking the size as wanted) and gives it back filled with `value`.
    fn seed(len: usize, value: f32) -> *const f32 {
        let mut buffer = take(len);
        buffer.fill(value);
        let address = buffer.as_ptr();
        give(buffer);
        address
    }

    #[test]
    fn a_given_buffer_is_taken_again_without_allocating() {
        let start = fresh();
        let address = seed(300, 1.5);
        assert_eq!((stats().buffers, stats().bytes), (1, 1200));
        let again = take(300);
        assert_eq!(again.as_ptr(), address);
        assert_eq!(again.len(), 300);
        let now = stats();
        assert_eq!((now.hits, now.misses), (start.hits + 1, start.misses + 1));
        assert_eq!((now.buffers, now.bytes), (0, 0));
    }

    #[test]
    fn only_wanted_sizes_are_kept_and_only_for_lengths_close_to_theirs() {
        let start = fresh();
        // Never asked for: freed.
        give(vec![1.0; 64]);
        assert_eq!(stats().buffers, 0);
        assert_eq!(stats().discarded, start.discarded + 1);
        seed(64, 1.0);
        // Longer, or less than two thirds of it: a fresh allocation.
        assert_eq!(take(65), vec![0.0; 65]);
        assert_eq!(take(42), vec![0.0; 42]);
        assert_eq!(stats().misses, start.misses + 3);
        assert_eq!(stats().buffers, 1);
    }

    #[test]
    fn a_shorter_request_of_a_new_size_reuses_a_kept_buffer_up_to_one_and_a_half_times_its_length()
    {
        let start = fresh();
        let full = seed(128, 2.0);
        // 100 is not kept: it takes the buffer of 128 (a last, shorter batch), zeroed to its length.
        let last = take_zeroed(100);
        assert_eq!((last.as_ptr(), last.len()), (full, 100));
        assert_eq!(last, vec![0.0; 100]);
        assert_eq!(stats().hits, start.hits + 1);
        // Handed back, it is kept under its capacity and serves a full request again.
        give(last);
        let again = take(128);
        assert_eq!((again.as_ptr(), again.len()), (full, 128));
        // A size the pool keeps (110, first asked for while the buffer of 128 was out) waits for its own
        // buffers instead of taking another size's.
        seed(110, 1.0);
        give(again);
        let own = take(110);
        let none_left = take(110);
        assert_ne!(none_left.as_ptr(), full);
        assert_eq!(stats().buffers, 1);
        drop((own, none_left));
    }

    #[test]
    fn zeroed_and_empty_buffers_hide_earlier_values() {
        let start = fresh();
        seed(50, f32::NAN);
        let zeroed = take_zeroed(50);
        assert_eq!(zeroed, vec![0.0; 50]);
        give(zeroed);
        let empty = take_empty(50);
        assert!(empty.is_empty() && empty.capacity() >= 50);
        assert_eq!(stats().hits, start.hits + 2);
    }

    #[test]
    fn the_bytes_limit_evicts_the_least_recently_used_size() {
        fresh();
        let limit = limit_bytes();
        // Sizes of a tenth, a fifth, two fifths and four fifths of the limit: none within 1.5 times another.
        let tenth = limit / 4 / 10;
        for size in [tenth, 2 * tenth, 4 * tenth] {
            seed(size, 0.0);
        }
        // Touch the first size so that the second becomes the least recently used.
        seed(tenth, 0.0);
        assert!(stats().bytes <= limit);
        seed(8 * tenth, 0.0);
        let now = stats();
        assert!(now.bytes <= limit, "{} > {limit}", now.bytes);
        assert_eq!(now.buffers, 2);
        assert!(now.discarded >= 2);
        // The recently used size survived, the stale ones did not.
        let hits = now.hits;
        drop(take(tenth));
        assert_eq!(stats().hits, hits + 1);
        drop(take(2 * tenth));
        drop(take(4 * tenth));
        assert_eq!(stats().hits, hits + 1);
    }

    #[test]
    fn a_buffer_larger_than_the_limit_is_freed() {
        let start = fresh();
        let len = limit_bytes() / 4 + 1;
        seed(len, 0.0);
        assert_eq!(stats().buffers, 0);
        assert_eq!(stats().discarded, start.discarded + 1);
    }

    #[test]
    fn the_number_of_buffers_of_one_size_is_bounded() {
        fresh();
        let held: Vec<Vec<f32>> = (0..MAX_BUFFERS_PER_SIZE + 10).map(|_| take(8)).collect();
        held.into_iter().for_each(give);
        assert_eq!(stats().buffers, MAX_BUFFERS_PER_SIZE);
        assert_eq!(stats().bytes, MAX_BUFFERS_PER_SIZE * 32);
    }

    #[test]
    fn the_number_of_sizes_is_bounded() {
        fresh();
        for len in 1..=MAX_SIZES + 20 {
            seed(len, 0.0);
        }
        assert_eq!(stats().buffers, MAX_SIZES);
        // The oldest sizes were forgotten.
        let hits = stats().hits;
        drop(take(1));
        drop(take(MAX_SIZES + 20));
        assert_eq!(stats().hits, hits + 1);
    }

    #[test]
    fn empty_requests_and_buffers_bypass_the_pool() {
        let start = fresh();
        give(Vec::new());
        assert!(take(0).is_empty());
        assert!(take_zeroed(0).is_empty());
        assert_eq!(stats(), start);
    }

    #[test]
    fn arrays_give_back_their_allocation_whatever_the_layout() {
        fresh();
        seed(20, 0.0);
        let mut array = ndarray::Array2::from_shape_vec((4, 5), take(20))
            .unwrap()
            .reversed_axes();
        array.fill(3.0);
        let address = array.as_ptr();
        give_array(array);
        let reused = take(20);
        assert_eq!(reused.as_ptr(), address);
    }
}
