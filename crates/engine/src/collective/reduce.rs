//! A step's exchange across ranks, as a reduce-scatter by blocks of elements then an all-gather of the sums:
//! every rank sends each other rank that rank's block of its shards' dense gradients (with every shard's
//! losses, predictions and embedding rows, which every rank needs whole); each rank adds up its block over all
//! shards in shard order (`shard 0 + shard 1 + …`, the order of one process) and the ranks then all-gather the
//! summed blocks. Each element is added in the same order as in one process, so the sums have the same bits,
//! while a rank receives about 2·(N − 1)/N of one shard's gradients instead of (N − 1) shards' worth.
//!
//! A problem one rank alone finds in the all-to-all (a message it cannot read, a rank with the wrong number of
//! shards, gradients that do not fit together) travels as that rank's error in the all-gather, so that every
//! rank returns the same [`EngineError::StepFailed`] instead of waiting for the rank that stopped; gradient sums
//! one rank cannot read travel in the others' next all-to-all (see `agree`).

use super::block_values::{self, BlockValues};
use super::codec::{self, Piece, Reader, Received, Result2};
use super::sharded::ShardedStep;
use super::{Collective, Shards, agree, owned_shards, profile, sum_in_order};
use crate::error::{EngineError, Result};
use crate::train_step::ShardResult;
use ndarray::{ArrayD, IxDyn};
use rkeras_tensor::{Gradient, IndexedSlices};
use std::time::Instant;

/// How one weight's gradient is summed: nowhere (no shard reaches it), by blocks (dense, `shape`), or whole
/// on every rank (an embedding table's rows).
pub(super) enum Sum {
    Nothing,
    Block { shape: Vec<usize>, values: Vec<f32> },
    Whole(Gradient),
}

