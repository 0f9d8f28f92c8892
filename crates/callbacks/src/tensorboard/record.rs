//! TFRecord framing, as TensorFlow's event files use it: each record is its length (u64, little-endian), the
//! length's masked CRC-32C, the data, and the data's masked CRC-32C.

/// TFRecord's masked CRC-32C of `data`: the checksum rotated right by 15 bits plus `0xa282ead8`.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends one framed record holding `data` to `out`.
pub fn frame(data: &[u8], out: &mut Vec<u8>) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
}

/// Why a byte stream is not a sequence of valid records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The stream ends inside a record.
    #[error("truncated record at byte {offset}")]
    Truncated {
        /// Where the record starts.
        offset: usize,
    },
    /// A length or data checksum does not match.
    #[error("bad {what} checksum in the record at byte {offset}")]
    Checksum {
        /// `length` or `data`.
        what: &'static str,
        /// Where the record starts.
        offset: usize,
    },
}

fn take<const N: usize>(bytes: &[u8], at: usize, start: usize) -> Result<[u8; N], RecordError> {
    bytes
        .get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or(RecordError::Truncated { offset: start })
}

/// Splits `bytes` into the records' data, checking both checksums of every record.
pub fn unframe(bytes: &[u8]) -> Result<Vec<&[u8]>, RecordError> {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let len_bytes: [u8; 8] = take(bytes, at, start)?;
        let len_crc = u32::from_le_bytes(take(bytes, at + 8, start)?);
        if masked_crc32c(&len_bytes) != len_crc {
            return Err(RecordError::Checksum {
                what: "length",
                offset: start,
            });
        }
        let len = usize::try_from(u64::from_le_bytes(len_bytes))
            .map_err(|_| RecordError::Truncated { offset: start })?;
        let data_start = at + 12;
        let data = data_start
            .checked_add(len)
            .and_then(|end| bytes.get(data_start..end))
            .ok_or(RecordError::Truncated { offset: start })?;
        let data_crc = u32::from_le_bytes(take(bytes, data_start + len, start)?);
        if masked_crc32c(data) != data_crc {
            return Err(RecordError::Checksum {
                what: "data",
                offset: start,
            });
        }
        records.push(data);
        at = data_start + len + 4;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_value() {
        // CRC-32C("123456789") = 0xE3069283 (RFC 3720, appendix B.4).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        // Masked: ((crc >> 15) | (crc << 17)) + 0xa282ead8, modulo 2^32.
        assert_eq!(masked_crc32c(b"123456789"), 0xC78A_B0E5);
    }

    #[test]
    fn frames_round_trip_and_damage_is_caught() {
        let mut out = Vec::new();
        frame(b"hello", &mut out);
        frame(b"", &mut out);
        assert_eq!(out.len(), 2 * 16 + 5);
        assert_eq!(unframe(&out).unwrap(), vec![&b"hello"[..], &b""[..]]);
        let mut bad = out.clone();
        bad[13] ^= 1;
        assert_eq!(
            unframe(&bad),
            Err(RecordError::Checksum {
                what: "data",
                offset: 0
            })
        );
        bad = out.clone();
        bad[0] = 200;
        assert_eq!(
            unframe(&bad),
            Err(RecordError::Checksum {
                what: "length",
                offset: 0
            })
        );
        assert_eq!(
            unframe(&out[..20]),
            Err(RecordError::Truncated { offset: 0 })
        );
    }
}
