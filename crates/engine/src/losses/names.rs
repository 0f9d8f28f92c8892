//! Keras's names for losses: functions (`"mse"`, `"huber"`) and classes (`"MeanSquaredError"`, `"KLD"`).

use super::{
    BinaryFocal, CategoricalFocal, Crossentropy, Loss, LossKind, Reduction, SparseCrossentropy,
};
use crate::error::{EngineError, Result};

/// One Keras name: the name, the class it makes, whether it is a function name, and the kind.
type Named = (&'static str, &'static str, bool, fn() -> LossKind);

const NAMES: [Named; 39] = [
    ("binary_crossentropy", "BinaryCrossentropy", true, || {
        LossKind::BinaryCrossentropy(Crossentropy::default())
    }),
    ("bce", "BinaryCrossentropy", true, || {
        LossKind::BinaryCrossentropy(Crossentropy::default())
    }),
    (
        "categorical_crossentropy",
        "CategoricalCrossentropy",
        true,
        || LossKind::CategoricalCrossentropy(Crossentropy::default()),
    ),
    (
        "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy",
        true,
        || LossKind::SparseCategoricalCrossentropy(SparseCrossentropy::default()),
    ),
    (
        "binary_focal_crossentropy",
        "BinaryFocalCrossentropy",
        true,
        || LossKind::BinaryFocalCrossentropy(BinaryFocal::default()),
    ),
    (
        "categorical_focal_crossentropy",
        "CategoricalFocalCrossentropy",
        true,
        || LossKind::CategoricalFocalCrossentropy(CategoricalFocal::default()),
    ),
    ("mean_squared_error", "MeanSquaredError", true, || {
        LossKind::MeanSquaredError
    }),
    ("mse", "MeanSquaredError", true, || {
        LossKind::MeanSquaredError
    }),
    ("mean_absolute_error", "MeanAbsoluteError", true, || {
        LossKind::MeanAbsoluteError
    }),
    ("mae", "MeanAbsoluteError", true, || {
        LossKind::MeanAbsoluteError
    }),
    (
        "mean_absolute_percentage_error",
        "MeanAbsolutePercentageError",
        true,
        || LossKind::MeanAbsolutePercentageError,
    ),
    ("mape", "MeanAbsolutePercentageError", true, || {
        LossKind::MeanAbsolutePercentageError
    }),
    (
        "mean_squared_logarithmic_error",
        "MeanSquaredLogarithmicError",
        true,
        || LossKind::MeanSquaredLogarithmicError,
    ),
    ("msle", "MeanSquaredLogarithmicError", true, || {
        LossKind::MeanSquaredLogarithmicError
    }),
    ("huber", "Huber", true, || LossKind::Huber { delta: 1.0 }),
    ("log_cosh", "LogCosh", true, || LossKind::LogCosh),
    ("kl_divergence", "KLDivergence", true, || {
        LossKind::KLDivergence
    }),
    ("kld", "KLDivergence", true, || LossKind::KLDivergence),
    ("poisson", "Poisson", true, || LossKind::Poisson),
    ("hinge", "Hinge", true, || LossKind::Hinge),
    ("squared_hinge", "SquaredHinge", true, || {
        LossKind::SquaredHinge
    }),
    ("categorical_hinge", "CategoricalHinge", true, || {
        LossKind::CategoricalHinge
    }),
    ("cosine_similarity", "CosineSimilarity", true, || {
        LossKind::CosineSimilarity { axis: -1 }
    }),
    ("BinaryCrossentropy", "BinaryCrossentropy", false, || {
        LossKind::BinaryCrossentropy(Crossentropy::default())
    }),
    ("BCE", "BinaryCrossentropy", false, || {
        LossKind::BinaryCrossentropy(Crossentropy::default())
    }),
    (
        "CategoricalCrossentropy",
        "CategoricalCrossentropy",
        false,
        || LossKind::CategoricalCrossentropy(Crossentropy::default()),
    ),
    (
        "SparseCategoricalCrossentropy",
        "SparseCategoricalCrossentropy",
        false,
        || LossKind::SparseCategoricalCrossentropy(SparseCrossentropy::default()),
    ),
    (
        "BinaryFocalCrossentropy",
        "BinaryFocalCrossentropy",
        false,
        || LossKind::BinaryFocalCrossentropy(BinaryFocal::default()),
    ),
    (
        "CategoricalFocalCrossentropy",
        "CategoricalFocalCrossentropy",
        false,
        || LossKind::CategoricalFocalCrossentropy(CategoricalFocal::default()),
    ),
    ("MeanSquaredError", "MeanSquaredError", false, || {
        LossKind::MeanSquaredError
    }),
    ("MeanAbsoluteError", "MeanAbsoluteError", false, || {
        LossKind::MeanAbsoluteError
    }),
    (
        "MeanAbsolutePercentageError",
        "MeanAbsolutePercentageError",
        false,
        || LossKind::MeanAbsolutePercentageError,
    ),
    (
        "MeanSquaredLogarithmicError",
        "MeanSquaredLogarithmicError",
        false,
        || LossKind::MeanSquaredLogarithmicError,
    ),
    ("Huber", "Huber", false, || LossKind::Huber { delta: 1.0 }),
    ("LogCosh", "LogCosh", false, || LossKind::LogCosh),
    ("KLDivergence", "KLDivergence", false, || {
        LossKind::KLDivergence
    }),
    ("Poisson", "Poisson", false, || LossKind::Poisson),
    ("Hinge", "Hinge", false, || LossKind::Hinge),
    ("CosineSimilarity", "CosineSimilarity", false, || {
        LossKind::CosineSimilarity { axis: -1 }
    }),
];

