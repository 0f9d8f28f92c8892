//! String attributes as Keras (through h5py) writes them, and as other writers may.
//!
//! Writing follows Keras:
//! - single strings (`keras_version`, `model_config`, ...) are scalar variable-length UTF-8 strings,
//!   which h5py reads back as `str`; their data lives in the global heap, so they have no size limit;
//! - lists of names (`layer_names`, `weight_names`) are 1-D arrays of fixed-length strings (ASCII,
//!   or UTF-8 when a name is not ASCII), as h5py writes a NumPy bytes array. HDF5 keeps such an
//!   attribute in the object header, which holds at most 64,512 bytes of data, so a longer list is
//!   split, as Keras's `save_attributes_to_hdf5_group` does, into attributes `name0`, `name1`, ...
//!   An empty list is an empty float64 array, as `np.asarray([])` gives.
//!
//! Reading accepts every string form: fixed-length ASCII or UTF-8 of any size, variable-length
//! ASCII or UTF-8, scalar or 1-D, single or chunked; an empty numeric array reads as no strings.
//! The element type is read from the file first, so a fixed-length string is never truncated to a
//! guessed size.

use std::collections::HashSet;
use std::path::Path;

use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Attribute, H5Type, Location};
use ndarray::ArrayView1;

use crate::error::{IoError, Result, hdf5_error};
use crate::size_guard::check_fits_in_file;
use crate::vlen_guard::check_vlen_attribute;

/// The most data bytes Keras puts in one attribute (HDF5 keeps attributes in the object header).
pub const HDF5_OBJECT_HEADER_LIMIT: usize = 64_512;

/// The names of all attributes of `loc`.
fn attribute_names(file: &Path, loc: &Location) -> Result<HashSet<String>> {
    let names = loc.attr_names().map_err(hdf5_error(
        file,
        format!("listing the attributes of `{}`", loc.name()),
    ))?;
    Ok(names.into_iter().collect())
}

/// Why the strings of one attribute could not be read.
enum ReadFailure {
    Hdf5(hdf5::Error),
    NotText(String),
}

impl From<hdf5::Error> for ReadFailure {
    fn from(err: hdf5::Error) -> Self {
        Self::Hdf5(err)
    }
}

/// Reads every element of an attribute of string type `T` as bytes.
fn read_elements<T: H5Type + AsRef<[u8]>>(attr: &Attribute) -> hdf5::Result<Vec<Vec<u8>>> {
    Ok(attr
        .read_raw::<T>()?
        .iter()
        .map(|s| s.as_ref().to_vec())
        .collect())
}

/// Reads a fixed-length string attribute whose stored size is `size` bytes, into a memory type at
/// least that large (HDF5 pads; a smaller one would silently truncate).
macro_rules! read_fixed_sized {
    ($ty:ident, $attr:expr, $size:expr) => {
        match $size {
            0..=16 => read_elements::<$ty<16>>($attr),
            17..=64 => read_elements::<$ty<64>>($attr),
            65..=256 => read_elements::<$ty<256>>($attr),
            257..=1024 => read_elements::<$ty<1024>>($attr),
            1025..=4096 => read_elements::<$ty<4096>>($attr),
            4097..=16384 => read_elements::<$ty<16384>>($attr),
            16385..=65536 => read_elements::<$ty<65536>>($attr),
            65537..=262_144 => read_elements::<$ty<262_144>>($attr),
            262_145..=1_048_576 => read_elements::<$ty<1_048_576>>($attr),
            1_048_577..=4_194_304 => read_elements::<$ty<4_194_304>>($attr),
            _ => Err(hdf5::Error::from(format!(
                "fixed-length string of {} bytes is too long",
                $size
            ))),
        }
    };
}

/// Reads the strings of one attribute, whatever its string type and shape, as bytes.
fn read_raw_strings(attr: &Attribute) -> std::result::Result<Vec<Vec<u8>>, ReadFailure> {
    let descriptor = attr.dtype()?.to_descriptor()?;
    let strings = match descriptor {
        TypeDescriptor::FixedAscii(size) => read_fixed_sized!(FixedAscii, attr, size)?,
        TypeDescriptor::FixedUnicode(size) => read_fixed_sized!(FixedUnicode, attr, size)?,
        TypeDescriptor::VarLenAscii => read_elements::<VarLenAscii>(attr)?,
        TypeDescriptor::VarLenUnicode => read_elements::<VarLenUnicode>(attr)?,
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_)
            if attr.size() == 0 =>
        {
            Vec::new()
        }
        other => return Err(ReadFailure::NotText(other.to_string())),
    };
    Ok(strings)
}

