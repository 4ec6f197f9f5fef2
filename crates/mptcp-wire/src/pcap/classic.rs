//! The classic libpcap format.
//!
//! A 24-byte file header — magic, version 2.4, two unused words, snapshot
//! length, link type — then records, each a 16-byte header (seconds,
//! fraction of a second, captured length, original length) and the captured
//! bytes. Every field is in the byte order of the writer, which the magic
//! number tells; so does the unit of the fraction (micro- or nanoseconds).
//! The two unused words (`thiszone`, `sigfigs`) are 0 in practice and are
//! ignored, and so is the snapshot length: each record's own captured length
//! counts.

use std::io::Read;

use super::source::Source;
use super::{LinkType, MAX_CAPLEN, PcapError, Record};

/// Length of the file header.
pub(super) const FILE_HEADER_LEN: usize = 24;
/// Length of a record header.
pub(super) const RECORD_HEADER_LEN: usize = 16;

/// The microsecond magic number.
pub(super) const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// The nanosecond magic number.
pub(super) const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// What the file header says about the records.
#[derive(Debug, Clone, Copy)]
pub(super) struct State {
    big_endian: bool,
    /// Nanoseconds per unit of the fraction field: 1000 or 1.
    frac_nanos: u64,
    link: LinkType,
}

impl State {
    /// Reads the file header; `magic` is its first four bytes.
    pub(super) fn open<R: Read>(src: &mut Source<R>, magic: [u8; 4]) -> Result<Self, PcapError> {
        let (big_endian, frac_nanos) = match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
            (MAGIC_MICROS, _) => (false, 1000),
            (MAGIC_NANOS, _) => (false, 1),
            (_, MAGIC_MICROS) => (true, 1000),
            (_, MAGIC_NANOS) => (true, 1),
            _ => return Err(PcapError::NotACapture),
        };
        if src.fill(FILE_HEADER_LEN)? < FILE_HEADER_LEN {
            return Err(PcapError::NotACapture);
        }
        let h = src.peek_array::<FILE_HEADER_LEN>().ok_or(PcapError::NotACapture)?;
        let rd16 = |b: [u8; 2]| {
            if big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) }
        };
        let major = rd16([h[4], h[5]]);
        if major != 2 {
            return Err(PcapError::Malformed { offset: 0, what: "unsupported pcap major version (not 2)" });
        }
        let link_field = read_u32([h[20], h[21], h[22], h[23]], big_endian);
        // The upper bits of the link-type field may carry the FCS length
        // (draft-ietf-opsawg-pcap §4); the link type is the low 16 bits.
        let link = LinkType::from_u32(link_field & 0xffff);
        src.take(FILE_HEADER_LEN);
        Ok(State { big_endian, frac_nanos, link })
    }

    /// The next record; see [`super::CaptureReader::next_record`].
    pub(super) fn next_record<'s, R: Read>(&self, src: &'s mut Source<R>) -> Result<Option<Record<'s>>, PcapError> {
        let offset = src.offset();
        let got = src.fill(RECORD_HEADER_LEN)?;
        if got == 0 {
            return Ok(None);
        }
        let h = match src.peek_array::<RECORD_HEADER_LEN>() {
            Some(h) => h,
            None => return Err(PcapError::Truncated { offset }),
        };
        let be = self.big_endian;
        let secs = read_u32([h[0], h[1], h[2], h[3]], be);
        let frac = read_u32([h[4], h[5], h[6], h[7]], be);
        let caplen = read_u32([h[8], h[9], h[10], h[11]], be);
        let orig_len = read_u32([h[12], h[13], h[14], h[15]], be);
        if caplen > MAX_CAPLEN {
            return Err(PcapError::Malformed { offset, what: "captured length above 256 KiB" });
        }
        // Lossless: caplen <= MAX_CAPLEN.
        let caplen = caplen as usize;
        let total = RECORD_HEADER_LEN + caplen;
        if src.fill(total)? < total {
            return Err(PcapError::Truncated { offset });
        }
        // Cannot overflow: u32::MAX * 1e9 + u32::MAX * 1000 < u64::MAX.
        let ts_nanos = u64::from(secs) * 1_000_000_000 + u64::from(frac) * self.frac_nanos;
        let record = src.take(total).ok_or(PcapError::Truncated { offset })?;
        let data = record.get(RECORD_HEADER_LEN..).ok_or(PcapError::Truncated { offset })?;
        Ok(Some(Record { ts_nanos, orig_len, data, link: self.link }))
    }
}

fn read_u32(b: [u8; 4], big_endian: bool) -> u32 {
    if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
}
