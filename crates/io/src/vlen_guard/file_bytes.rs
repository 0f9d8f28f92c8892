//! Bounds-checked reads of a file's raw bytes, at HDF5 addresses (relative to the superblock's base
//! address), with the superblock's sizes of offsets and lengths.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The HDF5 file signature, found at offset 0, 512, 1024, 2048, ...
const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// An open file read at HDF5 addresses; every read is checked against the file's length.
pub(crate) struct FileBytes {
    file: File,
    len: u64,
    base: u64,
    /// Bytes of an address (the superblock's "size of offsets").
    pub(crate) offset_size: usize,
    /// Bytes of a length (the superblock's "size of lengths").
    pub(crate) length_size: usize,
}

impl FileBytes {
    /// Opens `path` and reads its superblock. `Err` describes what is malformed.
    pub(crate) fn open(path: &Path) -> Result<Self, String> {
        let file = File::open(path).map_err(|err| format!("cannot reopen the file: {err}"))?;
        let len = file
            .metadata()
            .map_err(|err| format!("cannot read the file's size: {err}"))?
            .len();
        let mut bytes = Self {
            file,
            len,
            base: 0,
            offset_size: 8,
            length_size: 8,
        };
        let mut at = 0u64;
        while at + 48 <= len {
            let head = bytes.absolute(at, 48)?;
            if head.starts_with(SIGNATURE) {
                return bytes.read_superblock(at, &head).map(|()| bytes);
            }
            at = if at == 0 { 512 } else { at * 2 };
        }
        Err("no HDF5 superblock".into())
    }

    fn read_superblock(&mut self, at: u64, head: &[u8]) -> Result<(), String> {
        let version = head[8];
        let (offset_size, length_size, base_at) = match version {
            0 | 1 => (head[13], head[14], if version == 0 { 24 } else { 28 }),
            2 | 3 => (head[9], head[10], 12),
            other => return Err(format!("superblock version {other} is unknown")),
        };
        for size in [offset_size, length_size] {
            if !matches!(size, 2 | 4 | 8) {
                return Err(format!(
                    "superblock declares {size}-byte offsets or lengths"
                ));
            }
        }
        self.offset_size = usize::from(offset_size);
        self.length_size = usize::from(length_size);
        let base_bytes = self.absolute(at + base_at, self.offset_size)?;
        self.base = decode(&base_bytes);
        Ok(())
    }

    /// `len` bytes at absolute file offset `at`.
    fn absolute(&self, at: u64, len: usize) -> Result<Vec<u8>, String> {
        let end = at.checked_add(len as u64).filter(|&end| end <= self.len);
        if end.is_none() {
            return Err(format!(
                "{len} bytes at offset {at} lie beyond the end of the file ({} bytes)",
                self.len
            ));
        }
        let mut buffer = vec![0; len];
        self.file
            .read_exact_at(&mut buffer, at)
            .map_err(|err| format!("cannot read {len} bytes at offset {at}: {err}"))?;
        Ok(buffer)
    }

    /// `len` bytes at HDF5 address `addr`.
    pub(crate) fn at(&self, addr: u64, len: usize) -> Result<Vec<u8>, String> {
        let at = self
            .base
            .checked_add(addr)
            .ok_or_else(|| format!("address {addr} overflows"))?;
        self.absolute(at, len)
    }

    /// How many bytes from address `addr` to the end of the file (0 when beyond it).
    pub(crate) fn remaining(&self, addr: u64) -> u64 {
        self.len.saturating_sub(self.base).saturating_sub(addr)
    }
}

/// A little-endian unsigned integer of 1 to 8 bytes.
pub(crate) fn decode(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .take(8)
        .rev()
        .fold(0, |value, &byte| (value << 8) | u64::from(byte))
}

/// A cursor over a byte slice whose reads fail instead of running past the end.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// The next `len` bytes.
    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "a field of {len} bytes at {} runs past its block of {} bytes",
                    self.pos,
                    self.bytes.len()
                )
            })?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    /// The next unsigned little-endian integer of `len` bytes.
    pub(crate) fn uint(&mut self, len: usize) -> Result<u64, String> {
        self.take(len).map(decode)
    }

    /// Bytes left.
    pub(crate) fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_is_little_endian() {
        assert_eq!(decode(&[0x01, 0x02]), 0x0201);
        assert_eq!(decode(&[0xff; 8]), u64::MAX);
        let mut cursor = Cursor::new(&[1, 0, 0, 0, 7]);
        assert_eq!(cursor.uint(4).unwrap(), 1);
        assert!(cursor.uint(2).is_err());
        assert_eq!(cursor.uint(1).unwrap(), 7);
    }

    #[test]
    fn superblock_sizes_are_read_and_reads_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.h5");
        hdf5::File::create(&path).unwrap();
        let bytes = FileBytes::open(&path).unwrap();
        assert_eq!((bytes.offset_size, bytes.length_size), (8, 8));
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(bytes.at(0, 8).is_ok());
        assert!(bytes.at(len - 4, 8).is_err());
        assert!(bytes.at(u64::MAX, 1).is_err());
        std::fs::write(&path, b"not hdf5 at all, not hdf5 at all, not hdf5 at all").unwrap();
        assert!(FileBytes::open(&path).is_err());
    }
}
