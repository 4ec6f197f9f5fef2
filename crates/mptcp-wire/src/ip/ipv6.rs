//! The IPv6 header (RFC 8200) and the walk over its extension headers.

use crate::{Error, Result};
use core::net::Ipv6Addr;

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const ESP: u8 = 50;
const AUTH: u8 = 51;
const DEST_OPTS: u8 = 60;
const MOBILITY: u8 = 135;
const HIP: u8 = 139;
const SHIM6: u8 = 140;

/// A checked view of an IPv6 packet.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps `buf` after checking the version and that the payload length fits.
    pub fn new_checked(buf: T) -> Result<Self> {
        let b = buf.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 6 {
            return Err(Error::Malformed("IPv6 version field is not 6"));
        }
        let plen = usize::from(u16::from_be_bytes([b[4], b[5]]));
        if b.len() < HEADER_LEN + plen {
            return Err(Error::Truncated);
        }
        Ok(Ipv6Packet { buf })
    }

    fn b(&self) -> &[u8] {
        self.buf.as_ref()
    }
    /// Payload length field (extension headers included).
    pub fn payload_len(&self) -> usize {
        usize::from(u16::from_be_bytes([self.b()[4], self.b()[5]]))
    }
    /// Flow label.
    pub fn flow_label(&self) -> u32 {
        let b = self.b();
        u32::from_be_bytes([0, b[1] & 0x0f, b[2], b[3]])
    }
    /// Next header field of the fixed header.
    pub fn next_header(&self) -> u8 {
        self.b()[6]
    }
    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.b()[7]
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.b()[8..24]);
        Ipv6Addr::from(a)
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.b()[24..40]);
        Ipv6Addr::from(a)
    }
    /// Everything after the fixed header, cut to the payload length.
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..HEADER_LEN + self.payload_len()]
    }

    /// Walks the extension headers: returns the upper-layer protocol, whether a
    /// fragment header was seen with a non-zero offset or the M flag, and the
    /// upper-layer bytes. ESP is opaque: it is returned as the protocol.
    pub fn upper_layer(&self) -> Result<(u8, bool, &[u8])> {
        walk_extension_headers(self.next_header(), self.payload())
    }
}

impl<'a> Ipv6Packet<&'a [u8]> {
    /// As [`Ipv6Packet::upper_layer`], with the buffer's lifetime.
    pub fn into_upper_layer(self) -> Result<(u8, bool, &'a [u8])> {
        let end = HEADER_LEN + self.payload_len();
        walk_extension_headers(self.next_header(), &self.buf[HEADER_LEN..end])
    }
}

/// Skips extension headers starting with `next` over `rest` (for callers
/// holding only part of a packet).
pub(crate) fn walk(next: u8, rest: &[u8]) -> Result<(u8, bool, &[u8])> {
    walk_extension_headers(next, rest)
}

/// Skips extension headers starting with `next` over `rest`.
fn walk_extension_headers(mut next: u8, mut rest: &[u8]) -> Result<(u8, bool, &[u8])> {
    let mut fragment = false;
    {
        // A chain can hold at most as many headers as 8-byte units fit; the
        // bound makes the loop finite whatever the input.
        for _ in 0..=rest.len() / 8 {
            match next {
                HOP_BY_HOP | ROUTING | DEST_OPTS | MOBILITY | HIP | SHIM6 => {
                    if rest.len() < 2 {
                        return Err(Error::Truncated);
                    }
                    let len = (usize::from(rest[1]) + 1) * 8;
                    if rest.len() < len {
                        return Err(Error::Truncated);
                    }
                    next = rest[0];
                    rest = &rest[len..];
                }
                FRAGMENT => {
                    if rest.len() < 8 {
                        return Err(Error::Truncated);
                    }
                    let off_m = u16::from_be_bytes([rest[2], rest[3]]);
                    fragment |= off_m & 0xfff9 != 0;
                    next = rest[0];
                    rest = &rest[8..];
                }
                AUTH => {
                    // RFC 4302: the length is in 4-byte units, minus 2.
                    if rest.len() < 2 {
                        return Err(Error::Truncated);
                    }
                    let len = (usize::from(rest[1]) + 2) * 4;
                    if rest.len() < len {
                        return Err(Error::Truncated);
                    }
                    next = rest[0];
                    rest = &rest[len..];
                }
                ESP => return Ok((ESP, fragment, rest)),
                proto => return Ok((proto, fragment, rest)),
            }
        }
        Err(Error::Malformed("IPv6 extension header chain does not end"))
    }
}

