//! Keras 3's weight store in an HDF5 file: one `<path>/vars` group per saveable object, holding its
//! variables as datasets `0`, `1`, ... (`layers/dense/vars/0`, `layers/lstm/cell/vars/2`,
//! `optimizer/vars/0` the iteration counter).

use std::path::Path;

use hdf5::Group;
use ndarray::ArrayD;

use super::data::{OptimizerVars, VarObject, VarStore};
use crate::dataset_io::{StoredValue, read_value, write_f32, write_i64_scalar};
use crate::error::{IoError, Result, hdf5_error};
use crate::string_attr::{read_string, write_string};

/// The store's group for the optimizer.
pub(crate) const OPTIMIZER_PATH: &str = "optimizer";

/// The `vars` group of the object at `path` (the root's for an empty path), created with its parents.
fn create_vars(file: &Path, root: &Group, path: &str) -> Result<Group> {
    let mut group = root.clone();
    for segment in path.split('/').filter(|s| !s.is_empty()).chain(["vars"]) {
        group = if group.link_exists(segment) {
            group.group(segment)
        } else {
            group.create_group(segment)
        }
        .map_err(hdf5_error(
            file,
            format!("creating group `{path}/{segment}`"),
        ))?;
    }
    Ok(group)
}

/// Writes `store` into the (new) HDF5 file `root`.
pub(crate) fn write_store(file: &Path, root: &Group, store: &VarStore) -> Result<()> {
    for object in &store.objects {
        let vars = create_vars(file, root, &object.path)?;
        for (i, value) in object.vars.iter().enumerate() {
            write_f32(file, &vars, &i.to_string(), value)?;
        }
    }
    if let Some(optimizer) = &store.optimizer {
        let vars = create_vars(file, root, OPTIMIZER_PATH)?;
        write_string(file, &vars, "name", &optimizer.name)?;
        write_i64_scalar(file, &vars, "0", optimizer.iterations)?;
        for (i, value) in optimizer.vars.iter().enumerate() {
            write_f32(file, &vars, &(i + 1).to_string(), value)?;
        }
    }
    Ok(())
}

/// The dataset names of a `vars` group, checked to be `0..n` without gaps, in numeric order.
fn numbered(file: &Path, vars: &Group) -> Result<Vec<String>> {
    let names = vars
        .member_names()
        .map_err(hdf5_error(file, format!("listing `{}`", vars.name())))?;
    let mut indices: Vec<usize> = names.iter().filter_map(|n| n.parse().ok()).collect();
    indices.sort_unstable();
    let gapless = indices.len() == names.len() && indices.iter().enumerate().all(|(i, &n)| i == n);
    if !gapless {
        return Err(IoError::VariableNumbering {
            file: file.to_path_buf(),
            group: vars.name(),
            found: names,
            expected_last: indices.len().saturating_sub(1),
        });
    }
    Ok(indices.iter().map(usize::to_string).collect())
}

/// Fails with [`IoError::NonFinite`] at the first NaN or infinity of `value`.
fn check_finite(file: &Path, object: String, value: &ArrayD<f32>) -> Result<()> {
    match value.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(IoError::NonFinite {
            file: file.to_path_buf(),
            object,
            index,
            value,
        }),
        None => Ok(()),
    }
}

/// Reads variable `name` of `vars` as a finite float array.
fn read_var(file: &Path, vars: &Group, name: &str) -> Result<ArrayD<f32>> {
    let object = format!("{}/{name}", vars.name());
    match read_value(file, vars, name)? {
        StoredValue::Float(value) => {
            check_finite(file, object, &value)?;
            Ok(value)
        }
        StoredValue::IntegerScalar(value) => Ok(ndarray::arr0(value as f32).into_dyn()),
    }
}

