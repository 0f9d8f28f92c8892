//! The bytes a rank sends another for its shards of a step: each shard's loss, per-output losses, predictions
//! (or, when the step merges metric states, only those states) and per-variable gradients — of a dense gradient only the block of elements the receiving rank sums
//! ([`super::owned_shards`] over the flattened elements), an embedding table's rows whole — little-endian; or the
//! rank's error message.

use super::block_values::BlockValues;
use crate::error::{EngineError, Result};
use crate::train_step::{MetricStates, ShardResult};
use ndarray::{ArrayD, IxDyn};
use rkeras_tensor::{Gradient, IndexedSlices};
use std::sync::Arc;

const OK: u8 = 0;
const FAILED: u8 = 1;
const STEP_FAILED: u8 = 2;
const AGREEMENT: u8 = 3;
const NONE: u8 = 0;
const BLOCK: u8 = 1;
const ROWS: u8 = 2;

/// One shard's gradient of one weight as the receiving rank gets it (`'m`: the received message it is read
/// from).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Piece<'m> {
    /// The loss does not reach the weight.
    None,
    /// The receiver's block of a dense gradient of `shape`: its elements `owned_shards(len, receiver, ranks)`
    /// in row-major order, left in the message (or in this rank's own gradient) until they are summed.
    Block {
        shape: Vec<usize>,
        values: BlockValues<'m>,
    },
    /// An embedding table's gradient rows, whole.
    Rows(IndexedSlices),
}

/// A shard's result as received: its losses, predictions and gradient pieces (`None` when its loss is not
/// finite).
pub(super) struct Received<'m> {
    pub(super) loss: f64,
    pub(super) output_losses: Vec<f64>,
    pub(super) predictions: Vec<Arc<ArrayD<f32>>>,
    pub(super) metric_states: Option<MetricStates>,
    pub(super) grads: Option<Vec<Piece<'m>>>,
}

/// The message for rank `receiver` of `ranks` about this rank's shard results (or its error).
pub(super) fn encode(results: &Result<Vec<ShardResult>>, receiver: usize, ranks: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        results
            .as_ref()
            .map_or(0, |r| r.iter().map(|r| size(r, ranks)).sum()),
    );
    match results {
        Err(e) => {
            out.push(FAILED);
            out.extend_from_slice(e.to_string().as_bytes());
        }
        Ok(results) => {
            out.push(OK);
            put_len(&mut out, results.len());
            for r in results {
                out.extend_from_slice(&r.loss.to_le_bytes());
                put_len(&mut out, r.output_losses.len());
                r.output_losses
                    .iter()
                    .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
                put_len(&mut out, r.predictions.len());
                r.predictions.iter().for_each(|p| put_array(&mut out, p));
                put_metric_states(&mut out, r.metric_states.as_ref());
                match &r.grads {
                    None => out.push(NONE),
                    Some(grads) => {
                        out.push(BLOCK);
                        put_len(&mut out, grads.len());
                        grads.iter().for_each(|g| {
                            put_gradient(&mut out, g.as_ref(), receiver, ranks);
                        });
                    }
                }
            }
        }
    }
    out
}

/// This rank's own shard result `r` as rank `receiver` (this rank) would decode it from its own message: the
/// same values and bits, moved out of `r` (a dense gradient kept whole with the range of its block) instead of
/// encoded and decoded.
pub(super) fn own_received(
    r: &mut ShardResult,
    receiver: usize,
    ranks: usize,
) -> Received<'static> {
    Received {
        loss: r.loss,
        output_losses: std::mem::take(&mut r.output_losses),
        predictions: std::mem::take(&mut r.predictions),
        metric_states: r.metric_states.take(),
        grads: r.grads.take().map(|grads| {
            grads
                .into_iter()
                .map(|g| own_piece(g, receiver, ranks))
                .collect()
        }),
    }
}