/// Every shard's result and the gradients summed in shard order, `mine` being this rank's block of shards
/// (`count` shards in all).
pub(super) fn exchange(
    collective: &dyn Collective,
    step: u64,
    count: usize,
    mine: Result<Vec<ShardResult>>,
    started: Instant,
    mut sharded: Option<ShardedStep<'_>>,
) -> Result<Shards> {
    let (rank, ranks) = (collective.rank(), collective.ranks());
    let computed = Instant::now();
    // This rank's own part stays here (its results are read from `mine`, see `gather_shards`).
    let parts: Vec<Vec<u8>> = (0..ranks)
        .map(|r| match r == rank {
            true => Vec::new(),
            false => codec::encode(&mine, r, ranks),
        })
        .collect();
    let encoded = Instant::now();
    let messages = collective.all_to_all(&parts)?;
    let scattered = Instant::now();
    if messages.len() != ranks {
        return Err(EngineError::Distributed(format!(
            "the all-to-all returned {} messages for {ranks} ranks",
            messages.len()
        )));
    }
    // A failure one rank alone found after the last step's exchange comes first, on every rank.
    agree::carried_failure(&messages)?;
    // A rank that stopped training after the last step sent an agreement instead: the step is dropped.
    if let Some(stopped) = agree::stopped_elsewhere(&messages)? {
        mine?;
        return Err(EngineError::StoppedElsewhere { rank: stopped });
    }
    // A rank whose step failed ends with its own error; every other rank finds it in the message it sent.
    let mut mine = mine?;
    let mut received = gather_shards(&messages, count, rank, &mut mine)?;
    // From here on every rank takes part in the all-gather, so that an error found on one rank alone reaches
    // the others instead of leaving them waiting.
    let sums = received
        .as_mut()
        .map_err(|e| e.clone())
        .and_then(|shards| block_sums(shards, rank, ranks));
    // With a sharded optimizer step this rank updates its blocks now (not when the batch's loss is not
    // finite: as in one process, nothing is updated then) and the all-gather carries the updated weights.
    let (message, sums, updated) = match sharded.as_mut() {
        Some(step) => {
            let finite = received
                .as_ref()
                .is_ok_and(|r| r.iter().map(|r| r.loss).sum::<f64>().is_finite());
            let update = sums.and_then(|s| {
                s.filter(|_| finite)
                    .map(|s| step.update(s, OK, rank, ranks))
                    .transpose()
            });
            let (message, updated) = match update {
                Ok(Some(message)) => (message, true),
                Ok(None) => (sums_message(&Ok(None)), false),
                Err(reason) => (sums_message(&Err(reason)), false),
            };
            (message, Ok(None), updated)
        }
        None => (sums_message(&sums), sums, false),
    };
    let summed = Instant::now();
    let gathered_messages = collective.all_gather(&message)?;
    let gathered = Instant::now();
    first_failure(&gathered_messages, step)?;
    if let (true, Some(sharded)) = (updated, sharded.as_mut()) {
        // What this rank alone cannot read reaches the others in their next all-to-all.
        sharded
            .install(&gathered_messages, rank, ranks)
            .map_err(|reason| agree::share_failure(collective, step, reason))?;
    }
    let grads = match sums {
        Ok(Some(sums)) => Some(
            assemble(sums, &gathered_messages, ranks)
                .map_err(|reason| agree::share_failure(collective, step, reason))?,
        ),
        _ => None,
    };
    let mut results: Vec<ShardResult> = received
        .map_err(|reason| EngineError::StepFailed { rank, step, reason })?
        .into_iter()
        .map(|r| ShardResult {
            loss: r.loss,
            output_losses: r.output_losses,
            predictions: r.predictions,
            metric_states: r.metric_states,
            grads: None,
            forward: Default::default(),
            backward: Default::default(),
        })
        .collect();
    // This rank's own shards keep their timings.
    let owned = owned_shards(count, rank, ranks);
    for (r, m) in results
        .get_mut(owned)
        .unwrap_or_default()
        .iter_mut()
        .zip(&mine)
    {
        (r.forward, r.backward) = (m.forward, m.backward);
    }
    let others = |lens: &mut dyn Iterator<Item = usize>| -> u64 {
        lens.enumerate()
            .filter(|&(r, _)| r != rank)
            .map(|(_, n)| n as u64)
            .sum()
    };
    profile::record(
        [
            computed - started,
            encoded - computed,
            (scattered - encoded) + (gathered - summed),
            (summed - scattered) + gathered.elapsed(),
        ],
        others(&mut parts.iter().map(Vec::len)) + message.len() as u64 * (ranks as u64 - 1),
        others(&mut messages.iter().map(Vec::len))
            + others(&mut gathered_messages.iter().map(Vec::len)),
    );
    if let (true, Some(sharded)) = (updated, sharded.as_mut()) {
        sharded.recycle(message);
    }
    Ok(Shards {
        results,
        grads,
        updated,
    })
}

/// Every shard's result in shard order, this rank's (`rank`) moved out of `mine` (the outer error: a rank's
/// step failed, which every rank learns from that rank's message; the inner one, which this rank alone may
/// find: a message it cannot read, or the wrong number of shards).
fn gather_shards<'m>(
    messages: &'m [Vec<u8>],
    count: usize,
    rank: usize,
    mine: &mut [ShardResult],
) -> Result<std::result::Result<Vec<Received<'m>>, String>> {
    let ranks = messages.len();
    let mut all = Vec::with_capacity(count);
    let mut problem = None;
    for (r, bytes) in messages.iter().enumerate() {
        let part = match r == rank {
            true => Ok(Ok(mine
                .iter_mut()
                .map(|m| codec::own_received(m, rank, ranks))
                .collect())),
            false => codec::decode(bytes),
        };
        let part = match part {
            Ok(part) => part,
            Err(reason) => {
                problem.get_or_insert(format!("cannot read the message of rank {r}: {reason}"));
                continue;
            }
        };
        match part {
            Ok(results) => {
                let expected = owned_shards(count, r, ranks).len();
                if results.len() != expected && problem.is_none() {
                    problem = Some(format!(
                        "rank {r} computed {} shard(s) of {count}, expected {expected}; every rank must \
                         run the same fit on the same data",
                        results.len()
                    ));
                }
                all.extend(results);
            }
            // Every rank receives this message, so every rank stops here.
            Err(reason) => {
                return Err(EngineError::Distributed(format!(
                    "rank {r} failed in a training step: {reason}"
                )));
            }
        }
    }
    Ok(problem.map_or(Ok(all), Err))
}

