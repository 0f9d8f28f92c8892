//! rkeras-plot: pictures of training.
//!
//! - [`plot_curves`]: training curves of one or several [`Run`]s (from a `History` or a CSVLogger file), loss and
//!   each metric beside its `val_` twin, as PNG or SVG (plotters, with an embedded font: no system libraries).
//! - [`plot_model`] / [`model_to_dot`]: Keras's `plot_model`, as Graphviz dot, or SVG/PNG through `dot`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod curves;
pub mod error;
pub mod model_dot;
pub mod run;

pub use curves::plot_curves;
pub use error::{PlotError, Result};
pub use model_dot::{model_to_dot, plot_model};
pub use run::Run;