/// Reads the raw strings of attribute `name` of `loc`, reporting failures against `file`.
fn read_attribute_bytes(file: &Path, loc: &Location, name: &str) -> Result<Vec<Vec<u8>>> {
    let object = loc.name();
    let attr = loc.attr(name).map_err(hdf5_error(
        file,
        format!("opening attribute `{object}@{name}`"),
    ))?;
    check_fits_in_file(file, &attr, &format!("{object}@{name}"))?;
    let variable_length = attr
        .dtype()
        .and_then(|dtype| dtype.to_descriptor())
        .is_ok_and(|d| {
            matches!(
                d,
                TypeDescriptor::VarLenAscii | TypeDescriptor::VarLenUnicode
            )
        });
    if variable_length {
        check_vlen_attribute(file, loc, name, attr.size())?;
    }
    read_raw_strings(&attr).map_err(|failure| match failure {
        ReadFailure::Hdf5(source) => IoError::Hdf5 {
            file: file.to_path_buf(),
            action: format!("reading attribute `{object}@{name}`"),
            source,
        },
        ReadFailure::NotText(found) => IoError::UnsupportedType {
            file: file.to_path_buf(),
            object: format!("{object}@{name}"),
            found,
            expected: "a string or an array of strings",
        },
    })
}

/// The parts of attribute `name`: `[name]` itself, or its chunks `name0`, `name1`, ... in order.
/// Empty when neither exists.
fn attribute_parts(file: &Path, loc: &Location, name: &str) -> Result<Vec<String>> {
    let names = attribute_names(file, loc)?;
    if names.contains(name) {
        return Ok(vec![name.to_owned()]);
    }
    Ok((0..)
        .map(|i| format!("{name}{i}"))
        .take_while(|part| names.contains(part))
        .collect())
}

/// Decodes one string read from attribute `name` of `loc` as UTF-8.
fn decode(file: &Path, loc: &Location, name: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|err| IoError::InvalidString {
        file: file.to_path_buf(),
        object: loc.name(),
        attribute: name.to_owned(),
        reason: format!("not valid UTF-8: {err}"),
    })
}

/// Reads a list of strings stored as attribute `name` or as chunks `name0`, `name1`, ...
/// `None` when the attribute is absent in both forms.
pub(crate) fn read_string_list(
    file: &Path,
    loc: &Location,
    name: &str,
) -> Result<Option<Vec<String>>> {
    let parts = attribute_parts(file, loc, name)?;
    if parts.is_empty() {
        return Ok(None);
    }
    let mut strings = Vec::new();
    for part in &parts {
        for bytes in read_attribute_bytes(file, loc, part)? {
            strings.push(decode(file, loc, part, bytes)?);
        }
    }
    Ok(Some(strings))
}

/// Reads one string stored as attribute `name` (a scalar or one-element array), or as chunks
/// `name0`, `name1`, ... whose contents are joined. `None` when the attribute is absent.
pub(crate) fn read_string(file: &Path, loc: &Location, name: &str) -> Result<Option<String>> {
    let parts = attribute_parts(file, loc, name)?;
    if parts.is_empty() {
        return Ok(None);
    }
    let mut joined = Vec::new();
    for part in &parts {
        let pieces = read_attribute_bytes(file, loc, part)?;
        if parts.len() == 1 && pieces.len() != 1 {
            return Err(IoError::InvalidString {
                file: file.to_path_buf(),
                object: loc.name(),
                attribute: part.clone(),
                reason: format!("expected one string, found {}", pieces.len()),
            });
        }
        joined.extend(pieces.into_iter().flatten());
    }
    decode(file, loc, name, joined).map(Some)
}

/// Writes `value` as a scalar variable-length UTF-8 string attribute (h5py's `str`).
pub(crate) fn write_string(file: &Path, loc: &Location, name: &str, value: &str) -> Result<()> {
    let object = loc.name();
    let invalid = |reason| IoError::InvalidString {
        file: file.to_path_buf(),
        object: object.clone(),
        attribute: name.to_owned(),
        reason,
    };
    let text: VarLenUnicode = value
        .parse()
        .map_err(|err| invalid(format!("cannot be stored: {err}")))?;
    let attr = loc
        .new_attr::<VarLenUnicode>()
        .create(name)
        .map_err(hdf5_error(
            file,
            format!("creating attribute `{object}@{name}`"),
        ))?;
    attr.as_writer().write_scalar(&text).map_err(hdf5_error(
        file,
        format!("writing attribute `{object}@{name}`"),
    ))
}

/// How many chunks Keras splits `count` names of `item_size` bytes into: the fewest such that every
/// chunk of `np.array_split` (sizes differ by at most one) holds at most the header limit.
fn chunk_count(count: usize, item_size: usize) -> usize {
    (1..count.max(1))
        .find(|&chunks| count.div_ceil(chunks) * item_size <= HDF5_OBJECT_HEADER_LIMIT)
        .unwrap_or(count.max(1))
}

