//! `rkeras summary MODEL`: Keras's `model.summary()`.

use crate::error::Result;
use std::path::Path;

/// The model's summary table.
pub fn run(model: &Path) -> Result<String> {
    Ok(super::load(model)?.summary())
}
