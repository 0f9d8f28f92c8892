//! Training curves: one panel per metric (loss first), each run's training values as a solid line and its
//! `val_` twin dashed in the same colour, several runs overlaid with their labels; PNG or SVG by extension.
//! Text is drawn with the embedded DejaVu Sans font, so no system font library is needed.

use crate::error::{PlotError, Result};
use crate::run::Run;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

const FONT: &str = "sans-serif";
/// Each panel's size in pixels.
const PANEL: (u32, u32) = (560, 380);
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans is a valid font: registering it cannot fail, and a failure would only fall back.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// The panels to draw: every base key of every run, `loss` first, in first-seen order.
pub fn panel_keys(runs: &[Run]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for run in runs {
        for key in run.base_keys() {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    if let Some(i) = keys.iter().position(|k| k == "loss") {
        let loss = keys.remove(i);
        keys.insert(0, loss);
    }
    keys
}

/// Draws `runs` to `path` (`.png` or `.svg`).
///
/// ```
/// use rkeras_plot::{Run, plot_curves};
/// let mut run = Run { label: "rkeras".into(), values: Default::default() };
/// run.values.insert("loss".into(), vec![1.0, 0.5, 0.25]);
/// run.values.insert("val_loss".into(), vec![1.1, 0.7, 0.6]);
/// let dir = tempfile::tempdir().unwrap();
/// plot_curves(&[run], &dir.path().join("curves.svg")).unwrap();
/// let svg = std::fs::read_to_string(dir.path().join("curves.svg")).unwrap();
/// assert!(svg.starts_with("<svg") && svg.contains("rkeras val_loss"));
/// ```
pub fn plot_curves(runs: &[Run], path: &Path) -> Result<()> {
    let keys = panel_keys(runs);
    if keys.is_empty() {
        return Err(PlotError::Empty("the runs hold no values".into()));
    }
    register_font();
    let cols = keys.len().min(2);
    let rows = keys.len().div_ceil(cols);
    let size = (PANEL.0 * cols as u32, PANEL.1 * rows as u32);
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let drawn = match extension.as_deref() {
        Some("svg") => draw(
            SVGBackend::new(path, size).into_drawing_area(),
            runs,
            &keys,
            (rows, cols),
        ),
        Some("png") => draw(
            BitMapBackend::new(path, size).into_drawing_area(),
            runs,
            &keys,
            (rows, cols),
        ),
        _ => {
            return Err(PlotError::Format {
                path: path.to_path_buf(),
                expected: ".png or .svg",
            });
        }
    };
    drawn.map_err(|reason| PlotError::Draw {
        path: path.to_path_buf(),
        reason,
    })
}

/// One line of a panel: the run's index, the key, whether it is dashed (`val_`), its points.
type Line<'a> = (usize, &'a str, bool, Vec<(f64, f64)>);

fn finite_points(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, v)| ((i + 1) as f64, *v))
        .collect()
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    runs: &[Run],
    keys: &[String],
    grid: (usize, usize),
) -> std::result::Result<(), String> {
    let err = |e: &dyn std::fmt::Debug| format!("{e:?}");
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let panels = root.split_evenly(grid);
    for (area, key) in panels.iter().zip(keys) {
        let val_key = format!("val_{key}");
        let series: Vec<Line<'_>> = runs
            .iter()
            .enumerate()
            .flat_map(|(i, run)| {
                [(key.as_str(), false), (val_key.as_str(), true)]
                    .into_iter()
                    .filter_map(move |(k, dashed)| {
                        run.values.get(k).map(|v| (i, k, dashed, finite_points(v)))
                    })
            })
            .filter(|s| !s.3.is_empty())
            .collect();
        let points = series.iter().flat_map(|s| s.3.iter());
        let (mut lo, mut hi, mut epochs) = (f64::INFINITY, f64::NEG_INFINITY, 1.0f64);
        for &(x, y) in points {
            lo = lo.min(y);
            hi = hi.max(y);
            epochs = epochs.max(x);
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        // A flat series (a constant learning rate) gets a margin of a tenth of its value.
        let pad = if hi > lo {
            (hi - lo) * 0.05
        } else {
            (hi.abs() * 0.1).max(f64::MIN_POSITIVE)
        };
        let mut chart = ChartBuilder::on(area)
            .caption(key, (FONT, 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(1.0..epochs.max(2.0), (lo - pad)..(hi + pad))
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .label_style((FONT, 13))
            .draw()
            .map_err(|e| err(&e))?;
        for (run, k, dashed, points) in series {
            let color = COLORS[run % COLORS.len()];
            let style = color.stroke_width(2);
            let label = format!("{} {k}", runs[run].label);
            let drawn = if dashed {
                chart.draw_series(DashedLineSeries::new(points, 6, 4, style))
            } else {
                chart.draw_series(LineSeries::new(points, style))
            };
            drawn
                .map_err(|e| err(&e))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))
}
