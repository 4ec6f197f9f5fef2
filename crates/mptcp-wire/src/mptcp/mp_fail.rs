//! MP_FAIL (RFC 8684 §3.7): a checksum failed; fall back from this DSN.

use super::{be_u64, expect_len, header, subtype};
use crate::Result;

/// MP_FAIL: the data sequence number from which the sender falls back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpFail {
    /// The 64-bit data sequence number.
    pub dsn: u64,
}

impl MpFail {
    /// Bytes on the wire.
    pub const LEN: usize = 12;

    /// Parses the whole option.
    pub fn parse(opt: &[u8]) -> Result<Self> {
        expect_len(opt, &[Self::LEN], "MP_FAIL length is not 12")?;
        Ok(MpFail { dsn: be_u64(&opt[4..12]) })
    }

    /// Writes the option; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let out = header(buf, Self::LEN, subtype::MP_FAIL, 0)?;
        out[4..12].copy_from_slice(&self.dsn.to_be_bytes());
        Ok(Self::LEN)
    }
}
