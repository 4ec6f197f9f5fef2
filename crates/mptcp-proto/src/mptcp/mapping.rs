//! DSS mappings (RFC 8684 §3.3.1): which subflow bytes carry which data
//! sequence numbers, as sent and as received.

use std::collections::VecDeque;

/// Most bytes one mapping covers (the data-level length is 16 bits).
pub const MAX_MAPPING: usize = 65_535;

/// A mapping we sent on a subflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentMapping {
    /// Relative subflow sequence number of the first byte.
    pub rel_ssn: u64,
    /// Data sequence number of the first byte.
    pub dsn: u64,
    /// Bytes.
    pub len: u16,
    /// DSS checksum of the mapping, when checksums are in use.
    pub checksum: Option<u16>,
}

impl SentMapping {
    fn end(&self) -> u64 {
        self.rel_ssn + u64::from(self.len)
    }
}

/// The mappings of data written to one subflow, oldest first.
#[derive(Debug, Default)]
pub struct SentMappings {
    list: VecDeque<SentMapping>,
}

impl SentMappings {
    /// Records a new mapping (always at the end of the subflow's stream).
    pub fn push(&mut self, m: SentMapping) {
        self.list.push_back(m);
    }

    /// The mapping covering subflow byte `rel`.
    pub fn covering(&self, rel: u64) -> Option<&SentMapping> {
        let i = self.list.partition_point(|m| m.end() <= rel);
        self.list.get(i).filter(|m| m.rel_ssn <= rel)
    }

    /// Forgets mappings the subflow has fully delivered (below `una_rel`).
    pub fn acked_to(&mut self, una_rel: u64) {
        while self.list.front().is_some_and(|m| m.end() <= una_rel) {
            self.list.pop_front();
        }
    }

    /// Data ranges (dsn, len) still mapped on this subflow, for reinjection.
    pub fn outstanding(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.list.iter().map(|m| (m.dsn, u64::from(m.len)))
    }

    /// The end (data sequence number) of a mapping that holds byte `dsn`
    /// and is not yet acknowledged on the subflow (its end is past `una_rel`).
    pub fn holding(&self, dsn: u64, una_rel: u64) -> Option<u64> {
        self.list
            .iter()
            .filter(|m| m.end() > una_rel)
            .find(|m| dsn.wrapping_sub(m.dsn) < u64::from(m.len))
            .map(|m| m.dsn.wrapping_add(u64::from(m.len)))
    }
}

/// The most received mappings a subflow keeps (about 400 KiB at worst).
const MAX_RECV_MAPPINGS: usize = 16_384;

/// A mapping received on a subflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMapping {
    /// Relative subflow sequence number of the first byte.
    pub rel_ssn: u64,
    /// Data sequence number of the first byte.
    pub dsn: u64,
    /// Data bytes (the DATA_FIN's one not counted); `u64::MAX`: infinite.
    pub len: u64,
    /// The DSS checksum it came with, if any.
    pub checksum: Option<u16>,
    /// It also carried the DATA_FIN (its data-level length on the wire is `len + 1`).
    pub data_fin: bool,
}

impl RecvMapping {
    /// The same mapping: same subflow bytes to the same data bytes.
    fn same(&self, o: &RecvMapping) -> bool {
        (self.rel_ssn, self.dsn, self.len) == (o.rel_ssn, o.dsn, o.len)
    }

    fn overlaps(&self, o: &RecvMapping) -> bool {
        let end = |m: &RecvMapping| m.rel_ssn.saturating_add(m.len);
        self.rel_ssn < end(o) && o.rel_ssn < end(self)
    }
}

/// A received mapping that contradicts one held for the same subflow bytes
/// (the kernel's `DSSNotMatching`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappingConflict;

