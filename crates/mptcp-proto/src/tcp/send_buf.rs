//! Send queues that own bytes once: refcounted chunks (`bytes::Bytes`)
//! addressed by stream position.
//!
//! [`ChunkQueue`] is the shape of the Linux kernel's MPTCP data fragments:
//! the application's bytes are copied once into a chunk (or handed over as a
//! `Bytes`, with no copy), and everything that sends them later (a TCP
//! connection, or several MPTCP subflows) holds cheap references to the same
//! memory and copies from it once, into the segment it emits.
//! [`SendBuffer`] is one TCP connection's queue in sequence-number terms.

use super::seq::Seq;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// Small writes gather in one buffer of this size before they become a chunk,
/// so that a stream of tiny writes does not become a stream of tiny chunks.
const TAIL_CHUNK: usize = 64 * 1024;

/// A bounded byte queue of refcounted chunks, addressed by a 64-bit stream
/// position (the position of the first byte held is [`ChunkQueue::start`]).
#[derive(Debug, Default)]
pub struct ChunkQueue {
    /// Chunks, oldest first, each with its stream position.
    chunks: VecDeque<(u64, Bytes)>,
    /// Bytes written by small writes, not yet a chunk (they follow the chunks).
    tail: BytesMut,
    /// Position of the first byte held.
    start: u64,
    /// Bytes held (chunks and tail).
    len: usize,
    capacity: usize,
}

impl ChunkQueue {
    /// An empty queue of `capacity` bytes whose first byte will be at `start`.
    pub fn new(capacity: usize, start: u64) -> Self {
        ChunkQueue { chunks: VecDeque::new(), tail: BytesMut::new(), start, len: 0, capacity }
    }

    /// Room left.
    pub fn free(&self) -> usize {
        self.capacity.saturating_sub(self.len)
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Position of the first byte held.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Position one past the last byte held.
    pub fn end(&self) -> u64 {
        self.start + self.len as u64
    }

    #[cfg(test)]
    /// Chunks held (for memory accounting and tests).
    pub fn chunk_count(&self) -> usize {
        self.chunks.len() + usize::from(!self.tail.is_empty())
    }

    /// Copies in as much of `data` as fits (the one copy of these bytes);
    /// returns how much.
    pub fn write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        if n == 0 {
            return 0;
        }
        let data = &data[..n];
        if n >= TAIL_CHUNK && self.tail.is_empty() {
            self.push_chunk(Bytes::copy_from_slice(data));
        } else {
            if self.tail.capacity() - self.tail.len() < n {
                self.seal_tail();
                self.tail.reserve(n.max(TAIL_CHUNK));
            }
            self.tail.extend_from_slice(data);
            self.len += n;
        }
        n
    }

    /// Takes `data` without copying if it fits whole; returns whether it did.
    pub fn write_bytes(&mut self, data: Bytes) -> bool {
        if data.len() > self.free() {
            return false;
        }
        if !data.is_empty() {
            self.seal_tail();
            self.push_chunk(data);
        }
        true
    }

    fn push_chunk(&mut self, data: Bytes) {
        let at = self.end();
        self.len += data.len();
        self.chunks.push_back((at, data));
    }

    /// Turns the tail into a chunk (its bytes stay where they are).
    fn seal_tail(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        let at = self.end() - self.tail.len() as u64;
        let sealed = self.tail.split().freeze();
        self.chunks.push_back((at, sealed));
    }

    /// Drops everything before `pos` (it was acknowledged).
    pub fn advance_to(&mut self, pos: u64) {
        let pos = pos.min(self.end());
        if pos <= self.start {
            return;
        }
        while let Some((at, c)) = self.chunks.front_mut() {
            let c_end = *at + c.len() as u64;
            if c_end <= pos {
                self.chunks.pop_front();
            } else {
                if *at < pos {
                    let skip = (pos - *at) as usize;
                    let _ = c.split_to(skip);
                    *at = pos;
                }
                break;
            }
        }
        if self.chunks.is_empty() {
            let tail_at = self.end() - self.tail.len() as u64;
            if tail_at < pos {
                let _ = self.tail.split_to((pos - tail_at) as usize);
            }
        }
        self.len -= (pos - self.start) as usize;
        self.start = pos;
        if self.len == 0 {
            // All acknowledged: the tail's room (up to 64 KiB, of an
            // allocation it would otherwise keep alive) goes too, so an idle
            // connection holds none of it (a thousand of them held 64 MiB).
            self.tail = BytesMut::new();
        }
    }

