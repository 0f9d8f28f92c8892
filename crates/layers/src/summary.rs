//! `summary()`: Keras's table of layers, output shapes, parameter counts and connections.

use crate::error::format_shape;
use crate::network::Network;
use crate::symbolic::SymbolicTensor;

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(params: usize) -> String {
    let b = params as f64 * 4.0;
    if b < 1024.0 {
        format!("{b:.2} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2} KB", b / 1024.0)
    } else {
        format!("{:.2} MB", b / (1024.0 * 1024.0))
    }
}

impl Network {
    /// Keras's model summary: one row per layer with its type, output shape, parameter count and the layers
    /// it is connected to, then the total, trainable and non-trainable parameter counts.
    ///
    /// ```
    /// use rkeras_layers::{Dense, Input, LayerCall, Network};
    /// let x = Input::new(&[20]);
    /// let y = Dense::new(10).call(&x)?;
    /// let text = Network::new(&[x], &[y])?.summary("mlp");
    /// assert!(text.contains("Total params: 210"));
    /// # Ok::<(), rkeras_layers::LayersError>(())
    /// ```
    pub fn summary(&self, name: &str) -> String {
        let widths = [32usize, 24, 12, 30];
        let line = |c: char| c.to_string().repeat(widths.iter().sum::<usize>());
        let row = |cells: [&str; 4]| -> String {
            let mut s = String::new();
            for (cell, w) in cells.iter().zip(widths) {
                let text = if cell.chars().count() >= w {
                    format!("{} ", cell)
                } else {
                    format!("{cell:<w$}")
                };
                s.push_str(&text);
            }
            s.trim_end().to_string()
        };
        let mut out = vec![
            format!("Model: \"{name}\""),
            line('_'),
            row(["Layer (type)", "Output Shape", "Param #", "Connected to"]),
            line('='),
        ];
        let layers = self.layers();
        for (i, layer) in layers.iter().enumerate() {
            let calls: Vec<&SymbolicTensor> = self
                .nodes()
                .iter()
                .filter(|n| n.layer().core().id() == layer.core().id())
                .collect();
            let shape = match calls.as_slice() {
                [one] => format_shape(one.shape()),
                [] => self
                    .inputs()
                    .iter()
                    .find(|t| t.layer().core().id() == layer.core().id())
                    .map(|t| format_shape(t.shape()))
                    .unwrap_or_default(),
                _ => "multiple".to_string(),
            };
            let params: usize = layer.weights().iter().map(|w| w.value().len()).sum();
            let mut connected: Vec<String> = calls
                .iter()
                .flat_map(|n| {
                    n.inputs().iter().map(|p| {
                        format!(
                            "{}[{}][{}]",
                            p.layer().name(),
                            p.call_index(),
                            p.tensor_index()
                        )
                    })
                })
                .collect();
            if connected.is_empty() {
                connected.push("-".to_string());
            }
            let title = format!("{} ({})", layer.name(), layer.class_name());
            out.push(row([&title, &shape, &thousands(params), &connected[0]]));
            for more in &connected[1..] {
                out.push(row(["", "", "", more]));
            }
            out.push(if i + 1 == layers.len() {
                line('=')
            } else {
                line('_')
            });
        }
        let total = self.count_params();
        let trainable: usize = self
            .trainable_weights()
            .iter()
            .map(|w| w.value().len())
            .sum();
        out.push(format!(
            "Total params: {} ({})",
            thousands(total),
            bytes(total)
        ));
        out.push(format!(
            "Trainable params: {} ({})",
            thousands(trainable),
            bytes(trainable)
        ));
        out.push(format!(
            "Non-trainable params: {} ({})",
            thousands(total - trainable),
            bytes(total - trainable)
        ));
        out.push(line('_'));
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(24750), "24,750");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
