//! RFC 1928 §4/§5 addresses: `ATYP` then `DST.ADDR` then `DST.PORT`, the
//! shape shared by requests, replies and UDP headers.

use super::{CodecError, Parsed};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// `ATYP` X'01': an IPv4 address, 4 bytes.
pub const ATYP_IPV4: u8 = 0x01;
/// `ATYP` X'03': a domain name, one length byte then the name (no NUL).
pub const ATYP_DOMAIN: u8 = 0x03;
/// `ATYP` X'04': an IPv6 address, 16 bytes.
pub const ATYP_IPV6: u8 = 0x04;

/// A destination (or bound) address: an IP socket address, or a domain name
/// and port that the proxy resolves itself (RFC 8041 §3.9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Addr {
    /// ATYP 1 or 4.
    Ip(SocketAddr),
    /// ATYP 3: the name as sent (1 to 255 bytes) and the port.
    Domain(String, u16),
}

impl Addr {
    /// The port.
    pub fn port(&self) -> u16 {
        match self {
            Addr::Ip(a) => a.port(),
            Addr::Domain(_, p) => *p,
        }
    }

    /// Parses `ATYP ADDR PORT` from the start of `buf`.
    pub fn parse(buf: &[u8]) -> Parsed<Addr> {
        let Some(&atyp) = buf.first() else { return Ok(None) };
        match atyp {
            ATYP_IPV4 => {
                let Some(b) = buf.get(1..7) else { return Ok(None) };
                let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
                let port = u16::from_be_bytes([b[4], b[5]]);
                Ok(Some((Addr::Ip(SocketAddr::V4(SocketAddrV4::new(ip, port))), 7)))
            }
            ATYP_IPV6 => {
                let Some(b) = buf.get(1..19) else { return Ok(None) };
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&b[..16]);
                let port = u16::from_be_bytes([b[16], b[17]]);
                Ok(Some((Addr::Ip(SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(octets), port, 0, 0))), 19)))
            }
            ATYP_DOMAIN => {
                let Some(&len) = buf.get(1) else { return Ok(None) };
                let len = usize::from(len);
                if len == 0 {
                    return Err(CodecError::BadDomain);
                }
                let Some(b) = buf.get(2..2 + len + 2) else { return Ok(None) };
                let name = std::str::from_utf8(&b[..len]).map_err(|_| CodecError::BadDomain)?;
                let port = u16::from_be_bytes([b[len], b[len + 1]]);
                Ok(Some((Addr::Domain(name.to_owned(), port), 2 + len + 2)))
            }
            other => Err(CodecError::BadAddressType(other)),
        }
    }

    /// Appends `ATYP ADDR PORT`. A domain name longer than 255 bytes (which
    /// the parser never produces) is cut at 255 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            Addr::Ip(SocketAddr::V4(a)) => {
                out.push(ATYP_IPV4);
                out.extend_from_slice(&a.ip().octets());
                out.extend_from_slice(&a.port().to_be_bytes());
            }
            Addr::Ip(SocketAddr::V6(a)) => {
                out.push(ATYP_IPV6);
                out.extend_from_slice(&a.ip().octets());
                out.extend_from_slice(&a.port().to_be_bytes());
            }
            Addr::Domain(name, port) => {
                let bytes = &name.as_bytes()[..name.len().min(255)];
                out.push(ATYP_DOMAIN);
                out.push(bytes.len() as u8);
                out.extend_from_slice(bytes);
                out.extend_from_slice(&port.to_be_bytes());
            }
        }
    }

    /// The length `emit` writes.
    pub fn emitted_len(&self) -> usize {
        match self {
            Addr::Ip(SocketAddr::V4(_)) => 7,
            Addr::Ip(SocketAddr::V6(_)) => 19,
            Addr::Domain(name, _) => 4 + name.len().min(255),
        }
    }
}

impl From<SocketAddr> for Addr {
    fn from(a: SocketAddr) -> Addr {
        Addr::Ip(a)
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Ip(a) => write!(f, "{a}"),
            Addr::Domain(name, port) => write!(f, "{name}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(a: &Addr) {
        let mut out = Vec::new();
        a.emit(&mut out);
        assert_eq!(out.len(), a.emitted_len());
        assert_eq!(Addr::parse(&out), Ok(Some((a.clone(), out.len()))));
        // Every strict prefix is incomplete, never an error or a panic.
        for cut in 0..out.len() {
            assert_eq!(Addr::parse(&out[..cut]), Ok(None), "prefix of {cut} bytes");
        }
    }

    #[test]
    fn ipv4_ipv6_and_domain_round_trip() {
        round_trip(&Addr::Ip("192.0.2.7:8080".parse().unwrap()));
        round_trip(&Addr::Ip("[2001:db8::1]:443".parse().unwrap()));
        round_trip(&Addr::Domain("example.com".into(), 80));
        round_trip(&Addr::Domain("a".repeat(255), 65535));
    }

    #[test]
    fn ipv4_bytes_as_the_rfc_lays_them_out() {
        let bytes = [0x01, 10, 1, 2, 3, 0x1f, 0x90, 0xaa];
        let (a, used) = Addr::parse(&bytes).unwrap().unwrap();
        assert_eq!(a, Addr::Ip("10.1.2.3:8080".parse().unwrap()));
        assert_eq!(used, 7, "the trailing byte is not taken");
    }

    #[test]
    fn bad_address_types_and_domains() {
        assert_eq!(Addr::parse(&[0x02, 1, 2, 3, 4, 5, 6]), Err(CodecError::BadAddressType(2)));
        assert_eq!(Addr::parse(&[0x00]), Err(CodecError::BadAddressType(0)));
        assert_eq!(Addr::parse(&[0x03, 0, 0, 80]), Err(CodecError::BadDomain));
        assert_eq!(Addr::parse(&[0x03, 2, 0xff, 0xfe, 0, 80]), Err(CodecError::BadDomain));
    }
}
