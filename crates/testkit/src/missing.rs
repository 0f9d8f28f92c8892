//! What a test does when its environment is missing: fail in CI, a loud notice elsewhere.

/// Whether the tests run in CI (`CI=true`), where a missing environment is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Reports that `what` is missing so `check` did not run: panics when [`in_ci`], else prints a loud notice
/// to stderr (shown by `cargo test -- --nocapture` and in a failing test's output).
///
/// # Panics
/// With `CI=true`, always: the environment CI must have is missing.
pub fn missing(what: &str, check: &str, how_to_fix: &str) {
    assert!(
        !in_ci(),
        "{what} is missing (CI=true: {check} must run). {how_to_fix}"
    );
    eprintln!("\n*** NOT CHECKED: {what} is missing, so {check} did not run. {how_to_fix} ***\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_true_only_for_the_literal_true() {
        // The variable is the process's; the test reads it without changing it.
        let expected = std::env::var("CI").as_deref() == Ok("true");
        assert_eq!(in_ci(), expected);
    }
}
