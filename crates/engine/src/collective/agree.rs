//! A failure one rank alone finds outside a step's exchanges — it cannot read the all-gathered gradient sums
//! of a step, or one of its callbacks fails: the other ranks have gone on to their next all-to-all (the next
//! step's, the agreement at the end of the epoch or the one at the end of `fit`, [`agree`]), so the failing
//! rank sends its error there. Every rank then returns the same [`EngineError::StepFailed`], naming the rank
//! and the step in which it failed.

use super::{Collective, codec};
use crate::error::{EngineError, Result};

/// Sends this rank's failure in step `step` (`reason`) in the all-to-all the other ranks make next; returns the
/// first failure in rank order among what every rank sent (the same error on every rank).
pub(super) fn share_failure(collective: &dyn Collective, step: u64, reason: String) -> EngineError {
    let rank = collective.rank();
    let message = codec::encode_step_failure(rank, step, &reason);
    match collective.all_to_all(&vec![message; collective.ranks()]) {
        Ok(messages) => carried_failure(&messages)
            .err()
            .unwrap_or(EngineError::StepFailed { rank, step, reason }),
        Err(e) => e,
    }
}

/// The first rank's failure carried in `messages` (in rank order), if any.
pub(super) fn carried_failure(messages: &[Vec<u8>]) -> Result<()> {
    messages
        .iter()
        .find_map(|m| codec::step_failure(m))
        .map_or(Ok(()), Err)
}

/// Every rank learns whether any rank failed where it alone could see it, and whether any rank stops training:
/// one all-to-all of a few bytes. At the end of each epoch, before validation and the epoch's callbacks
/// (`outcome` then `Ok`), a failure in the epoch's last step stops every rank at once instead of leaving the
/// others waiting; after the epoch's callbacks, `stop` (this rank's `stop_training`) becomes every rank's, so
/// that every rank stops after the same epoch; at the end of `fit`, `outcome` is this rank's `on_train_end` (an
/// error there reaches every rank). An error in `outcome` becomes [`EngineError::StepFailed`] naming this rank
/// and `step` (the steps run so far), the same on every rank. Returns whether any rank stops; alone, `stop`.
///
/// A rank that stopped in the middle of an epoch meets the others' next step here: their messages are that
/// step's, which they drop on seeing this one ([`stopped_elsewhere`]); one that failed is an error here too.
pub(crate) fn agree(
    collective: Option<&dyn Collective>,
    step: u64,
    outcome: Result<()>,
    stop: bool,
) -> Result<bool> {
    let Some(collective) = collective.filter(|c| c.ranks() > 1) else {
        return outcome.map(|()| stop);
    };
    let ranks = collective.ranks();
    let message = match &outcome {
        Ok(()) => codec::encode_agreement(stop),
        Err(e) => codec::encode_step_failure(collective.rank(), step, &e.to_string()),
    };
    let messages = collective.all_to_all(&vec![message; ranks])?;
    carried_failure(&messages)?;
    outcome?;
    let mut any = stop;
    for (r, m) in messages.iter().enumerate() {
        match codec::agreement(m) {
            Some(theirs) => any |= theirs,
            None => {
                if let Some(reason) = codec::failed_step(m) {
                    return Err(EngineError::Distributed(format!(
                        "rank {r} failed in a training step: {reason}"
                    )));
                }
                if !stop {
                    return Err(out_of_step(r));
                }
            }
        }
    }
    Ok(any)
}

/// The rank whose message in a step's all-to-all (`messages`, in rank order) is an agreement's: that rank
/// stopped training after the previous step, and the step is dropped on every rank that began it (they all
/// end the epoch there, as the stopped rank does). An error when that rank does not stop: the ranks are out of
/// step.
pub(super) fn stopped_elsewhere(messages: &[Vec<u8>]) -> Result<Option<usize>> {
    match messages
        .iter()
        .enumerate()
        .find_map(|(r, m)| codec::agreement(m).map(|stop| (r, stop)))
    {
        Some((r, true)) => Ok(Some(r)),
        Some((r, false)) => Err(out_of_step(r)),
        None => Ok(None),
    }
}

fn out_of_step(rank: usize) -> EngineError {
    EngineError::Distributed(format!(
        "rank {rank} ended an epoch while this rank ran a training step; every rank must run the same fit on \
         the same data"
    ))
}

/// `outcome`, the result of what this rank did alone between two exchanges (its callbacks, a backup): an
/// error there is sent to the other ranks in the exchange they make next (a step's all-to-all or an
/// agreement, [`agree`]), so that every rank returns the same [`EngineError::StepFailed`] naming this rank
/// and `step` (the steps run so far) instead of waiting for it. Success costs no exchange.
pub(crate) fn share_outcome<T>(
    collective: Option<&dyn Collective>,
    step: u64,
    outcome: Result<T>,
) -> Result<T> {
    match (collective.filter(|c| c.ranks() > 1), outcome) {
        (Some(collective), Err(e)) => Err(share_failure(collective, step, e.to_string())),
        (_, outcome) => outcome,
    }
}
