//! DSS mappings of one subflow direction: which subflow bytes carry which data
//! sequence numbers (RFC 8684 §3.3.1).

use crate::stream::Stream;
use mptcp_wire::crypto::DssChecksum;
use std::collections::VecDeque;

/// How many mappings a subflow direction remembers. The Linux kernel maps at
/// most 64 KiB at a time, so this reaches far further back than any
/// retransmission in a capture.
const REMEMBERED: usize = 64;

/// One mapping, in the analyzer's unwrapped positions.
#[derive(Debug)]
pub struct Mapping {
    /// Data sequence number of the first byte.
    pub dsn: u64,
    /// Subflow position of the first byte (relative to the ISN, unwrapped).
    pub ssn: u64,
    /// Data bytes covered (the DATA_FIN's +1 not included); `u64::MAX` for an
    /// infinite mapping.
    pub len: u64,
    /// The data-level length as on the wire, for the checksum's pseudo-header.
    pub wire_len: u16,
    /// The 32-bit relative subflow sequence number as on the wire.
    pub wire_ssn: u32,
    /// The checksum to verify, until it is verified.
    checksum: Option<(u16, Stream)>,
}

/// The outcome of a checksum check, when a mapping's last byte arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumOutcome {
    /// The checksum verified.
    Ok,
    /// It did not.
    Failed,
}

impl Mapping {
    /// A mapping; `checksum` is the value to verify once every byte is seen.
    pub fn new(dsn: u64, ssn: u64, wire_ssn: u32, wire_len: u16, data_fin: bool, checksum: Option<u16>) -> Self {
        let len = if wire_len == 0 { u64::MAX } else { u64::from(wire_len) - u64::from(data_fin) };
        let checksum = checksum.filter(|_| wire_len != 0).map(|c| {
            let mut s = Stream::new(true);
            s.set_base(0);
            (c, s)
        });
        Mapping { dsn, ssn, len, wire_len, wire_ssn, checksum }
    }

    /// An infinite mapping: every subflow byte from `ssn` on is data byte
    /// `dsn + (pos - ssn)`.
    pub fn infinite(dsn: u64, ssn: u64) -> Self {
        Mapping { dsn, ssn, len: u64::MAX, wire_len: 0, wire_ssn: ssn as u32, checksum: None }
    }

    /// Whether this is an infinite mapping.
    pub fn is_infinite(&self) -> bool {
        self.len == u64::MAX
    }

    fn end(&self) -> u64 {
        self.ssn.saturating_add(self.len)
    }

    fn same_as(&self, other: &Mapping) -> bool {
        self.dsn == other.dsn && self.ssn == other.ssn && self.wire_len == other.wire_len
    }

    /// Feeds bytes at mapping offset `off` to the checksum; on the last byte,
    /// says whether it verified.
    fn feed(&mut self, off: u64, bytes: &[u8]) -> Option<ChecksumOutcome> {
        let (expected, buf) = self.checksum.as_mut()?;
        buf.insert(off, bytes);
        if buf.delivered() < self.len {
            return None;
        }
        let mut c = DssChecksum::new(self.dsn, self.wire_ssn, self.wire_len);
        c.add(buf.data().unwrap_or(&[]));
        let ok = c.verify(*expected);
        self.checksum = None;
        Some(if ok { ChecksumOutcome::Ok } else { ChecksumOutcome::Failed })
    }
}

/// A piece of a segment, translated to the data level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// `len` bytes at subflow offset `at` (into the payload) are data bytes from `dsn`.
    Mapped {
        /// Offset into the segment's payload.
        at: usize,
        /// Length.
        len: usize,
        /// Data sequence number of the first byte.
        dsn: u64,
    },
    /// `len` bytes at `at` have no mapping.
    Unmapped {
        /// Offset into the segment's payload.
        at: usize,
        /// Length.
        len: usize,
    },
}

/// The mappings of one subflow direction.
#[derive(Debug, Default)]
pub struct Mappings {
    list: VecDeque<Mapping>,
}

impl Mappings {
    /// Adds a mapping unless the same one is already known.
    pub fn add(&mut self, m: Mapping) {
        if self.list.iter().any(|x| x.same_as(&m)) {
            return;
        }
        if self.list.len() == REMEMBERED {
            self.list.pop_front();
        }
        self.list.push_back(m);
    }