/// Splits `items` into `chunks` consecutive parts as `np.array_split` does: the first
/// `len % chunks` parts hold one item more.
fn array_split<T>(items: &[T], chunks: usize) -> Vec<&[T]> {
    let (base, extra) = (items.len() / chunks, items.len() % chunks);
    let mut parts = Vec::with_capacity(chunks);
    let mut rest = items;
    for i in 0..chunks {
        let (part, tail) = rest.split_at((base + usize::from(i < extra)).min(rest.len()));
        parts.push(part);
        rest = tail;
    }
    parts
}

/// A fixed-length string memory type built from a name known to fit.
trait FixedString: H5Type + Sized {
    fn from_name(name: &str) -> Option<Self>;
}

impl<const N: usize> FixedString for FixedAscii<N> {
    fn from_name(name: &str) -> Option<Self> {
        Self::from_ascii(name.as_bytes()).ok()
    }
}

impl<const N: usize> FixedString for FixedUnicode<N> {
    fn from_name(name: &str) -> Option<Self> {
        name.parse().ok()
    }
}

/// Writes `names` as a 1-D attribute of the fixed-length string type `stored`, from memory type `T`
/// (at least as long; HDF5 drops the padding).
fn write_fixed<T: FixedString>(
    loc: &Location,
    name: &str,
    names: &[String],
    stored: &TypeDescriptor,
) -> hdf5::Result<()> {
    let elements = names
        .iter()
        .map(|n| {
            T::from_name(n).ok_or_else(|| {
                hdf5::Error::from(format!("name `{n}` does not fit its string type"))
            })
        })
        .collect::<hdf5::Result<Vec<T>>>()?;
    loc.new_attr_builder()
        .with_data_as(ArrayView1::from(&elements[..]), stored)
        .create(name)?;
    Ok(())
}

/// Picks a memory type for fixed-length strings of `size` bytes (at most the header limit).
macro_rules! write_fixed_sized {
    ($ty:ident, $size:expr, $($args:expr),*) => {
        match $size {
            0..=16 => write_fixed::<$ty<16>>($($args),*),
            17..=64 => write_fixed::<$ty<64>>($($args),*),
            65..=256 => write_fixed::<$ty<256>>($($args),*),
            257..=1024 => write_fixed::<$ty<1024>>($($args),*),
            1025..=4096 => write_fixed::<$ty<4096>>($($args),*),
            4097..=16384 => write_fixed::<$ty<16384>>($($args),*),
            _ => write_fixed::<$ty<65536>>($($args),*),
        }
    };
}

