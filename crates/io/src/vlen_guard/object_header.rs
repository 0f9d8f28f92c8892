//! Finding an attribute's stored data in an object header (format versions 1 and 2), from the
//! file's bytes, so that variable-length references can be checked before libhdf5 follows them.

use super::file_bytes::{Cursor, FileBytes};

/// Message types of the object header format.
const CONTINUATION: u64 = 0x10;
const ATTRIBUTE: u64 = 0x0C;
/// Header-level message flag: the message is stored in the shared message heap.
const SHARED: u64 = 0x02;
/// At most this many header chunks are followed (a damaged continuation could loop).
const MAX_CHUNKS: usize = 4096;
/// The largest header chunk accepted (HDF5 chunks hold at most 64 KB of messages, plus some).
const MAX_CHUNK: u64 = 1 << 20;

/// One message of an object header.
struct Message {
    kind: u64,
    flags: u64,
    data: Vec<u8>,
}

/// Every message of the object header at `addr`, following continuation chunks.
fn messages(bytes: &FileBytes, addr: u64) -> Result<Vec<Message>, String> {
    let head = bytes.at(addr, 16.min(bytes.remaining(addr) as usize))?;
    if head.starts_with(b"OHDR") {
        messages_v2(bytes, addr)
    } else if head.first() == Some(&1) {
        messages_v1(bytes, addr)
    } else {
        Err(format!("no object header at address {addr}"))
    }
}

fn chunk_len(len: u64) -> Result<usize, String> {
    if len > MAX_CHUNK {
        return Err(format!("an object header chunk claims {len} bytes"));
    }
    Ok(len as usize)
}

/// Version 1: a 16-byte prefix, then messages of 8-byte-aligned (type u16, size u16, flags u8, 3
/// reserved) headers; continuation chunks hold bare messages.
fn messages_v1(bytes: &FileBytes, addr: u64) -> Result<Vec<Message>, String> {
    let prefix = bytes.at(addr, 16)?;
    let first_len = chunk_len(super::file_bytes::decode(&prefix[8..12]))?;
    let mut chunks = vec![(addr + 16, first_len)];
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(&(at, len)) = chunks.get(i) {
        i += 1;
        if i > MAX_CHUNKS {
            return Err("too many object header continuation chunks".into());
        }
        let chunk = bytes.at(at, len)?;
        let mut cursor = Cursor::new(&chunk);
        while cursor.left() >= 8 {
            let kind = cursor.uint(2)?;
            let size = cursor.uint(2)? as usize;
            let flags = cursor.uint(1)?;
            cursor.take(3)?;
            let data = cursor.take(size)?.to_vec();
            follow_continuation(bytes, kind, &data, &mut chunks)?;
            found.push(Message { kind, flags, data });
            let aligned = cursor.pos.div_ceil(8) * 8;
            cursor.take(aligned.saturating_sub(cursor.pos).min(cursor.left()))?;
        }
    }
    Ok(found)
}

/// Version 2: "OHDR", version, flags, optional times and attribute limits, the first chunk's size,
/// then messages (type u8, size u16, flags u8, optional creation order u16), a 4-byte checksum;
/// continuation chunks start with "OCHK".
fn messages_v2(bytes: &FileBytes, addr: u64) -> Result<Vec<Message>, String> {
    let prefix = bytes.at(addr, 6.min(bytes.remaining(addr) as usize))?;
    let flags = *prefix.get(5).ok_or("truncated object header")?;
    let mut skip = 6u64;
    if flags & 0x20 != 0 {
        skip += 16;
    }
    if flags & 0x10 != 0 {
        skip += 4;
    }
    let size_len = 1usize << (flags & 0x03);
    let size_bytes = bytes.at(addr + skip, size_len)?;
    let first_len = chunk_len(super::file_bytes::decode(&size_bytes))?;
    let with_order = flags & 0x04 != 0;
    let mut chunks = vec![(addr + skip + size_len as u64, first_len + 4)];
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(&(at, len)) = chunks.get(i) {
        i += 1;
        if i > MAX_CHUNKS {
            return Err("too many object header continuation chunks".into());
        }
        let chunk = bytes.at(at, len)?;
        let body = if i == 1 {
            &chunk[..len.saturating_sub(4)]
        } else if chunk.starts_with(b"OCHK") && len >= 8 {
            &chunk[4..len - 4]
        } else {
            return Err(format!("no continuation chunk at address {at}"));
        };
        let header = if with_order { 6 } else { 4 };
        let mut cursor = Cursor::new(body);
        while cursor.left() >= header {
            let kind = cursor.uint(1)?;
            let size = cursor.uint(2)? as usize;
            let flags = cursor.uint(1)?;
            if with_order {
                cursor.take(2)?;
            }
            let data = cursor.take(size)?.to_vec();
            follow_continuation(bytes, kind, &data, &mut chunks)?;
            found.push(Message { kind, flags, data });
        }
    }
    Ok(found)
}

