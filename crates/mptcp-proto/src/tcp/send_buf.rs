//! The send buffer: bytes written by the application, from the oldest
//! unacknowledged one to the newest unsent one.

use super::seq::Seq;
use std::collections::VecDeque;

/// A bounded byte queue addressed by sequence number.
#[derive(Debug)]
pub struct SendBuffer {
    bytes: VecDeque<u8>,
    capacity: usize,
    /// Sequence number of the first byte held.
    base: Seq,
}

impl SendBuffer {
    /// An empty buffer of `capacity` bytes whose first byte will be `base`.
    pub fn new(capacity: usize, base: Seq) -> Self {
        SendBuffer { bytes: VecDeque::new(), capacity, base }
    }

    /// Appends as much of `data` as fits; returns how much.
    pub fn write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        self.bytes.extend(&data[..n]);
        n
    }

    /// Room left.
    pub fn free(&self) -> usize {
        self.capacity.saturating_sub(self.bytes.len())
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Sequence number one past the last byte held.
    pub fn end(&self) -> Seq {
        self.base + self.bytes.len() as u32
    }

    /// Drops the bytes before `seq` (they were acknowledged).
    pub fn ack_to(&mut self, seq: Seq) {
        if seq > self.base {
            let n = ((seq - self.base) as usize).min(self.bytes.len());
            self.bytes.drain(..n);
            self.base += n as u32;
        }
    }

    /// Copies the bytes from `seq` into `out`; returns how many (fewer when
    /// the buffer ends first).
    pub fn copy_from(&self, seq: Seq, out: &mut [u8]) -> usize {
        if seq < self.base {
            return 0;
        }
        let off = (seq - self.base) as usize;
        if off >= self.bytes.len() {
            return 0;
        }
        let n = out.len().min(self.bytes.len() - off);
        let (a, b) = self.bytes.as_slices();
        if off < a.len() {
            let first = n.min(a.len() - off);
            out[..first].copy_from_slice(&a[off..off + first]);
            out[first..n].copy_from_slice(&b[..n - first]);
        } else {
            let o = off - a.len();
            out[..n].copy_from_slice(&b[o..o + n]);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_ack_copy_across_the_wrap() {
        let mut b = SendBuffer::new(10, Seq(u32::MAX - 2));
        assert_eq!(b.write(b"0123456789abc"), 10);
        assert_eq!(b.free(), 0);
        b.ack_to(Seq(u32::MAX) + 1); // 3 bytes acked
        assert_eq!(b.len(), 7);
        assert_eq!(b.write(b"XY"), 2);
        let mut out = [0u8; 20];
        let n = b.copy_from(Seq(1), &mut out);
        assert_eq!(&out[..n], b"456789XY");
        assert_eq!(b.end(), Seq(9));
    }
}