/// Writes `names` as Keras writes a list of names: one fixed-length string array, split into
/// `name0`, `name1`, ... when it exceeds the header limit; an empty float64 array when empty.
pub(crate) fn write_string_list(
    file: &Path,
    loc: &Location,
    name: &str,
    names: &[String],
) -> Result<()> {
    let object = loc.name();
    if names.is_empty() {
        loc.new_attr::<f64>()
            .shape([0])
            .create(name)
            .map_err(hdf5_error(
                file,
                format!("creating attribute `{object}@{name}`"),
            ))?;
        return Ok(());
    }
    let item_size = names.iter().map(String::len).max().unwrap_or(0).max(1);
    if let Some(long) = names
        .iter()
        .find(|n| n.len() > HDF5_OBJECT_HEADER_LIMIT || n.contains('\0'))
    {
        return Err(IoError::InvalidName {
            file: file.to_path_buf(),
            kind: "name",
            name: long.chars().take(80).collect(),
            reason: "names must be at most 64,512 bytes long and contain no NUL character",
        });
    }
    let ascii = names.iter().all(|n| n.is_ascii());
    let chunks = chunk_count(names.len(), item_size);
    for (i, part) in array_split(names, chunks).into_iter().enumerate() {
        let attr_name = if chunks == 1 {
            name.to_owned()
        } else {
            format!("{name}{i}")
        };
        let written = if ascii {
            write_fixed_sized!(
                FixedAscii,
                item_size,
                loc,
                &attr_name,
                part,
                &TypeDescriptor::FixedAscii(item_size)
            )
        } else {
            write_fixed_sized!(
                FixedUnicode,
                item_size,
                loc,
                &attr_name,
                part,
                &TypeDescriptor::FixedUnicode(item_size)
            )
        };
        written.map_err(hdf5_error(
            file,
            format!("writing attribute `{object}@{attr_name}`"),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> (tempfile::TempDir, std::path::PathBuf, hdf5::File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attrs.h5");
        let file = hdf5::File::create(&path).unwrap();
        (dir, path, file)
    }

    #[test]
    fn chunk_count_matches_keras_array_split_rule() {
        // 1000 names of 100 bytes = 100,000 bytes: 2 chunks of 500 * 100 = 50,000 bytes fit.
        assert_eq!(chunk_count(1000, 100), 2);
        // 645 * 100 = 64,500 fits in one; 646 * 100 = 64,600 needs two.
        assert_eq!(chunk_count(645, 100), 1);
        assert_eq!(chunk_count(646, 100), 2);
        // 3 names of 40,000 bytes: two per chunk is 80,000, so one per chunk.
        assert_eq!(chunk_count(3, 40_000), 3);
        assert_eq!(chunk_count(0, 1), 1);
    }

    #[test]
    fn array_split_puts_the_extra_items_first() {
        let items: Vec<u32> = (0..7).collect();
        let parts = array_split(&items, 3);
        assert_eq!(parts, vec![&[0, 1, 2][..], &[3, 4][..], &[5, 6][..]]);
    }

    #[test]
    fn fixed_strings_keep_their_full_length() {
        let (_dir, path, file) = scratch();
        let names: Vec<String> = vec!["dense".into(), "a".repeat(300), String::new()];
        write_string_list(&path, &file, "layer_names", &names).unwrap();
        let attr = file.attr("layer_names").unwrap();
        assert_eq!(
            attr.dtype().unwrap().to_descriptor().unwrap(),
            TypeDescriptor::FixedAscii(300)
        );
        assert_eq!(
            read_string_list(&path, &file, "layer_names").unwrap(),
            Some(names)
        );
    }

    #[test]
    fn non_ascii_names_are_stored_as_fixed_utf8() {
        let (_dir, path, file) = scratch();
        let names: Vec<String> = vec!["dichte_schicht_ü".into(), "層".into()];
        write_string_list(&path, &file, "weight_names", &names).unwrap();
        let attr = file.attr("weight_names").unwrap();
        assert_eq!(
            attr.dtype().unwrap().to_descriptor().unwrap(),
            TypeDescriptor::FixedUnicode("dichte_schicht_ü".len())
        );
        assert_eq!(
            read_string_list(&path, &file, "weight_names").unwrap(),
            Some(names)
        );
    }

    #[test]
    fn empty_lists_are_empty_float_arrays() {
        let (_dir, path, file) = scratch();
        write_string_list(&path, &file, "weight_names", &[]).unwrap();
        let attr = file.attr("weight_names").unwrap();
        assert_eq!(attr.shape(), vec![0]);
        assert!(matches!(
            attr.dtype().unwrap().to_descriptor().unwrap(),
            TypeDescriptor::Float(_)
        ));
        assert_eq!(
            read_string_list(&path, &file, "weight_names").unwrap(),
            Some(vec![])
        );
    }

    #[test]
    fn variable_length_forms_are_read() {
        let (_dir, path, file) = scratch();
        let ascii: Vec<VarLenAscii> = ["input_layer", "dense"]
            .iter()
            .map(|s| VarLenAscii::from_ascii(s).unwrap())
            .collect();
        file.new_attr_builder()
            .with_data(ArrayView1::from(&ascii[..]))
            .create("layer_names")
            .unwrap();
        let unicode: VarLenUnicode = "tensorflow".parse().unwrap();
        file.new_attr::<VarLenUnicode>()
            .create("backend")
            .unwrap()
            .as_writer()
            .write_scalar(&unicode)
            .unwrap();
        assert_eq!(
            read_string_list(&path, &file, "layer_names").unwrap(),
            Some(vec!["input_layer".to_owned(), "dense".to_owned()])
        );
        assert_eq!(
            read_string(&path, &file, "backend").unwrap().as_deref(),
            Some("tensorflow")
        );
    }

    #[test]
    fn chunked_single_string_is_joined() {
        let (_dir, path, file) = scratch();
        let pieces = ["{\"name\": ", "\"dichte_schicht_ü\"}"];
        for (i, piece) in pieces.iter().enumerate() {
            let element = FixedUnicode::<64>::from_name(piece).unwrap();
            file.new_attr_builder()
                .with_data_as(
                    ndarray::arr0(element).view(),
                    &TypeDescriptor::FixedUnicode(piece.len()),
                )
                .create(format!("model_config{i}").as_str())
                .unwrap();
        }
        assert_eq!(
            read_string(&path, &file, "model_config").unwrap(),
            Some(pieces.concat())
        );
        assert_eq!(read_string(&path, &file, "training_config").unwrap(), None);
    }

    #[test]
    fn numbers_are_not_strings() {
        let (_dir, path, file) = scratch();
        file.new_attr_builder()
            .with_data(&[1.0f64, 2.0])
            .create("layer_names")
            .unwrap();
        let err = read_string_list(&path, &file, "layer_names").unwrap_err();
        assert!(matches!(err, IoError::UnsupportedType { .. }), "{err}");
    }
}
