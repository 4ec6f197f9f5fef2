//! The receive buffer: in-order bytes waiting for the application, and
//! out-of-order ranges waiting for a hole to fill, within a fixed capacity.
//!
//! One ring holds both: a byte is written once, at its place, whether it
//! arrives in order or not, so filling a hole moves nothing (the range map
//! only says which places hold data). The ring grows on demand up to the
//! capacity, so an idle connection holds little.

use std::collections::BTreeMap;

/// Positions are stream offsets (bytes since the first data byte), so they
/// never wrap.
#[derive(Debug)]
pub struct RecvBuffer {
    /// The bytes from `base` on, the first at `ring[head]`.
    ring: Vec<u8>,
    head: usize,
    /// Offset of the first unread byte.
    base: u64,
    /// Disjoint, non-adjacent out-of-order ranges beyond `next`: start → end.
    ooo: BTreeMap<u64, u64>,
    ooo_bytes: usize,
    /// Offset of the next in-order byte.
    next: u64,
    capacity: usize,
    /// Room held beyond the advertised window (see `set_slack`).
    slack: usize,
    max_ranges: usize,
    /// The range most recently added out of order (first SACK block, RFC 2018 §4).
    last_range: Option<(u64, u64)>,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inserted {
    /// Bytes that became readable in order.
    pub in_order: usize,
    /// Whether any byte was stored out of order.
    pub out_of_order: bool,
    /// Whether any byte was a duplicate or fell outside the window.
    pub dropped: bool,
    /// Whether any byte fell beyond the window's right edge (and the slack):
    /// dropped.
    pub beyond_window: bool,
    /// Whether any byte was kept beyond the advertised edge, in the slack.
    pub in_slack: bool,
    /// Whether out-of-order bytes were dropped for the range limit.
    pub over_range_limit: bool,
}

/// A reader for `read_with` that copies the pieces it is shown into `out`
/// one after another (what `read` does with it).
pub(crate) fn copy_into(out: &mut [u8]) -> impl FnMut(&[u8]) + '_ {
    let mut at = 0;
    move |piece| {
        out[at..at + piece.len()].copy_from_slice(piece);
        at += piece.len();
    }
}

/// The ring's first allocation.
const MIN_RING: usize = 4096;

impl RecvBuffer {
    /// An empty buffer.
    pub fn new(capacity: usize, max_ranges: usize) -> Self {
        RecvBuffer {
            ring: Vec::new(),
            head: 0,
            base: 0,
            ooo: BTreeMap::new(),
            ooo_bytes: 0,
            next: 0,
            capacity,
            slack: 0,
            max_ranges,
            last_range: None,
        }
    }

    /// Keeps up to `slack` bytes beyond the advertised right edge instead of
    /// dropping them (the window advertised stays `capacity` less what is
    /// readable). The MPTCP data level needs it: Linux takes a subflow's
    /// window as `DATA_ACK + snd_wnd`, with `snd_wnd` the last window TCP's
    /// update rule accepted on that subflow, which may be older (larger) than
    /// the DATA_ACK beside it, so it sends past the edge by up to a window.
    pub fn set_slack(&mut self, slack: usize) {
        self.slack = slack;
    }

    /// The furthest offset a byte may be held at, plus one.
    fn limit(&self) -> u64 {
        self.base + (self.capacity + self.slack) as u64
    }

    /// Offset of the next in-order byte.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// How far beyond the next in-order byte data may still be held (the
    /// window and the slack).
    pub fn span(&self) -> u64 {
        self.limit().saturating_sub(self.next)
    }

    /// Free space from the next in-order byte: the window to advertise.
    pub fn window(&self) -> usize {
        self.capacity.saturating_sub(self.readable())
    }

    /// Bytes readable now.
    pub fn readable(&self) -> usize {
        (self.next - self.base) as usize
    }

    /// Whether out-of-order data is held.
    pub fn has_ooo(&self) -> bool {
        !self.ooo.is_empty()
    }

    /// Out-of-order ranges held (an upper bound on SACK blocks).
    pub fn ooo_ranges(&self) -> usize {
        self.ooo.len()
    }

    #[cfg(test)]
    /// Bytes held out of order.
    pub fn ooo_bytes(&self) -> usize {
        self.ooo_bytes
    }

