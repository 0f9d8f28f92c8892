//! Reading one pass over a [`DataSource`] on a background thread, a bounded queue ahead of its consumer.

use super::{Batch, DataSource};
use crate::error::{EngineError, Result};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Keras's warning when a source runs out before `steps_per_epoch` (or gives no batch at all).
pub(crate) const RAN_OUT: &str = "Your input ran out of data; interrupting training. Make sure that your \
    dataset or generator can generate at least `steps_per_epoch * epochs` batches.";

/// What one pass reads: at most `steps` batches (all of an indexed dataset, or a generator to its end, when
/// `None`), an indexed dataset's batches in the order `shuffle` draws (in index order without), with `queue`
/// batches read ahead.
pub(crate) struct Pass<'r> {
    pub(crate) steps: Option<usize>,
    pub(crate) shuffle: Option<&'r mut StdRng>,
    pub(crate) queue: usize,
}

/// Whether the source ran out before the pass had all its steps (or gave none).
pub(crate) struct PassEnd {
    pub(crate) ran_out: bool,
}

/// Reads one pass of `source` on a scoped background thread and hands the batches, in order, to `consume`.
/// When `consume` returns early (training stopped, or an error), the reader stops at its next batch.
pub(crate) fn read_pass<R>(
    source: &mut DataSource<'_>,
    pass: Pass<'_>,
    consume: impl FnOnce(&mut dyn Iterator<Item = Result<Batch>>) -> Result<R>,
) -> Result<(R, PassEnd)> {
    let Pass {
        steps,
        shuffle,
        queue,
    } = pass;
    let order = match source {
        DataSource::Indexed(d) => {
            let n = d.len();
            let mut order: Vec<usize> = (0..n).collect();
            if let Some(rng) = shuffle {
                order.shuffle(rng);
            }
            order.truncate(steps.unwrap_or(n));
            Some(order)
        }
        DataSource::Generator(_) => None,
    };
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel(queue.max(1));
        let reader = scope.spawn(move || match (source, order) {
            (DataSource::Indexed(d), Some(order)) => {
                let short = steps.is_some_and(|s| s > order.len()) || order.is_empty();
                for index in order {
                    if !send(&tx, d.get(index)) {
                        return false;
                    }
                }
                if let Err(e) = d.on_epoch_end() {
                    send(&tx, Err(e));
                }
                short
            }
            (DataSource::Generator(g), _) => {
                let mut sent = 0;
                while steps.is_none_or(|s| sent < s) {
                    let Some(item) = g.next() else {
                        return steps.is_some() || sent == 0;
                    };
                    if !send(&tx, item) {
                        return false;
                    }
                    sent += 1;
                }
                false
            }
            (DataSource::Indexed(_), None) => false,
        });
        let result = consume(&mut Batches { rx: &rx });
        drop(rx);
        let ran_out = reader
            .join()
            .map_err(|_| EngineError::invalid("data source", "the reading thread panicked"))?;
        Ok((result?, PassEnd { ran_out }))
    })
}

/// Sends one item; `false` when the consumer has gone or the item was an error (the pass ends there).
fn send(tx: &SyncSender<Result<Batch>>, item: Result<Batch>) -> bool {
    let ok = item.is_ok();
    tx.send(item).is_ok() && ok
}

struct Batches<'r> {
    rx: &'r Receiver<Result<Batch>>,
}

impl Iterator for Batches<'_> {
    type Item = Result<Batch>;
    fn next(&mut self) -> Option<Result<Batch>> {
        self.rx.recv().ok()
    }
}
