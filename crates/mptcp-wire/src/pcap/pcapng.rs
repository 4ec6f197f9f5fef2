//! The pcapng format (draft-ietf-opsawg-pcapng).
//!
//! A file is a sequence of blocks, each `type (4) | total length (4) | body |
//! total length (4)`, the total length a multiple of 4 and written twice. A
//! Section Header Block opens each section and sets its byte order; the
//! Interface Description Blocks that follow number the section's interfaces
//! from 0 and give each a link type and a timestamp resolution. Packets come
//! in Enhanced Packet Blocks (interface, 64-bit timestamp, lengths, data,
//! options), Simple Packet Blocks (original length and data only, on
//! interface 0) or the obsolete Packet Blocks. Every other block is skipped.

use std::io::Read;

use super::source::Source;
use super::{LinkType, MAX_CAPLEN, PcapError, Record};

/// The Section Header Block type, 0x0A0D0D0A: a palindrome, so the same
/// bytes in either byte order.
pub(super) const SHB_TYPE_BYTES: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const BOM_BIG: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
const BOM_LITTLE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];

const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;

/// Smallest block lengths: SHB 28, IDB 20, EPB and PB 32, SPB 16, any 12.
const SHB_MIN: u32 = 28;
const IDB_MIN: u32 = 20;
const PACKET_BLOCK_MIN: u32 = 32;
const SPB_MIN: u32 = 16;
const BLOCK_MIN: u32 = 12;

/// The largest block that is read into memory: one packet of
/// [`MAX_CAPLEN`] bytes with ample room for options. A longer section or
/// interface block, or a longer packet block, is malformed; a longer block of
/// another type is skipped without being buffered.
const MAX_BUFFERED_BLOCK: u32 = 1024 * 1024;

/// Interface Description Block options used.
const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// The unit of an interface's timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    /// 10^-n seconds.
    Pow10(u8),
    /// 2^-n seconds.
    Pow2(u8),
}

impl Resolution {
    /// From the `if_tsresol` byte: the top bit chooses base 2 or 10, the rest
    /// is the negative exponent.
    fn from_option(b: u8) -> Self {
        if b & 0x80 == 0 { Resolution::Pow10(b) } else { Resolution::Pow2(b & 0x7f) }
    }

    /// `ticks` of this unit in nanoseconds, saturating at `u64::MAX`.
    fn to_nanos(self, ticks: u64) -> u64 {
        match self {
            Resolution::Pow10(n) if n <= 9 => ticks.saturating_mul(10u64.pow(u32::from(9 - n))),
            Resolution::Pow10(n) => {
                // 10^19 is the largest power of ten in a u64; dividing by
                // more leaves nothing.
                let d = u32::from(n - 9);
                if d > 19 { 0 } else { ticks / 10u64.pow(d) }
            }
            Resolution::Pow2(n) => {
                let nanos = (u128::from(ticks) * 1_000_000_000) >> n;
                u64::try_from(nanos).unwrap_or(u64::MAX)
            }
        }
    }
}

/// What an Interface Description Block says.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    resolution: Resolution,
    /// `if_tsoffset`: seconds to add to every timestamp.
    offset_secs: i64,
}

impl Interface {
    fn timestamp(&self, ticks: u64) -> u64 {
        let nanos = self.resolution.to_nanos(ticks);
        if self.offset_secs == 0 {
            return nanos;
        }
        let t = i128::from(self.offset_secs) * 1_000_000_000 + i128::from(nanos);
        u64::try_from(t.max(0)).unwrap_or(u64::MAX)
    }
}

/// The state of the current section.
#[derive(Debug)]
pub(super) struct State {
    big_endian: bool,
    interfaces: Vec<Interface>,
}

/// A packet found in a block: where its bytes are within the block.
struct Found {
    ts_nanos: u64,
    orig_len: u32,
    link: LinkType,
    data_start: usize,
    data_len: usize,
}

impl State {
    /// Reads the Section Header Block that opens the file.
    pub(super) fn open<R: Read>(src: &mut Source<R>) -> Result<Self, PcapError> {
        let mut s = State { big_endian: false, interfaces: Vec::new() };
        s.read_section_header(src, true)?;
        Ok(s)
    }

