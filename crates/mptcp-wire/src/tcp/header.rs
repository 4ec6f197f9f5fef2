//! The TCP header: a checked view and a parsed value.

use super::option::{OptionList, TcpOption, TcpOptionIter, emit_options, options_len};
use crate::ip::{PROTO_TCP, pseudo_header_checksum};
use crate::{Error, Result};
use core::net::IpAddr;

/// Length of a TCP header without options.
pub const HEADER_LEN: usize = 20;

/// The TCP control bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(pub u8);

impl Flags {
    /// FIN: no more data from the sender.
    pub const FIN: Flags = Flags(0x01);
    /// SYN: synchronise sequence numbers.
    pub const SYN: Flags = Flags(0x02);
    /// RST: reset the connection.
    pub const RST: Flags = Flags(0x04);
    /// PSH: push.
    pub const PSH: Flags = Flags(0x08);
    /// ACK: the acknowledgment field is significant.
    pub const ACK: Flags = Flags(0x10);
    /// URG: the urgent pointer is significant.
    pub const URG: Flags = Flags(0x20);
    /// ECE: ECN echo (RFC 3168).
    pub const ECE: Flags = Flags(0x40);
    /// CWR: congestion window reduced (RFC 3168).
    pub const CWR: Flags = Flags(0x80);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    /// The union of two flag sets.
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
    /// SYN set.
    pub const fn syn(self) -> bool {
        self.0 & 0x02 != 0
    }
    /// ACK set.
    pub const fn ack(self) -> bool {
        self.0 & 0x10 != 0
    }
    /// FIN set.
    pub const fn fin(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// RST set.
    pub const fn rst(self) -> bool {
        self.0 & 0x04 != 0
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

/// A checked view of a TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps `buf` after checking that the data offset is sane and fits.
    pub fn new_checked(buf: T) -> Result<Self> {
        let b = buf.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let off = usize::from(b[12] >> 4) * 4;
        if off < HEADER_LEN {
            return Err(Error::Malformed("TCP data offset below 5"));
        }
        if b.len() < off {
            return Err(Error::Truncated);
        }
        Ok(TcpPacket { buf })
    }

    fn b(&self) -> &[u8] {
        self.buf.as_ref()
    }
    /// Source port.
    pub fn src_port(&self) -> u16 {
        u16::from_be_bytes([self.b()[0], self.b()[1]])
    }
    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        u16::from_be_bytes([self.b()[2], self.b()[3]])
    }
    /// Sequence number.
    pub fn seq(&self) -> u32 {
        let b = self.b();
        u32::from_be_bytes([b[4], b[5], b[6], b[7]])
    }
    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        let b = self.b();
        u32::from_be_bytes([b[8], b[9], b[10], b[11]])
    }
    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[12] >> 4) * 4
    }
    /// Control bits.
    pub fn flags(&self) -> Flags {
        Flags(self.b()[13])
    }
    /// Window field (unscaled).
    pub fn window(&self) -> u16 {
        u16::from_be_bytes([self.b()[14], self.b()[15]])
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.b()[16], self.b()[17]])
    }
    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        u16::from_be_bytes([self.b()[18], self.b()[19]])
    }
    /// The option area.
    pub fn options_raw(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.header_len()]
    }
    /// The options, parsed one at a time.
    pub fn options(&self) -> TcpOptionIter<'_> {
        TcpOptionIter::new(self.options_raw())
    }
    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
    /// Whether the checksum verifies for this segment between `src` and `dst`.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        let b = self.b();
        let mut c = pseudo_header_checksum(src, dst, PROTO_TCP, b.len() as u32);
        c.add(b);
        c.sum() == 0xffff
    }
}

impl<'a> TcpPacket<&'a [u8]> {
    /// The option area, with the buffer's lifetime.
    pub fn options_raw_ref(&self) -> &'a [u8] {
        let off = self.header_len();
        &self.buf[HEADER_LEN..off]
    }
    /// The payload, with the buffer's lifetime.
    pub fn payload_ref(&self) -> &'a [u8] {
        let off = self.header_len();
        &self.buf[off..]
    }
}

/// Computes the TCP checksum of `segment` (its checksum field must be zero or
/// will be counted as it is) between `src` and `dst`.
pub fn tcp_checksum(src: IpAddr, dst: IpAddr, segment: &[u8]) -> u16 {
    let mut c = pseudo_header_checksum(src, dst, PROTO_TCP, segment.len() as u32);
    c.add(segment);
    c.finish()
}

/// The checksum field of a segment whose checksum the device completes
/// (Linux's CHECKSUM_PARTIAL, a virtio-net header's NEEDS_CSUM): the folded,
/// not complemented, pseudo-header sum over a TCP length of `tcp_len`.
pub fn tcp_checksum_partial(src: IpAddr, dst: IpAddr, tcp_len: usize) -> u16 {
    pseudo_header_checksum(src, dst, PROTO_TCP, tcp_len as u32).sum()
}

