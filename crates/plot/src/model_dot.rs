//! `plot_model`: the model's graph as Graphviz dot, one box per layer with its name, class and (with
//! `show_shapes`) input and output shapes as Keras's `plot_model` shows them, arrows from each layer to the layers
//! it feeds; SVG or PNG through Graphviz's `dot` when it is on PATH.

use crate::error::{PlotError, Result};
use rkeras_engine::Model;
use rkeras_layers::SymbolicTensor;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Keras's shape text: `(None, 3)` for one tensor, `[(None, 3), (None, 4)]` for several.
fn shape_text(shapes: &[&[usize]]) -> String {
    let one = |s: &[usize]| {
        let dims: Vec<String> = std::iter::once("None".to_string())
            .chain(s.iter().map(usize::to_string))
            .collect();
        format!("({})", dims.join(", "))
    };
    match shapes {
        [single] => one(single),
        many => format!(
            "[{}]",
            many.iter().map(|s| one(s)).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn node_id(tensor: &SymbolicTensor) -> String {
    format!(
        "layer_{}",
        escape(tensor.layer().name()).replace(|c: char| !c.is_alphanumeric(), "_")
    )
}

/// The model as Graphviz dot (Keras's `model_to_dot`, top to bottom).
///
/// ```
/// use rkeras_layers::{Dense, Input, LayerCall};
/// let x = Input::named(&[3], "features");
/// let y = Dense::new(4).with_name("hidden").call(&x).unwrap();
/// let model = rkeras_engine::Model::new(&[x], &y).unwrap();
/// let dot = rkeras_plot::model_to_dot(&model, true);
/// assert!(dot.contains("<b>hidden</b> (Dense)"));
/// assert!(dot.contains("Input shape: (None, 3)") && dot.contains("Output shape: (None, 4)"));
/// assert!(dot.contains("layer_features -> layer_hidden"));
/// ```
pub fn model_to_dot(model: &Model, show_shapes: bool) -> String {
    let network = model.network();
    let mut dot = format!(
        "digraph \"{}\" {{\n  graph [rankdir=TB, concentrate=true, dpi=96];\n  node [shape=plaintext, fontname=\"Helvetica\"];\n",
        escape(model.name())
    );
    let mut seen_nodes = Vec::new();
    let mut edges = Vec::new();
    for tensor in network.nodes() {
        let id = node_id(tensor);
        if !seen_nodes.contains(&id) {
            seen_nodes.push(id.clone());
            let layer = tensor.layer();
            let mut label = format!(
                "<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"6\"><tr><td colspan=\"2\" bgcolor=\"#dfe8f6\"><b>{}</b> ({})</td></tr>",
                escape(layer.name()),
                escape(layer.class_name())
            );
            if show_shapes {
                let inputs: Vec<&[usize]> = if tensor.inputs().is_empty() {
                    vec![tensor.shape()]
                } else {
                    tensor.inputs().iter().map(SymbolicTensor::shape).collect()
                };
                label.push_str(&format!(
                    "<tr><td>Input shape: {}</td><td>Output shape: {}</td></tr>",
                    escape(&shape_text(&inputs)),
                    escape(&shape_text(&[tensor.shape()]))
                ));
            }
            label.push_str("</table>");
            dot.push_str(&format!("  {id} [label=<{label}>];\n"));
        }
        for input in tensor.inputs() {
            let edge = format!("  {} -> {id};\n", node_id(input));
            if !edges.contains(&edge) {
                edges.push(edge);
            }
        }
    }
    edges.iter().for_each(|e| dot.push_str(e));
    dot.push_str("}\n");
    dot
}

/// Keras's `plot_model(model, to_file, show_shapes)`: writes `.dot` as text, `.svg` or `.png` through
/// Graphviz's `dot` ([`PlotError::MissingTool`] when it is not on PATH).
pub fn plot_model(model: &Model, path: &Path, show_shapes: bool) -> Result<()> {
    let dot = model_to_dot(model, show_shapes);
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let format = match extension.as_deref() {
        Some("dot" | "gv") => {
            return std::fs::write(path, dot).map_err(|source| PlotError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        Some("svg") => "-Tsvg",
        Some("png") => "-Tpng",
        _ => {
            return Err(PlotError::Format {
                path: path.to_path_buf(),
                expected: ".dot, .svg or .png",
            });
        }
    };
    render_dot(&dot, format, path)
}

/// Runs `dot {format} -o path` on `source`.
pub fn render_dot(source: &str, format: &str, path: &Path) -> Result<()> {
    let mut child = Command::new("dot")
        .arg(format)
        .arg("-o")
        .arg(path)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PlotError::MissingTool {
                tool: "dot",
                hint: "install Graphviz (Debian: apt-get install graphviz) or write a .dot file",
            },
            _ => PlotError::Tool {
                tool: "dot",
                status: "not started".into(),
                stderr: e.to_string(),
            },
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(source.as_bytes())
            .map_err(|source| PlotError::Io {
                path: path.to_path_buf(),
                source,
            })?;
    }
    let output = child.wait_with_output().map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !output.status.success() {
        return Err(PlotError::Tool {
            tool: "dot",
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}
