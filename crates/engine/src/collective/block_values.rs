//! A dense gradient block's elements as a rank's sum reads them: the little-endian bytes of the message that
//! carried them (read while adding, not decoded into a buffer of their own first), this rank's own gradient
//! with the range of its block (not copied out), or floats. The first two shards of a block are added into a
//! fresh buffer and the later ones into it, in shard order, so the sums have the bits of decoding every block
//! and adding them up one after another.

use ndarray::ArrayD;
use std::ops::Range;

/// The elements of one shard's block of a dense gradient.
#[derive(Debug, Clone)]
pub(super) enum BlockValues<'m> {
    /// `4·n` little-endian bytes inside a received message.
    Encoded(&'m [u8]),
    /// Elements `block` of this rank's own gradient (contiguous, in row-major order).
    Own {
        gradient: ArrayD<f32>,
        block: Range<usize>,
    },
    /// Floats.
    Floats(Vec<f32>),
}

/// Where the elements are read from.
enum Source<'a> {
    Floats(&'a [f32]),
    Bytes(&'a [u8]),
}

/// The float of 4 little-endian bytes.
fn le(bytes: &[u8]) -> f32 {
    f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

impl BlockValues<'_> {
    /// Elements `block` of `gradient`: kept in place when the gradient is contiguous, copied otherwise (in the
    /// elements' row-major order).
    pub(super) fn own(gradient: ArrayD<f32>, block: Range<usize>) -> BlockValues<'static> {
        match gradient.as_slice().and_then(|s| s.get(block.clone())) {
            Some(_) => BlockValues::Own { gradient, block },
            None => BlockValues::Floats(
                gradient
                    .iter()
                    .skip(block.start)
                    .take(block.len())
                    .copied()
                    .collect(),
            ),
        }
    }

    fn source(&self) -> Source<'_> {
        match self {
            BlockValues::Encoded(bytes) => Source::Bytes(bytes),
            BlockValues::Own { gradient, block } => Source::Floats(
                gradient
                    .as_slice()
                    .and_then(|s| s.get(block.clone()))
                    .unwrap_or_default(),
            ),
            BlockValues::Floats(values) => Source::Floats(values),
        }
    }

    /// The number of elements.
    pub(super) fn len(&self) -> usize {
        match self.source() {
            Source::Floats(values) => values.len(),
            Source::Bytes(bytes) => bytes.len() / 4,
        }
    }

    /// The elements as floats.
    pub(super) fn to_vec(&self) -> Vec<f32> {
        match self.source() {
            Source::Floats(values) => values.to_vec(),
            Source::Bytes(bytes) => bytes.chunks_exact(4).map(le).collect(),
        }
    }

    /// The elements as floats (the buffer itself when they are floats already).
    pub(super) fn into_vec(self) -> Vec<f32> {
        match self {
            BlockValues::Floats(values) => values,
            other => other.to_vec(),
        }
    }
}

/// Equal when every element has the same bits.
impl PartialEq for BlockValues<'_> {
    fn eq(&self, other: &Self) -> bool {
        let bits = |v: &Self| v.to_vec().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        bits(self) == bits(other)
    }
}

/// `first + second`, element by element, into a new buffer (the two have the same length).
pub(super) fn sum_two(first: &BlockValues<'_>, second: &BlockValues<'_>) -> Vec<f32> {
    match (first.source(), second.source()) {
        (Source::Floats(a), Source::Floats(b)) => a.iter().zip(b).map(|(x, y)| x + y).collect(),
        (Source::Floats(a), Source::Bytes(b)) => a
            .iter()
            .zip(b.chunks_exact(4))
            .map(|(x, y)| x + le(y))
            .collect(),
        (Source::Bytes(a), Source::Floats(b)) => {
            a.chunks_exact(4).zip(b).map(|(x, y)| le(x) + y).collect()
        }
        (Source::Bytes(a), Source::Bytes(b)) => a
            .chunks_exact(4)
            .zip(b.chunks_exact(4))
            .map(|(x, y)| le(x) + le(y))
            .collect(),
    }
}

/// `total += values`, element by element (the two have the same length).
pub(super) fn add_to(total: &mut [f32], values: &BlockValues<'_>) {
    match values.source() {
        Source::Floats(v) => total.iter_mut().zip(v).for_each(|(t, x)| *t += x),
        Source::Bytes(b) => total
            .iter_mut()
            .zip(b.chunks_exact(4))
            .for_each(|(t, x)| *t += le(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    /// Numbers over many magnitudes of both signs, so that the order of additions shows in the bits.
    fn values(seed: u32, n: usize) -> Vec<f32> {
        (0..n as u32)
            .map(|i| {
                let x = (i.wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)) % 20_011;
                let sign = if x % 2 == 0 { 1.0 } else { -1.0 };
                sign * (x as f32 + 0.37) * 10f32.powi((x % 15) as i32 - 7)
            })
            .collect()
    }

    fn bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn every_kind_of_block_sums_to_the_bits_of_decoded_floats_added_in_order() {
        let n = 37;
        let shards: Vec<Vec<f32>> = (0..4).map(|s| values(s, n)).collect();
        // The reference: each block decoded, the first as the total, the others added one after another.
        let mut expected = shards[0].clone();
        for s in &shards[1..] {
            expected.iter_mut().zip(s).for_each(|(t, v)| *t += v);
        }
        let mut reversed = shards[3].clone();
        for s in shards[..3].iter().rev() {
            reversed.iter_mut().zip(s).for_each(|(t, v)| *t += v);
        }
        assert_ne!(
            bits(&reversed),
            bits(&expected),
            "the data do not show the order"
        );
        let encoded: Vec<Vec<u8>> = shards.iter().map(|s| bytes(s)).collect();
        // Shard 1 as this rank's own gradient: elements 5..5 + n of a [3, 20] array.
        let mut whole = values(9, 60);
        whole[5..5 + n].copy_from_slice(&shards[1]);
        let gradient = ArrayD::from_shape_vec(IxDyn(&[3, 20]), whole).unwrap();
        let kinds = |s: usize| -> Vec<BlockValues<'_>> {
            vec![
                BlockValues::Encoded(&encoded[s]),
                BlockValues::Floats(shards[s].clone()),
                match s {
                    1 => BlockValues::own(gradient.clone(), 5..5 + n),
                    _ => BlockValues::Floats(shards[s].clone()),
                },
            ]
        };
        for first in kinds(0) {
            for second in kinds(1) {
                for third in kinds(2) {
                    let mut total = sum_two(&first, &second);
                    add_to(&mut total, &third);
                    add_to(&mut total, &BlockValues::Encoded(&encoded[3]));
                    assert_eq!(bits(&total), bits(&expected), "{first:?} + {second:?}");
                }
            }
        }
        for kind in kinds(1) {
            assert_eq!(kind.len(), n);
            assert_eq!(bits(&kind.clone().into_vec()), bits(&shards[1]));
        }
    }

    #[test]
    fn a_block_of_a_gradient_that_is_not_contiguous_is_copied_in_row_major_order() {
        let rows = ArrayD::from_shape_vec(IxDyn(&[3, 4]), values(3, 12)).unwrap();
        let transposed = rows.t().as_standard_layout().into_owned().reversed_axes();
        assert!(transposed.as_slice().is_none());
        let own = BlockValues::own(transposed, 2..7);
        assert!(matches!(own, BlockValues::Floats(_)));
        assert_eq!(bits(&own.to_vec()), bits(&rows.as_slice().unwrap()[2..7]));
    }
}