/// One weight's sum over the shards so far: nothing yet, an embedding table's rows, the first shard's block,
/// or the total of two or more shards' blocks.
enum Partial<'m> {
    Nothing,
    Rows(Vec<IndexedSlices>),
    First(Vec<usize>, BlockValues<'m>),
    Total(Vec<usize>, Vec<f32>),
}

/// This rank's sums: per weight, its block of a dense gradient or an embedding table's whole gradient, added
/// up in shard order; `None` when a shard's loss was not finite (no shard updates then). The pieces are taken
/// out of `shards`; the first two shards' blocks are added into a new buffer, straight from the messages (and
/// this rank's own gradients) they are in, and the later ones into it.
fn block_sums(shards: &mut [Received<'_>], rank: usize, ranks: usize) -> Result2<Option<Vec<Sum>>> {
    let Some(mut grads) = shards
        .iter_mut()
        .map(|s| s.grads.as_mut())
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let weights = grads.first().map_or(0, |g| g.len());
    if grads.iter().any(|g| g.len() != weights) {
        return Err("the shards hold gradients of different numbers of weights".into());
    }
    let mut sums = Vec::with_capacity(weights);
    for i in 0..weights {
        let mut partial = Partial::Nothing;
        for (shard, g) in grads.iter_mut().enumerate() {
            let piece = std::mem::replace(&mut g[i], Piece::None);
            partial = match (piece, partial) {
                (Piece::None, partial) => partial,
                (Piece::Rows(r), Partial::Nothing) => Partial::Rows(vec![r]),
                (Piece::Rows(r), Partial::Rows(mut rows)) => {
                    rows.push(r);
                    Partial::Rows(rows)
                }
                (Piece::Block { shape, values }, Partial::Nothing) => {
                    let len = shape.iter().product();
                    if owned_shards(len, rank, ranks).len() != values.len() {
                        return Err(format!(
                            "shard {shard} sent {} elements of weight {i}'s gradient for this rank",
                            values.len()
                        ));
                    }
                    Partial::First(shape, values)
                }
                (Piece::Block { shape, values }, Partial::First(s, first))
                    if shape == s && values.len() == first.len() =>
                {
                    Partial::Total(s, block_values::sum_two(&first, &values))
                }
                (Piece::Block { shape, values }, Partial::Total(s, mut total))
                    if shape == s && values.len() == total.len() =>
                {
                    block_values::add_to(&mut total, &values);
                    Partial::Total(s, total)
                }
                _ => {
                    return Err(format!(
                        "shard {shard}'s gradient of weight {i} differs in kind or shape from the \
                         earlier shards'"
                    ));
                }
            };
        }
        sums.push(match partial {
            Partial::Nothing => Sum::Nothing,
            Partial::Rows(rows) => sum_in_order(rows.into_iter().map(|r| Some(Gradient::Rows(r))))
                .map_err(|e| e.to_string())?
                .map_or(Sum::Nothing, Sum::Whole),
            Partial::First(shape, values) => Sum::Block {
                shape,
                values: values.into_vec(),
            },
            Partial::Total(shape, values) => Sum::Block { shape, values },
        });
    }
    Ok(Some(sums))
}

const OK: u8 = 0;
const FAILED: u8 = 1;
const NO_UPDATE: u8 = 2;

/// This rank's summed blocks, weight after weight, or its error.
fn sums_message(sums: &std::result::Result<Option<Vec<Sum>>, String>) -> Vec<u8> {
    match sums {
        Err(reason) => [&[FAILED][..], reason.as_bytes()].concat(),
        Ok(None) => vec![NO_UPDATE],
        Ok(Some(sums)) => {
            let floats: usize = sums
                .iter()
                .map(|s| match s {
                    Sum::Block { values, .. } => values.len(),
                    _ => 0,
                })
                .sum();
            let mut out = Vec::with_capacity(1 + 4 * floats);
            out.push(OK);
            for s in sums {
                if let Sum::Block { values, .. } = s {
                    codec::put_f32s(&mut out, values);
                }
            }
            out
        }
    }
}

/// The first rank's error among the all-gathered sums of step `step`, if any.
fn first_failure(messages: &[Vec<u8>], step: u64) -> Result<()> {
    match messages
        .iter()
        .enumerate()
        .find(|(_, m)| m.first().is_none_or(|&tag| tag == FAILED))
    {
        Some((rank, m)) => Err(EngineError::StepFailed {
            rank,
            step,
            reason: String::from_utf8_lossy(m.get(1..).unwrap_or_default()).into_owned(),
        }),
        None => Ok(()),
    }
}

/// The summed gradients of every weight from every rank's blocks (`messages`, in rank order, none failed), or
/// why this rank cannot read them.
fn assemble(sums: Vec<Sum>, messages: &[Vec<u8>], ranks: usize) -> Result2<Vec<Option<Gradient>>> {
    let unreadable =
        |r: usize, reason: String| format!("cannot read the gradient sums of rank {r}: {reason}");
    let mut readers: Vec<Reader<'_>> = messages
        .iter()
        .map(|bytes| Reader { bytes, at: 1 })
        .collect();
    let mut grads = Vec::with_capacity(sums.len());
    for sum in sums {
        grads.push(match sum {
            Sum::Nothing => None,
            Sum::Whole(g) => Some(g),
            Sum::Block { shape, .. } => {
                let len = shape.iter().product();
                let mut values = Vec::with_capacity(len);
                for (r, reader) in readers.iter_mut().enumerate() {
                    let n = owned_shards(len, r, ranks).len();
                    reader
                        .f32s_into(n, &mut values)
                        .map_err(|e| unreadable(r, e))?;
                }
                let array =
                    ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| e.to_string())?;
                Some(Gradient::Dense(array))
            }
        });
    }
    for (r, reader) in readers.iter().enumerate() {
        reader.finish().map_err(|e| unreadable(r, e))?;
    }
    Ok(grads)
}