    /// The next packet; see [`super::CaptureReader::next_record`].
    pub(super) fn next_record<'s, R: Read>(&mut self, src: &'s mut Source<R>) -> Result<Option<Record<'s>>, PcapError> {
        let (offset, len, found) = loop {
            let offset = src.offset();
            if src.fill(8)? == 0 {
                return Ok(None);
            }
            let Some(h) = src.peek_array::<8>() else {
                return Err(PcapError::Truncated { offset });
            };
            if [h[0], h[1], h[2], h[3]] == SHB_TYPE_BYTES {
                self.read_section_header(src, false)?;
                continue;
            }
            let be = self.big_endian;
            let block_type = read_u32([h[0], h[1], h[2], h[3]], be);
            let len = read_u32([h[4], h[5], h[6], h[7]], be);
            if len < BLOCK_MIN || !len.is_multiple_of(4) {
                return Err(PcapError::Malformed {
                    offset,
                    what: "block total length below 12 or not a multiple of 4",
                });
            }
            match block_type {
                EPB | PB | SPB | IDB => {
                    let block = buffer_block(src, len, offset, be)?;
                    if block_type == IDB {
                        let iface = parse_interface(block, offset, be)?;
                        self.interfaces.push(iface);
                        src.take(block_len(len));
                    } else {
                        let found = self.parse_packet(block_type, block, offset)?;
                        break (offset, block_len(len), found);
                    }
                }
                _ => skip_block(src, len, offset, be)?,
            }
        };
        let block = src.take(len).ok_or(PcapError::Truncated { offset })?;
        let data = found
            .data_start
            .checked_add(found.data_len)
            .and_then(|end| block.get(found.data_start..end))
            .ok_or(PcapError::Malformed { offset, what: "packet data overruns its block" })?;
        Ok(Some(Record { ts_nanos: found.ts_nanos, orig_len: found.orig_len, data, link: found.link }))
    }

    /// Reads a Section Header Block: the byte order of the section, and a
    /// fresh list of interfaces. At the start of the file (`first`) an input
    /// too short or without the byte-order magic is not a pcapng file.
    fn read_section_header<R: Read>(&mut self, src: &mut Source<R>, first: bool) -> Result<(), PcapError> {
        let offset = src.offset();
        let short = |what: &'static str| {
            if first { PcapError::NotACapture } else { PcapError::Malformed { offset, what } }
        };
        let got = src.fill(SHB_MIN as usize)?;
        if got < SHB_MIN as usize {
            return Err(if first { PcapError::NotACapture } else { PcapError::Truncated { offset } });
        }
        let h = src.peek_array::<16>().ok_or(PcapError::Truncated { offset })?;
        let be = match [h[8], h[9], h[10], h[11]] {
            BOM_BIG => true,
            BOM_LITTLE => false,
            _ => return Err(short("section header without byte-order magic")),
        };
        let len = read_u32([h[4], h[5], h[6], h[7]], be);
        if len < SHB_MIN || !len.is_multiple_of(4) {
            return Err(short("section header length below 28 or not a multiple of 4"));
        }
        let major = if be { u16::from_be_bytes([h[12], h[13]]) } else { u16::from_le_bytes([h[12], h[13]]) };
        if major != 1 {
            return Err(PcapError::Malformed { offset, what: "unsupported pcapng major version (not 1)" });
        }
        match buffer_block(src, len, offset, be) {
            // A file whose first header is cut short is not a capture.
            Err(PcapError::Truncated { .. }) if first => return Err(PcapError::NotACapture),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        src.take(block_len(len));
        self.big_endian = be;
        self.interfaces.clear();
        Ok(())
    }

    /// Finds the packet in an EPB, PB or SPB (`block` is the whole block).
    fn parse_packet(&self, block_type: u32, block: &[u8], offset: u64) -> Result<Found, PcapError> {
        let be = self.big_endian;
        let malformed = |what| PcapError::Malformed { offset, what };
        let field = |at| u32_at(block, at, be).ok_or(malformed("packet block too short"));
        // The body ends before the trailing length.
        let body_end = block.len().saturating_sub(4);
        if block_type == SPB {
            if block.len() < SPB_MIN as usize {
                return Err(malformed("simple packet block shorter than 16 bytes"));
            }
            let iface = self.interfaces.first().ok_or(malformed("simple packet block before any interface"))?;
            let orig_len = field(8)?;
            // Captured length = min(original length, snaplen of interface
            // 0), within the block.
            let mut caplen = orig_len;
            if iface.snaplen != 0 {
                caplen = caplen.min(iface.snaplen);
            }
            let room = body_end - 12;
            let data_len = usize::try_from(caplen).unwrap_or(usize::MAX).min(room);
            if data_len > MAX_CAPLEN as usize {
                return Err(malformed("captured length above 256 KiB"));
            }
            return Ok(Found { ts_nanos: 0, orig_len, link: iface.link, data_start: 12, data_len });
        }
        if block.len() < PACKET_BLOCK_MIN as usize {
            return Err(malformed("packet block shorter than 32 bytes"));
        }
        let iface_id = if block_type == EPB {
            field(8)?
        } else {
            // The obsolete Packet Block: 16-bit interface, 16-bit drop count.
            u32::from(u16_at(block, 8, be).ok_or(malformed("packet block too short"))?)
        };
        let ticks = (u64::from(field(12)?) << 32) | u64::from(field(16)?);
        let caplen = field(20)?;
        let orig_len = field(24)?;
        if caplen > MAX_CAPLEN {
            return Err(malformed("captured length above 256 KiB"));
        }
        let data_len = caplen as usize;
        if 28 + data_len > body_end {
            return Err(malformed("captured length overruns its block"));
        }
        let iface = usize::try_from(iface_id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .ok_or(malformed("packet block names an undeclared interface"))?;
        Ok(Found { ts_nanos: iface.timestamp(ticks), orig_len, link: iface.link, data_start: 28, data_len })
    }
}

