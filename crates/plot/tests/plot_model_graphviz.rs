//! `plot_model` through Graphviz's `dot`: real SVG and PNG files of a small two-branch model (a failure with
//! CI=true when `dot` is missing, a loud notice otherwise; `scripts/setup.sh` installs Graphviz).

use rkeras_layers::{Dense, Input, LayerCall, concatenate};
use std::process::Command;

fn model() -> rkeras_engine::Model {
    let x = Input::named(&[3], "features");
    let a = Dense::new(4).with_name("left").call(&x).unwrap();
    let b = Dense::new(2).with_name("right").call(&x).unwrap();
    let y = concatenate(&[a, b], -1).unwrap();
    rkeras_engine::Model::new(&[x], &y).unwrap()
}

#[test]
fn plot_model_writes_svg_and_png_through_dot() {
    if Command::new("dot").arg("-V").output().is_err() {
        rkeras_testkit::missing(
            "Graphviz's `dot`",
            "plot_model's SVG/PNG output",
            "Run scripts/setup.sh (it installs graphviz) or apt-get install graphviz.",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model = model();
    let svg_path = dir.path().join("model.svg");
    rkeras_plot::plot_model(&model, &svg_path, true).unwrap();
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    // One node per layer with its class, and the shapes: dot laid out the whole graph.
    for text in ["features", "left", "right", "Concatenate", "(None, 6)"] {
        assert!(svg.contains(text), "{text} missing from the SVG");
    }
    assert_eq!(svg.matches("class=\"edge\"").count(), 4, "{svg}");

    let png_path = dir.path().join("model.png");
    rkeras_plot::plot_model(&model, &png_path, false).unwrap();
    let png = std::fs::read(&png_path).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(width > 50 && height > 100, "{width}x{height}");
}