#[cfg(test)]
mod tests {
    use super::super::run_shards;
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use rkeras_tensor::IndexedSlices;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier, Mutex};

    /// Ranks as threads: each all-gather (and, with `native`, each all-to-all) meets at a barrier.
    #[derive(Debug)]
    struct Meeting {
        gathered: Mutex<Vec<Vec<u8>>>,
        /// `[from][to]`.
        scattered: Mutex<Vec<Vec<Vec<u8>>>>,
        barrier: Barrier,
        native: bool,
        /// `(receiver, sender)`: the receiver gets the sender's all-to-all message cut short by a byte.
        corrupt: Option<(usize, usize)>,
        /// `(receiver, call)`: at its all-gather number `call` (from 0), the receiver gets rank 0's message cut
        /// short by a byte.
        cut_gather: Option<(usize, usize)>,
    }

    #[derive(Debug)]
    struct Fake {
        rank: usize,
        ranks: usize,
        meeting: Arc<Meeting>,
        gathers: AtomicUsize,
    }

    impl Collective for Fake {
        fn rank(&self) -> usize {
            self.rank
        }

        fn ranks(&self) -> usize {
            self.ranks
        }

        fn all_gather(&self, local: &[u8]) -> Result<Vec<Vec<u8>>> {
            self.meeting.gathered.lock().unwrap()[self.rank] = local.to_vec();
            self.meeting.barrier.wait();
            let mut all = self.meeting.gathered.lock().unwrap().clone();
            self.meeting.barrier.wait();
            let call = self.gathers.fetch_add(1, Ordering::Relaxed);
            if self.meeting.cut_gather == Some((self.rank, call)) {
                all[0].pop();
            }
            Ok(all)
        }

        fn all_to_all(&self, parts: &[Vec<u8>]) -> Result<Vec<Vec<u8>>> {
            if !self.meeting.native {
                let default = DefaultOnly(self);
                return default.all_to_all(parts);
            }
            self.meeting.scattered.lock().unwrap()[self.rank] = parts.to_vec();
            self.meeting.barrier.wait();
            let mine = self
                .meeting
                .scattered
                .lock()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(sender, row)| {
                    let mut message = row[self.rank].clone();
                    if self.meeting.corrupt == Some((self.rank, sender)) {
                        message.pop();
                    }
                    message
                })
                .collect();
            self.meeting.barrier.wait();
            Ok(mine)
        }
    }

    /// A collective with the trait's default all-to-all.
    #[derive(Debug)]
    struct DefaultOnly<'a>(&'a Fake);

    impl Collective for DefaultOnly<'_> {
        fn rank(&self) -> usize {
            self.0.rank
        }

        fn ranks(&self) -> usize {
            self.0.ranks
        }

        fn all_gather(&self, local: &[u8]) -> Result<Vec<Vec<u8>>> {
            self.0.all_gather(local)
        }
    }

    /// Runs `job(collective)` on `ranks` threads; the results in rank order.
    fn on_ranks<T: Send>(
        ranks: usize,
        native: bool,
        job: impl Fn(&dyn Collective) -> T + Sync,
    ) -> Vec<T> {
        on_ranks_with(ranks, native, None, None, job)
    }

    /// [`on_ranks`] with a native all-to-all that cuts short what `corrupt = (receiver, sender)` receives, and
    /// all-gathers that cut short what `cut_gather = (receiver, call)` receives; fails when a rank still waits
    /// after a minute.
    fn on_ranks_or_fail<T: Send + 'static>(
        ranks: usize,
        corrupt: Option<(usize, usize)>,
        cut_gather: Option<(usize, usize)>,
        job: impl Fn(&dyn Collective) -> T + Send + Sync + 'static,
    ) -> Vec<T> {
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || send.send(on_ranks_with(ranks, true, corrupt, cut_gather, job)));
        receive
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("a rank still waits after a minute: the ranks hang"))
    }

    fn on_ranks_with<T: Send>(
        ranks: usize,
        native: bool,
        corrupt: Option<(usize, usize)>,
        cut_gather: Option<(usize, usize)>,
        job: impl Fn(&dyn Collective) -> T + Sync,
    ) -> Vec<T> {
        let meeting = Arc::new(Meeting {
            gathered: Mutex::new(vec![Vec::new(); ranks]),
            scattered: Mutex::new(vec![Vec::new(); ranks]),
            barrier: Barrier::new(ranks),
            native,
            corrupt,
            cut_gather,
        });
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..ranks)
                .map(|rank| {
                    let fake = Fake {
                        rank,
                        ranks,
                        meeting: meeting.clone(),
                        gathers: AtomicUsize::new(0),
                    };
                    let job = &job;
                    s.spawn(move || job(&fake))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    /// Numbers from 1e-7 to 1e7 of both signs: their sums depend on the order of the additions.
    fn wild(rng: &mut StdRng, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| {
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                sign * rng.random::<f32>() * 10f32.powi(rng.random_range(-7..8))
            })
            .collect()
    }

    /// Shard `i`'s result: a dense [4, 5] gradient (20 elements: blocks of 6, 7, 7 over three ranks), a weight
    /// the loss misses, an embedding table's rows, a one-element gradient; `no_grads` shards have no finite
    /// loss.
    fn shard(i: usize, no_grads: &[usize]) -> Result<ShardResult> {
        let mut rng = StdRng::seed_from_u64(i as u64);
        let dense = |rng: &mut StdRng, shape: &[usize]| {
            let values = wild(rng, shape.iter().product());
            Gradient::Dense(ArrayD::from_shape_vec(IxDyn(shape), values).unwrap())
        };
        let ids: Vec<usize> = (0..4).map(|_| rng.random_range(0..6)).collect();
        let rows = IndexedSlices::from_lookups(6, 2, &ids, &wild(&mut rng, 8)).unwrap();
        let grads = vec![
            Some(dense(&mut rng, &[4, 5])),
            None,
            Some(Gradient::Rows(rows)),
            Some(dense(&mut rng, &[1])),
        ];
        Ok(ShardResult {
            loss: f64::from(wild(&mut rng, 1)[0]),
            output_losses: vec![i as f64],
            predictions: vec![Arc::new(ArrayD::from_elem(IxDyn(&[2, 3]), i as f32))],
            metric_states: None,
            grads: (!no_grads.contains(&i)).then_some(grads),
            forward: Default::default(),
            backward: Default::default(),
        })
    }

    fn bits(g: &Option<Gradient>) -> Vec<u32> {
        match g {
            None => Vec::new(),
            Some(g) => g
                .clone()
                .into_dense()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect(),
        }
    }

    #[test]
    fn ranks_sum_by_blocks_to_the_bits_of_one_process() {
        const SHARDS: usize = 5;
        let one = run_shards(None, 0, SHARDS, |i| shard(i, &[]), None).unwrap();
        let one_grads = one.grads.as_ref().unwrap();
        // The data make the order matter: the last shard first gives other bits.
        let reversed = sum_in_order(
            (0..SHARDS)
                .rev()
                .map(|i| shard(i, &[]).unwrap().grads.unwrap().swap_remove(0)),
        )
        .unwrap();
        assert_ne!(
            bits(&reversed),
            bits(&one_grads[0]),
            "the test data do not depend on the order"
        );
        for ranks in [2, 3, 4, 7] {
            for native in [true, false] {
                let all = on_ranks(ranks, native, |c| {
                    run_shards(Some(c), 0, SHARDS, |i| shard(i, &[]), None).unwrap()
                });
                for (rank, shards) in all.iter().enumerate() {
                    let grads = shards.grads.as_ref().unwrap();
                    assert_eq!(grads.len(), 4);
                    for (w, (g, expected)) in grads.iter().zip(one_grads).enumerate() {
                        assert_eq!(
                            bits(g),
                            bits(expected),
                            "{ranks} ranks, rank {rank}, weight {w}"
                        );
                    }
                    assert!(grads[1].is_none());
                    assert!(
                        matches!(&grads[2], Some(Gradient::Rows(r)) if Some(r) == match &one_grads[2] { Some(Gradient::Rows(o)) => Some(o), _ => None })
                    );
                    let losses: Vec<u64> =
                        shards.results.iter().map(|r| r.loss.to_bits()).collect();
                    assert_eq!(
                        losses,
                        one.results
                            .iter()
                            .map(|r| r.loss.to_bits())
                            .collect::<Vec<_>>()
                    );
                    let predictions: Vec<f32> = shards
                        .results
                        .iter()
                        .map(|r| r.predictions[0].iter().copied().next().unwrap())
                        .collect();
                    assert_eq!(predictions, [0.0, 1.0, 2.0, 3.0, 4.0]);
                }
            }
        }
    }

    #[test]
    fn a_shard_without_a_finite_loss_updates_nothing_on_any_rank() {
        let all = on_ranks(3, true, |c| {
            run_shards(Some(c), 0, 5, |i| shard(i, &[3]), None).unwrap()
        });
        assert!(
            all.iter()
                .all(|s| s.grads.is_none() && s.results.len() == 5)
        );
        assert!(
            run_shards(None, 0, 5, |i| shard(i, &[3]), None)
                .unwrap()
                .grads
                .is_none()
        );
    }

    #[test]
    fn an_error_on_one_rank_stops_every_rank_naming_it() {
        let all = on_ranks(3, true, |c| {
            run_shards(
                Some(c),
                0,
                5,
                |i| {
                    if i == 4 {
                        Err(EngineError::invalid("y", "bad targets"))
                    } else {
                        shard(i, &[])
                    }
                },
                None,
            )
            .err()
            .map(|e| e.to_string())
        });
        // Shard 4 belongs to rank 2 (shards 3..5).
        assert_eq!(all[2].as_deref(), Some("invalid `y`: bad targets"));
        for message in &all[..2] {
            assert_eq!(
                message.as_deref(),
                Some(
                    "distributed training: rank 2 failed in a training step: invalid `y`: bad targets"
                )
            );
        }
    }

    #[test]
    fn a_mismatch_found_by_one_rank_alone_stops_every_rank() {
        // Rank 1 runs 4 shards where the others run 5: every rank ends with an error instead of waiting.
        let all = on_ranks(2, true, |c| {
            let count = if c.rank() == 1 { 4 } else { 5 };
            run_shards(Some(c), 0, count, |i| shard(i, &[]), None)
                .err()
                .map(|e| e.to_string())
        });
        assert!(
            all.iter()
                .all(|e| e.as_deref().is_some_and(|m| m.contains("expected"))),
            "{all:?}"
        );
    }

    #[test]
    fn a_message_one_rank_cannot_read_stops_every_rank_with_the_same_error() {
        for ranks in [2, 3, 4] {
            // The last rank receives rank 0's message cut short; the others read theirs.
            let reader = ranks - 1;
            let all = on_ranks_or_fail(ranks, Some((reader, 0)), None, |c| {
                run_shards(Some(c), 9, 5, |i| shard(i, &[]), None).err()
            });
            for (rank, error) in all.iter().enumerate() {
                match error {
                    Some(EngineError::StepFailed {
                        rank: failed,
                        step,
                        reason,
                    }) => {
                        assert_eq!((*failed, *step), (reader, 9), "{ranks} ranks, rank {rank}");
                        assert!(
                            reason.starts_with("cannot read the message of rank 0: "),
                            "{reason}"
                        );
                    }
                    other => panic!("{ranks} ranks, rank {rank} ended with {other:?}"),
                }
            }
            let messages: Vec<String> = all.iter().flatten().map(|e| e.to_string()).collect();
            assert!(messages.iter().all(|m| *m == messages[0]), "{messages:?}");
            assert!(
                messages[0].starts_with(&format!(
                    "distributed training: rank {reader} failed at step 9: "
                )),
                "{}",
                messages[0]
            );
        }
    }

    /// Every rank's error of `STEPS` steps then the end-of-epoch agreement, when `reader` cannot read the
    /// all-gathered gradient sums of step `failed`.
    fn steps_with_unreadable_sums(
        ranks: usize,
        reader: usize,
        failed: u64,
    ) -> Vec<Option<EngineError>> {
        const STEPS: u64 = 4;
        on_ranks_or_fail(ranks, None, Some((reader, failed as usize)), |c| {
            (0..STEPS)
                .try_for_each(|step| {
                    run_shards(Some(c), step, 5, |i| shard(i, &[]), None).map(|_| ())
                })
                .and_then(|()| super::super::agree(Some(c), STEPS, Ok(()), false).map(|_| ()))
                .err()
        })
    }

    #[test]
    fn gradient_sums_one_rank_cannot_read_stop_every_rank_with_the_same_error() {
        // One all-gather per step: call `failed` is step `failed`'s, a middle step's or the last one's (whose
        // failure the agreement at the end of the epoch carries).
        for ranks in [2, 3, 4] {
            for (reader, failed) in [(ranks - 1, 1), (0, 3), (ranks / 2, 3)] {
                let all = steps_with_unreadable_sums(ranks, reader, failed);
                for (rank, error) in all.iter().enumerate() {
                    match error {
                        Some(EngineError::StepFailed {
                            rank: r,
                            step,
                            reason,
                        }) => {
                            assert_eq!((*r, *step), (reader, failed), "{ranks} ranks, rank {rank}");
                            assert!(
                                reason.starts_with("cannot read the gradient sums of rank 0: "),
                                "{reason}"
                            );
                        }
                        other => panic!("{ranks} ranks, rank {rank} ended with {other:?}"),
                    }
                }
                let messages: Vec<String> = all.iter().flatten().map(|e| e.to_string()).collect();
                assert!(messages.iter().all(|m| *m == messages[0]), "{messages:?}");
            }
        }
    }

    #[test]
    fn ranks_that_read_every_step_agree_without_an_error() {
        for ranks in [2, 3] {
            // The cut falls on an all-gather no step makes.
            assert!(
                steps_with_unreadable_sums(ranks, 0, 99)
                    .iter()
                    .all(Option::is_none)
            );
        }
    }
}
