//! MP_CAPABLE (RFC 8684 §3.1).

use super::{be_u16, be_u64, expect_len, header, subtype};
use crate::{Error, Result};

/// MP_CAPABLE in all its forms. Which fields are present says which form it is:
///
/// | length | form | present |
/// | --- | --- | --- |
/// | 4 | SYN | — |
/// | 12 | SYN/ACK | `sender_key` |
/// | 20 | third ACK | both keys |
/// | 22 | ACK with data | both keys, `data_len` |
/// | 24 | ACK with data and checksum | both keys, `data_len`, `checksum` |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpCapable {
    /// Protocol version (1 for RFC 8684).
    pub version: u8,
    /// The flags byte as sent: A (0x80), B (0x40), C (0x20), D..G, H (0x01).
    pub flags: u8,
    /// Key of the sender of this segment.
    pub sender_key: Option<u64>,
    /// Key of the receiver of this segment (third ACK and later).
    pub receiver_key: Option<u64>,
    /// Data-level length of the data in this segment (MP_CAPABLE with data).
    pub data_len: Option<u16>,
    /// DSS checksum of that data, when checksums are in use.
    pub checksum: Option<u16>,
}

impl MpCapable {
    /// A: checksum required.
    pub const FLAG_A: u8 = 0x80;
    /// B: extensibility (must be 0 in v1).
    pub const FLAG_B: u8 = 0x40;
    /// C: do not join the initial address and port.
    pub const FLAG_C: u8 = 0x20;
    /// H: HMAC-SHA256.
    pub const FLAG_H: u8 = 0x01;

    /// The SYN form (no key), version 1.
    pub fn syn(flags: u8) -> Self {
        MpCapable { version: 1, flags, sender_key: None, receiver_key: None, data_len: None, checksum: None }
    }

    /// A: checksum required.
    pub fn checksum_required(&self) -> bool {
        self.flags & Self::FLAG_A != 0
    }
    /// C: the sender refuses joins to its initial address and port.
    pub fn deny_join_id0(&self) -> bool {
        self.flags & Self::FLAG_C != 0
    }
    /// Whether the flags are what an RFC 8684 peer accepts: H set, B and D..G
    /// clear (RFC 8684 §3.1; the Linux kernel ignores the option otherwise).
    pub fn flags_acceptable(&self) -> bool {
        self.flags & 0x5f == Self::FLAG_H
    }

    /// Parses the whole option.
    pub fn parse(opt: &[u8]) -> Result<Self> {
        expect_len(opt, &[4, 12, 20, 22, 24], "MP_CAPABLE length is not 4, 12, 20, 22 or 24")?;
        let n = opt.len();
        Ok(MpCapable {
            version: opt[2] & 0x0f,
            flags: opt[3],
            sender_key: (n >= 12).then(|| be_u64(&opt[4..12])),
            receiver_key: (n >= 20).then(|| be_u64(&opt[12..20])),
            data_len: (n >= 22).then(|| be_u16(&opt[20..22])),
            checksum: (n >= 24).then(|| be_u16(&opt[22..24])),
        })
    }

    /// Bytes on the wire; an inconsistent set of fields counts as the longest
    /// form its fields reach (and `emit` refuses it).
    pub fn len(&self) -> usize {
        if self.checksum.is_some() {
            24
        } else if self.data_len.is_some() {
            22
        } else if self.receiver_key.is_some() {
            20
        } else if self.sender_key.is_some() {
            12
        } else {
            4
        }
    }

    /// Always false (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the option; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.len();
        let consistent = (len < 12 || self.sender_key.is_some())
            && (len < 20 || self.receiver_key.is_some())
            && (len < 22 || self.data_len.is_some());
        if !consistent {
            return Err(Error::Malformed("MP_CAPABLE fields do not form a valid length"));
        }
        if self.version > 0x0f {
            return Err(Error::Malformed("MP_CAPABLE version above 15"));
        }
        let out = header(buf, len, subtype::MP_CAPABLE, self.version)?;
        out[3] = self.flags;
        if let Some(k) = self.sender_key {
            out[4..12].copy_from_slice(&k.to_be_bytes());
        }
        if let Some(k) = self.receiver_key {
            out[12..20].copy_from_slice(&k.to_be_bytes());
        }
        if let Some(l) = self.data_len {
            out[20..22].copy_from_slice(&l.to_be_bytes());
        }
        if let Some(c) = self.checksum {
            out[22..24].copy_from_slice(&c.to_be_bytes());
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_round_trip() {
        let syn = [30, 4, 0x01, 0x81];
        let m = MpCapable::parse(&syn).unwrap();
        assert_eq!(m, MpCapable::syn(0x81));
        assert!(m.checksum_required() && m.flags_acceptable());
        let mut out = [0u8; 24];
        assert_eq!(m.emit(&mut out), Ok(4));
        assert_eq!(out[..4], syn);

        let full = MpCapable {
            version: 1,
            flags: 0x01,
            sender_key: Some(0x0102030405060708),
            receiver_key: Some(0x1112131415161718),
            data_len: Some(100),
            checksum: Some(0xbeef),
        };
        assert_eq!(full.emit(&mut out), Ok(24));
        assert_eq!(MpCapable::parse(&out).unwrap(), full);
    }

    #[test]
    fn bad_length_and_inconsistent_fields() {
        assert!(MpCapable::parse(&[30, 5, 0x01, 0x81, 0]).is_err());
        let bad = MpCapable { data_len: Some(1), ..MpCapable::syn(1) };
        assert!(bad.emit(&mut [0u8; 24]).is_err());
        assert!(!MpCapable::syn(0x41).flags_acceptable());
        assert!(!MpCapable::syn(0x80).flags_acceptable());
    }
}
