//! The receive buffer: in-order bytes waiting for the application, and
//! out-of-order ranges waiting for a hole to fill, within a fixed capacity.

use std::collections::BTreeMap;
use std::collections::VecDeque;

/// Positions are stream offsets (bytes since the first data byte), so they
/// never wrap.
#[derive(Debug)]
pub struct RecvBuffer {
    ready: VecDeque<u8>,
    /// Disjoint out-of-order ranges: start → bytes.
    ooo: BTreeMap<u64, Vec<u8>>,
    ooo_bytes: usize,
    /// Offset of the next in-order byte.
    next: u64,
    capacity: usize,
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
    /// Whether any byte fell beyond the window's right edge.
    pub beyond_window: bool,
}

impl RecvBuffer {
    /// An empty buffer.
    pub fn new(capacity: usize, max_ranges: usize) -> Self {
        RecvBuffer {
            ready: VecDeque::new(),
            ooo: BTreeMap::new(),
            ooo_bytes: 0,
            next: 0,
            capacity,
            max_ranges,
            last_range: None,
        }
    }

    /// Offset of the next in-order byte.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Free space from the next in-order byte: the window to advertise.
    pub fn window(&self) -> usize {
        self.capacity.saturating_sub(self.ready.len())
    }

    /// Bytes readable now.
    pub fn readable(&self) -> usize {
        self.ready.len()
    }

    /// Whether out-of-order data is held.
    pub fn has_ooo(&self) -> bool {
        !self.ooo.is_empty()
    }

    /// Out-of-order ranges held (an upper bound on SACK blocks).
    pub fn ooo_ranges(&self) -> usize {
        self.ooo.len()
    }

    /// Bytes held out of order.
    pub fn ooo_bytes(&self) -> usize {
        self.ooo_bytes
    }

    /// Moves readable bytes into `out`.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.ready.len());
        let (a, b) = self.ready.as_slices();
        let first = n.min(a.len());
        out[..first].copy_from_slice(&a[..first]);
        out[first..n].copy_from_slice(&b[..n - first]);
        self.ready.drain(..n);
        n
    }

    /// Up to `max` readable bytes, in place (two slices: the buffer is a ring).
    pub fn ready_slices(&self, max: usize) -> (&[u8], &[u8]) {
        let (a, b) = self.ready.as_slices();
        let first = max.min(a.len());
        let second = (max - first).min(b.len());
        (&a[..first], &b[..second])
    }

    /// Drops the first `n` readable bytes (their reader copied them itself).
    pub fn consume(&mut self, n: usize) -> usize {
        let n = n.min(self.ready.len());
        self.ready.drain(..n);
        n
    }

    /// Offers `data` at offset `at`. Bytes outside `[next, next + window)`
    /// are dropped; so are out-of-order bytes past the range limit.
    pub fn insert(&mut self, at: u64, data: &[u8]) -> Inserted {
        let mut r = Inserted::default();
        let window_end = self.next + self.window() as u64;
        let end = at + data.len() as u64;
        let (s, e) = (at.max(self.next), end.min(window_end));
        if s != at || e != end {
            r.dropped = true;
        }
        r.beyond_window = end > window_end;
        if s >= e {
            return r;
        }
        let data = &data[(s - at) as usize..(e - at) as usize];
        if s == self.next {
            self.ready.extend(data);
            self.next = e;
            r.in_order = data.len();
            r.in_order += self.drain_ooo();
        } else {
            r.out_of_order = self.store_ooo(s, data);
            r.dropped |= !r.out_of_order;
        }
        r
    }

    /// Stores the parts of `[s, s + len)` not already held; false if nothing new.
    fn store_ooo(&mut self, s: u64, data: &[u8]) -> bool {
        let e = s + data.len() as u64;
        // Gaps between existing ranges that overlap [s, e).
        let mut gaps = Vec::new();
        let mut cur = s;
        let before = self.ooo.range(..s).next_back().map(|(&k, v)| (k, k + v.len() as u64));
        if let Some((_, pe)) = before {
            cur = cur.max(pe);
        }
        for (&k, v) in self.ooo.range(s..e) {
            if k > cur {
                gaps.push((cur, k));
            }
            cur = cur.max(k + v.len() as u64);
        }
        if cur < e {
            gaps.push((cur, e));
        }
        let mut stored = false;
        for (gs, ge) in gaps {
            let piece = &data[(gs - s) as usize..(ge - s) as usize];
            // Extend the range that ends where this piece starts, so that the
            // count of entries is the count of separate ranges.
            let before = self.ooo.range_mut(..gs).next_back().filter(|(k, v)| **k + v.len() as u64 == gs);
            match before {
                Some((_, v)) => v.extend_from_slice(piece),
                None => {
                    if self.ooo.len() >= self.max_ranges {
                        break;
                    }
                    self.ooo.insert(gs, piece.to_vec());
                }
            }
            self.ooo_bytes += piece.len();
            stored = true;
            // And absorb the range that starts where it ends.
            if let Some(after) = self.ooo.remove(&ge) {
                let start = self.ooo.range(..ge).next_back().map(|(k, _)| *k).unwrap_or(gs);
                if let Some(v) = self.ooo.get_mut(&start) {
                    v.extend_from_slice(&after);
                } else {
                    self.ooo.insert(ge, after);
                }
            }
        }
        if stored {
            self.last_range = Some((s, e));
        }
        stored
    }

    /// Moves out-of-order ranges that now touch the in-order part; returns bytes moved.
    fn drain_ooo(&mut self) -> usize {
        let mut moved = 0;
        while let Some(entry) = self.ooo.first_entry() {
            let k = *entry.key();
            if k > self.next {
                break;
            }
            let v = entry.remove();
            self.ooo_bytes -= v.len();
            let end = k + v.len() as u64;
            if end > self.next {
                let tail = &v[(self.next - k) as usize..];
                self.ready.extend(tail);
                moved += tail.len();
                self.next = end;
            }
        }
        moved
    }

    /// Up to `max` SACK ranges (start, end offsets): the most recent first,
    /// then the others in order, adjacent ranges merged.
    pub fn sack_ranges(&self, max: usize) -> Vec<(u64, u64)> {
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (&k, v) in &self.ooo {
            let e = k + v.len() as u64;
            match merged.last_mut() {
                Some(last) if last.1 >= k => last.1 = last.1.max(e),
                _ => merged.push((k, e)),
            }
        }
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
        assert!(!b.insert(3, b"b").out_of_order, "third range refused");
        assert_eq!(b.ooo_bytes(), 6);
        // Overlapping data stores only the gaps.
        b.insert(0, b"z");
        assert_eq!(b.insert(0, b"zzzzzzzzzz").in_order, 8);
        assert_eq!(b.next(), 10);
    }
}