/// The mappings a peer sent on one subflow: the finite ones sorted by
/// subflow sequence number (they never overlap), so that adding one and
/// finding the one for a byte take a binary search, not a scan of all held
/// (a scan per DSS was quadratic under loss, with thousands held); an
/// infinite mapping (RFC 8684 §3.7) apart.
#[derive(Debug, Default)]
pub struct RecvMappings {
    list: VecDeque<RecvMapping>,
    infinite: Option<RecvMapping>,
}

fn end(m: &RecvMapping) -> u64 {
    m.rel_ssn.saturating_add(m.len)
}

impl RecvMappings {
    /// Adds a mapping unless it is already known. Mappings leave when their
    /// bytes are consumed (`consumed_to`), not by age: an old one may cover a
    /// hole that is filled last. The cap only bounds what a hostile peer can
    /// make us hold.
    ///
    /// RFC 8684 §3.3.1: a mapping may only be repeated, never changed: one
    /// that overlaps a held mapping without being the same is refused.
    pub fn add(&mut self, m: RecvMapping) -> Result<(), MappingConflict> {
        if m.len == u64::MAX {
            if self.infinite.is_some_and(|x| x.same(&m)) {
                return Ok(());
            }
            if self.list.back().is_some_and(|x| end(x) > m.rel_ssn) && self.list.iter().any(|x| x.overlaps(&m)) {
                return Err(MappingConflict);
            }
            self.infinite = Some(m);
            return Ok(());
        }
        let p = self.list.partition_point(|x| x.rel_ssn < m.rel_ssn);
        // Those that start within it (a repeat starts where it does).
        for x in self.list.range(p..).take_while(|x| x.rel_ssn < end(&m).max(m.rel_ssn + 1)) {
            if x.same(&m) {
                return Ok(());
            }
            if x.overlaps(&m) {
                return Err(MappingConflict);
            }
        }
        // The nearest one before it with bytes (empty DATA_FIN mappings cover none).
        if let Some(x) = self.list.range(..p).rev().find(|x| x.len > 0)
            && x.overlaps(&m)
        {
            return Err(MappingConflict);
        }
        if self.list.len() >= MAX_RECV_MAPPINGS {
            self.list.pop_front();
            let p = self.list.partition_point(|x| x.rel_ssn < m.rel_ssn);
            self.list.insert(p, m);
        } else {
            self.list.insert(p, m);
        }
        Ok(())
    }

    /// The mapping covering subflow byte `rel`.
    pub fn find(&self, rel: u64) -> Option<RecvMapping> {
        let q = self.list.partition_point(|x| x.rel_ssn <= rel);
        let covering = |m: &RecvMapping| m.rel_ssn <= rel && rel - m.rel_ssn < m.len;
        self.list
            .range(..q)
            .rev()
            .find(|x| x.len > 0)
            .filter(|x| covering(x))
            .copied()
            .or(self.infinite.filter(covering))
    }

    #[cfg(test)]
    /// The data sequence number of subflow byte `rel` and how many bytes from
    /// it the same mapping covers.
    pub fn translate(&self, rel: u64) -> Option<(u64, u64)> {
        self.find(rel).map(|m| (m.dsn + (rel - m.rel_ssn), m.len.saturating_sub(rel - m.rel_ssn)))
    }

    /// Forgets mappings wholly below `rel` (already consumed).
    pub fn consumed_to(&mut self, rel: u64) {
        while self.list.front().is_some_and(|m| end(m) <= rel) {
            self.list.pop_front();
        }
    }

