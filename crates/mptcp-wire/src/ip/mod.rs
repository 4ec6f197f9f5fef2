//! IPv4 and IPv6 headers, and a family-independent view of "an IP packet".

mod ipv4;
pub(crate) mod ipv6;

pub use ipv4::{Ipv4Packet, Ipv4Repr};
pub use ipv6::{Ipv6Packet, Ipv6Repr};

use crate::checksum::Checksum;
use crate::{Error, Result};
use core::net::IpAddr;

/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;

/// An IP packet of either family, parsed far enough to reach its transport payload.
///
/// For IPv6 the extension headers are walked and skipped; `protocol` is the
/// upper-layer protocol found at the end of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol (6 for TCP).
    pub protocol: u8,
    /// Hop limit / TTL.
    pub hop_limit: u8,
    /// True when this is a fragment other than a whole datagram: the payload is
    /// then not a complete transport segment (a first fragment) or not a
    /// transport header at all (a later fragment).
    pub fragment: bool,
    /// The transport payload, cut to the length the IP header declares.
    pub payload: &'a [u8],
}

impl<'a> IpPacket<'a> {
    /// Parses an IPv4 or IPv6 packet (the version nibble decides).
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        match bytes.first().map(|b| b >> 4) {
            Some(4) => {
                let p = Ipv4Packet::new_checked(bytes)?;
                Ok(IpPacket {
                    src: IpAddr::V4(p.src_addr()),
                    dst: IpAddr::V4(p.dst_addr()),
                    protocol: p.protocol(),
                    hop_limit: p.ttl(),
                    fragment: p.more_fragments() || p.frag_offset() != 0,
                    payload: p.into_payload(),
                })
            }
            Some(6) => {
                let p = Ipv6Packet::new_checked(bytes)?;
                let (src, dst, hop_limit) = (p.src_addr(), p.dst_addr(), p.hop_limit());
                let (protocol, fragment, payload) = p.into_upper_layer()?;
                Ok(IpPacket { src: IpAddr::V6(src), dst: IpAddr::V6(dst), protocol, hop_limit, fragment, payload })
            }
            Some(_) => Err(Error::Malformed("IP version is neither 4 nor 6")),
            None => Err(Error::Truncated),
        }
    }
}

impl<'a> IpPacket<'a> {
    /// Parses a packet that may have been cut short by a capture's snapshot
    /// length: the header must be whole, the payload is what was captured.
    /// Returns the packet (its `payload` possibly shorter than declared) and
    /// the payload length the header declares.
    pub fn parse_snapped(bytes: &'a [u8]) -> Result<(Self, usize)> {
        match bytes.first().map(|b| b >> 4) {
            Some(4) => {
                let ihl = usize::from(bytes[0] & 0x0f) * 4;
                let total = match bytes.get(2..4) {
                    Some(t) => usize::from(u16::from_be_bytes([t[0], t[1]])),
                    None => return Err(Error::Truncated),
                };
                if ihl < 20 || total < ihl {
                    return Err(Error::Malformed("IPv4 header or total length"));
                }
                let header = bytes.get(..ihl).ok_or(Error::Truncated)?;
                let p = Ipv4Packet::new_checked(header_with_len(header, ihl))?;
                let end = total.min(bytes.len());
                let fragment = p.more_fragments() || p.frag_offset() != 0;
                let pkt = IpPacket {
                    src: IpAddr::V4(p.src_addr()),
                    dst: IpAddr::V4(p.dst_addr()),
                    protocol: p.protocol(),
                    hop_limit: p.ttl(),
                    fragment,
                    payload: &bytes[ihl..end],
                };
                Ok((pkt, total - ihl))
            }
            Some(6) => {
                let head = bytes.get(..ipv6::HEADER_LEN).ok_or(Error::Truncated)?;
                let declared = usize::from(u16::from_be_bytes([head[4], head[5]]));
                let end = (ipv6::HEADER_LEN + declared).min(bytes.len());
                let avail = end - ipv6::HEADER_LEN;
                // The fixed header alone, its payload length set to 0: a checked
                // view even when the payload was cut by the snapshot length.
                let mut fixed = [0u8; ipv6::HEADER_LEN];
                fixed.copy_from_slice(head);
                fixed[4..6].copy_from_slice(&[0, 0]);
                let p = Ipv6Packet::new_checked(&fixed[..])?;
                let (src, dst, hop_limit, next) = (p.src_addr(), p.dst_addr(), p.hop_limit(), p.next_header());
                let (protocol, fragment, upper) = ipv6::walk(next, &bytes[ipv6::HEADER_LEN..end])?;
                let ext = avail - upper.len();
                let pkt = IpPacket {
                    src: IpAddr::V6(src),
                    dst: IpAddr::V6(dst),
                    protocol,
                    hop_limit,
                    fragment,
                    payload: upper,
                };
                Ok((pkt, declared.saturating_sub(ext)))
            }
            Some(_) => Err(Error::Malformed("IP version is neither 4 nor 6")),
            None => Err(Error::Truncated),
        }
    }
}

/// The IPv4 header alone, for a checked view of a packet cut after it.
fn header_with_len(header: &[u8], ihl: usize) -> [u8; 60] {
    let mut h = [0u8; 60];
    h[..ihl].copy_from_slice(header);
    // Total length = header length: the view then covers the header only.
    h[2..4].copy_from_slice(&(ihl as u16).to_be_bytes());
    h
}

/// Starts a transport checksum with the IPv4 or IPv6 pseudo-header
/// (RFC 9293 §3.1, RFC 8200 §8.1). The two addresses must be of one family.
pub fn pseudo_header_checksum(src: IpAddr, dst: IpAddr, protocol: u8, length: u32) -> Checksum {
    let mut c = Checksum::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            c.add(&s.octets()).add(&d.octets());
            c.add(&[0, protocol]).add_u16(length as u16);
        }
        (s, d) => {
            c.add(&ip_octets16(s)).add(&ip_octets16(d));
            c.add_u32(length).add(&[0, 0, 0, protocol]);
        }
    }
    c
}

/// The 16-byte form of an address (IPv4 mapped into IPv6 for a mixed pair, which
/// no real packet has; it keeps the function total).
fn ip_octets16(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Writes an IP header for `src`→`dst` (family taken from the addresses) with a
/// transport payload of `payload_len` bytes into the front of `buf`; returns the
/// header length. The payload itself is the caller's to write after it.
pub fn emit_ip_header(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    hop_limit: u8,
    payload_len: usize,
    buf: &mut [u8],
) -> Result<usize> {
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let repr = Ipv4Repr { src, dst, protocol, ttl: hop_limit, payload_len, ident: 0, dont_frag: true };
            repr.emit(buf)?;
            Ok(ipv4::HEADER_LEN)
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let repr = Ipv6Repr { src, dst, next_header: protocol, hop_limit, payload_len, flow_label: 0 };
            repr.emit(buf)?;
            Ok(ipv6::HEADER_LEN)
        }
        _ => Err(Error::Malformed("source and destination of different IP families")),
    }
}