/// Class names Keras also accepts that the table above does not repeat.
/// A class-name alias: the name, its class, and the kind.
type Alias = (&'static str, &'static str, fn() -> LossKind);

const MORE_CLASSES: [Alias; 6] = [
    ("SquaredHinge", "SquaredHinge", || LossKind::SquaredHinge),
    ("CategoricalHinge", "CategoricalHinge", || {
        LossKind::CategoricalHinge
    }),
    ("MSE", "MeanSquaredError", || LossKind::MeanSquaredError),
    ("MAE", "MeanAbsoluteError", || LossKind::MeanAbsoluteError),
    ("MAPE", "MeanAbsolutePercentageError", || {
        LossKind::MeanAbsolutePercentageError
    }),
    ("MSLE", "MeanSquaredLogarithmicError", || {
        LossKind::MeanSquaredLogarithmicError
    }),
];

/// Every loss name `compile` and `Loss::from_name` accept.
pub const LOSS_NAMES: [&str; 46] = [
    "binary_crossentropy",
    "bce",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "mean_absolute_percentage_error",
    "mape",
    "mean_squared_logarithmic_error",
    "msle",
    "huber",
    "log_cosh",
    "kl_divergence",
    "kld",
    "poisson",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "cosine_similarity",
    "BinaryCrossentropy",
    "BCE",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalFocalCrossentropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "KLDivergence",
    "Poisson",
    "Hinge",
    "CosineSimilarity",
    "SquaredHinge",
    "CategoricalHinge",
    "MSE",
    "MAE",
    "MAPE",
    "MSLE",
    "KLD",
];

/// A loss by any Keras name.
pub(super) fn from_name(name: &str) -> Result<Loss> {
    let found = NAMES
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, _, function, make)| (function, make()))
        .or_else(|| {
            MORE_CLASSES
                .iter()
                .find(|(n, ..)| *n == name)
                .map(|&(_, _, make)| (false, make()))
        })
        .or_else(|| (name == "KLD").then_some((false, LossKind::KLDivergence)));
    let Some((function, kind)) = found else {
        return Err(EngineError::UnknownName {
            kind: "loss",
            name: name.to_string(),
            valid: LOSS_NAMES.iter().map(|s| s.to_string()).collect(),
        });
    };
    let mut loss = Loss::new(kind)?;
    if function {
        // A function's name: the canonical one (`"mse"` is `mean_squared_error`, as `keras.losses.get` gives).
        loss.name = canonical_function(&loss.kind).to_string();
        loss.from_function_name = true;
    }
    loss.reduction = Reduction::default();
    Ok(loss)
}

/// The Keras function a kind is (its `__name__`).
pub(super) fn canonical_function(kind: &LossKind) -> &'static str {
    match kind {
        LossKind::Huber { .. } => "huber",
        other => default_name(other),
    }
}

/// The class a kind is.
pub(super) fn class_name(kind: &LossKind) -> &'static str {
    let name = default_name(kind);
    NAMES
        .iter()
        .find(|(n, ..)| *n == name || (*n == "huber" && name == "huber_loss"))
        .map_or("Loss", |&(_, class, ..)| class)
}

/// The class's default `name` argument.
pub(super) fn default_name(kind: &LossKind) -> &'static str {
    match kind {
        LossKind::BinaryCrossentropy(_) => "binary_crossentropy",
        LossKind::CategoricalCrossentropy(_) => "categorical_crossentropy",
        LossKind::SparseCategoricalCrossentropy(_) => "sparse_categorical_crossentropy",
        LossKind::BinaryFocalCrossentropy(_) => "binary_focal_crossentropy",
        LossKind::CategoricalFocalCrossentropy(_) => "categorical_focal_crossentropy",
        LossKind::MeanSquaredError => "mean_squared_error",
        LossKind::MeanAbsoluteError => "mean_absolute_error",
        LossKind::MeanAbsolutePercentageError => "mean_absolute_percentage_error",
        LossKind::MeanSquaredLogarithmicError => "mean_squared_logarithmic_error",
        LossKind::Huber { .. } => "huber_loss",
        LossKind::LogCosh => "log_cosh",
        LossKind::KLDivergence => "kl_divergence",
        LossKind::Poisson => "poisson",
        LossKind::Hinge => "hinge",
        LossKind::SquaredHinge => "squared_hinge",
        LossKind::CategoricalHinge => "categorical_hinge",
        LossKind::CosineSimilarity { .. } => "cosine_similarity",
        LossKind::Custom(_) => "custom",
    }
}

/// A class name's kind with default arguments.
pub(super) fn kind_of_class(class: &str) -> Option<LossKind> {
    NAMES
        .iter()
        .find(|&&(_, c, function, _)| !function && c == class)
        .map(|&(.., make)| make())
        .or_else(|| {
            MORE_CLASSES
                .iter()
                .find(|(n, ..)| *n == class)
                .map(|&(.., make)| make())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_resolves_and_unknown_names_list_them() {
        for name in LOSS_NAMES {
            let loss = from_name(name).unwrap();
            assert_ne!(class_name(loss.kind()), "Loss", "{name}");
        }
        assert_eq!(from_name("huber").unwrap().name(), "huber");
        assert_eq!(from_name("Huber").unwrap().name(), "huber_loss");
        assert_eq!(from_name("kld").unwrap().name(), "kl_divergence");
        let err = from_name("hubber").unwrap_err().to_string();
        assert!(
            err.contains("hubber") && err.contains("huber, log_cosh"),
            "{err}"
        );
    }
}
