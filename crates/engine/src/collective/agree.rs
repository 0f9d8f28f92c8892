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

/// Every rank learns whether any rank failed where it alone could see it: one all-to-all of a few bytes. At
/// the end of each epoch, before validation and the epoch's callbacks (`outcome` then `Ok`), a failure in the
/// epoch's last step stops every rank at once instead of leaving the others waiting; at the end of `fit`,
/// `outcome` is this rank's `on_train_end` (an error there reaches every rank). An error in `outcome` becomes
/// [`EngineError::StepFailed`] naming this rank and `step` (the steps run so far), the same on every rank.
/// Nothing to do alone.
pub(crate) fn agree(
    collective: Option<&dyn Collective>,
    step: u64,
    outcome: Result<()>,
) -> Result<()> {
    let Some(collective) = collective.filter(|c| c.ranks() > 1) else {
        return outcome;
    };
    let ranks = collective.ranks();
    let parts: Vec<Vec<u8>> = match &outcome {
        Ok(()) => (0..ranks)
            .map(|r| codec::encode(&Ok(Vec::new()), r, ranks))
            .collect(),
        Err(e) => vec![codec::encode_step_failure(collective.rank(), step, &e.to_string()); ranks],
    };
    carried_failure(&collective.all_to_all(&parts)?)
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
