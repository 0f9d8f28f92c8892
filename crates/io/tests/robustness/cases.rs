//! The damaged files: seeded byte positions of one source file, plus the length fields of its
//! variable-length strings (where a flipped byte used to crash libhdf5).

/// SplitMix64: a small seeded generator, so that the same positions are damaged on every run.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// One damage: XOR `mask` (never 0) into the byte at `offset`.
#[derive(Clone, Copy, Debug)]
pub struct Damage {
    pub offset: usize,
    pub mask: u8,
}

impl Damage {
    pub fn apply(self, bytes: &[u8]) -> Vec<u8> {
        let mut damaged = bytes.to_vec();
        damaged[self.offset] ^= self.mask;
        damaged
    }

    pub fn encode(self) -> String {
        format!("{}:{}", self.offset, self.mask)
    }

    pub fn decode(text: &str) -> Self {
        let (offset, mask) = text.split_once(':').expect("offset:mask");
        Self {
            offset: offset.parse().unwrap(),
            mask: mask.parse().unwrap(),
        }
    }
}

/// The start of every global heap collection ("GCOL", version 1) in `bytes`.
fn heap_collections(bytes: &[u8]) -> Vec<usize> {
    bytes
        .windows(5)
        .enumerate()
        .filter(|(_, w)| *w == b"GCOL\x01")
        .map(|(i, _)| i)
        .collect()
}

/// The object sizes, by index, of the global heap collection at `start` (8-byte lengths).
fn heap_objects(bytes: &[u8], start: usize) -> std::collections::HashMap<u32, u64> {
    let le = |at: usize, len: usize| {
        bytes.get(at..at + len).map_or(u64::MAX, |b| {
            b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x))
        })
    };
    let end = start.saturating_add(le(start + 8, 8).min(bytes.len() as u64) as usize);
    let mut objects = std::collections::HashMap::new();
    let mut at = start + 16;
    while at + 16 <= end {
        let (index, size) = (le(at, 2) as u32, le(at + 8, 8));
        if index == 0 || size > bytes.len() as u64 {
            break;
        }
        objects.insert(index, size);
        at += 16 + (size as usize).div_ceil(8) * 8;
    }
    objects
}

/// The offsets of the 4-byte length fields of variable-length elements: a length, the 8-byte
/// address of a global heap collection and the index of one of its objects of that length.
pub fn vlen_length_fields(bytes: &[u8]) -> Vec<usize> {
    let mut fields = Vec::new();
    for heap in heap_collections(bytes) {
        let objects = heap_objects(bytes, heap);
        let address = (heap as u64).to_le_bytes();
        for (i, window) in bytes.windows(8).enumerate() {
            if window != address || i < 4 || i + 12 > bytes.len() {
                continue;
            }
            let len = u32::from_le_bytes(bytes[i - 4..i].try_into().unwrap());
            let index = u32::from_le_bytes(bytes[i + 8..i + 12].try_into().unwrap());
            if objects.get(&index) == Some(&u64::from(len)) {
                fields.push(i - 4);
            }
        }
    }
    fields
}

/// `count` seeded damages spread over the whole file, then damages of the low byte and of the
/// high byte of every variable-length length field.
pub fn damages(bytes: &[u8], seed: u64, count: usize) -> Vec<Damage> {
    let mut rng = SplitMix64::new(seed);
    let mut list: Vec<Damage> = (0..count)
        .map(|_| Damage {
            offset: rng.below(bytes.len()),
            mask: 1 + rng.below(255) as u8,
        })
        .collect();
    for field in vlen_length_fields(bytes) {
        list.push(Damage {
            offset: field,
            mask: 0x01,
        });
        list.push(Damage {
            offset: field + 1,
            mask: 0x80,
        });
    }
    list
}
