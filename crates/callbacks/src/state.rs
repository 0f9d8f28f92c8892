//! Saving callback state as JSON for a resumed run ([`crate::Callback::state`]).
//!
//! JSON has no infinities or NaN, and Keras's `best` starts at `±inf`: floats go through [`json_float`], which
//! writes non-finite values as the strings `"inf"`, `"-inf"` and `"nan"`.

use crate::error::{CallbackError, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Serialises a callback's state; `None` if it cannot be represented (never the case for the crate's states).
pub(crate) fn to_state<T: Serialize>(state: &T) -> Option<serde_json::Value> {
    serde_json::to_value(state).ok()
}

/// Reads a state written by [`to_state`]; the error names the callback.
pub(crate) fn from_state<T: DeserializeOwned>(
    callback: &'static str,
    value: &serde_json::Value,
) -> Result<T> {
    T::deserialize(value).map_err(|e| CallbackError::InvalidArgument {
        callback,
        argument: "state",
        reason: format!("cannot read the saved state {value}: {e}"),
    })
}

/// Serde adapters for floats that may be infinite or NaN.
pub(crate) mod json_float {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }

    fn to_repr(v: f64) -> Repr {
        if v.is_nan() {
            Repr::Text("nan".into())
        } else if v == f64::INFINITY {
            Repr::Text("inf".into())
        } else if v == f64::NEG_INFINITY {
            Repr::Text("-inf".into())
        } else {
            Repr::Number(v)
        }
    }

    fn from_repr<E: serde::de::Error>(r: Repr) -> Result<f64, E> {
        match r {
            Repr::Number(v) => Ok(v),
            Repr::Text(t) => match t.as_str() {
                "nan" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                other => Err(E::custom(format!(
                    "expected a number, \"inf\", \"-inf\" or \"nan\", got {other:?}"
                ))),
            },
        }
    }

    /// An `Option<f64>` (Keras's `None` for "no best yet").
    pub(crate) mod option {
        use super::*;

        /// Serialises an `Option<f64>`.
        pub(crate) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            v.map(to_repr).serialize(s)
        }

        /// Deserialises an `Option<f64>`.
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<f64>, D::Error> {
            Option::<Repr>::deserialize(d)?.map(from_repr).transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct S {
        #[serde(with = "json_float::option")]
        a: Option<f64>,
        #[serde(with = "json_float::option")]
        b: Option<f64>,
    }

    #[test]
    fn non_finite_floats_round_trip() {
        for (a, b) in [
            (Some(f64::INFINITY), None),
            (Some(f64::NEG_INFINITY), Some(0.5)),
            (Some(0.25), Some(f64::INFINITY)),
        ] {
            let v = to_state(&S { a, b }).unwrap();
            assert_eq!(from_state::<S>("T", &v).unwrap(), S { a, b });
        }
        let v = to_state(&S {
            a: Some(f64::NAN),
            b: None,
        })
        .unwrap();
        assert!(from_state::<S>("T", &v).unwrap().a.is_some_and(f64::is_nan));
        assert!(from_state::<S>("T", &serde_json::json!({"a": "big", "b": null})).is_err());
    }
}
