//! NumPy's legacy `np.random.RandomState(seed).shuffle`, bit for bit, so that loaders that shuffle as Keras's
//! do (`reuters.load_data`, seed 113) give Keras's exact order. The Mersenne Twister is `rand_mt`'s.

use rand_mt::Mt;

/// The permutation that `np.random.RandomState(seed).shuffle(np.arange(n))` leaves: NumPy's Fisher–Yates from
/// the last position down, each draw a masked 32-bit Mersenne Twister output rejected until within range.
///
/// ```
/// use rkeras_datasets::numpy_random::legacy_shuffled_indices;
/// // NumPy: rng = np.random.RandomState(113); a = np.arange(10); rng.shuffle(a)
/// assert_eq!(legacy_shuffled_indices(10, 113), vec![9, 3, 6, 1, 0, 7, 4, 8, 2, 5]);
/// ```
pub fn legacy_shuffled_indices(n: usize, seed: u32) -> Vec<usize> {
    let mut rng = Mt::new(seed);
    let mut indices: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = random_interval(&mut rng, i as u64);
        indices.swap(i, j as usize);
    }
    indices
}

/// NumPy's `random_interval(max)`: a uniform integer in `0..=max` by masked rejection.
fn random_interval(rng: &mut Mt, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let mut mask = max;
    for shift in [1, 2, 4, 8, 16, 32] {
        mask |= mask >> shift;
    }
    if max <= u64::from(u32::MAX) {
        loop {
            let value = u64::from(rng.next_u32()) & mask;
            if value <= max {
                return value;
            }
        }
    }
    loop {
        // NumPy's next_uint64 for the legacy generator: two 32-bit outputs, high word first.
        let high = u64::from(rng.next_u32());
        let value = ((high << 32) | u64::from(rng.next_u32())) & mask;
        if value <= max {
            return value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Printed by NumPy 2 (`scripts/keras_reuters_golden.py` prints the same for n = 1000).
    #[test]
    fn matches_numpy_for_small_arrays() {
        assert_eq!(legacy_shuffled_indices(0, 113), Vec::<usize>::new());
        assert_eq!(legacy_shuffled_indices(1, 113), vec![0]);
        assert_eq!(legacy_shuffled_indices(5, 0), vec![2, 0, 1, 3, 4]);
        assert_eq!(legacy_shuffled_indices(5, 113), vec![1, 0, 3, 2, 4]);
    }
}
