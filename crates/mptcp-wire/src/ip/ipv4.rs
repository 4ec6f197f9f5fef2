//! The IPv4 header (RFC 791).

use crate::checksum::{Checksum, checksum};
use crate::{Error, Result};
use core::net::Ipv4Addr;

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = 20;

/// A checked view of an IPv4 packet: after [`Ipv4Packet::new_checked`] every
/// accessor is in bounds.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buf` after checking the version, the header length and the total
    /// length against the buffer. Bytes past the total length (link padding)
    /// are allowed and ignored.
    pub fn new_checked(buf: T) -> Result<Self> {
        let b = buf.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 4 {
            return Err(Error::Malformed("IPv4 version field is not 4"));
        }
        let ihl = usize::from(b[0] & 0x0f) * 4;
        if ihl < HEADER_LEN {
            return Err(Error::Malformed("IPv4 header length below 20"));
        }
        let total = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if total < ihl {
            return Err(Error::Malformed("IPv4 total length below header length"));
        }
        if b.len() < total {
            return Err(Error::Truncated);
        }
        Ok(Ipv4Packet { buf })
    }

    fn b(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// Header length in bytes (with options).
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[0] & 0x0f) * 4
    }
    /// Total length field.
    pub fn total_len(&self) -> usize {
        usize::from(u16::from_be_bytes([self.b()[2], self.b()[3]]))
    }
    /// Identification field.
    pub fn ident(&self) -> u16 {
        u16::from_be_bytes([self.b()[4], self.b()[5]])
    }
    /// The DF flag.
    pub fn dont_frag(&self) -> bool {
        self.b()[6] & 0x40 != 0
    }
    /// The MF flag.
    pub fn more_fragments(&self) -> bool {
        self.b()[6] & 0x20 != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (u16::from_be_bytes([self.b()[6], self.b()[7]]) & 0x1fff) * 8
    }
    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.b()[8]
    }
    /// Upper-layer protocol.
    pub fn protocol(&self) -> u8 {
        self.b()[9]
    }
    /// Header checksum field.
    pub fn header_checksum(&self) -> u16 {
        u16::from_be_bytes([self.b()[10], self.b()[11]])
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[12], b[13], b[14], b[15])
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[16], b[17], b[18], b[19])
    }
    /// Whether the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        Checksum::new().add(&self.b()[..self.header_len()]).sum() == 0xffff
    }
    /// The payload, cut to the total length.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..self.total_len()]
    }
}

impl<'a> Ipv4Packet<&'a [u8]> {
    /// The payload with the lifetime of the underlying buffer.
    pub fn into_payload(self) -> &'a [u8] {
        let (h, t) = (self.header_len(), self.total_len());
        &self.buf[h..t]
    }
}

/// The parsed fields of an IPv4 header that the stack uses. Options are not
/// kept; `emit` writes a 20-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Upper-layer protocol.
    pub protocol: u8,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub ident: u16,
    /// The DF flag.
    pub dont_frag: bool,
    /// Length of the payload that follows the header.
    pub payload_len: usize,
}

impl Ipv4Repr {
    /// Parses a checked packet; a bad header checksum is an error.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Result<Self> {
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        Ok(Ipv4Repr {
            src: p.src_addr(),
            dst: p.dst_addr(),
            protocol: p.protocol(),
            ttl: p.ttl(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            payload_len: p.total_len() - p.header_len(),
        })
    }

    /// Writes the 20-byte header, checksum included, at the front of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let total = HEADER_LEN + self.payload_len;
        let total = u16::try_from(total).map_err(|_| Error::Malformed("IPv4 packet over 65535 bytes"))?;
        let h = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        h[0] = 0x45;
        h[1] = 0;
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h[4..6].copy_from_slice(&self.ident.to_be_bytes());
        h[6] = if self.dont_frag { 0x40 } else { 0 };
        h[7] = 0;
        h[8] = self.ttl;
        h[9] = self.protocol;
        h[10] = 0;
        h[11] = 0;
        h[12..16].copy_from_slice(&self.src.octets());
        h[16..20].copy_from_slice(&self.dst.octets());
        let c = checksum(h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_parse_round_trip() {
        let r = Ipv4Repr {
            src: Ipv4Addr::new(10, 0, 1, 1),
            dst: Ipv4Addr::new(10, 0, 1, 2),
            protocol: 6,
            ttl: 64,
            ident: 0x1234,
            dont_frag: true,
            payload_len: 3,
        };
        let mut buf = [0u8; 23];
        r.emit(&mut buf).unwrap();
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&p).unwrap(), r);
        assert_eq!(p.payload().len(), 3);
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut buf = [0u8; 40];
        buf[0] = 0x44; // IHL 16 bytes
        assert!(matches!(Ipv4Packet::new_checked(&buf[..]), Err(Error::Malformed(_))));
        buf[0] = 0x45;
        buf[2..4].copy_from_slice(&60u16.to_be_bytes());
        assert_eq!(Ipv4Packet::new_checked(&buf[..]).err(), Some(Error::Truncated));
        buf[2..4].copy_from_slice(&10u16.to_be_bytes());
        assert!(matches!(Ipv4Packet::new_checked(&buf[..]), Err(Error::Malformed(_))));
        assert_eq!(Ipv4Packet::new_checked(&buf[..10]).err(), Some(Error::Truncated));
    }

    #[test]
    fn emit_into_small_buffer_is_an_error() {
        let r = Ipv4Repr {
            src: Ipv4Addr::LOCALHOST,
            dst: Ipv4Addr::LOCALHOST,
            protocol: 6,
            ttl: 1,
            ident: 0,
            dont_frag: false,
            payload_len: 0,
        };
        assert_eq!(r.emit(&mut [0u8; 19]), Err(Error::BufferTooSmall));
    }
}
