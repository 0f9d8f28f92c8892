//! A failure one rank alone finds after a step's last exchange (it cannot read the all-gathered gradient
//! sums): the other ranks have finished the step and gone on to their next all-to-all, the next step's or the
//! agreement at the end of the epoch ([`agree`]), so the failing rank sends its error there. Every rank then
//! returns the same [`EngineError::StepFailed`], naming the rank and the step in which it failed.

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

/// Every rank learns whether any rank's steps failed where it alone could see it: one all-to-all of a few bytes
/// at the end of each epoch, before validation and the epoch's callbacks, so that a failure in an epoch's last
/// step (and the `fit`'s) stops every rank at once instead of leaving the others waiting. Nothing to do alone.
pub(crate) fn agree(collective: Option<&dyn Collective>) -> Result<()> {
    let Some(collective) = collective.filter(|c| c.ranks() > 1) else {
        return Ok(());
    };
    let ranks = collective.ranks();
    let parts: Vec<Vec<u8>> = (0..ranks)
        .map(|r| codec::encode(&Ok(Vec::new()), r, ranks))
        .collect();
    carried_failure(&collective.all_to_all(&parts)?)
}
