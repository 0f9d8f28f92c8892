//! Finding the Python interpreter with Keras 3 that cross-check tests run.

use crate::missing::missing;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's root directory (where `scripts/` and `.venv-keras` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A Python interpreter that imports Keras 3, JAX and h5py.
#[derive(Debug, Clone)]
pub struct KerasPython {
    path: PathBuf,
}

impl KerasPython {
    /// The interpreter's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A command running this interpreter with Keras on the JAX backend (unless `KERAS_BACKEND` says
    /// otherwise) and quiet logging.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.path);
        let backend = std::env::var("KERAS_BACKEND").unwrap_or_else(|_| "jax".into());
        command
            .env("KERAS_BACKEND", backend)
            .env("TF_CPP_MIN_LOG_LEVEL", "3")
            .env("JAX_PLATFORMS", "cpu");
        command
    }

    /// Runs `script` with `args` and panics with its output unless it exits successfully and prints
    /// `expected`; returns its output.
    ///
    /// # Panics
    /// When the script fails or does not print `expected`.
    pub fn run_script<I, S>(&self, script: impl AsRef<Path>, args: I, expected: &str) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let script = script.as_ref();
        let output = self
            .command()
            .arg(script)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.path.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains(expected),
            "{} failed (expected `{expected}` in its output):\n{stdout}\n{stderr}",
            script.display()
        );
        output
    }
}

/// Runs `script` with `args` through [`keras_python`] for `check` and asserts it prints `expected`; when no
/// interpreter is found, [`missing`] decides (a failure with CI=true, a loud notice otherwise).
///
/// # Panics
/// When the script fails, or with CI=true when no interpreter is found.
pub fn run_keras_check<I, S>(check: &str, script: impl AsRef<Path>, args: I, expected: &str)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    if let Some(python) = keras_python(check) {
        python.run_script(script, args, expected);
    }
}

fn imports_keras(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import keras, jax, h5py"])
        .env("KERAS_BACKEND", "jax")
        .env("JAX_PLATFORMS", "cpu")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The Python with Keras 3 for `check`: `KERAS_PYTHON` when set, else `.venv-keras/bin/python` in the
/// workspace (created by `scripts/setup.sh`). When neither imports Keras, JAX and h5py, [`missing`] is
/// reported and `None` returned.
///
/// # Panics
/// With `CI=true` when no such interpreter is found.
pub fn keras_python(check: &str) -> Option<KerasPython> {
    let candidate = match std::env::var_os("KERAS_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => workspace_root().join(".venv-keras/bin/python"),
    };
    if imports_keras(&candidate) {
        return Some(KerasPython { path: candidate });
    }
    missing(
        &format!(
            "a Python with Keras 3, JAX and h5py ({})",
            candidate.display()
        ),
        check,
        "Run scripts/setup.sh (it creates .venv-keras) or set KERAS_PYTHON.",
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_holds_the_setup_script() {
        assert!(workspace_root().join("scripts/setup.sh").is_file());
    }
}