/// A parsed TCP segment. The options are held in a fixed-capacity list (no heap
/// allocation); `payload` borrows from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpRepr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful when ACK is set).
    pub ack: u32,
    /// Control bits.
    pub flags: Flags,
    /// Window field (unscaled).
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options in wire order (NOPs and EOL included, so emit can reproduce them).
    pub options: OptionList<'a>,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parses a checked segment. With `addrs` the checksum is verified (a bad
    /// one is [`Error::Checksum`]); without, it is not looked at. A malformed
    /// option is an error.
    pub fn parse(p: &TcpPacket<&'a [u8]>, addrs: Option<(IpAddr, IpAddr)>) -> Result<Self> {
        if let Some((src, dst)) = addrs
            && !p.verify_checksum(src, dst)
        {
            return Err(Error::Checksum);
        }
        let mut options = OptionList::new();
        for o in TcpOptionIter::new(p.options_raw_ref()) {
            // Cannot overflow: each option takes at least one of the 40 bytes.
            options.push(o?);
        }
        Ok(TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq: p.seq(),
            ack: p.ack(),
            flags: p.flags(),
            window: p.window(),
            urgent: p.urgent(),
            options,
            payload: p.payload_ref(),
        })
    }

    /// Header length once emitted (options padded to a multiple of 4).
    pub fn header_len(&self) -> usize {
        HEADER_LEN + options_len(&self.options)
    }

    /// Total length once emitted.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// The first MPTCP option, if any.
    pub fn mptcp(&self) -> impl Iterator<Item = &crate::mptcp::MptcpOption<'a>> {
        self.options.iter().filter_map(|o| match o {
            TcpOption::Mptcp(m) => Some(m),
            _ => None,
        })
    }

    /// Writes the segment into `buf` and fills in the checksum for `src`→`dst`.
    /// Returns the bytes written.
    pub fn emit(&self, src: IpAddr, dst: IpAddr, buf: &mut [u8]) -> Result<usize> {
        let hlen = self.header_len();
        if hlen > 60 {
            return Err(Error::Malformed("TCP options exceed 40 bytes"));
        }
        let total = hlen + self.payload.len();
        let out = buf.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        out[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        out[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        out[4..8].copy_from_slice(&self.seq.to_be_bytes());
        out[8..12].copy_from_slice(&self.ack.to_be_bytes());
        out[12] = ((hlen / 4) as u8) << 4;
        out[13] = self.flags.0;
        out[14..16].copy_from_slice(&self.window.to_be_bytes());
        out[16..18].copy_from_slice(&[0, 0]);
        out[18..20].copy_from_slice(&self.urgent.to_be_bytes());
        emit_options(&self.options, &mut out[HEADER_LEN..hlen])?;
        out[hlen..].copy_from_slice(self.payload);
        let c = tcp_checksum(src, dst, out);
        out[16..18].copy_from_slice(&c.to_be_bytes());
        Ok(total)
    }
}

/// Builds an option list from a slice (a convenience for emitters and tests);
/// more than 40 options is an error.
pub fn option_list<'a>(opts: &[TcpOption<'a>]) -> Result<OptionList<'a>> {
    let mut l = OptionList::new();
    for o in opts {
        l.try_push(o.clone()).map_err(|_| Error::Malformed("more than 40 TCP options"))?;
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_parse_round_trips_with_checksum() {
        let src: IpAddr = "10.0.1.1".parse().unwrap();
        let dst: IpAddr = "10.0.1.2".parse().unwrap();
        let repr = TcpRepr {
            src_port: 40000,
            dst_port: 8080,
            seq: 0xffff_fff0,
            ack: 7,
            flags: Flags::ACK | Flags::PSH,
            window: 502,
            urgent: 0,
            options: option_list(&[
                TcpOption::NoOperation,
                TcpOption::NoOperation,
                TcpOption::Timestamps { tsval: 5, tsecr: 6 },
            ])
            .unwrap(),
            payload: b"hello",
        };
        let mut buf = [0u8; 64];
        let n = repr.emit(src, dst, &mut buf).unwrap();
        assert_eq!(n, 37);
        let p = TcpPacket::new_checked(&buf[..n]).unwrap();
        assert!(p.verify_checksum(src, dst));
        assert_eq!(TcpRepr::parse(&p, Some((src, dst))).unwrap(), repr);
        buf[n - 1] ^= 1;
        let p = TcpPacket::new_checked(&buf[..n]).unwrap();
        assert_eq!(TcpRepr::parse(&p, Some((src, dst))).err(), Some(Error::Checksum));
    }

    #[test]
    fn ipv6_checksum_verifies() {
        let src: IpAddr = "dead:1::1".parse().unwrap();
        let dst: IpAddr = "dead:1::2".parse().unwrap();
        let repr = TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: 3,
            ack: 0,
            flags: Flags::SYN,
            window: 65535,
            urgent: 0,
            options: option_list(&[TcpOption::MaxSegmentSize(1440)]).unwrap(),
            payload: b"",
        };
        let mut buf = [0u8; 24];
        repr.emit(src, dst, &mut buf).unwrap();
        assert!(TcpPacket::new_checked(&buf[..]).unwrap().verify_checksum(src, dst));
    }

    #[test]
    fn bad_data_offset() {
        let mut buf = [0u8; 20];
        buf[12] = 0x40;
        assert!(matches!(TcpPacket::new_checked(&buf[..]), Err(Error::Malformed(_))));
        buf[12] = 0x60;
        assert_eq!(TcpPacket::new_checked(&buf[..]).err(), Some(Error::Truncated));
    }
}
