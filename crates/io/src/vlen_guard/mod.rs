//! Checks variable-length string attributes from the file's own bytes before libhdf5 reads them.
//!
//! libhdf5 1.10 trusts a variable-length element's stored length and global heap reference: a
//! damaged length makes it copy a heap object into a buffer of the wrong size, and a damaged heap
//! makes it read past its buffers, crashing the process (`H5HG_read` via `H5Aread`). Before any
//! such attribute is read, its elements are located in the object header and every reference is
//! checked against its global heap collection, walked as libhdf5 walks it. A damaged element is a
//! [`crate::IoError::Corrupt`] naming the attribute.

mod file_bytes;
mod global_heap;
mod object_header;

use std::collections::HashMap;
use std::path::Path;

use hdf5::Location;

use crate::error::{IoError, Result, hdf5_error};
use file_bytes::{Cursor, FileBytes};
use global_heap::Collection;

/// The file address of `loc`'s object header.
fn header_address(loc: &Location) -> hdf5::Result<u64> {
    let token = format!("{:?}", loc.loc_info()?.token);
    address_from_token(&token)
        .ok_or_else(|| hdf5::Error::from(format!("unexpected object token {token}")))
}

/// `LocationToken` keeps the address private; its debug form shows it: the address itself with
/// HDF5 1.10 (`LocationToken(800)`), or with 1.12 and later an `H5O_token_t` whose first 8 bytes
/// are the little-endian address (native file driver).
fn address_from_token(token: &str) -> Option<u64> {
    let inner = token.strip_prefix("LocationToken(")?.strip_suffix(')')?;
    if let Ok(address) = inner.parse() {
        return Some(address);
    }
    let bytes = inner.split_once('[')?.1.split_once(']')?.0;
    let bytes: Vec<u8> = bytes
        .split(',')
        .map(|b| b.trim().parse().ok())
        .collect::<Option<_>>()?;
    (bytes.len() >= 8).then(|| file_bytes::decode(&bytes[..8]))
}

/// Checks the `count` elements of the variable-length string attribute `name` of `loc`.
pub(crate) fn check_vlen_attribute(
    file: &Path,
    loc: &Location,
    name: &str,
    count: usize,
) -> Result<()> {
    let object = format!("{}@{name}", loc.name());
    // A file still open for writing in this process may hold the attribute only in its cache.
    loc.file()
        .and_then(|handle| handle.flush())
        .map_err(hdf5_error(file, "flushing the file before checking it"))?;
    let addr = header_address(loc).map_err(hdf5_error(
        file,
        format!("locating the header of `{}`", loc.name()),
    ))?;
    check_elements(file, addr, name, count).map_err(|reason| IoError::Corrupt {
        file: file.to_path_buf(),
        object,
        reason,
    })
}

fn check_elements(
    file: &Path,
    addr: u64,
    name: &str,
    count: usize,
) -> std::result::Result<(), String> {
    let bytes = FileBytes::open(file)?;
    let data = object_header::attribute_data(&bytes, addr, name)?.ok_or(
        "the attribute is not stored in its object's header (dense attribute storage), so its \
         variable-length data cannot be checked",
    )?;
    let element = 4 + bytes.offset_size + 4;
    if count
        .checked_mul(element)
        .is_none_or(|needed| needed > data.len())
    {
        return Err(format!(
            "{count} variable-length elements need {} bytes, the attribute stores {}",
            count.saturating_mul(element),
            data.len()
        ));
    }
    let mut collections: HashMap<u64, Collection> = HashMap::new();
    let mut cursor = Cursor::new(&data);
    for i in 0..count {
        let len = cursor.uint(4)?;
        let heap = cursor.uint(bytes.offset_size)?;
        let index = cursor.uint(4)?;
        if heap == 0 {
            continue; // a null element: libhdf5 does not read the heap
        }
        let collection = match collections.entry(heap) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(Collection::read(&bytes, heap)?)
            }
        };
        collection
            .check(index, len)
            .map_err(|reason| format!("element {i} {reason}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_from_both_token_forms() {
        assert_eq!(address_from_token("LocationToken(800)"), Some(800));
        let v112 = "LocationToken(H5O_token_t { __data: [32, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] })";
        assert_eq!(address_from_token(v112), Some(800));
        assert_eq!(address_from_token("Token(1)"), None);
    }
}