/// The fields of a fixed IPv6 header; `emit` writes no extension headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Next header (the upper-layer protocol when there are no extensions).
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Payload length.
    pub payload_len: usize,
}

impl Ipv6Repr {
    /// Parses the fixed header of a checked packet.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv6Packet<T>) -> Result<Self> {
        Ok(Ipv6Repr {
            src: p.src_addr(),
            dst: p.dst_addr(),
            next_header: p.next_header(),
            hop_limit: p.hop_limit(),
            flow_label: p.flow_label(),
            payload_len: p.payload_len(),
        })
    }

    /// Writes the 40-byte fixed header at the front of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let plen = u16::try_from(self.payload_len).map_err(|_| Error::Unsupported("IPv6 jumbogram"))?;
        let h = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        let fl = self.flow_label & 0x000f_ffff;
        h[0..4].copy_from_slice(&(0x6000_0000 | fl).to_be_bytes());
        h[4..6].copy_from_slice(&plen.to_be_bytes());
        h[6] = self.next_header;
        h[7] = self.hop_limit;
        h[8..24].copy_from_slice(&self.src.octets());
        h[24..40].copy_from_slice(&self.dst.octets());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet_with_exts(exts: &[(u8, Vec<u8>)], upper: u8, payload: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        for (i, (_, ext)) in exts.iter().enumerate() {
            let mut e = ext.clone();
            e[0] = exts.get(i + 1).map_or(upper, |x| x.0);
            body.extend_from_slice(&e);
        }
        body.extend_from_slice(payload);
        let r = Ipv6Repr {
            src: "dead:1::1".parse().unwrap(),
            dst: "dead:1::2".parse().unwrap(),
            next_header: exts.first().map_or(upper, |x| x.0),
            hop_limit: 64,
            flow_label: 0xabcde,
            payload_len: body.len(),
        };
        let mut buf = vec![0u8; HEADER_LEN];
        r.emit(&mut buf).unwrap();
        buf.extend_from_slice(&body);
        buf
    }

    #[test]
    fn skips_extension_headers() {
        let hbh = (HOP_BY_HOP, vec![0, 0, 1, 4, 0, 0, 0, 0]);
        let dst = (DEST_OPTS, vec![0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let frag = (FRAGMENT, vec![0, 0, 0, 0, 0, 0, 0, 1]);
        let buf = packet_with_exts(&[hbh, dst, frag], 6, b"tcp!");
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        let (proto, fragment, upper) = p.upper_layer().unwrap();
        assert_eq!((proto, fragment, upper), (6, false, &b"tcp!"[..]));
        assert_eq!(Ipv6Repr::parse(&p).unwrap().flow_label, 0xabcde);
    }

    #[test]
    fn sees_a_fragment() {
        let frag = (FRAGMENT, vec![0, 0, 0x00, 0x01, 0, 0, 0, 1]); // offset 0, M set
        let buf = packet_with_exts(&[frag], 6, b"x");
        let (_, fragment, _) = Ipv6Packet::new_checked(&buf[..]).unwrap().upper_layer().unwrap();
        assert!(fragment);
    }

    #[test]
    fn truncated_extension_is_an_error() {
        let hbh = (HOP_BY_HOP, vec![0, 3, 0, 0, 0, 0, 0, 0]); // claims 32 bytes
        let buf = packet_with_exts(&[hbh], 6, b"");
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.upper_layer().err(), Some(Error::Truncated));
    }
}
