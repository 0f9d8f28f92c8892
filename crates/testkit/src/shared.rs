//! The shared material beside the repository (`../shared`: datasets, fixtures).

use crate::missing::missing;
use crate::python::workspace_root;
use std::path::PathBuf;

/// `../shared/<relative>` when it exists; else [`missing`] is reported for `check` and `None` returned.
///
/// # Panics
/// With `CI=true` when the path is missing.
pub fn shared_path(relative: &str, check: &str) -> Option<PathBuf> {
    let path = workspace_root().join("../shared").join(relative);
    if path.exists() {
        return Some(path);
    }
    missing(
        &format!("the shared material {}", path.display()),
        check,
        "Put the shared datasets and fixtures in ../shared next to the repository.",
    );
    None
}