/// `len` as a buffer length; blocks that are buffered are at most
/// [`MAX_BUFFERED_BLOCK`] long, so this is lossless.
fn block_len(len: u32) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX)
}

/// Brings the whole block of total length `len` (already checked to be at
/// least 12 and a multiple of 4) into the buffer, checks that its trailing
/// length matches, and returns it without consuming it.
fn buffer_block<R: Read>(src: &mut Source<R>, len: u32, offset: u64, be: bool) -> Result<&[u8], PcapError> {
    if len > MAX_BUFFERED_BLOCK {
        return Err(PcapError::Malformed { offset, what: "block longer than 1 MiB" });
    }
    let n = block_len(len);
    if src.fill(n)? < n {
        return Err(PcapError::Truncated { offset });
    }
    let block = src.peek(n).ok_or(PcapError::Truncated { offset })?;
    if u32_at(block, n - 4, be) != Some(len) {
        return Err(PcapError::Malformed { offset, what: "block total length differs at its start and end" });
    }
    Ok(block)
}

/// Consumes a block that carries no packet, buffered if it is small,
/// streamed past if not.
fn skip_block<R: Read>(src: &mut Source<R>, len: u32, offset: u64, be: bool) -> Result<(), PcapError> {
    if len <= MAX_BUFFERED_BLOCK {
        buffer_block(src, len, offset, be)?;
        src.take(block_len(len));
        return Ok(());
    }
    let body = u64::from(len - 4);
    if src.skip(body)? < body {
        return Err(PcapError::Truncated { offset });
    }
    if src.fill(4)? < 4 {
        return Err(PcapError::Truncated { offset });
    }
    let trailer = src.peek_array::<4>().map(|b| read_u32(b, be));
    if trailer != Some(len) {
        return Err(PcapError::Malformed { offset, what: "block total length differs at its start and end" });
    }
    src.take(4);
    Ok(())
}

/// Reads an Interface Description Block (`block` is the whole block).
fn parse_interface(block: &[u8], offset: u64, be: bool) -> Result<Interface, PcapError> {
    let malformed = |what| PcapError::Malformed { offset, what };
    if block.len() < IDB_MIN as usize {
        return Err(malformed("interface description block shorter than 20 bytes"));
    }
    let short = malformed("interface description block too short");
    let link = u16_at(block, 8, be).ok_or(short)?;
    let snaplen = u32_at(block, 12, be).ok_or(malformed("interface description block too short"))?;
    let mut iface = Interface {
        link: LinkType::from_u32(u32::from(link)),
        snaplen,
        // Microseconds unless if_tsresol says otherwise.
        resolution: Resolution::Pow10(6),
        offset_secs: 0,
    };
    let options = block.get(16..block.len() - 4).unwrap_or(&[]);
    let mut at = 0usize;
    while at + 4 <= options.len() {
        let code = u16_at(options, at, be).unwrap_or(OPT_END);
        let olen = usize::from(u16_at(options, at + 2, be).unwrap_or(0));
        if code == OPT_END {
            break;
        }
        let value = options.get(at + 4..at + 4 + olen).ok_or(malformed("interface option overruns its block"))?;
        match (code, value) {
            (OPT_IF_TSRESOL, [b, ..]) => iface.resolution = Resolution::from_option(*b),
            (OPT_IF_TSOFFSET, &[a, b, c, d, e, f, g, h]) => {
                let bytes = [a, b, c, d, e, f, g, h];
                iface.offset_secs = if be { i64::from_be_bytes(bytes) } else { i64::from_le_bytes(bytes) };
            }
            _ => {}
        }
        // Option values are padded to 32 bits.
        at += 4 + olen.div_ceil(4) * 4;
    }
    Ok(iface)
}

fn read_u32(b: [u8; 4], big_endian: bool) -> u32 {
    if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
}

fn u32_at(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(read_u32(bytes, big_endian))
}

fn u16_at(b: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let bytes: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian { u16::from_be_bytes(bytes) } else { u16::from_le_bytes(bytes) })
}

#[cfg(test)]
mod tests {
    use super::Resolution;

    #[test]
    fn resolutions() {
        assert_eq!(Resolution::from_option(6).to_nanos(1_234_567), 1_234_567_000);
        assert_eq!(Resolution::from_option(9).to_nanos(42), 42);
        assert_eq!(Resolution::from_option(0).to_nanos(3), 3_000_000_000);
        assert_eq!(Resolution::from_option(12).to_nanos(5_000), 5);
        assert_eq!(Resolution::from_option(127).to_nanos(u64::MAX), 0);
        assert_eq!(Resolution::from_option(0).to_nanos(u64::MAX), u64::MAX);
        // 2^-10 s = 976562.5 ns; 2^-30 s just under 1 ns.
        assert_eq!(Resolution::from_option(0x80 | 10).to_nanos(1024), 1_000_000_000);
        assert_eq!(Resolution::from_option(0x80 | 30).to_nanos(1 << 30), 1_000_000_000);
        assert_eq!(Resolution::from_option(0xff).to_nanos(u64::MAX), 0);
        assert_eq!(Resolution::from_option(0x80).to_nanos(u64::MAX), u64::MAX);
    }
}