fn read_optimizer(file: &Path, vars: &Group) -> Result<OptimizerVars> {
    let names = numbered(file, vars)?;
    let name = read_string(file, vars, "name")?.unwrap_or_default();
    let iterations = match names.first() {
        Some(first) => match read_value(file, vars, first)? {
            StoredValue::IntegerScalar(count) => count,
            StoredValue::Float(value) if value.len() == 1 => {
                value.iter().next().map_or(0, |v| v.round() as i64)
            }
            StoredValue::Float(value) => {
                return Err(IoError::UnsupportedType {
                    file: file.to_path_buf(),
                    object: format!("{}/0", vars.name()),
                    found: format!("an array of shape {:?}", value.shape()),
                    expected: "the iteration counter, a scalar",
                });
            }
        },
        None => 0,
    };
    let vars = names
        .iter()
        .skip(1)
        .map(|n| read_var(file, vars, n))
        .collect::<Result<_>>()?;
    Ok(OptimizerVars {
        name,
        iterations,
        vars,
    })
}

/// Collects every `vars` group under `group` (depth first, children sorted by name).
fn walk(file: &Path, group: &Group, store: &mut VarStore) -> Result<()> {
    let mut children = group
        .groups()
        .map_err(hdf5_error(file, format!("listing `{}`", group.name())))?;
    children.sort_by_key(|g| g.name());
    for child in children {
        let full = child.name();
        let path = full.trim_start_matches('/');
        if let Some(owner) = path.strip_suffix("vars").map(|p| p.trim_end_matches('/')) {
            if owner == OPTIMIZER_PATH {
                store.optimizer = Some(read_optimizer(file, &child)?);
            } else {
                let vars = numbered(file, &child)?
                    .iter()
                    .map(|n| read_var(file, &child, n))
                    .collect::<Result<_>>()?;
                store.objects.push(VarObject::new(owner, vars));
            }
        } else {
            walk(file, &child, store)?;
        }
    }
    Ok(())
}

/// Reads every object's variables from the HDF5 file `root`.
pub(crate) fn read_store(file: &Path, root: &Group) -> Result<VarStore> {
    let mut store = VarStore {
        objects: Vec::new(),
        optimizer: None,
    };
    walk(file, root, &mut store)?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    fn store() -> VarStore {
        VarStore {
            objects: vec![
                VarObject::new(
                    "layers/dense",
                    vec![ArrayD::ones(IxDyn(&[3, 2])), ArrayD::zeros(IxDyn(&[2]))],
                ),
                VarObject::new("layers/input_layer", vec![]),
                VarObject::new(
                    "layers/lstm/cell",
                    (0..11)
                        .map(|i| ArrayD::from_elem(IxDyn(&[1]), i as f32))
                        .collect(),
                ),
            ],
            optimizer: Some(OptimizerVars {
                name: "adam".into(),
                iterations: 7,
                vars: vec![ndarray::arr0(0.001f32).into_dyn()],
            }),
        }
    }

    #[test]
    fn objects_round_trip_in_numeric_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.h5");
        let file = hdf5::File::create(&path).unwrap();
        write_store(&path, &file, &store()).unwrap();
        assert_eq!(
            file.dataset("layers/lstm/cell/vars/10").unwrap().shape(),
            [1]
        );
        let read = read_store(&path, &file).unwrap();
        assert_eq!(read, store());
        // `vars/10` sorts after `vars/9`, not after `vars/1`.
        assert_eq!(read.object("layers/lstm/cell").unwrap().vars[10][[0]], 10.0);
    }

    #[test]
    fn a_gap_in_the_numbering_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.h5");
        let file = hdf5::File::create(&path).unwrap();
        write_store(&path, &file, &store()).unwrap();
        file.unlink("layers/dense/vars/0").unwrap();
        let err = read_store(&path, &file).unwrap_err();
        assert!(
            matches!(&err, IoError::VariableNumbering { group, .. } if group == "/layers/dense/vars"),
            "{err}"
        );
    }

    #[test]
    fn a_non_finite_value_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.h5");
        let file = hdf5::File::create(&path).unwrap();
        let mut bad = store();
        bad.objects[0].vars[1][[1]] = f32::NAN;
        write_store(&path, &file, &bad).unwrap();
        let err = read_store(&path, &file).unwrap_err();
        assert!(
            matches!(&err, IoError::NonFinite { object, index: 1, .. } if object == "/layers/dense/vars/1"),
            "{err}"
        );
    }
}