/// Queues the chunk a continuation message points to.
fn follow_continuation(
    bytes: &FileBytes,
    kind: u64,
    data: &[u8],
    chunks: &mut Vec<(u64, usize)>,
) -> Result<(), String> {
    if kind != CONTINUATION {
        return Ok(());
    }
    let mut cursor = Cursor::new(data);
    let at = cursor.uint(bytes.offset_size)?;
    let len = chunk_len(cursor.uint(bytes.length_size)?)?;
    chunks.push((at, len));
    Ok(())
}

/// The stored data of attribute `name` of the object whose header is at `addr`. `Ok(None)` when
/// the header holds no such attribute message (it may be in dense attribute storage).
pub(crate) fn attribute_data(
    bytes: &FileBytes,
    addr: u64,
    name: &str,
) -> Result<Option<Vec<u8>>, String> {
    for message in messages(bytes, addr)? {
        if message.kind != ATTRIBUTE {
            continue;
        }
        if message.flags & SHARED != 0 {
            return Err("a shared attribute message cannot be checked".into());
        }
        if let Some(data) = attribute_message_data(&message.data, name)? {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// The data of an attribute message when it is attribute `name` (message versions 1 to 3).
fn attribute_message_data(message: &[u8], name: &str) -> Result<Option<Vec<u8>>, String> {
    let mut cursor = Cursor::new(message);
    let version = cursor.uint(1)?;
    cursor.take(1)?;
    let name_size = cursor.uint(2)? as usize;
    let type_size = cursor.uint(2)? as usize;
    let space_size = cursor.uint(2)? as usize;
    let pad = |len: usize| {
        if version == 1 {
            len.div_ceil(8) * 8
        } else {
            len
        }
    };
    match version {
        1 | 2 => {}
        3 => {
            cursor.take(1)?;
        }
        other => return Err(format!("attribute message version {other} is unknown")),
    }
    let stored = cursor.take(pad(name_size))?;
    let stored = &stored[..name_size.min(stored.len())];
    let stored = stored.strip_suffix(&[0]).unwrap_or(stored);
    if stored != name.as_bytes() {
        return Ok(None);
    }
    cursor.take(pad(type_size))?;
    cursor.take(pad(space_size))?;
    Ok(Some(cursor.take(cursor.left())?.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdf5::file::LibraryVersion;
    use hdf5::types::VarLenUnicode;

    #[test]
    fn attribute_data_is_found_in_both_header_versions() {
        let dir = tempfile::tempdir().unwrap();
        for (name, latest) in [("v1.h5", false), ("v2.h5", true)] {
            let path = dir.path().join(name);
            let file = hdf5::File::with_options()
                .with_fapl(|fapl| match latest {
                    true => fapl.libver_bounds(LibraryVersion::V18, LibraryVersion::V18),
                    false => fapl.libver_bounds(LibraryVersion::Earliest, LibraryVersion::V18),
                })
                .create(&path)
                .unwrap();
            let text: VarLenUnicode = "tensorflow".parse().unwrap();
            let attr = file.new_attr::<VarLenUnicode>().create("backend").unwrap();
            attr.as_writer().write_scalar(&text).unwrap();
            file.new_attr::<u32>().create("count").unwrap();
            let addr = super::super::header_address(&file).unwrap();
            drop((attr, file));
            let bytes = FileBytes::open(&path).unwrap();
            let data = attribute_data(&bytes, addr, "backend").unwrap().unwrap();
            // A variable-length element: length (4 bytes), heap address, object index (4 bytes).
            assert!(data.len() >= 4 + bytes.offset_size + 4, "{name}");
            assert_eq!(super::super::file_bytes::decode(&data[..4]), 10, "{name}");
            assert!(attribute_data(&bytes, addr, "absent").unwrap().is_none());
        }
    }
}
