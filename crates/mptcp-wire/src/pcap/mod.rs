//! Capture files: reading classic pcap and pcapng, writing classic pcap.
//!
//! [`CaptureReader`] tells the two formats apart by their magic number and
//! hands out one [`Record`] at a time, borrowed from an internal buffer that
//! is reused from record to record, so reading allocates nothing in steady
//! state. It is precise about how a file ends: a clean end is `Ok(None)`, a
//! file cut inside a record is [`PcapError::Truncated`] with the offset of
//! that record, so a caller can report everything read before it.
//!
//! [`PcapWriter`] writes classic little-endian pcap with microsecond
//! timestamps, the format every tool reads.
//!
//! Formats: the classic format is described in draft-ietf-opsawg-pcap, pcapng
//! in draft-ietf-opsawg-pcapng; link-type numbers are the `LINKTYPE_` values of
//! the tcpdump.org registry.

use core::fmt;
use std::io::{self, Read};

mod classic;
mod pcapng;
mod source;
mod writer;

#[cfg(test)]
mod tests;

pub use writer::PcapWriter;

use source::Source;

/// The largest captured length accepted for one packet: 256 KiB, the largest
/// snapshot length tcpdump and Wireshark use. A larger length is taken as a
/// sign of corruption ([`PcapError::Malformed`]) rather than allocated.
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// The link-layer header type of the packets of a capture (or of one pcapng
/// interface).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// BSD loopback (`LINKTYPE_NULL`, 0): a 4-byte address family in the
    /// capturing host's byte order, then the packet.
    Null,
    /// Ethernet II (`LINKTYPE_ETHERNET`, 1).
    Ethernet,
    /// Raw IP, IPv4 or IPv6 by the version nibble (`LINKTYPE_RAW`, 101; the
    /// `DLT_RAW` values 12 and 14 read as this too).
    Raw,
    /// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`, 113): 16-byte header.
    LinuxSll,
    /// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`, 276): 20-byte header.
    LinuxSll2,
    /// Raw IPv4 (`LINKTYPE_IPV4`, 228).
    Ipv4,
    /// Raw IPv6 (`LINKTYPE_IPV6`, 229).
    Ipv6,
    /// Any other link type, by number.
    Other(u32),
}

impl LinkType {
    /// The link type of a `LINKTYPE_` (or `DLT_`) number.
    pub fn from_u32(n: u32) -> Self {
        match n {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            // DLT_RAW is 12 on most systems and 14 on OpenBSD; files written
            // by old libpcaps carry those numbers.
            12 | 14 | 101 => LinkType::Raw,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            other => LinkType::Other(other),
        }
    }

    /// The `LINKTYPE_` number written in a file for this link type.
    pub fn to_u32(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Other(n) => n,
        }
    }
}

/// One captured packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// When it was captured, in nanoseconds since the Unix epoch (UTC).
    /// A pcapng Simple Packet Block carries no time: its records read as 0.
    pub ts_nanos: u64,
    /// Its length on the wire, which may exceed `data.len()` when the
    /// capture kept only the first bytes of each packet.
    pub orig_len: u32,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
    /// The link-layer header type of `data`.
    pub link: LinkType,
}

/// The format of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Classic libpcap format.
    Pcap,
    /// pcapng (PCAP Next Generation).
    PcapNg,
}

/// Why a capture could not be read.
#[derive(Debug)]
pub enum PcapError {
    /// The input is neither a pcap nor a pcapng file (wrong magic number), or
    /// is shorter than the file header.
    NotACapture,
    /// The file ends inside a record (or block); `offset` is the byte offset
    /// where that record starts, the end of everything read successfully.
    Truncated {
        /// Byte offset of the record that is cut short.
        offset: u64,
    },
    /// A header or block has an impossible value.
    Malformed {
        /// Byte offset of the record, block or header holding the value.
        offset: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// Reading failed.
    Io(io::Error),
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcapError::NotACapture => f.write_str("not a pcap or pcapng capture file"),
            PcapError::Truncated { offset } => {
                write!(f, "capture file truncated: last record, at byte {offset}, is cut short")
            }
            PcapError::Malformed { offset, what } => {
                write!(f, "malformed capture file at byte {offset}: {what}")
            }
            PcapError::Io(e) => write!(f, "error reading capture file: {e}"),
        }
    }
}

impl std::error::Error for PcapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PcapError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for PcapError {
    fn from(e: io::Error) -> Self {
        PcapError::Io(e)
    }
}

/// The per-format reading state.
#[derive(Debug)]
enum State {
    Pcap(classic::State),
    PcapNg(pcapng::State),
}

/// A streaming reader of pcap and pcapng files.
///
/// It reads through its own buffer, so `r` need not be buffered (wrapping it
/// in a `BufReader` only adds a copy).
///
/// ```
/// # fn main() -> Result<(), mptcp_wire::pcap::PcapError> {
/// use mptcp_wire::pcap::{CaptureReader, LinkType, PcapWriter};
/// let mut w = PcapWriter::new(Vec::new(), LinkType::Raw, 65535)?;
/// w.write(1_500_000_000_000_000_000, &[0x45, 0, 0, 20])?;
/// let bytes = w.into_inner();
///
/// let mut r = CaptureReader::new(&bytes[..])?;
/// let mut n = 0;
/// while let Some(rec) = r.next_record()? {
///     assert_eq!(rec.link, LinkType::Raw);
///     n += 1;
/// }
/// assert_eq!(n, 1);
/// # Ok(()) }
/// ```
pub struct CaptureReader<R: Read> {
    src: Source<R>,
    state: State,
}

impl<R: Read> fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("format", &self.format())
            .field("offset", &self.src.offset())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header and tells the format by its magic number:
    /// classic pcap in either byte order with microsecond or nanosecond
    /// timestamps, or pcapng.
    ///
    /// An unknown magic number, or a file header (pcapng: the first Section
    /// Header Block) cut short, is [`PcapError::NotACapture`]; an impossible
    /// header value (such as an unknown major version) is
    /// [`PcapError::Malformed`].
    pub fn new(r: R) -> Result<Self, PcapError> {
        let mut src = Source::new(r);
        if src.fill(4)? < 4 {
            return Err(PcapError::NotACapture);
        }
        let magic = src.peek_array::<4>().ok_or(PcapError::NotACapture)?;
        let state = if magic == pcapng::SHB_TYPE_BYTES {
            State::PcapNg(pcapng::State::open(&mut src)?)
        } else {
            State::Pcap(classic::State::open(&mut src, magic)?)
        };
        Ok(CaptureReader { src, state })
    }

    /// The format of the file.
    pub fn format(&self) -> Format {
        match self.state {
            State::Pcap(_) => Format::Pcap,
            State::PcapNg(_) => Format::PcapNg,
        }
    }

    /// The next packet, or `Ok(None)` at a clean end of file (the end falls
    /// between two records).
    ///
    /// The record borrows the reader's buffer until the next call. pcapng
    /// blocks that carry no packet (statistics, name resolution, unknown
    /// types) are skipped; section and interface blocks are taken into
    /// account.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, PcapError> {
        match &mut self.state {
            State::Pcap(s) => s.next_record(&mut self.src),
            State::PcapNg(s) => s.next_record(&mut self.src),
        }
    }
}
