//! MP_PRIO (RFC 8684 §3.3.8): change a subflow's backup priority.

use super::{expect_len, header, subtype};
use crate::Result;

/// MP_PRIO. RFC 8684 sends it 3 bytes long; the 4-byte RFC 6824 form with an
/// address id is parsed too (and re-emitted as it came).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpPrio {
    /// B: the subflow is to be used as a backup.
    pub backup: bool,
    /// The address id of the RFC 6824 form.
    pub addr_id: Option<u8>,
}

impl MpPrio {
    /// Parses the whole option.
    pub fn parse(opt: &[u8]) -> Result<Self> {
        expect_len(opt, &[3, 4], "MP_PRIO length is not 3 or 4")?;
        Ok(MpPrio { backup: opt[2] & 0x01 != 0, addr_id: opt.get(3).copied() })
    }

    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        if self.addr_id.is_some() { 4 } else { 3 }
    }

    /// Always false (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the option; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.len();
        let out = header(buf, len, subtype::MP_PRIO, u8::from(self.backup))?;
        if let Some(id) = self.addr_id {
            out[3] = id;
        }
        Ok(len)
    }
}