/// A gradient as [`put_gradient`] then [`Reader::piece`] give it to rank `receiver`.
fn own_piece(g: Option<Gradient>, receiver: usize, ranks: usize) -> Piece<'static> {
    match g {
        None => Piece::None,
        Some(Gradient::Dense(a)) => {
            let block = super::owned_shards(a.len(), receiver, ranks);
            Piece::Block {
                shape: a.shape().to_vec(),
                values: BlockValues::own(a, block),
            }
        }
        Some(Gradient::Rows(rows)) => Piece::Rows(rows),
    }
}

/// The message of rank `rank`, which alone found that step `step` failed (`reason`) after the step's last
/// exchange.
pub(super) fn encode_step_failure(rank: usize, step: u64, reason: &str) -> Vec<u8> {
    let mut out = vec![STEP_FAILED];
    put_len(&mut out, rank);
    out.extend_from_slice(&step.to_le_bytes());
    out.extend_from_slice(reason.as_bytes());
    out
}

/// The step failure a message carries ([`encode_step_failure`]), if it holds one.
pub(super) fn step_failure(bytes: &[u8]) -> Option<EngineError> {
    let mut r = Reader { bytes, at: 0 };
    if r.u8().ok()? != STEP_FAILED {
        return None;
    }
    let rank = r.len().ok()?;
    let step = u64::from_le_bytes(r.word().ok()?);
    Some(EngineError::StepFailed {
        rank,
        step,
        reason: String::from_utf8_lossy(bytes.get(r.at..)?).into_owned(),
    })
}

/// A rank's message in an agreement at the end of an epoch or of `fit` (`super::agree`) when nothing failed:
/// whether it stops training (its `stop_training`).
pub(super) fn encode_agreement(stop: bool) -> Vec<u8> {
    vec![AGREEMENT, u8::from(stop)]
}

/// Whether the rank that sent `bytes` stops training, when they are an agreement's message
/// ([`encode_agreement`]); `None` for any other message.
pub(super) fn agreement(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [AGREEMENT, stop] => Some(*stop != 0),
        _ => None,
    }
}

/// The error message of a rank whose step failed ([`encode`] of an error), when `bytes` carry one.
pub(super) fn failed_step(bytes: &[u8]) -> Option<String> {
    match bytes.split_first() {
        Some((&FAILED, reason)) => Some(String::from_utf8_lossy(reason).into_owned()),
        _ => None,
    }
}

/// A message back into shard results (`Err` inside: the rank's error message); the outer `Err` names what is
/// malformed.
pub(super) fn decode(
    bytes: &[u8],
) -> std::result::Result<std::result::Result<Vec<Received<'_>>, String>, String> {
    let mut r = Reader { bytes, at: 0 };
    match r.u8()? {
        FAILED => Ok(Err(String::from_utf8_lossy(&bytes[1..]).into_owned())),
        OK => {
            let n = r.len()?;
            let mut results = Vec::with_capacity(n.min(bytes.len()));
            for _ in 0..n {
                let loss = r.f64()?;
                let output_losses = (0..r.len()?).map(|_| r.f64()).collect::<Result2<_>>()?;
                let predictions = (0..r.len()?)
                    .map(|_| r.array().map(Arc::new))
                    .collect::<Result2<_>>()?;
                let metric_states = r.metric_states()?;
                let grads = match r.u8()? {
                    NONE => None,
                    _ => Some((0..r.len()?).map(|_| r.piece()).collect::<Result2<_>>()?),
                };
                results.push(Received {
                    loss,
                    output_losses,
                    predictions,
                    metric_states,
                    grads,
                });
            }
            r.finish()?;
            Ok(Ok(results))
        }
        tag => Err(format!("unknown status {tag}")),
    }
}

pub(super) type Result2<T> = std::result::Result<T, String>;

