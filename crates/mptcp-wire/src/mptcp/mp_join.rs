//! MP_JOIN (RFC 8684 §3.2), in its SYN, SYN/ACK and third-ACK forms.

use super::{be_u32, be_u64, expect_len, header, subtype};
use crate::Result;

/// MP_JOIN. The three forms have distinct lengths (12, 16, 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MpJoin {
    /// In the SYN (length 12).
    Syn {
        /// B: the sender wants this subflow as a backup.
        backup: bool,
        /// The sender's address id.
        addr_id: u8,
        /// The receiver's token.
        token: u32,
        /// The sender's random number.
        nonce: u32,
    },
    /// In the SYN/ACK (length 16).
    SynAck {
        /// B: the sender wants this subflow as a backup.
        backup: bool,
        /// The sender's address id.
        addr_id: u8,
        /// Leftmost 64 bits of the sender's HMAC.
        hmac: u64,
        /// The sender's random number.
        nonce: u32,
    },
    /// In the third ACK (length 24).
    Ack {
        /// Leftmost 160 bits of the sender's HMAC.
        hmac: [u8; 20],
    },
}

impl MpJoin {
    /// Parses the whole option.
    pub fn parse(opt: &[u8]) -> Result<Self> {
        expect_len(opt, &[12, 16, 24], "MP_JOIN length is not 12, 16 or 24")?;
        let backup = opt[2] & 0x01 != 0;
        Ok(match opt.len() {
            12 => MpJoin::Syn { backup, addr_id: opt[3], token: be_u32(&opt[4..8]), nonce: be_u32(&opt[8..12]) },
            16 => MpJoin::SynAck { backup, addr_id: opt[3], hmac: be_u64(&opt[4..12]), nonce: be_u32(&opt[12..16]) },
            _ => {
                let mut hmac = [0u8; 20];
                hmac.copy_from_slice(&opt[4..24]);
                MpJoin::Ack { hmac }
            }
        })
    }

    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        match self {
            MpJoin::Syn { .. } => 12,
            MpJoin::SynAck { .. } => 16,
            MpJoin::Ack { .. } => 24,
        }
    }

    /// Always false (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the option; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.len();
        match *self {
            MpJoin::Syn { backup, addr_id, token, nonce } => {
                let out = header(buf, len, subtype::MP_JOIN, u8::from(backup))?;
                out[3] = addr_id;
                out[4..8].copy_from_slice(&token.to_be_bytes());
                out[8..12].copy_from_slice(&nonce.to_be_bytes());
            }
            MpJoin::SynAck { backup, addr_id, hmac, nonce } => {
                let out = header(buf, len, subtype::MP_JOIN, u8::from(backup))?;
                out[3] = addr_id;
                out[4..12].copy_from_slice(&hmac.to_be_bytes());
                out[12..16].copy_from_slice(&nonce.to_be_bytes());
            }
            MpJoin::Ack { hmac } => {
                let out = header(buf, len, subtype::MP_JOIN, 0)?;
                out[4..24].copy_from_slice(&hmac);
            }
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syn_round_trip() {
        let j = MpJoin::Syn { backup: true, addr_id: 2, token: 0xdeadbeef, nonce: 7 };
        let mut out = [0u8; 24];
        assert_eq!(j.emit(&mut out), Ok(12));
        assert_eq!(out[..4], [30, 12, 0x11, 2]);
        assert_eq!(MpJoin::parse(&out[..12]).unwrap(), j);
        assert!(MpJoin::parse(&out[..13]).is_err());
    }
}