    /// Index of the chunk holding `pos`, if a sealed chunk holds it.
    fn chunk_index(&self, pos: u64) -> Option<usize> {
        let i = self.chunks.partition_point(|(at, _)| *at <= pos).checked_sub(1)?;
        let (at, c) = &self.chunks[i];
        (pos < at + c.len() as u64).then_some(i)
    }

    /// A reference to up to `max` bytes from `pos` (fewer where a chunk
    /// ends); empty when `pos` is not held. No byte is copied.
    pub fn slice(&mut self, pos: u64, max: usize) -> Bytes {
        if pos < self.start || pos >= self.end() || max == 0 {
            return Bytes::new();
        }
        if self.chunk_index(pos).is_none() {
            // In the tail: seal it so that it can be shared.
            self.seal_tail();
        }
        let Some(i) = self.chunk_index(pos) else { return Bytes::new() };
        let (at, c) = &self.chunks[i];
        let off = (pos - at) as usize;
        let n = (c.len() - off).min(max);
        c.slice(off..off + n)
    }

    /// Copies the bytes from `pos` into `out`; returns how many (fewer when
    /// the queue ends first).
    pub fn copy_to(&self, pos: u64, out: &mut [u8]) -> usize {
        if pos < self.start || pos >= self.end() {
            return 0;
        }
        let mut done = 0;
        let mut p = pos;
        let mut i = self.chunk_index(p);
        while done < out.len() {
            let src: &[u8] = match i {
                Some(k) if k < self.chunks.len() => {
                    let (at, c) = &self.chunks[k];
                    &c[(p - at) as usize..]
                }
                _ => {
                    let tail_at = self.end() - self.tail.len() as u64;
                    if p < tail_at || p >= self.end() {
                        break;
                    }
                    &self.tail[(p - tail_at) as usize..]
                }
            };
            let n = src.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&src[..n]);
            done += n;
            p += n as u64;
            i = i.map(|k| k + 1);
        }
        done
    }
}

/// One TCP connection's send buffer: the bytes written by the application,
/// from the oldest unacknowledged one to the newest unsent one, addressed by
/// sequence number.
#[derive(Debug)]
pub struct SendBuffer {
    q: ChunkQueue,
    /// Sequence number of the byte at position 0.
    origin: Seq,
}

impl SendBuffer {
    /// An empty buffer of `capacity` bytes whose first byte will be `base`.
    pub fn new(capacity: usize, base: Seq) -> Self {
        SendBuffer { q: ChunkQueue::new(capacity, 0), origin: base }
    }

    fn pos(&self, seq: Seq) -> Option<u64> {
        // Sequence numbers within 2^31 ahead of the first byte held.
        let start = self.start_seq();
        (seq >= start).then(|| self.q.start() + u64::from(seq - start))
    }

    fn start_seq(&self) -> Seq {
        self.origin + self.q.start() as u32
    }

    /// Appends as much of `data` as fits; returns how much.
    pub fn write(&mut self, data: &[u8]) -> usize {
        self.q.write(data)
    }

    /// Appends `data` without copying if it fits whole; returns whether it did.
    pub fn write_bytes(&mut self, data: Bytes) -> bool {
        self.q.write_bytes(data)
    }

    /// Room left.
    pub fn free(&self) -> usize {
        self.q.free()
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.q.len()
    }

    /// Sequence number one past the last byte held.
    pub fn end(&self) -> Seq {
        self.origin + self.q.end() as u32
    }

    /// Drops the bytes before `seq` (they were acknowledged).
    pub fn ack_to(&mut self, seq: Seq) {
        if let Some(p) = self.pos(seq) {
            self.q.advance_to(p);
        }
    }

