//! Where callbacks print: verbose messages go to stdout (Keras's `io_utils.print_msg`), warnings to stderr
//! (Python's `warnings.warn`).
//!
//! [`capture`] records instead of printing, on the calling thread, so that tests and tools can check what a run
//! said. While the progress bar is drawn, messages are printed above it without breaking it.
//!
//! ```
//! use rkeras_callbacks::console;
//! let ((), said) = console::capture(|| {
//!     console::print_msg("Epoch 1: early stopping");
//!     console::warn("mode 'maximum' is unknown, fallback to auto mode.");
//! });
//! assert_eq!(said.messages, ["Epoch 1: early stopping"]);
//! assert_eq!(said.warnings, ["mode 'maximum' is unknown, fallback to auto mode."]);
//! ```

use std::cell::RefCell;
use std::io::{IsTerminal, Write};

/// What was printed while [`capture`] ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Captured {
    /// Verbose messages and progress lines, one entry per line printed.
    pub messages: Vec<String>,
    /// Warnings, one entry each.
    pub warnings: Vec<String>,
}

thread_local! {
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
    static ACTIVE_BAR: RefCell<Option<indicatif::ProgressBar>> = const { RefCell::new(None) };
}

/// Runs `f`, recording (not printing) every message and warning emitted on this thread meanwhile.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Captured) {
    let previous = CAPTURE.with(|c| c.replace(Some(Captured::default())));
    let result = f();
    let captured = CAPTURE.with(|c| c.replace(previous)).unwrap_or_default();
    (result, captured)
}

/// This thread's [`capture`] state, moved out so that code run on another thread records into it: take it with
/// [`Carried::take`], run the work there with [`Carried::run`], and put it back with [`Carried::restore`]. The
/// engine uses it to hop `fit` onto a worker thread.
///
/// ```
/// use rkeras_callbacks::console::{self, Carried};
/// let ((), said) = console::capture(|| {
///     let carried = Carried::take();
///     let carried = std::thread::scope(|s| {
///         s.spawn(move || carried.run(|| console::print_msg("from another thread")).1)
///             .join()
///             .unwrap()
///     });
///     carried.restore();
/// });
/// assert_eq!(said.messages, ["from another thread"]);
/// ```
#[derive(Debug)]
pub struct Carried(Option<Captured>);

impl Carried {
    /// Moves this thread's capture state out (this thread then prints until [`Carried::restore`]).
    pub fn take() -> Carried {
        Carried(CAPTURE.with(|c| c.borrow_mut().take()))
    }

    /// Runs `f` on the current thread with the carried state; returns its result and the state to carry back.
    pub fn run<R>(self, f: impl FnOnce() -> R) -> (R, Carried) {
        let outer = CAPTURE.with(|c| c.replace(self.0));
        let result = f();
        (result, Carried(CAPTURE.with(|c| c.replace(outer))))
    }

    /// Puts the state back on the current thread.
    pub fn restore(self) {
        CAPTURE.with(|c| *c.borrow_mut() = self.0);
    }
}

/// Whether [`capture`] is recording on this thread.
pub fn is_capturing() -> bool {
    CAPTURE.with(|c| c.borrow().is_some())
}

/// Whether progress may be drawn live: stdout is a terminal and nothing is being captured.
pub fn is_interactive() -> bool {
    !is_capturing() && std::io::stdout().is_terminal()
}

/// Prints one line to stdout (above the progress bar if one is drawn), or records it under [`capture`].
pub fn print_msg(msg: &str) {
    let recorded = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(captured) => {
            captured.messages.push(msg.to_string());
            true
        }
        None => false,
    });
    if recorded {
        return;
    }
    let write = || {
        // A closed stdout must not abort training: the error is deliberately ignored.
        let _ = writeln!(std::io::stdout().lock(), "{msg}");
    };
    let bar = ACTIVE_BAR.with(|b| b.borrow().clone());
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Prints a warning to stderr, or records it under [`capture`].
pub fn warn(msg: &str) {
    let recorded = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(captured) => {
            captured.warnings.push(msg.to_string());
            true
        }
        None => false,
    });
    if !recorded {
        let write = || {
            let _ = writeln!(std::io::stderr().lock(), "UserWarning: {msg}");
        };
        let bar = ACTIVE_BAR.with(|b| b.borrow().clone());
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// Registers the progress bar being drawn on this thread (or none), so that messages print above it.
pub(crate) fn set_active_bar(bar: Option<indicatif::ProgressBar>) {
    ACTIVE_BAR.with(|b| *b.borrow_mut() = bar);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_records_and_nests() {
        let (value, outer) = capture(|| {
            print_msg("outer");
            let ((), inner) = capture(|| warn("inner"));
            assert_eq!(inner.warnings, ["inner"]);
            assert!(inner.messages.is_empty());
            7
        });
        assert_eq!(value, 7);
        assert_eq!(outer.messages, ["outer"]);
        assert!(
            outer.warnings.is_empty(),
            "a nested capture keeps its own records"
        );
        assert!(!is_capturing());
    }
}
