//! Keras 3's `reduction` modes: how per-sample loss values become the loss.

use crate::error::{EngineError, Result};

/// How a loss reduces its weighted per-sample values (Keras's `reduction` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// `Σ wᵢ·lossᵢ / n` over all `n` loss values (Keras's default, `"sum_over_batch_size"`).
    #[default]
    SumOverBatchSize,
    /// The same arithmetic as `SumOverBatchSize` under Keras's other name (`"mean"`).
    Mean,
    /// `Σ wᵢ·lossᵢ / Σ wᵢ` (`"mean_with_sample_weight"`); without weights, as `"mean"`.
    MeanWithSampleWeight,
    /// `Σ wᵢ·lossᵢ` (`"sum"`).
    Sum,
    /// No reduction: the weighted values themselves (`"none"` or `None`).
    None,
}

/// Keras's spellings, in the order its error message lists them.
const NAMES: [(&str, Reduction); 5] = [
    ("sum_over_batch_size", Reduction::SumOverBatchSize),
    ("sum", Reduction::Sum),
    ("none", Reduction::None),
    ("mean", Reduction::Mean),
    ("mean_with_sample_weight", Reduction::MeanWithSampleWeight),
];

impl Reduction {
    /// A reduction by Keras name; an unknown name lists the valid ones.
    ///
    /// ```
    /// use rkeras_engine::losses::Reduction;
    /// assert_eq!(Reduction::from_name("sum")?, Reduction::Sum);
    /// assert!(Reduction::from_name("average").unwrap_err().to_string().contains("average"));
    /// # Ok::<(), rkeras_engine::EngineError>(())
    /// ```
    pub fn from_name(name: &str) -> Result<Reduction> {
        NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, r)| r)
            .ok_or_else(|| EngineError::UnknownName {
                kind: "reduction",
                name: name.to_string(),
                valid: NAMES.iter().map(|(n, _)| n.to_string()).collect(),
            })
    }

    /// Keras's name (`None` is written as `"none"`).
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|&&(_, r)| r == self)
            .map_or("none", |(n, _)| n)
    }

    /// The divisor of `Σ wᵢ·lossᵢ`: `count` loss values, of total weight `weight_sum` (`None` without weights).
    pub(crate) fn divisor(self, count: f64, weight_sum: Option<f64>) -> f64 {
        match (self, weight_sum) {
            (Reduction::Sum | Reduction::None, _) => 1.0,
            (Reduction::MeanWithSampleWeight, Some(w)) => w,
            _ => count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_divisors_follow_keras() {
        for (name, r) in NAMES {
            assert_eq!(Reduction::from_name(name).unwrap(), r);
            assert_eq!(r.name(), name);
        }
        assert_eq!(Reduction::SumOverBatchSize.divisor(4.0, Some(2.5)), 4.0);
        assert_eq!(Reduction::MeanWithSampleWeight.divisor(4.0, Some(2.5)), 2.5);
        assert_eq!(Reduction::MeanWithSampleWeight.divisor(4.0, None), 4.0);
        assert_eq!(Reduction::Sum.divisor(4.0, Some(2.5)), 1.0);
    }
}