    /// References to the `len` bytes from `seq`, appended to `out`, in at
    /// most `max_pieces` pieces; false (and `out` as it was) when they are
    /// not all held or need more pieces. No byte is copied.
    pub fn refs(&mut self, seq: Seq, len: usize, max_pieces: usize, out: &mut Vec<Bytes>) -> bool {
        let Some(mut p) = self.pos(seq) else { return false };
        let before = out.len();
        let mut left = len;
        while left > 0 {
            let piece = self.q.slice(p, left);
            if piece.is_empty() || out.len() - before == max_pieces {
                out.truncate(before);
                return false;
            }
            left -= piece.len();
            p += piece.len() as u64;
            out.push(piece);
        }
        true
    }

    /// Copies the bytes from `seq` into `out`; returns how many (fewer when
    /// the buffer ends first).
    pub fn copy_from(&self, seq: Seq, out: &mut [u8]) -> usize {
        self.pos(seq).map_or(0, |p| self.q.copy_to(p, out))
    }

    /// The 64-bit stream position of `seq` (0 for the first byte ever
    /// written), unwrapped around the first byte held: right for any
    /// sequence number from 2^31 before it to 2^31 after it.
    pub fn position_of(&self, seq: Seq) -> u64 {
        let start = self.start_seq();
        let d = seq.diff(start);
        self.q.start().wrapping_add_signed(i64::from(d))
    }

    /// The 64-bit position one past the last byte held.
    pub fn end_position(&self) -> u64 {
        self.q.end()
    }

    /// The 64-bit position of the first byte held (the oldest unacknowledged).
    pub fn start_position(&self) -> u64 {
        self.q.start()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_name_the_same_bytes_as_a_copy() {
        let mut b = SendBuffer::new(1 << 20, Seq(1000));
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        assert_eq!(b.write(&big), big.len());
        assert!(b.write_bytes(Bytes::from_static(b"tail")));
        assert_eq!(b.write(b"small"), 5);
        let mut refs = Vec::new();
        // Across the chunk boundary, into the written tail.
        let (seq, len) = (Seq(1000 + 99_990), 19);
        assert!(b.refs(seq, len, 8, &mut refs));
        assert_eq!(refs.len(), 3);
        let joined: Vec<u8> = refs.iter().flat_map(|r| r.iter().copied()).collect();
        let mut copy = vec![0u8; len];
        assert_eq!(b.copy_from(seq, &mut copy), len);
        assert_eq!(joined, copy);
        // Too few pieces allowed, or bytes not held: nothing added.
        refs.clear();
        assert!(!b.refs(seq, len, 2, &mut refs));
        assert!(!b.refs(seq, 100, 8, &mut refs));
        assert!(refs.is_empty());
    }

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

    #[test]
    fn chunks_and_tail_read_as_one_stream() {
        let mut q = ChunkQueue::new(1 << 20, 1000);
        assert_eq!(q.write(b"abc"), 3);
        assert!(q.write_bytes(Bytes::from_static(b"defgh")));
        assert_eq!(q.write(b"ij"), 2);
        let big: Vec<u8> = (0..TAIL_CHUNK as u32 + 7).map(|i| i as u8).collect();
        assert_eq!(q.write(&big), big.len());
        assert_eq!(q.end(), 1000 + 10 + big.len() as u64);
        let mut out = vec![0u8; 12];
        assert_eq!(q.copy_to(1000, &mut out), 12);
        assert_eq!(&out[..10], b"abcdefghij");
        assert_eq!(&out[10..], &big[..2]);
        // Shared slices stop at chunk ends and copy nothing.
        let s = q.slice(1001, 100);
        assert_eq!(&s[..], b"bc");
        let s = q.slice(1003, 3);
        assert_eq!(&s[..], b"def");
        q.advance_to(1004);
        assert_eq!(q.len(), 6 + big.len());
        let mut out = [0u8; 6];
        assert_eq!(q.copy_to(1004, &mut out), 6);
        assert_eq!(&out, b"efghij");
        assert_eq!(q.copy_to(1003, &mut out), 0, "acknowledged bytes are gone");
        q.advance_to(q.end());
        assert!(q.is_empty());
        assert_eq!(q.chunk_count(), 0);
    }

    #[test]
    fn a_slice_outlives_the_queue_advancing() {
        let mut q = ChunkQueue::new(100, 0);
        q.write(b"hello world");
        let s = q.slice(6, 5);
        q.advance_to(11);
        assert_eq!(&s[..], b"world");
        assert!(!q.write_bytes(Bytes::from(vec![0u8; 101])), "too large for the room");
    }
}