    #[cfg(test)]
    /// Moves readable bytes into `out`.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let (a, b) = self.ready_slices(out.len());
        let (la, lb) = (a.len(), b.len());
        out[..la].copy_from_slice(a);
        out[la..la + lb].copy_from_slice(b);
        self.consume(la + lb)
    }

    /// Up to `max` readable bytes, in place (two slices: the buffer is a ring).
    pub fn ready_slices(&self, max: usize) -> (&[u8], &[u8]) {
        let n = max.min(self.readable());
        if n == 0 {
            return (&[], &[]);
        }
        let first = n.min(self.ring.len() - self.head);
        (&self.ring[self.head..self.head + first], &self.ring[..n - first])
    }

    /// Drops the first `n` readable bytes (their reader copied them itself).
    pub fn consume(&mut self, n: usize) -> usize {
        let n = n.min(self.readable());
        self.base += n as u64;
        if self.ring.is_empty() {
            return n;
        }
        self.head = (self.head + n) % self.ring.len();
        if self.base == self.next && self.ooo.is_empty() {
            self.head = 0;
        }
        n
    }

    /// Takes `n` in-order bytes as received and read at once, without
    /// storing them (only when nothing is held: see `tcp/conn/lend.rs`).
    pub fn skip(&mut self, n: usize) {
        debug_assert!(self.readable() == 0 && self.ooo.is_empty());
        self.next += n as u64;
        self.base = self.next;
        self.head = 0;
    }

    /// Gives back the last `data.len()` bytes `skip` took, unread: they become
    /// readable (nothing may have been stored since).
    pub fn unskip(&mut self, data: &[u8]) {
        debug_assert!(self.readable() == 0 && self.ooo.is_empty());
        let n = data.len().min(self.capacity);
        if self.ring.len() < n {
            // Nothing is held: a new ring, no copy.
            self.ring = vec![0u8; n.max(MIN_RING).min(self.capacity.max(n))];
        }
        self.base = self.next - n as u64;
        self.head = 0;
        self.put(self.base, &data[..n]);
    }

    /// The ring index of offset `at` (at least `base`, inside the ring).
    fn index(&self, at: u64) -> usize {
        (self.head + (at - self.base) as usize) % self.ring.len()
    }

    /// Makes the ring hold offsets up to `end` (at most `base + capacity + slack`).
    fn reserve(&mut self, end: u64) {
        let need = (end - self.base) as usize;
        if need <= self.ring.len() {
            return;
        }
        let len = need.max(self.ring.len() * 2).max(MIN_RING).min((self.capacity + self.slack).max(need));
        let held_end = self.ooo.last_key_value().map_or(self.next, |(_, &e)| e);
        let held = (held_end - self.base) as usize;
        let mut ring = vec![0u8; len];
        if held > 0 {
            let first = held.min(self.ring.len() - self.head);
            ring[..first].copy_from_slice(&self.ring[self.head..self.head + first]);
            ring[first..held].copy_from_slice(&self.ring[..held - first]);
        }
        self.ring = ring;
        self.head = 0;
    }

    /// Writes `data` at offset `at` (space reserved).
    fn put(&mut self, at: u64, data: &[u8]) {
        let i = self.index(at);
        let first = data.len().min(self.ring.len() - i);
        self.ring[i..i + first].copy_from_slice(&data[..first]);
        self.ring[..data.len() - first].copy_from_slice(&data[first..]);
    }

    /// Offers `data` at offset `at`. Bytes outside `[next, next + window)`
    /// are dropped; so are out-of-order bytes past the range limit.
    pub fn insert(&mut self, at: u64, data: &[u8]) -> Inserted {
        let mut r = Inserted::default();
        let window_end = self.limit().max(self.next);
        // Saturating: a forged mapping may name an offset near 2^64.
        let end = at.saturating_add(data.len() as u64);
        r.in_slack = end > self.base + self.capacity as u64 && self.slack > 0;
        let (s, e) = (at.max(self.next), end.min(window_end));
        if s != at || e != end {
            r.dropped = true;
        }
        r.beyond_window = end > window_end;
        if s >= e {
            return r;
        }
        self.reserve(e);
        let data = &data[(s - at) as usize..(e - at) as usize];
        if s == self.next {
            let before = self.next;
            let _ = self.store_gaps(s, data, false);
            self.next = e;
            self.drain_ooo();
            r.in_order = (self.next - before) as usize;
        } else {
            let (stored, refused) = self.store_gaps(s, data, true);
            r.out_of_order = stored;
            r.over_range_limit = refused;
            r.dropped |= !stored || refused;
        }
        r
    }

    /// Writes the parts of `[s, s + len)` no held range covers; with `record`,
    /// they become out-of-order ranges (within the range limit). Returns
    /// whether anything new was stored, and whether a gap was refused for
    /// the range limit.
    fn store_gaps(&mut self, s: u64, data: &[u8], record: bool) -> (bool, bool) {
        let e = s + data.len() as u64;
        let mut gaps: arrayvec::ArrayVec<(u64, u64), 8> = arrayvec::ArrayVec::new();
        let mut cur = s;
        if let Some((_, &pe)) = self.ooo.range(..s).next_back() {
            cur = cur.max(pe);
        }
        let mut more = Vec::new();
        for (&k, &ke) in self.ooo.range(s..e) {
            if k > cur && gaps.try_push((cur, k)).is_err() {
                more.push((cur, k));
            }
            cur = cur.max(ke);
        }
        if cur < e && gaps.try_push((cur, e)).is_err() {
            more.push((cur, e));
        }
        let (mut stored, mut refused) = (false, false);
        for (gs, ge) in gaps.into_iter().chain(more) {
            if record && !self.add_range(gs, ge) {
                refused = true;
                break;
            }
            self.put(gs, &data[(gs - s) as usize..(ge - s) as usize]);
            stored = true;
        }
        if stored && record {
            self.last_range = Some((s, e));
        }
        (stored, refused)
    }

    /// Records `[s, e)` (disjoint from held ranges) as held out of order,
    /// merged with ranges it touches; false if it would exceed the range limit.
    fn add_range(&mut self, s: u64, e: u64) -> bool {
        let before = self.ooo.range(..s).next_back().filter(|(_, pe)| **pe == s).map(|(&k, _)| k);
        let after = self.ooo.get(&e).copied();
        if before.is_none() && after.is_none() && self.ooo.len() >= self.max_ranges {
            return false;
        }
        let start = before.unwrap_or(s);
        let end = match after {
            Some(ae) => {
                self.ooo.remove(&e);
                ae
            }
            None => e,
        };
        self.ooo.insert(start, end);
        self.ooo_bytes += (e - s) as usize;
        true
    }

    /// Takes into the in-order part the out-of-order ranges that now touch it.
    fn drain_ooo(&mut self) {
        while let Some(entry) = self.ooo.first_entry() {
            let (k, end) = (*entry.key(), *entry.get());
            if k > self.next {
                break;
            }
            entry.remove();
            self.ooo_bytes -= (end - k) as usize;
            self.next = self.next.max(end);
        }
    }

    /// Up to `max` SACK ranges (start, end offsets): the most recent first,
    /// then the others in order.
    pub fn sack_ranges(&self, max: usize) -> Vec<(u64, u64)> {
        let mut merged: Vec<(u64, u64)> = self.ooo.iter().map(|(&k, &e)| (k, e)).collect();
        let recent = self.last_range.and_then(|(s, e)| merged.iter().position(|&(a, b)| a <= s && e <= b));
        if let Some(i) = recent {
            let r = merged.remove(i);
            merged.insert(0, r);
        }
        merged.truncate(max);
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_fill_and_sack_reports_recent_first() {
        let mut b = RecvBuffer::new(100, 8);
        assert!(b.insert(10, b"klm").out_of_order);
        assert!(b.insert(20, b"uv").out_of_order);
        assert_eq!(b.sack_ranges(3), vec![(20, 22), (10, 13)]);
        let r = b.insert(0, b"abcdefghij");
        assert_eq!(r.in_order, 13);
        assert_eq!(b.sack_ranges(3), vec![(20, 22)]);
        let mut out = [0u8; 32];
        assert_eq!(b.read(&mut out), 13);
        assert_eq!(&out[..13], b"abcdefghijklm");
        assert!(b.insert(5, b"xx").dropped);
    }

    #[test]
    fn adjacent_segments_make_one_range() {
        let mut b = RecvBuffer::new(1_000_000, 2);
        // A hole at 0, then 500 segments in a row, then another range.
        for i in 0..500u64 {
            assert!(b.insert(100 + i * 10, &[1; 10]).out_of_order, "segment {i}");
        }
        assert_eq!(b.ooo_ranges(), 1);
        assert!(b.insert(10_000, &[2; 10]).out_of_order);
        // Filling the gap between the two ranges joins them.
        assert!(b.insert(5_100, &[3; 4_900]).out_of_order);
        assert_eq!(b.ooo_ranges(), 1);
        assert_eq!(b.insert(0, &[0; 100]).in_order, 10_010);
    }

    #[test]
    fn window_and_range_limits_bound_memory() {
        let mut b = RecvBuffer::new(10, 2);
        let r = b.insert(5, b"0123456789");
        assert!(r.dropped && r.out_of_order);
        assert_eq!(b.ooo_bytes(), 5);
        b.insert(1, b"a");
        let r = b.insert(3, b"b");
        assert!(!r.out_of_order && r.over_range_limit && r.dropped, "third range refused");
        assert_eq!(b.ooo_bytes(), 6);
        // Overlapping data stores only the gaps.
        b.insert(0, b"z");
        assert_eq!(b.insert(0, b"zzzzzzzzzz").in_order, 8);
        assert_eq!(b.next(), 10);
    }

    #[test]
    fn slack_keeps_bytes_past_the_advertised_edge() {
        let mut b = RecvBuffer::new(10, 4);
        b.set_slack(10);
        assert_eq!(b.insert(0, b"0123456789").in_order, 10);
        // The window advertised is closed, yet the next 10 bytes are kept.
        assert_eq!(b.window(), 0);
        let r = b.insert(10, b"abcdefghijk");
        assert!(r.in_slack && r.beyond_window && r.dropped, "{r:?}");
        assert_eq!(r.in_order, 10);
        let mut out = [0u8; 32];
        assert_eq!(b.read(&mut out), 20);
        assert_eq!(&out[..20], b"0123456789abcdefghij");
        // Read: the window opens from the new base, slack beyond it again.
        assert_eq!(b.window(), 10);
        let r = b.insert(25, b"xy");
        assert!(r.out_of_order && !r.in_slack && !r.dropped, "{r:?}");
        let r = b.insert(38, b"zz");
        assert!(r.in_slack && !r.dropped, "{r:?}");
        // Without slack the same byte is dropped.
        let mut c = RecvBuffer::new(10, 4);
        let r = c.insert(10, b"a");
        assert!(r.beyond_window && !r.in_slack && r.dropped);
    }

    proptest::proptest! {
        /// Any sequence of inserts (in order, out of order, overlapping,
        /// beyond the window) and reads: every byte read is the byte sent at
        /// its offset, the window and the out-of-order count add up, and
        /// filling from `next` to the window's edge makes it all readable.
        #[test]
        fn bytes_land_at_their_offsets(ops in proptest::collection::vec((0u64..3000, 1usize..700, 0usize..900), 1..120)) {
            let cap = 2048;
            let byte = |o: u64| (o % 251) as u8;
            let mut b = RecvBuffer::new(cap, 6);
            let mut base = 0u64;
            for (at, len, read) in ops {
                let at = base + at % 2500;
                let data: Vec<u8> = (at..at + len as u64).map(byte).collect();
                b.insert(at, &data);
                let mut out = vec![0u8; read];
                let n = b.read(&mut out);
                for (k, &v) in out[..n].iter().enumerate() {
                    proptest::prop_assert_eq!(v, byte(base + k as u64));
                }
                base += n as u64;
                proptest::prop_assert_eq!(b.window(), cap - (b.next() - base) as usize);
                let held: usize = b.sack_ranges(64).iter().map(|(s, e)| (e - s) as usize).sum();
                proptest::prop_assert_eq!(held, b.ooo_bytes());
            }
            let (from, to) = (b.next(), base + cap as u64);
            let rest: Vec<u8> = (from..to).map(byte).collect();
            b.insert(from, &rest);
            proptest::prop_assert_eq!(b.next(), to);
            proptest::prop_assert!(!b.has_ooo());
            let mut out = vec![0u8; cap];
            proptest::prop_assert_eq!(b.read(&mut out), cap);
            for (k, &v) in out.iter().enumerate() {
                proptest::prop_assert_eq!(v, byte(base + k as u64));
            }
        }
    }
}
