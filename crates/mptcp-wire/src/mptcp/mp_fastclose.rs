//! MP_FASTCLOSE (RFC 8684 §3.5): abort the whole connection.

use super::{be_u64, expect_len, header, subtype};
use crate::Result;

/// MP_FASTCLOSE: carries the receiver's key, which proves the sender knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpFastclose {
    /// The key of the receiver of this option.
    pub receiver_key: u64,
}

impl MpFastclose {
    /// Bytes on the wire.
    pub const LEN: usize = 12;

    /// Parses the whole option.
    pub fn parse(opt: &[u8]) -> Result<Self> {
        expect_len(opt, &[Self::LEN], "MP_FASTCLOSE length is not 12")?;
        Ok(MpFastclose { receiver_key: be_u64(&opt[4..12]) })
    }

    /// Writes the option; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let out = header(buf, Self::LEN, subtype::MP_FASTCLOSE, 0)?;
        out[4..12].copy_from_slice(&self.receiver_key.to_be_bytes());
        Ok(Self::LEN)
    }
}
