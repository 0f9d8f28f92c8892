//! The objects of a file whose content is checked, each with the CRC-32 of its content as the
//! loader returns it, named by its HDF5 path (`/model_weights/dense/dense/kernel`) or, for an
//! attribute, `object@attribute` (`/@model_config`).

use crc32fast::Hasher;
use ndarray::ArrayD;

use crate::data::{LayerWeights, ModelFile, NamedArray};
use crate::extra_group::EXTRA_GROUP;
use crate::model_file::MODEL_WEIGHTS_GROUP;
use crate::optimizer_group::OPTIMIZER_GROUP;

/// One checked object: its name and the CRC-32 of its content.
pub(crate) type Object = (String, u32);

/// The name of attribute `attribute` of group `group` (`""` is the root).
pub(crate) fn attribute(group: &str, attribute: &str) -> String {
    match group {
        "" => format!("/@{attribute}"),
        _ => format!("{group}@{attribute}"),
    }
}

/// The name of dataset `name` of group `group` (`""` is the root).
pub(crate) fn dataset(group: &str, name: &str) -> String {
    format!("{group}/{name}")
}

fn of_string(text: &str) -> u32 {
    crc32fast::hash(text.as_bytes())
}

fn of_names<'a>(names: impl Iterator<Item = &'a str>) -> u32 {
    let mut hasher = Hasher::new();
    for name in names {
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
    }
    hasher.finalize()
}

/// The CRC-32 of an array's shape and float32 values (little-endian, row-major order).
fn of_array(value: &ArrayD<f32>) -> u32 {
    let mut hasher = Hasher::new();
    hasher.update(&(value.ndim() as u64).to_le_bytes());
    for &dim in value.shape() {
        hasher.update(&(dim as u64).to_le_bytes());
    }
    let mut buffer = Vec::with_capacity(1 << 16);
    for v in value {
        buffer.extend_from_slice(&v.to_le_bytes());
        if buffer.len() >= 1 << 16 {
            hasher.update(&buffer);
            buffer.clear();
        }
    }
    hasher.update(&buffer);
    hasher.finalize()
}

/// A named-array group: its list attribute and one dataset per array.
fn named_arrays(group: &str, list: &str, arrays: &[NamedArray], out: &mut Vec<Object>) {
    let names = arrays.iter().map(|a| a.name.as_str());
    out.push((attribute(group, list), of_names(names)));
    for array in arrays {
        out.push((dataset(group, &array.name), of_array(&array.value)));
    }
}

/// The objects of the weights layout in `group` (`""`: a weights-only file's root).
pub(crate) fn layer_objects(group: &str, layers: &[LayerWeights]) -> Vec<Object> {
    let names = layers.iter().map(|l| l.layer_name.as_str());
    let mut out = vec![(attribute(group, "layer_names"), of_names(names))];
    for layer in layers {
        let layer_group = dataset(group, &layer.layer_name);
        named_arrays(&layer_group, "weight_names", &layer.weights, &mut out);
    }
    out
}

/// The objects of a whole-model file.
pub(crate) fn model_objects(model: &ModelFile) -> Vec<Object> {
    let mut out = vec![
        (
            attribute("", "keras_version"),
            of_string(&model.keras_version),
        ),
        (attribute("", "backend"), of_string(&model.backend)),
    ];
    for (name, config) in [
        ("model_config", &model.model_config),
        ("training_config", &model.training_config),
    ] {
        if let Some(text) = config {
            out.push((attribute("", name), of_string(text)));
        }
    }
    out.extend(layer_objects(&weights_group(), &model.layers));
    if let Some(optimizer) = &model.optimizer {
        let group = format!("/{OPTIMIZER_GROUP}");
        let counter = Some(optimizer.iterations_name.as_str()).filter(|n| !n.is_empty());
        let names = counter
            .into_iter()
            .chain(optimizer.weights.iter().map(|w| w.name.as_str()));
        out.push((attribute(&group, "weight_names"), of_names(names)));
        if let Some(name) = counter {
            let value = crc32fast::hash(&optimizer.iterations.to_le_bytes());
            out.push((dataset(&group, name), value));
        }
        for weight in &optimizer.weights {
            out.push((dataset(&group, &weight.name), of_array(&weight.value)));
        }
    }
    if let Some(extra) = &model.extra {
        let group = format!("/{EXTRA_GROUP}");
        out.push((attribute(&group, "json"), of_string(&extra.json)));
        named_arrays(&group, "array_names", &extra.arrays, &mut out);
    }
    out
}

/// The path of the weights group of a whole-model file.
pub(crate) fn weights_group() -> String {
    format!("/{MODEL_WEIGHTS_GROUP}")
}

/// Every array of `model` with its object name, for checks of files without checksums.
pub(crate) fn model_arrays(model: &ModelFile) -> Vec<(String, &ArrayD<f32>)> {
    let mut out = layer_arrays(&weights_group(), &model.layers);
    if let Some(optimizer) = &model.optimizer {
        let group = format!("/{OPTIMIZER_GROUP}");
        out.extend(
            optimizer
                .weights
                .iter()
                .map(|w| (dataset(&group, &w.name), &w.value)),
        );
    }
    if let Some(extra) = &model.extra {
        let group = format!("/{EXTRA_GROUP}");
        out.extend(
            extra
                .arrays
                .iter()
                .map(|a| (dataset(&group, &a.name), &a.value)),
        );
    }
    out
}

/// Every array of the weights layout in `group`, with its object name.
pub(crate) fn layer_arrays<'a>(
    group: &str,
    layers: &'a [LayerWeights],
) -> Vec<(String, &'a ArrayD<f32>)> {
    layers
        .iter()
        .flat_map(|layer| {
            let layer_group = dataset(group, &layer.layer_name);
            layer
                .weights
                .iter()
                .map(move |w| (dataset(&layer_group, &w.name), &w.value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{IxDyn, array};

    #[test]
    fn names_follow_the_file_layout() {
        assert_eq!(attribute("", "model_config"), "/@model_config");
        assert_eq!(
            attribute("/model_weights", "layer_names"),
            "/model_weights@layer_names"
        );
        assert_eq!(dataset("", "dense"), "/dense");
        assert_eq!(
            dataset("/model_weights/dense", "dense/kernel"),
            "/model_weights/dense/dense/kernel"
        );
    }

    #[test]
    fn checksums_see_shape_values_and_order() {
        // CRC-32 (IEEE) of "123456789" is 0xCBF43926, the algorithm's standard check value.
        assert_eq!(of_string("123456789"), 0xCBF4_3926);
        let row = array![1.0f32, 2.0, 3.0, 4.0].into_dyn();
        let square = row.clone().into_shape_with_order(IxDyn(&[2, 2])).unwrap();
        assert_ne!(of_array(&row), of_array(&square));
        let transposed = square.t().to_owned();
        assert_ne!(of_array(&square), of_array(&transposed));
        // Only the logical content counts, not the memory layout.
        assert_eq!(
            of_array(&transposed),
            of_array(&transposed.as_standard_layout().to_owned())
        );
        assert_ne!(
            of_names(["ab", "c"].into_iter()),
            of_names(["a", "bc"].into_iter())
        );
    }
}
