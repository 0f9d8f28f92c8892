//! Test support shared by rkeras's crates: the one way tests find what lives outside the repository.
//!
//! A test that needs the Python Keras or the shared material next to the repository asks this crate for it.
//! When it is missing the test fails with `CI=true` (CI must check it) and prints a loud notice otherwise,
//! so that a missing environment never passes silently.
//!
//! - [`keras_python`]: the interpreter with Keras 3, JAX and h5py (`KERAS_PYTHON`, else the repository's
//!   `.venv-keras` that `scripts/setup.sh` creates).
//! - [`shared_path`]: a path under `../shared` (datasets, fixtures).

mod missing;
mod python;
mod shared;

pub use missing::{in_ci, missing};
pub use python::{KerasPython, keras_python, run_keras_check, workspace_root};
pub use shared::shared_path;