/// About the bytes a shard's result takes for one of `ranks` receivers (its floats, plus room for the
/// lengths), to allocate the message once.
fn size(r: &ShardResult, ranks: usize) -> usize {
    let arrays = r.predictions.iter().map(|p| p.len()).sum::<usize>();
    let grads = r.grads.iter().flatten().flatten().map(|g| match g {
        Gradient::Dense(a) => a.len() / ranks.max(1) + 1,
        Gradient::Rows(rows) => rows.values().len() * 2 + rows.indices().len() * 2,
    });
    64 + 8 * r.output_losses.len()
        + 4 * (arrays + grads.sum::<usize>())
        + 64 * r.predictions.len()
        + r.grads.as_ref().map_or(0, |g| 64 * g.len())
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

/// Appends `values` as little-endian f32s: on a little-endian machine their bytes as they are (one copy,
/// without first zeroing the room as `resize` does), elsewhere each float's bytes swapped into room made at once.
pub(super) fn put_f32s(out: &mut Vec<u8>, values: &[f32]) {
    if cfg!(target_endian = "little") {
        out.extend_from_slice(bytemuck::cast_slice(values));
        return;
    }
    let start = out.len();
    out.resize(start + values.len() * 4, 0);
    out[start..]
        .chunks_exact_mut(4)
        .zip(values)
        .for_each(|(bytes, v)| bytes.copy_from_slice(&v.to_le_bytes()));
}

/// Each output's metrics' states: a flag, then per output the metrics, each its length and numbers.
fn put_metric_states(out: &mut Vec<u8>, states: Option<&MetricStates>) {
    let Some(states) = states else {
        out.push(NONE);
        return;
    };
    out.push(BLOCK);
    put_len(out, states.len());
    for metrics in states {
        put_len(out, metrics.len());
        for state in metrics {
            put_len(out, state.len());
            put_f32s(out, state);
        }
    }
}

fn put_array(out: &mut Vec<u8>, a: &ArrayD<f32>) {
    put_len(out, a.ndim());
    a.shape().iter().for_each(|&d| put_len(out, d));
    match a.as_slice() {
        Some(values) => put_f32s(out, values),
        None => put_f32s(out, &a.iter().copied().collect::<Vec<_>>()),
    }
}

fn put_gradient(out: &mut Vec<u8>, g: Option<&Gradient>, receiver: usize, ranks: usize) {
    match g {
        None => out.push(NONE),
        Some(Gradient::Dense(a)) => {
            out.push(BLOCK);
            put_len(out, a.ndim());
            a.shape().iter().for_each(|&d| put_len(out, d));
            let block = super::owned_shards(a.len(), receiver, ranks);
            put_len(out, block.len());
            match a.as_slice() {
                Some(values) => put_f32s(out, &values[block]),
                None => put_f32s(out, &a.iter().copied().collect::<Vec<_>>()[block]),
            }
        }
        Some(Gradient::Rows(rows)) => {
            out.push(ROWS);
            let [n, dim] = rows.dense_shape();
            put_len(out, n);
            put_len(out, dim);
            put_len(out, rows.indices().len());
            rows.indices().iter().for_each(|&i| put_len(out, i));
            put_f32s(out, rows.values());
            put_f32s(out, rows.squares());
        }
    }
}

/// Reads a message from its start.
pub(super) struct Reader<'b> {
    pub(super) bytes: &'b [u8],
    pub(super) at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Result2<&'b [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("message ends at byte {}", self.bytes.len()))?;
        let part = &self.bytes[self.at..end];
        self.at = end;
        Ok(part)
    }

    pub(super) fn u8(&mut self) -> Result2<u8> {
        Ok(self.take(1)?[0])
    }

    fn word(&mut self) -> Result2<[u8; 8]> {
        let mut w = [0u8; 8];
        w.copy_from_slice(self.take(8)?);
        Ok(w)
    }

    fn len(&mut self) -> Result2<usize> {
        usize::try_from(u64::from_le_bytes(self.word()?)).map_err(|e| e.to_string())
    }

    fn f64(&mut self) -> Result2<f64> {
        Ok(f64::from_le_bytes(self.word()?))
    }

    /// An error unless the whole message was read.
    pub(super) fn finish(&self) -> Result2<()> {
        if self.at != self.bytes.len() {
            return Err(format!("{} bytes left over", self.bytes.len() - self.at));
        }
        Ok(())
    }

    pub(super) fn f32s(&mut self, n: usize) -> Result2<Vec<f32>> {
        let mut values = Vec::new();
        self.f32s_into(n, &mut values)?;
        Ok(values)
    }

    /// Reads the next `out.len()` f32s into `out`.
    pub(super) fn f32s_to(&mut self, out: &mut [f32]) -> Result2<()> {
        let bytes = self.take(out.len().checked_mul(4).ok_or("length overflows")?)?;
        out.iter_mut()
            .zip(bytes.chunks_exact(4))
            .for_each(|(v, c)| *v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        Ok(())
    }

    /// Appends the next `n` f32s to `values`.
    pub(super) fn f32s_into(&mut self, n: usize, values: &mut Vec<f32>) -> Result2<()> {
        let bytes = self.take(n.checked_mul(4).ok_or("length overflows")?)?;
        values.extend(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        Ok(())
    }

    fn array(&mut self) -> Result2<ArrayD<f32>> {
        let ndim = self.len()?;
        let shape = (0..ndim).map(|_| self.len()).collect::<Result2<Vec<_>>>()?;
        let values = self.f32s(shape.iter().product())?;
        ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| e.to_string())
    }

    fn metric_states(&mut self) -> Result2<Option<MetricStates>> {
        if self.u8()? == NONE {
            return Ok(None);
        }
        let outputs = self.len()?;
        (0..outputs)
            .map(|_| {
                let metrics = self.len()?;
                (0..metrics)
                    .map(|_| {
                        let n = self.len()?;
                        self.f32s(n)
                    })
                    .collect()
            })
            .collect::<Result2<_>>()
            .map(Some)
    }

    fn piece(&mut self) -> Result2<Piece<'b>> {
        match self.u8()? {
            NONE => Ok(Piece::None),
            BLOCK => {
                let ndim = self.len()?;
                let shape = (0..ndim).map(|_| self.len()).collect::<Result2<Vec<_>>>()?;
                let n = self.len()?;
                let bytes = self.take(n.checked_mul(4).ok_or("length overflows")?)?;
                Ok(Piece::Block {
                    shape,
                    values: BlockValues::Encoded(bytes),
                })
            }
            ROWS => {
                let (rows, dim, n) = (self.len()?, self.len()?, self.len()?);
                let indices = (0..n).map(|_| self.len()).collect::<Result2<Vec<_>>>()?;
                let size = n.checked_mul(dim).ok_or("length overflows")?;
                let values = self.f32s(size)?;
                let squares = self.f32s(size)?;
                IndexedSlices::from_parts(rows, dim, indices, values, squares)
                    .map(Piece::Rows)
                    .map_err(|e| e.to_string())
            }
            tag => Err(format!("unknown gradient kind {tag}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn put_f32s_appends_each_float_little_endian_after_what_is_there() {
        let values = [
            0.1f32,
            -0.0,
            f32::MIN_POSITIVE,
            f32::NAN,
            f32::INFINITY,
            -7.25e-39,
            3.0e38,
        ];
        // The reference: float by float, each value's little-endian bytes.
        let mut expected = vec![9u8, 8];
        values
            .iter()
            .for_each(|v| expected.extend_from_slice(&v.to_le_bytes()));
        let mut out = vec![9u8, 8];
        put_f32s(&mut out, &values);
        assert_eq!(out, expected);
        // An odd start and a slice that does not begin at its array's start.
        put_f32s(&mut out, &values[3..]);
        values[3..]
            .iter()
            .for_each(|v| expected.extend_from_slice(&v.to_le_bytes()));
        assert_eq!(out, expected);
    }

    #[test]
    fn shard_results_survive_the_round_trip_bit_for_bit_with_the_receivers_block() {
        let rows = IndexedSlices::from_lookups(5, 2, &[3, 1, 3], &[1.0, 2.0, 3.0, 4.0, 5.5, -6.0])
            .unwrap_or_else(|e| panic!("{e}"));
        let dense = ArrayD::from_shape_vec(
            IxDyn(&[2, 3]),
            vec![0.1, -0.0, f32::MIN_POSITIVE, 7.0, 8.0, 9.0],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let shard = ShardResult {
            loss: 0.1 + 0.2,
            output_losses: vec![0.3, 1e-300],
            predictions: vec![Arc::new(dense.clone())],
            metric_states: Some(vec![vec![vec![1.5, -0.0], vec![]], vec![vec![f32::MAX]]]),
            grads: Some(vec![
                Some(Gradient::Dense(dense.clone())),
                None,
                Some(Gradient::Rows(rows.clone())),
            ]),
            forward: Duration::ZERO,
            backward: Duration::ZERO,
        };
        // Rank 1 of 4 sums elements 1..3 of the 6.
        let bytes = encode(&Ok(vec![shard]), 1, 4);
        let back = decode(&bytes)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.len(), 1);
        let r = &back[0];
        assert_eq!(r.loss.to_bits(), (0.1f64 + 0.2).to_bits());
        assert_eq!(r.output_losses, [0.3, 1e-300]);
        assert_eq!(*r.predictions[0], dense);
        let states = r
            .metric_states
            .as_ref()
            .unwrap_or_else(|| panic!("states lost"));
        assert_eq!(states.len(), 2);
        assert_eq!(
            states[0][0].iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            [1.5f32.to_bits(), (-0.0f32).to_bits()]
        );
        assert_eq!((states[0][1].len(), states[1][0][0]), (0, f32::MAX));
        let grads = r.grads.as_ref().unwrap_or_else(|| panic!("gradients lost"));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        match &grads[0] {
            Piece::Block { shape, values } => {
                assert_eq!(shape, &[2, 3]);
                assert_eq!(bits(&values.to_vec()), bits(&[-0.0, f32::MIN_POSITIVE]));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(grads[1], Piece::None);
        assert_eq!(grads[2], Piece::Rows(rows));
        assert!(
            decode(&bytes[..bytes.len() - 1]).is_err(),
            "a cut message is an error"
        );
    }

    #[test]
    fn a_ranks_own_result_has_the_bits_of_its_decoded_message() {
        let rows = IndexedSlices::from_lookups(5, 2, &[3, 1, 3], &[1.0, 2.0, 3.0, 4.0, 5.5, -6.0])
            .unwrap_or_else(|e| panic!("{e}"));
        let values: Vec<f32> = (0..12).map(|i| (i as f32 - 5.5) * 1e-3).collect();
        let dense =
            ArrayD::from_shape_vec(IxDyn(&[3, 4]), values).unwrap_or_else(|e| panic!("{e}"));
        // A transposed gradient (not contiguous in row-major order) goes through the elements' logical order.
        let transposed = dense.t().as_standard_layout().into_owned().reversed_axes();
        assert!(transposed.as_slice().is_none());
        let shard = || ShardResult {
            loss: 0.25,
            output_losses: vec![0.5],
            predictions: vec![Arc::new(dense.clone())],
            metric_states: Some(vec![vec![vec![1.5, -0.0]]]),
            grads: Some(vec![
                Some(Gradient::Dense(dense.clone())),
                None,
                Some(Gradient::Rows(rows.clone())),
                Some(Gradient::Dense(transposed.clone())),
            ]),
            forward: Duration::ZERO,
            backward: Duration::ZERO,
        };
        for (receiver, ranks) in [(0, 1), (0, 2), (1, 2), (2, 3), (1, 7)] {
            let bytes = encode(&Ok(vec![shard()]), receiver, ranks);
            let decoded = decode(&bytes)
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("{e}"));
            let own = own_received(&mut shard(), receiver, ranks);
            let d = &decoded[0];
            assert_eq!(own.loss.to_bits(), d.loss.to_bits());
            assert_eq!(own.output_losses, d.output_losses);
            assert_eq!(own.predictions, d.predictions);
            assert_eq!(own.metric_states, d.metric_states);
            assert_eq!(own.grads, d.grads, "rank {receiver} of {ranks}");
        }
    }

    #[test]
    fn a_rank_error_travels_as_its_message() {
        let bytes = encode(&Err(crate::EngineError::invalid("y", "bad targets")), 0, 2);
        let back = decode(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.err().as_deref(), Some("invalid `y`: bad targets"));
    }
}
