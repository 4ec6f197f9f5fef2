//! One direction of a byte stream rebuilt from pieces that may arrive out of
//! order, duplicated or overlapping: a TCP subflow's sequence space or an MPTCP
//! connection's data sequence space.

use std::collections::BTreeMap;

/// A byte stream starting at `base`, with what has arrived in order and what is
/// waiting beyond a hole. With `keep_data`, the bytes themselves are kept (for
/// `--dump-data`); otherwise only which ranges arrived.
#[derive(Debug, Clone)]
pub struct Stream {
    base: Option<u64>,
    /// End (exclusive) of the in-order part.
    contiguous_end: u64,
    /// Pieces beyond a hole: start → (end, bytes if kept).
    pending: BTreeMap<u64, (u64, Vec<u8>)>,
    data: Option<Vec<u8>>,
    /// Bytes offered, duplicates included.
    offered: u64,
}

impl Stream {
    /// An empty stream whose base is not known yet.
    pub fn new(keep_data: bool) -> Self {
        Stream { base: None, contiguous_end: 0, pending: BTreeMap::new(), data: keep_data.then(Vec::new), offered: 0 }
    }

    /// Sets where the stream starts (the first byte's position), if not set yet.
    pub fn set_base(&mut self, base: u64) {
        if self.base.is_none() {
            self.base = Some(base);
            self.contiguous_end = base;
        }
    }

    /// Where the stream starts, once known.
    pub fn base(&self) -> Option<u64> {
        self.base
    }

    /// End (exclusive) of the bytes received in order.
    pub fn contiguous_end(&self) -> u64 {
        self.contiguous_end
    }

    /// Bytes received in order from the base.
    pub fn delivered(&self) -> u64 {
        self.base.map_or(0, |b| self.contiguous_end - b)
    }

    /// Bytes offered in all, duplicates included.
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// Distinct bytes received, in order or not.
    pub fn unique(&self) -> u64 {
        let mut total = self.delivered();
        let mut covered_to = self.contiguous_end;
        for (&s, &(e, _)) in &self.pending {
            let s = s.max(covered_to);
            if e > s {
                total += e - s;
                covered_to = e;
            }
        }
        total
    }

    /// Whether a hole lies before `end` (some byte in `[base, end)` is missing).
    pub fn complete_to(&self, end: u64) -> bool {
        self.base.is_some() && self.contiguous_end >= end
    }

    /// The bytes kept, in order (only with `keep_data`).
    pub fn data(&self) -> Option<&[u8]> {
        self.data.as_deref()
    }

    /// Offers `bytes` at position `start`. Bytes before the base are ignored.
    pub fn insert(&mut self, start: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.offered += bytes.len() as u64;
        let base = *self.base.get_or_insert(start);
        if self.contiguous_end < base {
            self.contiguous_end = base;
        }
        let end = start.saturating_add(bytes.len() as u64);
        if end <= self.contiguous_end {
            return;
        }
        // Trim what is before the base or already in order.
        let from = start.max(self.contiguous_end);
        let bytes = &bytes[(from - start) as usize..];
        if from == self.contiguous_end {
            self.append(bytes);
            self.drain_pending();
        } else {
            let kept = if self.data.is_some() { bytes.to_vec() } else { Vec::new() };
            match self.pending.get(&from) {
                Some(&(e, _)) if e >= end => {}
                _ => {
                    self.pending.insert(from, (end, kept));
                }
            }
        }
    }

    fn append(&mut self, bytes: &[u8]) {
        if let Some(d) = &mut self.data {
            d.extend_from_slice(bytes);
        }
        self.contiguous_end += bytes.len() as u64;
    }

    /// Moves pending pieces that now touch the in-order part into it.
    fn drain_pending(&mut self) {
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.contiguous_end {
                break;
            }
            let (end, bytes) = entry.remove();
            if end > self.contiguous_end {
                let skip = (self.contiguous_end - start) as usize;
                if self.data.is_some() {
                    let tail = bytes.get(skip..).unwrap_or(&[]).to_vec();
                    self.append(&tail);
                } else {
                    self.contiguous_end = end;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_out_of_order_and_duplicates() {
        let mut s = Stream::new(true);
        s.set_base(100);
        s.insert(100, b"abc");
        s.insert(106, b"ghi");
        assert_eq!(s.delivered(), 3);
        assert_eq!(s.unique(), 6);
        s.insert(101, b"bcdef"); // overlaps both sides of the hole
        assert_eq!(s.delivered(), 9);
        assert_eq!(s.data(), Some(&b"abcdefghi"[..]));
        s.insert(100, b"abc");
        assert_eq!(s.delivered(), 9);
        assert_eq!(s.offered(), 14);
        assert!(s.complete_to(109));
        assert!(!s.complete_to(110));
    }

    #[test]
    fn counting_only() {
        let mut s = Stream::new(false);
        s.insert(5, &[0; 10]);
        s.insert(20, &[0; 5]);
        s.insert(18, &[0; 4]);
        assert_eq!(s.delivered(), 10);
        assert_eq!(s.unique(), 17);
        s.insert(15, &[0; 3]);
        assert_eq!(s.delivered(), 20);
        assert_eq!(s.data(), None);
    }
}