    /// Whether any mapping was ever added and is still known.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Where subflow position `pos` falls at the data level if the stream
    /// goes on in order after the mapping that ends furthest before it (how a
    /// fallback continues): None when a mapping covers `pos` or none ends
    /// at or before it.
    pub fn continued(&self, pos: u64) -> Option<u64> {
        if self.list.iter().any(|m| m.ssn <= pos && pos < m.end()) {
            return None;
        }
        let m = self.list.iter().filter(|m| !m.is_infinite() && m.end() <= pos).max_by_key(|m| m.end())?;
        Some(m.dsn + (pos - m.ssn))
    }

    /// The infinite mapping, if one is in force.
    pub fn infinite(&self) -> Option<&Mapping> {
        self.list.iter().rev().find(|m| m.is_infinite())
    }

    /// Splits a segment of `len` payload bytes at subflow position `pos` into
    /// mapped and unmapped pieces, calling `f` for each in order. The newest
    /// mapping that covers a byte wins.
    pub fn translate(&self, pos: u64, len: usize, mut f: impl FnMut(Piece)) {
        let end = pos + len as u64;
        let mut at = pos;
        while at < end {
            let covering = self.list.iter().rev().find(|m| m.ssn <= at && at < m.end());
            match covering {
                Some(m) => {
                    let stop = m.end().min(end);
                    f(Piece::Mapped { at: (at - pos) as usize, len: (stop - at) as usize, dsn: m.dsn + (at - m.ssn) });
                    at = stop;
                }
                None => {
                    let next = self.list.iter().map(|m| m.ssn).filter(|&s| s > at && s < end).min().unwrap_or(end);
                    f(Piece::Unmapped { at: (at - pos) as usize, len: (next - at) as usize });
                    at = next;
                }
            }
        }
    }

    /// Feeds a segment's bytes to the checksums of the mappings they belong to;
    /// returns the outcomes of the mappings this segment completed.
    pub fn feed_checksums(&mut self, pos: u64, payload: &[u8], mut f: impl FnMut(ChecksumOutcome)) {
        let end = pos + payload.len() as u64;
        for m in self.list.iter_mut().filter(|m| m.checksum.is_some()) {
            let (s, e) = (m.ssn.max(pos), m.end().min(end));
            if s < e {
                let bytes = &payload[(s - pos) as usize..(e - pos) as usize];
                if let Some(o) = m.feed(s - m.ssn, bytes) {
                    f(o);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_continues_after_its_last_mapping() {
        let mut ms = Mappings::default();
        ms.add(Mapping::new(1000, 1, 1, 100, false, None));
        assert_eq!(ms.continued(50), None, "covered");
        assert_eq!(ms.continued(101), Some(1100));
        assert_eq!(ms.continued(151), Some(1150));
        assert_eq!(Mappings::default().continued(5), None);
    }

    #[test]
    fn translate_across_two_mappings_and_a_gap() {
        let mut m = Mappings::default();
        m.add(Mapping::new(1000, 1, 1, 10, false, None));
        m.add(Mapping::new(5000, 15, 15, 10, false, None));
        let mut out = vec![];
        m.translate(5, 15, |p| out.push(p));
        assert_eq!(
            out,
            vec![
                Piece::Mapped { at: 0, len: 6, dsn: 1004 },
                Piece::Unmapped { at: 6, len: 4 },
                Piece::Mapped { at: 10, len: 5, dsn: 5000 },
            ]
        );
    }

    #[test]
    fn data_fin_is_not_a_data_byte() {
        let m = Mapping::new(100, 1, 1, 5, true, None);
        assert_eq!(m.len, 4);
        assert!(Mapping::new(100, 1, 1, 0, false, None).is_infinite());
    }

    #[test]
    fn checksum_checked_once_whole() {
        let payload = b"hello";
        let c = mptcp_wire::crypto::dss_checksum(77, 1, 5, payload);
        let mut m = Mappings::default();
        m.add(Mapping::new(77, 1, 1, 5, false, Some(c)));
        let mut got = vec![];
        m.feed_checksums(4, &payload[3..], |o| got.push(o));
        assert!(got.is_empty());
        m.feed_checksums(1, &payload[..3], |o| got.push(o));
        assert_eq!(got, vec![ChecksumOutcome::Ok]);
        let mut m = Mappings::default();
        m.add(Mapping::new(77, 1, 1, 5, false, Some(c ^ 1)));
        m.feed_checksums(1, payload, |o| got.push(o));
        assert_eq!(got, vec![ChecksumOutcome::Ok, ChecksumOutcome::Failed]);
    }
}
