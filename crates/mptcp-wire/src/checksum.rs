//! The Internet checksum (RFC 1071): a 16-bit ones'-complement sum.
//!
//! Used by the IPv4 header, the TCP checksum (with its pseudo-header) and the
//! MPTCP DSS checksum (RFC 8684 §3.3.1).

/// A running ones'-complement sum. Feed it byte slices in order; slices of odd
/// length are handled (the carry byte moves on to the next slice).
#[derive(Debug, Clone, Copy, Default)]
pub struct Checksum {
    sum: u64,
    /// A byte left over from an odd-length slice, to pair with the next one.
    pending: Option<u8>,
}

impl Checksum {
    /// An empty sum.
    pub const fn new() -> Self {
        Checksum { sum: 0, pending: None }
    }

    /// Adds bytes to the sum.
    pub fn add(&mut self, mut data: &[u8]) -> &mut Self {
        if let Some(hi) = self.pending.take() {
            match data.split_first() {
                Some((&lo, rest)) => {
                    self.sum += u64::from(u16::from_be_bytes([hi, lo]));
                    data = rest;
                }
                None => {
                    self.pending = Some(hi);
                    return self;
                }
            }
        }
        // Eight bytes at a time, as two 32-bit words: 2^16 is 1 modulo
        // 0xffff, so a sum of 32-bit words folds to the same 16-bit sum. A
        // u64 of them cannot overflow below 2^32 words (16 GiB).
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.sum += (w >> 32) + (w & 0xffff_ffff);
        }
        let mut rest = chunks.remainder();
        while rest.len() >= 2 {
            self.sum += u64::from(u16::from_be_bytes([rest[0], rest[1]]));
            rest = &rest[2..];
        }
        if let Some(&b) = rest.first() {
            self.pending = Some(b);
        }
        self
    }

    /// Adds one 16-bit word.
    pub fn add_u16(&mut self, w: u16) -> &mut Self {
        self.add(&w.to_be_bytes())
    }

    /// Adds one 32-bit word.
    pub fn add_u32(&mut self, w: u32) -> &mut Self {
        self.add(&w.to_be_bytes())
    }

    /// The folded 16-bit sum (not complemented).
    pub fn sum(&self) -> u16 {
        let mut s = self.sum;
        if let Some(hi) = self.pending {
            s += u64::from(hi) << 8;
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    /// The checksum to put on the wire: the complement of the folded sum.
    pub fn finish(&self) -> u16 {
        !self.sum()
    }
}

/// Checksum of one buffer.
pub fn checksum(data: &[u8]) -> u16 {
    Checksum::new().add(data).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(Checksum::new().add(&data).sum(), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn split_anywhere_gives_same_sum() {
        let data: Vec<u8> = (0..101u32).map(|i| (i * 37 + 11) as u8).collect();
        let whole = checksum(&data);
        for cut in 0..data.len() {
            let mut c = Checksum::new();
            c.add(&data[..cut]).add(&data[cut..]);
            assert_eq!(c.finish(), whole, "cut at {cut}");
        }
    }

    #[test]
    fn verifying_a_checksummed_buffer_sums_to_ffff() {
        let mut data = vec![0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0, 0];
        let c = checksum(&data);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(Checksum::new().add(&data).sum(), 0xffff);
    }
}
