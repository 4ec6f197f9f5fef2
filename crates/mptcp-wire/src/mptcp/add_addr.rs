//! ADD_ADDR (RFC 8684 §3.4.1).

use super::{be_u16, be_u64, header, subtype};
use crate::{Error, Result};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// ADD_ADDR: an address (and maybe a port) the sender can be reached at. The
/// length tells the family, whether a port is present and whether the 8-byte
/// HMAC is: 8/10/16/18 for IPv4, 20/22/28/30 for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddAddr {
    /// E: this is the echo of an ADD_ADDR received from the peer.
    pub echo: bool,
    /// The address id.
    pub addr_id: u8,
    /// The address.
    pub addr: IpAddr,
    /// The port, when it differs from the connection's.
    pub port: Option<u16>,
    /// Truncated HMAC (rightmost 64 bits); RFC 8684 requires it unless `echo`.
    pub hmac: Option<u64>,
}

impl AddAddr {
    /// Parses the whole option.
    pub fn parse(opt: &[u8]) -> Result<Self> {
        let (addr_len, port, hmac) = match opt.len() {
            8 => (4, false, false),
            10 => (4, true, false),
            16 => (4, false, true),
            18 => (4, true, true),
            20 => (16, false, false),
            22 => (16, true, false),
            28 => (16, false, true),
            30 => (16, true, true),
            _ => return Err(Error::Malformed("ADD_ADDR length is not 8, 10, 16, 18, 20, 22, 28 or 30")),
        };
        let a = &opt[4..4 + addr_len];
        let addr = if addr_len == 4 {
            IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
        } else {
            let mut o = [0u8; 16];
            o.copy_from_slice(a);
            IpAddr::V6(Ipv6Addr::from(o))
        };
        let mut at = 4 + addr_len;
        let port = port.then(|| {
            at += 2;
            be_u16(&opt[at - 2..])
        });
        Ok(AddAddr { echo: opt[2] & 0x01 != 0, addr_id: opt[3], addr, port, hmac: hmac.then(|| be_u64(&opt[at..])) })
    }

    /// Bytes on the wire.
    pub fn len(&self) -> usize {
        let addr = if self.addr.is_ipv4() { 4 } else { 16 };
        4 + addr + if self.port.is_some() { 2 } else { 0 } + if self.hmac.is_some() { 8 } else { 0 }
    }

    /// Always false (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the option; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.len();
        let out = header(buf, len, subtype::ADD_ADDR, u8::from(self.echo))?;
        out[3] = self.addr_id;
        let mut at = 4;
        match self.addr {
            IpAddr::V4(a) => {
                out[4..8].copy_from_slice(&a.octets());
                at += 4;
            }
            IpAddr::V6(a) => {
                out[4..20].copy_from_slice(&a.octets());
                at += 16;
            }
        }
        if let Some(p) = self.port {
            out[at..at + 2].copy_from_slice(&p.to_be_bytes());
            at += 2;
        }
        if let Some(h) = self.hmac {
            out[at..at + 8].copy_from_slice(&h.to_be_bytes());
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_eight_forms_round_trip() {
        let v4: IpAddr = "10.0.2.2".parse().unwrap();
        let v6: IpAddr = "dead:2::2".parse().unwrap();
        let mut lens = vec![];
        for addr in [v4, v6] {
            for port in [None, Some(8080)] {
                for hmac in [None, Some(0x0102030405060708)] {
                    let a = AddAddr { echo: hmac.is_none(), addr_id: 9, addr, port, hmac };
                    let mut out = [0u8; 30];
                    let n = a.emit(&mut out).unwrap();
                    assert_eq!(AddAddr::parse(&out[..n]).unwrap(), a);
                    lens.push(n);
                }
            }
        }
        assert_eq!(lens, [8, 16, 10, 18, 20, 28, 22, 30]);
        assert!(AddAddr::parse(&[30, 12, 0x30, 1, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
