//! Summary values as TensorFlow 2's `tf.summary` writes them (and so Keras 3's TensorBoard callback): scalars as
//! `DT_FLOAT` scalar tensors for the `scalars` plugin, histograms as `[buckets, 3]` `DT_DOUBLE` tensors of
//! (left edge, right edge, count) for the `histograms` plugin, the model's config as a string tensor for
//! `graph_keras_model`.

use super::proto::{
    Dim, PluginData, SummaryMetadata, SummaryValue, TensorProto, TensorShapeProto, dtype,
};

/// TensorBoard's default bucket count (`tensorboard.plugins.histogram.summary_v2.DEFAULT_BUCKET_COUNT`).
pub const DEFAULT_BUCKET_COUNT: usize = 30;

fn metadata(plugin: &str, content: &[u8]) -> Option<SummaryMetadata> {
    Some(SummaryMetadata {
        plugin_data: Some(PluginData {
            plugin_name: plugin.into(),
            content: content.to_vec(),
        }),
    })
}

fn shape(dims: &[usize]) -> Option<TensorShapeProto> {
    Some(TensorShapeProto {
        dim: dims
            .iter()
            .map(|&d| Dim {
                size: i64::try_from(d).unwrap_or(i64::MAX),
            })
            .collect(),
    })
}

/// A scalar for the `scalars` plugin (`tf.summary.scalar`).
pub fn scalar(tag: &str, value: f32) -> SummaryValue {
    SummaryValue {
        tag: tag.into(),
        tensor: Some(TensorProto {
            dtype: dtype::FLOAT,
            tensor_shape: shape(&[]),
            tensor_content: value.to_le_bytes().to_vec(),
            string_val: Vec::new(),
        }),
        metadata: metadata("scalars", b""),
    }
}

/// The model's config JSON for the `graph_keras_model` plugin, under the tag `keras` (Keras's `write_graph`).
pub fn keras_model(config_json: &str) -> SummaryValue {
    SummaryValue {
        tag: "keras".into(),
        tensor: Some(TensorProto {
            dtype: dtype::STRING,
            tensor_shape: shape(&[]),
            tensor_content: Vec::new(),
            string_val: vec![config_json.as_bytes().to_vec()],
        }),
        metadata: metadata("graph_keras_model", b"1"),
    }
}

/// TensorBoard's histogram buckets of `data` (`summary_v2._buckets`): `bucket_count` rows of (left, right,
/// count) spanning [min, max] in equal widths, the last bucket closed; all values in the first bucket when they
/// are equal; zero rows of zeros for no data.
pub fn buckets(data: &[f64], bucket_count: usize) -> Vec<[f64; 3]> {
    let (Some(min), Some(max)) = (
        data.iter().copied().reduce(f64::min),
        data.iter().copied().reduce(f64::max),
    ) else {
        return vec![[0.0; 3]; bucket_count];
    };
    if bucket_count == 0 {
        return Vec::new();
    }
    let range = max - min;
    if range == 0.0 {
        let mut rows = vec![[min, min, 0.0]; bucket_count];
        rows[0][2] = data.len() as f64;
        return rows;
    }
    let width = range / bucket_count as f64;
    let mut counts = vec![0.0; bucket_count];
    for &x in data {
        let index = ((x - min) / width).floor();
        let index = if index.is_finite() && index >= 0.0 {
            (index as usize).min(bucket_count - 1)
        } else {
            0
        };
        counts[index] += 1.0;
    }
    // `tf.linspace(min, max, n + 1)` with the last edge forced to `max`.
    let edge = |i: usize| {
        if i == bucket_count {
            max
        } else {
            min + range * i as f64 / bucket_count as f64
        }
    };
    (0..bucket_count)
        .map(|i| [edge(i), edge(i + 1), counts[i]])
        .collect()
}

/// A histogram of `data` for the `histograms` plugin (`tf.summary.histogram`).
pub fn histogram(tag: &str, data: &[f64], bucket_count: usize) -> SummaryValue {
    let rows = buckets(data, bucket_count);
    let content = rows
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    SummaryValue {
        tag: tag.into(),
        tensor: Some(TensorProto {
            dtype: dtype::DOUBLE,
            tensor_shape: shape(&[rows.len(), 3]),
            tensor_content: content,
            string_val: Vec::new(),
        }),
        metadata: metadata("histograms", b""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_span_min_to_max_and_count_every_value() {
        // Width 1 over [0, 3]: 0 → bucket 0, 1.5 → 1, 2.9 and 3 (the closed last bucket) → 2.
        let rows = buckets(&[0.0, 1.5, 2.9, 3.0], 3);
        assert_eq!(
            rows,
            vec![[0.0, 1.0, 1.0], [1.0, 2.0, 1.0], [2.0, 3.0, 2.0]]
        );
    }

    #[test]
    fn equal_values_go_to_the_first_bucket_and_no_data_gives_zeros() {
        assert_eq!(
            buckets(&[2.0, 2.0], 2),
            vec![[2.0, 2.0, 2.0], [2.0, 2.0, 0.0]]
        );
        assert_eq!(buckets(&[], 2), vec![[0.0; 3]; 2]);
    }

    #[test]
    fn a_scalar_is_four_little_endian_bytes_of_a_float_tensor() {
        let v = scalar("epoch_loss", 0.5);
        let t = v.tensor.unwrap();
        assert_eq!(
            (t.dtype, t.tensor_content),
            (dtype::FLOAT, 0.5f32.to_le_bytes().to_vec())
        );
        assert_eq!(
            v.metadata.unwrap().plugin_data.unwrap().plugin_name,
            "scalars"
        );
    }
}
