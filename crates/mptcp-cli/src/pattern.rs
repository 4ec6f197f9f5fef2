//! The test pattern a sender of `--send` writes (byte i is (7*i + 1) mod
//! 256), its SHA-256, and the check of received bytes against it.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Byte `i` of the test pattern.
pub fn pattern_byte(i: u64) -> u8 {
    (i.wrapping_mul(7).wrapping_add(1) % 256) as u8
}

pub const CHUNK: usize = 64 * 1024;

/// The pattern from offset `off % 256` on, enough for one chunk at any offset.
pub fn pattern_block() -> Vec<u8> {
    (0..(CHUNK + 256) as u64).map(pattern_byte).collect()
}

/// SHA-256 of the first `n` bytes of the pattern, lowercase hex.
pub fn pattern_sha256(n: u64) -> String {
    let block = pattern_block();
    let mut h = Sha256::new();
    let mut off = 0u64;
    while off < n {
        let len = (n - off).min(CHUNK as u64) as usize;
        let start = (off % 256) as usize;
        h.update(&block[start..start + len]);
        off += len as u64;
    }
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Where received bytes left the test pattern: a hash says only that a
/// transfer differs, this says where (for a sender of the pattern).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternMismatch {
    /// Stream offset of the first byte that is not the pattern's.
    pub first: u64,
    /// How many received bytes are not the pattern's.
    pub bytes: u64,
}

/// Compares what arrives with the test pattern, chunk by chunk.
pub struct PatternCheck {
    pub block: Vec<u8>,
    pub offset: u64,
    pub mismatch: Option<PatternMismatch>,
}

impl PatternCheck {
    pub fn add(&mut self, data: &[u8]) {
        for piece in data.chunks(CHUNK) {
            let start = (self.offset % 256) as usize;
            let want = &self.block[start..start + piece.len()];
            if piece != want {
                let wrong = piece.iter().zip(want).filter(|(a, b)| a != b).count() as u64;
                let at = piece.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0) as u64;
                let m = self.mismatch.get_or_insert(PatternMismatch { first: self.offset + at, bytes: 0 });
                m.bytes += wrong;
            }
            self.offset += piece.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern() {
        assert_eq!(pattern_byte(0), 1);
        assert_eq!(pattern_byte(1), 8);
        assert_eq!(pattern_byte(37), (7 * 37 + 1) as u8);
        assert_eq!(pattern_byte(256), 1);
        // SHA-256 of the empty string.
        assert_eq!(pattern_sha256(0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let direct: Vec<u8> = (0..200_000u64).map(pattern_byte).collect();
        assert_eq!(pattern_sha256(200_000), hex(&Sha256::digest(&direct)));
    }

    #[test]
    fn pattern_check_finds_the_first_wrong_byte() {
        let mut c = PatternCheck { block: pattern_block(), offset: 0, mismatch: None };
        let mut data: Vec<u8> = (0..200_000u64).map(pattern_byte).collect();
        c.add(&data[..1000]);
        assert_eq!(c.mismatch, None);
        // A shift by a whole period (256) is invisible to the pattern; one by 2 is not.
        data.copy_within(150_002..150_102, 150_000);
        c.add(&data[1000..]);
        let m = c.mismatch.expect("the shifted bytes differ");
        assert_eq!(m.first, 150_000);
        assert!(m.bytes > 90 && m.bytes <= 100, "{m:?}");
    }
}
