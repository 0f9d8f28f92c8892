//! Checking a global heap collection ("GCOL"), where variable-length data lives, exactly as
//! libhdf5 1.10 walks it, so that libhdf5 is only asked to read objects it can read safely: its own
//! walk only asserts in debug builds, and an object size or index out of range makes it read or
//! write out of bounds.

use super::file_bytes::{Cursor, FileBytes};

/// Bytes of a collection header and of an object header, for 8-byte lengths:
/// "GCOL", version, 3 reserved, size / index u16, references u16, 4 reserved, size.
fn header_size(bytes: &FileBytes) -> usize {
    8 + bytes.length_size
}

/// The largest collection accepted (libhdf5 makes them 4 KB or the size of one large object).
const MAX_COLLECTION: u64 = 1 << 32;

/// The object sizes of a collection, by index (`None`: no such object).
pub(crate) struct Collection {
    sizes: Vec<Option<u64>>,
}

impl Collection {
    /// Reads and walks the collection at `addr`.
    pub(crate) fn read(bytes: &FileBytes, addr: u64) -> Result<Self, String> {
        let header = header_size(bytes);
        let head = bytes.at(addr, header)?;
        if !head.starts_with(b"GCOL\x01") {
            return Err(format!("no global heap collection at address {addr}"));
        }
        let size = super::file_bytes::decode(&head[8..]);
        if size < header as u64 || size > MAX_COLLECTION || size > bytes.remaining(addr) {
            return Err(format!(
                "the global heap collection at address {addr} claims {size} bytes"
            ));
        }
        let chunk = bytes.at(addr, size as usize)?;
        walk(&chunk, header, bytes.length_size).map_err(|reason| {
            format!("the global heap collection at address {addr} is damaged: {reason}")
        })
    }

    /// Checks that object `index` exists and holds exactly `len` bytes.
    pub(crate) fn check(&self, index: u64, len: u64) -> Result<(), String> {
        let size = usize::try_from(index)
            .ok()
            .filter(|&i| i > 0)
            .and_then(|i| self.sizes.get(i).copied().flatten())
            .ok_or_else(|| format!("refers to global heap object {index}, which does not exist"))?;
        if size != len {
            return Err(format!(
                "claims {len} bytes, its global heap object {index} holds {size}"
            ));
        }
        Ok(())
    }
}

/// Walks the objects of a collection as libhdf5's `H5HG__cache_heap_deserialize` does, failing
/// where libhdf5 would run out of bounds or loop.
fn walk(chunk: &[u8], header: usize, length_size: usize) -> Result<Collection, String> {
    let object_header = header;
    let mut sizes: Vec<Option<u64>> = Vec::new();
    let mut pos = header;
    while pos < chunk.len() {
        if pos + object_header > chunk.len() {
            // Too small for an object header: libhdf5 takes the rest as free space.
            break;
        }
        let mut cursor = Cursor::new(&chunk[pos..]);
        let index = cursor.uint(2)? as usize;
        cursor.take(6)?;
        let size = cursor.uint(length_size)?;
        let need = if index > 0 {
            size.checked_add(7)
                .map(|s| s / 8 * 8)
                .and_then(|s| s.checked_add(object_header as u64))
        } else {
            Some(size)
        };
        let need = need
            .filter(|&need| need > 0 && need <= (chunk.len() - pos) as u64)
            .ok_or_else(|| {
                format!("object {index} at offset {pos} claims {size} bytes, beyond the collection")
            })?;
        if index > 0 {
            if index >= sizes.len() {
                sizes.resize(index + 1, None);
            }
            sizes[index] = Some(size);
        }
        pos += need as usize;
    }
    Ok(Collection { sizes })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A collection of `size` bytes with objects `(index, data)` and free space after them.
    fn collection(size: usize, objects: &[(u16, &[u8])]) -> Vec<u8> {
        let mut bytes = b"GCOL\x01\0\0\0".to_vec();
        bytes.extend((size as u64).to_le_bytes());
        for (index, data) in objects {
            bytes.extend(index.to_le_bytes());
            bytes.extend([1, 0, 0, 0, 0, 0]);
            bytes.extend((data.len() as u64).to_le_bytes());
            bytes.extend(*data);
            bytes.resize(bytes.len().div_ceil(8) * 8, 0);
        }
        let free = size - bytes.len();
        bytes.extend([0, 0, 0, 0, 0, 0, 0, 0]);
        bytes.extend((free as u64).to_le_bytes());
        bytes.resize(size, 0);
        bytes
    }

    #[test]
    fn objects_are_found_with_their_sizes() {
        let chunk = collection(4096, &[(1, b"tensorflow"), (2, b"3.15.1")]);
        let heap = walk(&chunk, 16, 8).unwrap();
        assert!(heap.check(1, 10).is_ok());
        assert!(heap.check(2, 6).is_ok());
        assert!(heap.check(2, 7).is_err());
        assert!(heap.check(3, 1).is_err());
        assert!(heap.check(0, 4000).is_err());
    }

    #[test]
    fn sizes_beyond_the_collection_or_zero_free_space_are_damage() {
        let mut chunk = collection(4096, &[(1, b"tensorflow")]);
        chunk[24..32].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(walk(&chunk, 16, 8).is_err());
        let mut chunk = collection(4096, &[(1, b"tensorflow")]);
        // The free-space object's size 0 would make libhdf5 loop forever.
        chunk[56..64].copy_from_slice(&0u64.to_le_bytes());
        assert!(walk(&chunk, 16, 8).is_err());
    }
}
