//! REMOVE_ADDR (RFC 8684 §3.4.2).

use super::{header, subtype};
use crate::{Error, Result};

/// REMOVE_ADDR: the address ids the sender withdraws (at least one). The ids
/// borrow from the packet when parsed, or from the caller when emitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoveAddr<'a> {
    /// The withdrawn address ids.
    pub ids: &'a [u8],
}

impl<'a> RemoveAddr<'a> {
    /// Parses the whole option.
    pub fn parse(opt: &'a [u8]) -> Result<Self> {
        if opt.len() < 4 {
            return Err(Error::Malformed("REMOVE_ADDR without an address id"));
        }
        Ok(RemoveAddr { ids: &opt[3..] })
    }

    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        3 + self.ids.len()
    }

    /// Always false (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the option; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.ids.is_empty() || self.len() > 255 {
            return Err(Error::Malformed("REMOVE_ADDR needs 1 to 252 ids"));
        }
        let len = self.len();
        let out = header(buf, len, subtype::REMOVE_ADDR, 0)?;
        out[3..].copy_from_slice(self.ids);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_eight_ids() {
        for n in 1..=8u8 {
            let ids: Vec<u8> = (1..=n).collect();
            let r = RemoveAddr { ids: &ids };
            let mut out = [0u8; 16];
            let len = r.emit(&mut out).unwrap();
            assert_eq!(len, 3 + usize::from(n));
            assert_eq!(RemoveAddr::parse(&out[..len]).unwrap(), r);
        }
        assert!(RemoveAddr::parse(&[30, 3, 0x40]).is_err());
        assert!(RemoveAddr { ids: &[] }.emit(&mut [0u8; 8]).is_err());
    }
}