    #[cfg(test)]
    /// Mappings held (the infinite one included).
    pub fn len(&self) -> usize {
        self.list.len() + usize::from(self.infinite.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_mappings_cover_and_retire() {
        let mut s = SentMappings::default();
        s.push(SentMapping { rel_ssn: 1, dsn: 100, len: 10, checksum: None });
        s.push(SentMapping { rel_ssn: 11, dsn: 500, len: 5, checksum: None });
        assert_eq!(s.covering(10).map(|m| m.dsn), Some(100));
        assert_eq!(s.covering(11).map(|m| m.dsn), Some(500));
        assert!(s.covering(16).is_none());
        s.acked_to(11);
        assert_eq!(s.outstanding().collect::<Vec<_>>(), vec![(500, 5)]);
    }

    #[test]
    fn received_mappings_translate() {
        let mut r = RecvMappings::default();
        let m = RecvMapping { rel_ssn: 1, dsn: 1000, len: 100, checksum: None, data_fin: false };
        r.add(m).unwrap();
        r.add(m).unwrap();
        assert_eq!(r.add(RecvMapping { dsn: 2000, ..m }), Err(MappingConflict), "a different map for the same bytes");
        assert_eq!(r.add(RecvMapping { rel_ssn: 50, ..m }), Err(MappingConflict));
        r.add(RecvMapping { rel_ssn: 201, dsn: 1100, ..m }).unwrap();
        assert_eq!(r.find(220).map(|m| m.dsn), Some(1100));
        assert_eq!(r.translate(50), Some((1049, 51)));
        assert_eq!(r.translate(101), None);
        r.consumed_to(101);
        assert_eq!(r.translate(50), None);
    }

    #[test]
    fn received_mappings_in_any_order_stay_sorted_and_found() {
        // 10,000 mappings of 100 bytes, added in a scrambled order (as
        // retransmissions after losses bring them), each repeated once.
        let mut r = RecvMappings::default();
        let n = 10_000u64;
        let order: Vec<u64> = (0..n).map(|i| (i * 7919) % n).collect();
        for &k in order.iter().chain(order.iter().rev()) {
            let m =
                RecvMapping { rel_ssn: 1 + 100 * k, dsn: 5000 + 100 * k, len: 100, checksum: None, data_fin: false };
            r.add(m).unwrap();
        }
        assert_eq!(r.len(), n as usize, "repeats are not held twice");
        for k in [0, 1, 4999, n - 1] {
            assert_eq!(r.translate(1 + 100 * k + 42), Some((5000 + 100 * k + 42, 58)));
        }
        // A changed mapping for held bytes is refused wherever it falls.
        let bad = RecvMapping { rel_ssn: 1 + 100 * 4321 + 50, dsn: 1, len: 100, checksum: None, data_fin: false };
        assert_eq!(r.add(bad), Err(MappingConflict));
        let bad = RecvMapping { rel_ssn: 1 + 100 * 4321, dsn: 1, len: 100, checksum: None, data_fin: false };
        assert_eq!(r.add(bad), Err(MappingConflict));
        // A DATA_FIN with no data inside held bytes is no conflict, and a
        // mapping after it still meets the one that covers it.
        let fin = RecvMapping { rel_ssn: 1 + 100 * n, dsn: 5000 + 100 * n, len: 0, checksum: None, data_fin: true };
        r.add(fin).unwrap();
        r.add(fin).unwrap();
        assert_eq!(r.len(), n as usize + 1);
        r.consumed_to(1 + 100 * 5000);
        assert_eq!(r.len(), n as usize + 1 - 5000);
        assert_eq!(r.translate(1 + 100 * 4999), None);
        assert_eq!(r.translate(1 + 100 * 5000), Some((5000 + 100 * 5000, 100)));
    }

    #[test]
    fn an_infinite_mapping_covers_what_follows() {
        let mut r = RecvMappings::default();
        let m = RecvMapping { rel_ssn: 1, dsn: 1000, len: 100, checksum: None, data_fin: false };
        r.add(m).unwrap();
        let inf = RecvMapping { rel_ssn: 101, dsn: 1100, len: u64::MAX, checksum: None, data_fin: false };
        r.add(inf).unwrap();
        r.add(inf).unwrap();
        assert_eq!(r.translate(50), Some((1049, 51)));
        assert_eq!(r.find(5_000_000).map(|m| m.dsn), Some(1100));
        let early = RecvMapping { rel_ssn: 50, ..inf };
        assert_eq!(r.add(early), Err(MappingConflict), "an infinite mapping over held bytes");
    }
}
